"""Drawing message text into lines (strips) with Rich: Markdown, code, and literal text.

Model output is data: it reaches Rich only as Markdown source or plain text, never as
markup, and control characters are made visible before anything is drawn. Colours come
from the app's theme through :class:`Look`; every Textual colour (ANSI names included)
is turned into a Rich colour here, so no theme can make drawing fail.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.console import Console, RenderableType
from rich.markdown import Markdown
from rich.segment import Segment
from rich.style import Style
from rich.syntax import Syntax
from rich.text import Text
from rich.theme import Theme as RichTheme
from textual.color import Color, ColorParseError
from textual.strip import Strip
from textual.theme import Theme

from t502_tui.terminal_text import defuse



def _rich_color(value: str | None, fallback: str) -> str:
    """A colour Rich can parse, from any colour Textual accepts (``ansi_green`` too)."""
    for candidate in (value, fallback):
        if candidate:
            try:
                return Color.parse(candidate).rich_color.name
            except (ColorParseError, ValueError):
                continue
    return "default"


@dataclass(frozen=True)
class Look:
    """What drawing needs from the theme; equal looks draw equal lines (a cache key)."""

    theme_name: str
    code_theme: str
    markdown_styles: RichTheme
    base: Style
    """The view's own colours, under everything drawn."""

    @classmethod
    def of(cls, theme: Theme, code_theme: str, base: Style) -> Look:
        primary = _rich_color(theme.primary, "blue")
        accent = _rich_color(theme.accent, theme.primary)
        secondary = _rich_color(theme.secondary, theme.primary)
        styles = RichTheme({
            "markdown.code": Style(bold=True, color=accent),
            "markdown.link": Style(underline=True, color=primary),
            "markdown.link_url": Style(color=primary),
            "markdown.block_quote": Style(italic=True, color=secondary),
            "markdown.h1.border": Style(color=primary),
        })
        return cls(theme.name, code_theme, styles, base)

    def __hash__(self) -> int:
        return hash((self.theme_name, self.code_theme, self.base))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Look) and (self.theme_name, self.code_theme, self.base) == (
            other.theme_name, other.code_theme, other.base)


def _lines(console: Console, renderable: RenderableType, width: int, look: Look, trim: bool) -> list[Strip]:
    options = console.options.update(width=width, min_width=width, max_width=width, height=None)
    with console.use_theme(look.markdown_styles):
        lines = console.render_lines(renderable, options, style=look.base, pad=True)
    if trim:
        # Rich puts blank lines around some blocks; the view spaces blocks itself.
        blank = [not "".join(segment.text for segment in line).strip() for line in lines]
        if False not in blank:
            return []
        start = blank.index(False)
        end = len(lines) - blank[::-1].index(False)
        lines = lines[start:end]
    return [Strip(line, width) for line in lines]


def markdown_lines(console: Console, source: str, width: int, look: Look) -> list[Strip]:
    """Markdown drawn to ``width`` cells (blank lines around it trimmed)."""
    if width <= 0 or not source.strip():
        return []
    return _lines(console, Markdown(defuse(source), code_theme=look.code_theme, hyperlinks=True), width, look, True)


def code_lines(console: Console, code: str, language: str, width: int, look: Look,
               first: bool, last: bool) -> list[Strip]:
    """A piece of a code fence, highlighted; room above the first piece and below the last."""
    if width <= 0:
        return []
    code = defuse(code).rstrip("\n")
    padding = (1 if first else 0, 1, 1 if last else 0, 1)
    syntax = Syntax(code, language or "text", theme=look.code_theme, word_wrap=True, padding=padding)
    return _lines(console, syntax, width, look, False)


def text_lines(console: Console, text: str | Text, width: int, look: Look) -> list[Strip]:
    """Literal text (what the user typed), or styled text t502 made (a header), wrapped to
    ``width`` cells."""
    if width <= 0:
        return []
    body = Text(defuse(text), no_wrap=False, overflow="fold") if isinstance(text, str) else text
    return _lines(console, body, width, look, False)


def blank_line(width: int, look: Look) -> Strip:
    """An empty line in the view's colours."""
    return Strip([Segment(" " * width, look.base)], width)


def estimate_lines(source: str, width: int) -> int:
    """About how many lines ``source`` takes at ``width`` (before it is drawn)."""
    usable = max(1, width - 4)
    return sum(max(1, -(-len(line) // usable)) for line in source.strip("\n").split("\n"))


SAMPLE = """# Heading

Some **bold** text, `code` and a [link](https://example.com).

| a | b |
|---|---|
| 1 | 2 |

```python
print("hello")
```

> a quote
"""


def probe_theme(console: Console, theme: Theme, code_theme: str) -> None:
    """Draw a sample reply with ``theme``: raises if the theme cannot draw one."""
    look = Look.of(theme, code_theme, Style())
    markdown_lines(console, SAMPLE, 60, look)
    code_lines(console, "x = 1", "python", 60, look, True, True)
