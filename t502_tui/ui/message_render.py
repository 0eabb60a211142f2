"""Drawing message text into lines (strips) with Rich: Markdown, code, and literal text.

Model output is data: it reaches Rich only as Markdown source or plain text, never as
markup, and control characters are made visible before anything is drawn. Colours come
from the app's theme through :class:`Look`; every Textual colour (ANSI names included)
is turned into a Rich colour here, so no theme can make drawing fail.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rich.cells import cell_len
from rich.console import Console, RenderableType
from rich.padding import Padding
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from rich.theme import Theme as RichTheme
from textual.color import Color, ColorParseError
from textual.strip import Strip
from textual.theme import Theme

from t502_tui.terminal_text import defuse
from t502_tui.ui.image_preview import MAX_ROWS

# rich.markdown and rich.syntax (markdown-it, Pygments) are imported where first drawn:
# they are a tenth of start-up, and the first screen has no reply on it.


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
    hard_breaks: bool = False
    """Every line end of the text is one on screen (a model's thinking is written as lines,
    which Markdown would join into paragraphs)."""
    preview_rows: int = MAX_ROWS
    """The tallest image preview, in lines (fewer in a short view)."""

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

    def _key(self) -> tuple[object, ...]:
        return self.theme_name, self.code_theme, self.base, self.hard_breaks, self.preview_rows

    def __hash__(self) -> int:
        return hash(self._key())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Look) and self._key() == other._key()


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


_IMAGE = re.compile(r"!\[([^\[\]\n]*)\]\(\s*<?([^()\s<>]*)>?\)")


def inline_images(source: str) -> str:
    """Images as a picture sign and their alt text, in the line: Rich would draw each
    one before the paragraph it is in. A reply's images are shown below its text (see
    message_block), a link as a link."""
    if "![" not in source:
        return source

    def sign(match: re.Match[str]) -> str:
        alt = re.sub(r"[*_`\\]", "", match.group(1)).strip() or "image"
        url = match.group(2)
        return f"[🖼 {alt}]({url})" if url.startswith(("http://", "https://")) else f"🖼 *{alt}*"

    return _IMAGE.sub(sign, source)


def load_renderers() -> None:
    """Import what drawing Markdown and code takes (a few tens of milliseconds): once the
    first screen is up, rather than while the first reply streams in."""
    import textual.scrollbar  # noqa: F401

    import t502_tui.ui.rich_renderers  # noqa: F401


MAX_RICH_CHARS = 32_000
"""A longer piece is drawn as literal text: Rich's Markdown, tables and highlighting cost
more than their length (a table of 20,000 rows took 16 s), wrapped text only its length."""


MAX_NESTING = 20
"""How deep blocks may nest before the Markdown parser drops what is inside (markdown-it's
``maxNesting``: a list level counts two, a quote one, the paragraph in them one more)."""
_QUOTES = re.compile(r" {0,3}((?:> ?)+)")
_ITEM = re.compile(r"( *)(?:[-+*]|\d{1,9}[.)])(?: |$)")


def too_deep(source: str) -> bool:
    """Whether ``source`` nests quotes and lists deeper than the parser keeps: the items
    past that would vanish from the screen (a list twelve levels deep showed nine)."""
    if source.count(">") + source.count("- ") + source.count("* ") + source.count(". ") < MAX_NESTING // 2:
        return False  # the usual reply: too few markers to nest that deep
    indents: list[int] = []
    for line in source.split("\n"):
        quotes = _QUOTES.match(line)
        depth = quotes.group(1).count(">") if quotes else 0
        rest = line[quotes.end():] if quotes else line
        if item := _ITEM.match(rest):
            indent = len(item.group(1))
            while indents and indent <= indents[-1]:
                indents.pop()
            indents.append(indent)
        elif rest.strip() and not rest.startswith(" "):
            indents = []  # a paragraph at the margin ends the lists
        if depth + 2 * len(indents) + 1 > MAX_NESTING:
            return True
    return False


def markdown_lines(console: Console, source: str, width: int, look: Look) -> list[Strip]:
    """Markdown drawn to ``width`` cells (blank lines around it trimmed); as literal text
    when it is too long or nests too deep for the renderer to show all of it."""
    if width <= 0 or not source.strip():
        return []
    if len(source) > MAX_RICH_CHARS or too_deep(source):
        return text_lines(console, source.strip("\n"), width, look)
    from t502_tui.ui.rich_renderers import markdown

    if look.hard_breaks:
        source = source.replace("\n", "  \n")
    return _lines(console, markdown(defuse(inline_images(source)), look.code_theme), width, look, True)


_BLOCK_START = re.compile(r"^(?: {4}|\t| {0,3}(?:[#>|]|[-+*] |\d{1,9}[.)] |```|~~~|[-*_=]{3,}\s*$))")
_INLINE = re.compile(
    r"(?P<strong>\*\*(?=\S)(?P<strong_text>.+?)(?<=\S)\*\*)"
    r"|(?P<em>\*(?=[^\s*])(?P<em_text>.+?)(?<=[^\s*])\*)"
    r"|(?P<strike>~~(?=\S)(?P<strike_text>.+?)(?<=\S)~~)"
    r"|(?P<code>`(?P<code_text>[^`]+)`)"
    r"|(?P<link>\[(?P<link_text>[^\]\[]+)\]\((?P<url>[^()\s]+)\))"
)


def paragraph_text(source: str) -> Text | None:
    """A plain paragraph drawn as Rich Markdown draws it (bold, italics, strike, code,
    links), without parsing it as a document: ten times cheaper, for the paragraph of a
    reply that is still growing. None when the text is anything else (a list, a heading,
    HTML, escapes, underscores...): that is drawn as Markdown."""
    lines = source.strip("\n").split("\n")
    if any(_BLOCK_START.match(line) for line in lines) or any(c in source for c in "\\<&_"):
        return None
    text = Text()
    source = " ".join(line.strip() for line in lines)
    position = 0
    for match in _INLINE.finditer(source):
        text.append(source[position:match.start()])
        if match.group("strong"):
            text.append(match.group("strong_text"), "markdown.strong")
        elif match.group("em"):
            text.append(match.group("em_text"), "markdown.em")
        elif match.group("strike"):
            text.append(match.group("strike_text"), "markdown.s")
        elif match.group("code"):
            text.append(match.group("code_text"), "markdown.code")
        else:
            start = len(text)
            text.append(match.group("link_text"), "markdown.link")
            text.stylize(Style(link=match.group("url")), start)
        position = match.end()
    text.append(source[position:])
    return text


def code_lines(console: Console, code: str, language: str, width: int, look: Look,
               first: bool, last: bool) -> list[Strip]:
    """A piece of a code fence, highlighted; room above the first piece and below the last."""
    if width <= 0:
        return []
    if len(code) > MAX_RICH_CHARS:
        return text_lines(console, code.rstrip("\n"), width, look)
    from t502_tui.ui.rich_renderers import syntax

    padding = (1 if first else 0, 1, 1 if last else 0, 1)
    return _lines(console, syntax(defuse(code).rstrip("\n"), language or "text", look.code_theme, padding),
                  width, look, False)


def growing_code_lines(console: Console, code: str, width: int, look: Look, first: bool) -> list[Strip]:
    """The line of a fence still being written, in the code's colours but not highlighted
    yet (it is, once complete): highlighting on every frame would cost most of a frame."""
    if width <= 0:
        return []
    if len(code) > MAX_RICH_CHARS:
        return text_lines(console, code, width, look)
    from rich.syntax import Syntax

    background = Syntax.get_theme(look.code_theme).get_background_style()
    body = Padding(Text(defuse(code), style=background, overflow="fold"), (1 if first else 0, 1, 0, 1),
                   style=background, expand=True)
    return _lines(console, body, width, look, False)


def paragraph_lines(console: Console, source: str, width: int, look: Look) -> list[Strip]:
    """A growing paragraph: the cheap way when it is a plain one, else as Markdown."""
    if len(source) > MAX_RICH_CHARS:
        return markdown_lines(console, source, width, look)
    text = None if look.hard_breaks else paragraph_text(defuse(inline_images(source)))
    if text is None or width <= 0:
        return markdown_lines(console, source, width, look)
    return _lines(console, text, width, look, True)


TEXT_PIECE_LINES = 200
TEXT_PIECE_CHARS = 8_000
"""Literal text is wrapped this many lines (or characters, at a space) at a time: Rich
splits what it drew at each line end by copying the rest, so one long text costs it the
square of its length. A line longer than that is broken where a piece ends."""


def _pieces(text: str) -> list[str]:
    """``text`` in pieces of at most TEXT_PIECE_LINES lines and about TEXT_PIECE_CHARS characters."""
    pieces: list[str] = []
    lines: list[str] = []
    size = 0
    for line in text.split("\n"):
        while len(line) > TEXT_PIECE_CHARS:
            cut = line.rfind(" ", TEXT_PIECE_CHARS // 2, TEXT_PIECE_CHARS) + 1 or TEXT_PIECE_CHARS
            pieces.extend(["\n".join(lines)] if lines else [])
            pieces.append(line[:cut])
            lines, size, line = [], 0, line[cut:]
        if lines and (len(lines) >= TEXT_PIECE_LINES or size + len(line) > TEXT_PIECE_CHARS):
            pieces.append("\n".join(lines))
            lines, size = [], 0
        lines.append(line)
        size += len(line) + 1
    pieces.append("\n".join(lines))
    return pieces


def text_lines(console: Console, text: str | Text, width: int, look: Look) -> list[Strip]:
    """Literal text (what the user typed), or styled text t502 made (a header), wrapped to
    ``width`` cells."""
    if width <= 0:
        return []
    if not isinstance(text, str):
        return _lines(console, text, width, look, False)
    return [strip for piece in _pieces(defuse(text))
            for strip in _lines(console, Text(piece, no_wrap=False, overflow="fold"), width, look, False)]


def blank_line(width: int, look: Look) -> Strip:
    """An empty line in the view's colours."""
    return Strip([Segment(" " * width, look.base)], width)


def estimate_lines(source: str, width: int) -> int:
    """About how many lines ``source`` takes at ``width`` (before it is drawn)."""
    usable = max(1, width - 4)
    return sum(max(1, -(-(len(line) if line.isascii() else cell_len(line)) // usable))
               for line in source.strip("\n").split("\n"))


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


def probe_theme(console: Console, theme: Theme, code_theme: str, draw: bool = True) -> None:
    """Draw a sample reply with ``theme``: raises if the theme cannot draw one. Without
    ``draw``, only its colours are checked (what can fail; at start-up, drawing the sample
    would cost more than the rest of the first screen)."""
    look = Look.of(theme, code_theme, Style())
    if not draw:
        return
    markdown_lines(console, SAMPLE, 60, look)
    code_lines(console, "x = 1", "python", 60, look, True, True)
