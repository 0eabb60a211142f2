"""Markdown that grows while a reply streams, at a cost that follows the new text only.

Textual's ``Markdown`` makes a widget per block and re-parses its last block (a whole code
fence, however long) on every append, so a long reply costs more with every token. Here
the text is cut, as it arrives, into settled segments that are drawn once and never
again: runs of finished blocks (short code fences included), and a long fence that is
still open in pieces of a few dozen lines. Only the open tail is redrawn, at most once a
frame, and it stays short; settled segments off screen are drawn when the reply pauses.
Nothing is dropped: every appended character ends up in exactly one segment, and
:meth:`finish` draws the tail one last time from the complete text.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from rich.markdown import Markdown as RichMarkdown
from rich.syntax import Syntax
from textual.app import ComposeResult
from textual.await_complete import AwaitComplete
from textual.containers import Vertical
from textual.timer import Timer

from t502_tui.ui.widgets.rendered_block import Build, RenderedBlock

FRAME_SECONDS = 1 / 20
"""The open tail is redrawn at most this often."""
SEGMENT_CHARS = 1000
"""Finished blocks are settled once the tail holds this much: the tail, redrawn every
frame, stays a paragraph or so long; settled segments cost layout next to nothing."""
FENCE_PIECE_LINES = 40
"""A code fence is settled in pieces of this many lines while it is still open."""
FLOOD_CHARS = 4000
"""More text than this between two frames is a flood (a server far faster than reading)."""
FLOOD_FRAME_SECONDS = 0.25
FLOOD_SEGMENT_FACTOR = 8
"""During a flood, segments are this many times larger."""
"""During a flood the tail is redrawn this often."""
DRAW_SLICE_SECONDS = 0.008
"""Off-screen blocks are drawn in slices this long, so keys and frames come between."""
QUIET_SECONDS = 0.25
"""Off-screen blocks wait until the reply has been quiet this long."""

_FENCE_OPEN = re.compile(r"^ {0,3}(`{3,}|~{3,})([^`]*)$")


@dataclass
class _Fence:
    """The code fence the tail is inside."""

    marker: str
    opening: str
    language: str
    start: int = 0
    """Where the fence's opening line starts in the tail."""
    piece: int = 0
    """How many pieces of it are settled (0: it is still wholly in the tail)."""
    lines: int = 0


def _closes(line: str, fence: _Fence) -> bool:
    stripped = line.strip()
    return (
        len(line) - len(line.lstrip(" ")) < 4
        and stripped.startswith(fence.marker)
        and set(stripped) == {fence.marker[0]}
    )


class StreamingMarkdown(Vertical):
    """A growing Markdown document drawn as settled segments plus one open tail."""

    DEFAULT_CSS = """
    StreamingMarkdown { height: auto; }
    StreamingMarkdown > RenderedBlock { margin-top: 1; }
    StreamingMarkdown > RenderedBlock.md-continued, StreamingMarkdown > RenderedBlock.md-first {
        margin-top: 0;
    }
    """

    def __init__(self, text: str = "", *, code_theme: str = "monokai", classes: str | None = None) -> None:
        super().__init__(classes=classes)
        self.code_theme = code_theme
        """Pygments style for code; set it and call :meth:`restyle` to redraw."""
        self._parts: list[str] = []
        self._tail = ""
        """Text not yet settled."""
        self._incoming: list[str] = []
        """Text appended since the last frame (joined once per frame, not per token)."""
        self._incoming_chars = 0
        self._last_append = 0.0
        self._flooded = False
        """Much more than a frame's worth of text came in since the last frame."""
        self._scanned = 0
        """How much of the tail has been read as complete lines."""
        self._fence: _Fence | None = None
        self._tail_widget = RenderedBlock(code_theme=self._current_code_theme, classes="md-tail")
        self._timer: Timer | None = None
        self._last_draw = 0.0
        self._initial = text
        self._settled = 0
        """How many segments have been settled."""
        self._pending: dict[RenderedBlock, None] = {}
        """Settled blocks not drawn yet, oldest first (a dict: ordered, no duplicates)."""
        self._after_blank = False
        """The last line read (outside a fence) was blank: a block may start next."""
        self._pending_timer: Timer | None = None

    @property
    def text(self) -> str:
        """Everything appended so far."""
        if len(self._parts) > 1:
            self._parts = ["".join(self._parts)]
        return self._parts[0] if self._parts else ""

    def compose(self) -> ComposeResult:
        yield self._tail_widget

    def on_mount(self) -> None:
        if self._initial:
            text, self._initial = self._initial, ""
            self._parts.append(text)
            self._incoming.append(text)
            self.finish()

    def append(self, text: str) -> None:
        """Add text; it is drawn within a frame."""
        if not text:
            return
        if not self.is_mounted:
            self._initial += text
            return
        self._parts.append(text)
        self._incoming.append(text)
        self._incoming_chars += len(text)
        self._last_append = time.monotonic()
        if self._incoming_chars > FLOOD_CHARS and self._timer is not None and not self._flooded:
            # Text is pouring in faster than anyone reads: draw less often, so it is all
            # taken in sooner and keys are not kept waiting behind frames.
            self._flooded = True
            self._timer.stop()
            self._timer = None
        if self._timer is None:
            # A frame at most; longer when drawing the tail is slow.
            spacing = max(FLOOD_FRAME_SECONDS if self._flooded else FRAME_SECONDS,
                          3 * self._tail_widget.draw_seconds)
            delay = max(0.001, spacing - (time.monotonic() - self._last_draw))
            self._timer = self.set_timer(delay, self._draw)

    def finish(self) -> AwaitComplete:
        """Draw everything now; await it to be sure the last text is on screen."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        awaits = self._settle()
        self._update_tail(final=True)
        self._last_draw = time.monotonic()

        async def wait() -> None:
            for awaitable in awaits:
                await awaitable

        return AwaitComplete(wait())

    # -- drawing ------------------------------------------------------------------------------

    def _draw(self) -> None:
        self._timer = None
        self._flooded = self._incoming_chars > FLOOD_CHARS
        self._incoming_chars = 0
        self._settle()
        self._update_tail(final=False)
        self._last_draw = time.monotonic()

    def _current_code_theme(self) -> str:
        return self.code_theme

    def restyle(self, code_theme: str) -> None:
        """Draw code with another Pygments style."""
        if code_theme != self.code_theme:
            self.code_theme = code_theme
            for block in self.query(RenderedBlock):
                block.redraw()

    def _update_tail(self, final: bool) -> None:
        in_pieces = self._fence is not None and self._fence.piece > 0
        self._tail_widget.set_class(in_pieces, "md-continued")
        self._tail_widget.set_class(not self._settled, "md-first")
        self._tail_widget.update(self._render_tail(final), trim=not in_pieces)

    def _render_tail(self, final: bool) -> Build | None:
        if self._fence is not None and self._fence.piece:
            code = self._tail.partition("\n")[2]
            return self._code(code, self._fence.language, first=False, last=final)
        return self._markdown(self._tail) if self._tail.strip() else None

    @staticmethod
    def _markdown(text: str) -> Build:
        return lambda theme: RichMarkdown(text, code_theme=theme, hyperlinks=True)

    @staticmethod
    def _code(code: str, language: str, first: bool, last: bool) -> Build:
        code = code.rstrip("\n")
        padding = (1 if first else 0, 1, 1 if last else 0, 1)
        return lambda theme: Syntax(code, language or "text", theme=theme, word_wrap=True, padding=padding)

    def _draw_later(self, block: RenderedBlock) -> None:
        self._pending[block] = None
        if self._pending_timer is None:
            self._pending_timer = self.set_timer(0.001, self._draw_some)

    def _draw_some(self) -> None:
        """Draw waiting blocks for a few milliseconds, newest (nearest the view) first.

        Not while text is still pouring in: the reply's end comes first.
        """
        self._pending_timer = None
        if self._incoming or time.monotonic() - self._last_append < QUIET_SECONDS:
            self._pending_timer = self.set_timer(QUIET_SECONDS, self._draw_some)
            return
        deadline = time.monotonic() + DRAW_SLICE_SECONDS
        while self._pending and time.monotonic() < deadline:
            self._pending.popitem()[0].draw_pending()
        if self._pending:
            self._pending_timer = self.set_timer(0.001, self._draw_some)

    def _settle_segment(self, build: Build, source: str, kind: str, awaits: list, continued: bool = False) -> None:
        # Classes, not :first-child: that pseudo-class restyles every sibling on each mount.
        classes = f"md-segment md-{kind}" + (" md-continued" if continued else "")
        if not self._settled:
            classes += " md-first"
        self._settled += 1
        segment = RenderedBlock(build, code_theme=self._current_code_theme, trim=kind == "text",
                                source=source, draw_later=self._draw_later, classes=classes)
        awaits.append(self.mount(segment, before=self._tail_widget))

    def _settle(self) -> list:
        """Move finished blocks from the tail into settled segments.

        A segment is a run of whole blocks (short code fences included) cut at a blank
        line once it holds SEGMENT_CHARS; few, large segments keep layout cheap. Only a
        long fence still open is cut into pieces of its own.
        """
        awaits: list = []
        if self._incoming:
            self._tail += "".join(self._incoming)
            self._incoming.clear()
        tail = self._tail
        position = self._scanned
        # In a flood, bigger segments: fewer widgets to mount, and they are drawn later anyway.
        limit = SEGMENT_CHARS * (FLOOD_SEGMENT_FACTOR if self._flooded else 1)
        while (newline := tail.find("\n", position)) != -1:
            line = tail[position:newline]
            after = newline + 1
            fence = self._fence
            if fence is None:
                blank = not line.strip()
                if not blank and not line[0].isspace() and position >= limit and (
                    # A new block at the margin after a blank line; or, in a long run with
                    # no blank line (a huge list), any line that is not a table row.
                    self._after_blank
                    or (position >= 8 * limit and not line.startswith("|")
                        and not tail[:position].rstrip("\n").rpartition("\n")[2].lstrip().startswith("|"))
                ):
                    self._settle_segment(self._markdown(tail[:position]), tail[:position], "text", awaits)
                    tail, after, position = tail[position:], after - position, 0
                self._after_blank = blank
                if match := _FENCE_OPEN.match(line):
                    marker, info = match.group(1), match.group(2).strip()
                    self._fence = _Fence(marker, line, info.split()[0] if info else "", start=position)
            elif _closes(line, fence):
                self._fence = None
                self._after_blank = True  # a block may start right after a fence
                if fence.piece:
                    code = tail[:position].partition("\n")[2]
                    self._settle_segment(self._code(code, fence.language, False, True), code + "\n",
                                         "code", awaits, continued=True)
                    tail, after = tail[after:], 0
            else:
                fence.lines += 1
                if fence.lines >= FENCE_PIECE_LINES:
                    if fence.piece == 0 and tail[:fence.start].strip():
                        before = tail[:fence.start]
                        self._settle_segment(self._markdown(before), before, "text", awaits)
                    code = tail[fence.start:after].partition("\n")[2]
                    first = fence.piece == 0
                    self._settle_segment(self._code(code, fence.language, first, False),
                                         "\n" * first + code, "code", awaits, continued=not first)
                    fence.piece += 1
                    fence.lines = 0
                    fence.start = 0
                    tail = fence.opening + "\n" + tail[after:]
                    after = len(fence.opening) + 1
            position = after
        self._tail = tail
        self._scanned = position
        return awaits
