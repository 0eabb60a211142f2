"""Markdown and code drawn with a shared parser and kept lexers look as Rich draws them."""

from __future__ import annotations

from rich.console import Console
from rich.markdown import Markdown
from rich.syntax import Syntax

from t502_tui.ui.rich_renderers import markdown, syntax

SOURCE = """# Title

Some *emphasis*, **bold**, ~~struck~~, `code` and a [link](https://example.org).

| a | b |
|---|---|
| 1 | 2 |

- one
- two
"""


def drawn(renderable: object) -> list[list[tuple[str, object]]]:
    console = Console(width=60, color_system="truecolor", force_terminal=True)
    return [[(segment.text, segment.style) for segment in line]
            for line in console.render_lines(renderable, console.options)]  # type: ignore[arg-type]


def test_markdown_is_drawn_as_rich_draws_it() -> None:
    assert drawn(markdown(SOURCE, "monokai")) == drawn(Markdown(SOURCE, code_theme="monokai", hyperlinks=True))
    assert drawn(markdown("second *document*", "monokai")) == drawn(Markdown("second *document*", code_theme="monokai"))


def test_html_in_a_reply_is_shown_as_written() -> None:
    source = ('Use a div:\n\n<div class="box">\nHello inside div\n</div>\n\n'
              "Inline <b>bold</b> and <script>alert(1)</script>.\n\n<details><summary>More</summary>hidden</details>\n")
    text = "\n".join("".join(piece for piece, _ in line) for line in drawn(markdown(source, "monokai")))
    for written in ('<div class="box">', "Hello inside div", "<b>bold</b>", "<script>alert(1)</script>",
                    "<details><summary>More</summary>hidden</details>"):
        assert written in text


def test_code_is_highlighted_as_rich_does_and_an_unknown_language_is_plain() -> None:
    code = 'def f(x):\n    """Doc."""\n    return x + 1  # one more\n'
    for language in ("python", "Python", "no-such-language", "text"):
        ours = syntax(code, language, "monokai", (0, 1))
        rich = Syntax(code, language, theme="monokai", word_wrap=True, padding=(0, 1))
        assert drawn(ours) == drawn(rich)
