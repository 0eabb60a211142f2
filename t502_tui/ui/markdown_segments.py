"""Cutting a growing Markdown text into settled segments and one open tail.

A reply arrives a few characters at a time. Drawing it all again for every piece costs
more with every token; instead, finished blocks are settled into segments, drawn once and
kept, and only the open tail is drawn again as it grows, so it stays one block long: a
block is settled as soon as the next one starts (a line at the margin after a blank
line), a fence as soon as it closes, and a fence that is still open in pieces of a few
lines. Every character appended ends up in exactly one segment or in the tail, in order.

Only text is handled here (no Rich, no Textual), so the cutting can be tested alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

LARGE_SEGMENT_CHARS = 8000
"""A run this long with no blank line (a huge list) is cut at its next line at the margin."""
FENCE_PIECE_LINES = 1
"""An open code fence is settled a line at a time: highlighting code costs far more than
prose, so each line is highlighted once, when it is complete (the whole fence is drawn
again, highlighted as one, when it closes)."""

_FENCE_OPEN = re.compile(r"^ {0,3}(`{3,}|~{3,})([^`]*)$")
_LIST_ITEM = re.compile(r"^ {0,3}(?:[-+*]|\d{1,9}[.)])(?:[ \t]|$)", re.MULTILINE)


@dataclass(frozen=True)
class Segment:
    """A settled part of the text: Markdown, or a piece of a code fence."""

    source: str
    """Markdown text; for a code piece, the code itself (no fence lines)."""
    language: str | None = None
    """None for Markdown; the fence's language ("" if it names none) for code."""
    first: bool = True
    """Code: the fence's first piece (drawn with room above it)."""
    last: bool = True
    """Code: the fence's last piece (drawn with room below it)."""
    joined: bool = False
    """Markdown: the rest of a run cut for its length (see LARGE_SEGMENT_CHARS), not a new block."""

    @property
    def is_code(self) -> bool:
        return self.language is not None

    @property
    def continued(self) -> bool:
        """A later piece of a fence, or of a long run: drawn right under the piece before,
        no gap (a blank row there split a paragraph, or a model's thinking, in two)."""
        return self.is_code and not self.first or self.joined


@dataclass
class _Fence:
    """The code fence the tail is inside."""

    marker: str
    opening: str
    language: str
    start: int = 0
    """Where the fence's opening line starts in the tail."""
    pieces: int = 0
    """How many pieces of it are settled (0: it is still wholly in the tail)."""
    lines: int = 0


def _closes(line: str, fence: _Fence) -> bool:
    stripped = line.strip()
    return (len(line) - len(line.lstrip(" ")) < 4 and stripped.startswith(fence.marker)
            and set(stripped) == {fence.marker[0]})


def _table_row(line: str) -> bool:
    return line.lstrip().startswith("|")


def _indented_block(line: str, tail: str, position: int) -> bool:
    """Whether ``line``, indented a little after a blank line at ``position`` of ``tail``,
    starts a block of its own: yes, unless a list above may go on in it (in one segment,
    the blank row before it would be drawn as the segment's own, unlike the gaps between
    blocks; after a table, Rich would draw two). Four spaces or a tab make code."""
    indent = len(line) - len(line.lstrip(" "))
    return (indent < len(line) and indent < 4 and not line[indent].isspace()
            and not _LIST_ITEM.search(tail, 0, position))


class MarkdownSegmenter:
    """Feed text with :meth:`append`; :meth:`settle` returns what is finished."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._tail = ""
        """Text not yet settled."""
        self._incoming: list[str] = []
        self._scanned = 0
        """How much of the tail has been read as complete lines."""
        self._fence: _Fence | None = None
        self._after_blank = False
        """The last line read (outside a fence) was blank: a block may start next."""
        self._joined = False
        """The tail goes on from a run cut for its length (see :attr:`Segment.joined`)."""

    @property
    def text(self) -> str:
        """Everything appended so far."""
        if len(self._parts) > 1:
            self._parts = ["".join(self._parts)]
        return self._parts[0] if self._parts else ""

    def append(self, text: str) -> None:
        """Add text (cheap: it is read at the next :meth:`settle`)."""
        if text:
            self._parts.append(text)
            self._incoming.append(text)

    def tail(self) -> Segment | None:
        """The open part, as it would be drawn now (None when there is nothing)."""
        self._take_incoming()
        fence = self._fence
        if fence is not None and fence.start == 0:
            code = self._tail.partition("\n")[2]
            return Segment(code, fence.language, first=not fence.pieces, last=False) if code else None
        return Segment(self._tail, joined=self._joined) if self._tail.strip() else None

    def finish(self) -> list[Segment]:
        """Settle everything: the text is complete (an open fence is closed as it is)."""
        segments = self.settle()
        tail = self.tail()
        if tail is not None:
            if tail.is_code:
                tail = Segment(tail.source, tail.language, first=tail.first, last=True)
            segments.append(tail)
        self._tail, self._scanned, self._fence, self._joined = "", 0, None, False
        return segments

    def _take_incoming(self) -> None:
        if self._incoming:
            self._tail += "".join(self._incoming)
            self._incoming.clear()

    def _cut(self, tail: str, at: int, out: list[Segment], joined: bool = False) -> str:
        """Settle ``tail[:at]`` as Markdown (if it holds anything); the rest stays, and is
        ``joined`` to it when it was cut for its length only."""
        if tail[:at].strip():
            out.append(Segment(tail[:at], joined=self._joined))
        self._joined = joined
        return tail[at:]

    def settle(self) -> list[Segment]:
        """Move finished blocks from the tail into segments, and return them."""
        self._take_incoming()
        out: list[Segment] = []
        tail = self._tail
        position = self._scanned
        while (newline := tail.find("\n", position)) != -1:
            line = tail[position:newline]
            after = newline + 1
            fence = self._fence
            if fence is None:
                blank = not line.strip()
                at_margin = not blank and not line[0].isspace()
                if not at_margin and not blank and self._after_blank and position:
                    at_margin = _indented_block(line, tail, position)
                if position and at_margin and (
                    self._after_blank
                    or (position >= LARGE_SEGMENT_CHARS and not _table_row(line)
                        and not _table_row(tail[:position].rstrip("\n").rpartition("\n")[2]))
                ):
                    tail, after, position = self._cut(tail, position, out, not self._after_blank), after - position, 0
                self._after_blank = blank
                if match := _FENCE_OPEN.match(line):
                    if position and not line[0].isspace():  # what came before is finished
                        tail, after, position = self._cut(tail, position, out), after - position, 0
                    marker, info = match.group(1), match.group(2).strip()
                    self._fence = _Fence(marker, line, info.split()[0] if info else "", start=position)
            elif _closes(line, fence):
                self._fence = None
                self._after_blank = True  # a block may start right after a fence
                if fence.pieces:
                    code = tail[:position].partition("\n")[2]
                    out.append(Segment(code, fence.language, first=False, last=True))
                    tail, after = tail[after:], 0
                elif fence.start == 0 and not fence.opening[0].isspace():
                    tail, after = self._cut(tail, after, out), 0  # a whole fence at the margin
            else:
                fence.lines += 1
                if fence.lines >= FENCE_PIECE_LINES and fence.start == 0:
                    code = tail[:after].partition("\n")[2]
                    out.append(Segment(code, fence.language, first=fence.pieces == 0, last=False))
                    fence.pieces += 1
                    fence.lines = 0
                    tail = fence.opening + "\n" + tail[after:]
                    after = len(fence.opening) + 1
            position = after
        if (self._fence is None and self._after_blank and 0 < position < len(tail)
                and (not tail[position].isspace() or _indented_block(tail[position:], tail, position))):
            tail, position = self._cut(tail, position, out), 0  # the next block has begun
        self._tail = tail
        self._scanned = position
        return out
