"""The web pages a reply cites, kept at the end of its text as a numbered list.

Search models (Perplexity's, OpenAI's search previews, OpenRouter's web search) send their
sources beside the text, which refers to them as [1], [2]: shown nowhere, those lead
nowhere. Kept in the text, the sources are shown, searched, copied and exported with it,
and the model sees them when the conversation goes on.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from t502_tui.service.events import Source

MAX_SOURCES = 50
"""The most sources kept for one reply."""

HEADING = "Sources:"

_PUNCTUATION = re.compile(r"([\\`*_\[\]<>&~!])")
"""What may start Markdown inside a link's text (the rest only at a line's start)."""


class ReplySources:
    """The sources of one reply as they arrive, each address once, in the order first
    listed (Perplexity numbers its ``[1]`` by that order); a title that comes later for
    an address first listed bare is kept."""

    def __init__(self) -> None:
        self._titles: dict[str, str] = {}

    def add(self, sources: Iterable[Source]) -> None:
        for source in sources:
            if source.url in self._titles:
                self._titles[source.url] = self._titles[source.url] or source.title
            elif len(self._titles) < MAX_SOURCES:
                self._titles[source.url] = source.title

    def markdown(self) -> str:
        """The list to put after the reply's text ("" when there are none): each title a
        link to its page, then the site's name, for terminals that show no links."""
        if not self._titles:
            return ""
        lines = [f"{n}. {_entry(url, title)}" for n, (url, title) in enumerate(self._titles.items(), 1)]
        return f"{HEADING}\n\n" + "\n".join(lines)


def _entry(url: str, title: str) -> str:
    try:
        site = (urlsplit(url).hostname or url).removeprefix("www.")
    except ValueError:  # an address urllib cannot split ("http://[oops")
        site = url
    target = url.replace("(", "%28").replace(")", "%29").replace("<", "%3C").replace(">", "%3E")
    if not title:
        return f"[{_literal(site)}]({target})"
    return f"[{_literal(title)}]({target}) · {_literal(site)}"


def _literal(text: str) -> str:
    """The server's words as written: nothing in them may become Markdown."""
    return _PUNCTUATION.sub(r"\\\1", text)
