"""The web pages a reply cites, kept at the end of its text as a list.

Search models (Perplexity's, OpenAI's search previews, OpenRouter's web search) send their
sources beside the text, which refers to them as [1], [2]: shown nowhere, those lead
nowhere. Kept in the text, the sources are shown, searched, copied and exported with it,
and the model sees them when the conversation goes on. Each keeps the number the server
gave it, so that the text's [3] is the list's [3] even when the second was no web link.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from t502_tui.service.events import SourcesFound
from t502_tui.terminal_text import defuse

MAX_SOURCES = 100
"""The most sources kept for one reply; more are counted in a line after the list."""

HEADING = "Sources:"

_PUNCTUATION = re.compile(r"([\\`*_\[\]<>&~!])")
"""What may start Markdown inside a link's text (the rest only at a line's start)."""


class ReplySources:
    """The sources of one reply as they arrive, each address once, under the first number
    it was given; a title that comes later for an address first listed bare is kept."""

    def __init__(self) -> None:
        self._found: dict[str, tuple[int | None, str]] = {}
        self._beyond = 0
        """Sources the server listed past what t502 keeps."""

    def add(self, found: SourcesFound) -> None:
        self._beyond = max(self._beyond, found.beyond)  # (each chunk repeats the whole list)
        for source in found.sources:
            if source.url in self._found:
                number, title = self._found[source.url]
                self._found[source.url] = (number if number is not None else source.number, title or source.title)
            elif len(self._found) < MAX_SOURCES:
                self._found[source.url] = (source.number, source.title)
            else:
                self._beyond += 1

    def markdown(self) -> str:
        """The list to put after the reply's text ("" when there are none), by number:
        each title a link to its page, then the site's name, for terminals that show no
        links; sources the server did not number come after the numbered ones."""
        if not self._found:
            return ""
        last = max((number for number, _ in self._found.values() if number is not None), default=0)
        numbered: list[tuple[int, str, str]] = []
        for url, (number, title) in self._found.items():
            if number is None:
                last += 1
                number = last
            numbered.append((number, url, title))
        lines = [f"- \\[{number}\\] {_entry(url, title)}" for number, url, title in sorted(numbered)]
        if self._beyond:
            lines.append(f"- … {self._beyond} more not kept")
        return f"{HEADING}\n\n" + "\n".join(lines)


def _entry(url: str, title: str) -> str:
    try:
        site = (urlsplit(url).hostname or url).removeprefix("www.")
    except ValueError:  # an address urllib cannot split ("http://[oops")
        site = url
    if not site.isascii():  # "аррӏе.com" in Cyrillic reads as apple.com: its real name
        try:
            site = site.encode("idna").decode("ascii")
        except UnicodeError:
            pass
    target = "".join(_ESCAPED.get(c, c) for c in url)
    if not title:
        return f"[{_literal(site)}]({target})"
    return f"[{_literal(title)}]({target}) · {_literal(site)}"


_ESCAPED = {"(": "%28", ")": "%29", "<": "%3C", ">": "%3E", "\\": "%5C"}
"""What in an address would end or escape a Markdown link's destination."""


def _literal(text: str) -> str:
    """The server's words as written: nothing in them may become Markdown, and an escape
    sequence shows as codes (``^[``), as in the reply's own text."""
    return _PUNCTUATION.sub(r"\\\1", defuse(text))
