"""Where a reply's Markdown code fences open and close, read line by line as CommonMark
does; what is inside a fence is code, whatever it looks like."""

from __future__ import annotations

import re
from collections.abc import Iterator

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")


def fenced_lines(text: str) -> Iterator[tuple[str, str]]:
    """Each line of ``text`` with the fence left open after it (``` or ~~~ of the opening's
    length; "" outside code)."""
    opened = ""
    for line in text.split("\n"):
        match = _FENCE.match(line)
        if match is not None:
            run, rest = match.group(1), match.group(2)
            if not opened:
                if not (run[0] == "`" and "`" in rest):  # (a backtick in its info string: no fence)
                    opened = run
            elif run[0] == opened[0] and len(run) >= len(opened) and not rest.strip():
                opened = ""
        yield line, opened


def closing_fence(text: str) -> str:
    """The line that closes a code fence ``text`` leaves open ("" if none is): a reply cut
    off inside one would take what follows it into the code."""
    opened = ""
    for _line, opened in fenced_lines(text):
        pass
    return opened[0] * len(opened) if opened else ""
