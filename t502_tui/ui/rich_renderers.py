"""Rich's Markdown and Syntax, made without what Rich redoes for each one.

Rich builds a Markdown parser (with its link finder) for every document and looks a code
block's lexer up by name among hundreds for every block. A streaming reply draws a
paragraph or a line of code several times a second, and those two cost about as much as
drawing it. Here the parser is made once and lexers once per language. Imported after the
first frame (see :func:`t502_tui.ui.message_render.load_renderers`).
"""

from __future__ import annotations

from functools import lru_cache

from markdown_it import MarkdownIt
from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound
from rich.markdown import Markdown
from rich.syntax import PaddingDimensions, Syntax

_PARSER = MarkdownIt("commonmark", {"html": False}).enable("strikethrough").enable("table")
"""As Rich makes it for each document, except that HTML in a reply is text, shown as
written: Rich drops HTML, so a ``<div>`` and the words inside it vanished. Parsing keeps
no state in the parser."""


class _SharedParserMarkdown(Markdown):
    """Rich's Markdown, parsed by :data:`_PARSER`."""

    def __init__(self, markup: str, code_theme: str) -> None:  # noqa: D107 - Rich's fields, set as Rich sets them
        self.markup = markup
        self.parsed = _PARSER.parse(markup)
        self.code_theme = code_theme
        self.justify = None
        self.style = "none"
        self.hyperlinks = True
        self.inline_code_lexer = None
        self.inline_code_theme = code_theme


_SAME_FIELDS = set(vars(Markdown("", code_theme="monokai"))) == set(vars(_SharedParserMarkdown("", "monokai")))
"""False if a later Rich gives Markdown other fields: then Rich's own is used."""


def markdown(source: str, code_theme: str) -> Markdown:
    """``source`` as Rich Markdown, links kept as hyperlinks."""
    if _SAME_FIELDS:
        return _SharedParserMarkdown(source, code_theme)
    drawn = Markdown(source, code_theme=code_theme, hyperlinks=True)
    drawn.parsed = _PARSER.parse(source)
    return drawn


@lru_cache(maxsize=64)
def _lexer(language: str) -> Lexer | str:
    """The lexer for a fence's language, as Rich would make it; the name itself when
    Pygments has none (Rich then shows the code plain). Languages come from replies:
    only so many are kept."""
    try:
        return get_lexer_by_name(language, stripnl=False, ensurenl=True, tabsize=Syntax("", "text").tab_size)
    except ClassNotFound:
        return language


def syntax(code: str, language: str, theme: str, padding: PaddingDimensions) -> Syntax:
    """``code`` highlighted as ``language``, wrapped to the width it is drawn at."""
    return Syntax(code, _lexer(language), theme=theme, word_wrap=True, padding=padding)
