"""Markdown that grows while a reply streams, at a cost that follows the new text only.

Textual's ``Markdown`` makes a widget per block and re-parses its last block (a whole code
fence, however long) on every append, so a long reply costs more with every token. Here
the text is cut, as it arrives, into settled segments that are drawn once and never
again: runs of finished blocks (short code fences included), and a long fence that is
still open in pieces of a few dozen lines. Only the open tail is redrawn, at most once a
frame, and it stays short; settled segments off screen are drawn when the reply pauses.
Nothing is dropped: every appended character ends up in exactly one segment, and
:meth:`finish` draws the tail one last time from the complete text.

When text pours in far faster than anyone reads (a relay that held the whole reply back,
a very fast server), nothing is settled until it slows down: each frame shows the end of
the text only, about a screenful, so the screen follows the flood at the cost of one
screen's drawing, and everything is laid out once when the flood is over.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass

from rich.markdown import Markdown as RichMarkdown
from rich.syntax import Syntax
from textual.app import ComposeResult
from textual.await_complete import AwaitComplete
from textual.containers import Vertical
from textual.timer import Timer
from textual.widget import Widget

from t502_tui.ui.widgets.rendered_block import Build, RenderedBlock

FRAME_SECONDS = 1 / 20
"""The open tail is redrawn at most this often."""
SEGMENT_CHARS = 1000
"""Finished blocks are settled once the tail holds this much: the tail, redrawn every
frame, stays a paragraph or so long; settled segments cost layout next to nothing."""
FENCE_PIECE_LINES = 40
"""A code fence is settled in pieces of this many lines while it is still open."""
LARGE_SEGMENT_CHARS = 8000
"""Text far above the end of a long reply is settled in larger segments: fewer widgets."""
FLOOD_CHARS = 4000
"""More text than this between two frames is a flood (a server far faster than reading)."""
FLOOD_FRAME_SECONDS = 0.25
"""During a flood the end of the text is shown this often."""
DRAW_SLICE_SECONDS = 0.008
"""Off-screen blocks are drawn in slices this long, so keys and frames come between."""
QUIET_SECONDS = 0.25
"""Off-screen blocks wait until the reply has been quiet this long."""

_FENCE_OPEN = re.compile(r"^ {0,3}(`{3,}|~{3,})([^`]*)$")
_FENCE_LINE = re.compile(r"^ {0,3}(?:`{3,}|~{3,}).*$", re.MULTILINE)


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


def text_end(text: str, lines: int, chars: int) -> str:
    """The end of Markdown ``text``: its last ``lines`` lines, or fewer if those hold
    ``chars`` characters, drawn as they are in place (a code fence open where the text is
    cut is opened again)."""
    cut = len(text.rstrip("\n"))
    for _ in range(lines):
        cut = text.rfind("\n", 0, cut)
        if cut == -1:
            return text
        if len(text) - cut >= chars:
            break
    cut += 1
    fence: _Fence | None = None
    for match in _FENCE_LINE.finditer(text, 0, cut):
        line = match.group()
        if fence is None:
            if opened := _FENCE_OPEN.match(line):
                fence = _Fence(opened.group(1), line, "")
        elif _closes(line, fence):
            fence = None
    return (fence.opening + "\n" if fence else "") + text[cut:]


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
        """Draw everything now; await it to be sure the whole text is laid out.

        After a flood the end of the text is shown at once, and the rest laid out
        right after that frame: the last words reach the screen first.
        """
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self._last_draw = time.monotonic()
        if not self._flooded:
            return self._lay_out()
        self._flooded = False
        self._show_end()
        laid_out = asyncio.Event()

        async def lay_out() -> None:
            await self._lay_out()
            laid_out.set()

        self.call_after_refresh(lay_out)
        return AwaitComplete(laid_out.wait())

    def _lay_out(self) -> AwaitComplete:
        """Settle what can be, draw the tail as final; await it for the mounting."""
        mounted = self._mount(self._settle())
        self._update_tail(final=True)

        async def wait() -> None:
            if mounted is not None:
                await mounted

        return AwaitComplete(wait())

    def _mount(self, segments: list[RenderedBlock]) -> AwaitComplete | None:
        """Mount newly settled segments above the tail, all at once (one layout)."""
        return self.mount_all(segments, before=self._tail_widget) if segments else None

    # -- drawing ------------------------------------------------------------------------------

    def _draw(self) -> None:
        self._timer = None
        self._flooded = self._incoming_chars > FLOOD_CHARS
        self._incoming_chars = 0
        if self._flooded:
            self._show_end()
        else:
            self._mount(self._settle())
            self._update_tail(final=False)
        self._last_draw = time.monotonic()

    def _show_end(self) -> None:
        """Draw only the end of the unsettled text, about a screenful of it."""
        if self._incoming:
            self._tail += "".join(self._incoming)
            self._incoming.clear()
        scroller = next((a for a in self.ancestors if isinstance(a, Widget) and a.is_scrollable), self.screen)
        width, height = self.size.width or scroller.size.width, scroller.size.height
        end = text_end(self._tail, height, width * height)
        self._tail_widget.remove_class("md-continued")
        self._tail_widget.set_class(not self._settled, "md-first")
        self._tail_widget.update(self._markdown(end) if end.strip() else None)

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

    def _settle_segment(self, build: Build, source: str, kind: str, segments: list[RenderedBlock],
                        continued: bool = False) -> None:
        # Classes, not :first-child: that pseudo-class restyles every sibling on each mount.
        classes = f"md-segment md-{kind}" + (" md-continued" if continued else "")
        if not self._settled:
            classes += " md-first"
        self._settled += 1
        segments.append(RenderedBlock(build, code_theme=self._current_code_theme, trim=kind == "text",
                                      source=source, draw_later=self._draw_later, classes=classes))

    def _settle(self) -> list[RenderedBlock]:
        """Move finished blocks from the tail into settled segments, returned to be mounted.

        A segment is a run of whole blocks (short code fences included) cut at a blank
        line once it holds SEGMENT_CHARS (LARGE_SEGMENT_CHARS far from the end); few,
        large segments keep layout cheap. Only a long fence still open is cut into
        pieces of its own.
        """
        segments: list[RenderedBlock] = []
        if self._incoming:
            self._tail += "".join(self._incoming)
            self._incoming.clear()
        tail = self._tail
        position = self._scanned
        while (newline := tail.find("\n", position)) != -1:
            line = tail[position:newline]
            after = newline + 1
            fence = self._fence
            if fence is None:
                blank = not line.strip()
                if not blank and not line[0].isspace() and position >= SEGMENT_CHARS and (
                    # A new block at the margin after a blank line (in larger segments far
                    # from the end); or, in a long run with no blank line (a huge list),
                    # any line that is not a table row.
                    (self._after_blank and (position >= LARGE_SEGMENT_CHARS
                                            or len(tail) - position < LARGE_SEGMENT_CHARS))
                    or (position >= LARGE_SEGMENT_CHARS and not line.startswith("|")
                        and not tail[:position].rstrip("\n").rpartition("\n")[2].lstrip().startswith("|"))
                ):
                    self._settle_segment(self._markdown(tail[:position]), tail[:position], "text", segments)
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
                                         "code", segments, continued=True)
                    tail, after = tail[after:], 0
            else:
                fence.lines += 1
                if fence.lines >= FENCE_PIECE_LINES:
                    if fence.piece == 0 and tail[:fence.start].strip():
                        before = tail[:fence.start]
                        self._settle_segment(self._markdown(before), before, "text", segments)
                    code = tail[fence.start:after].partition("\n")[2]
                    first = fence.piece == 0
                    self._settle_segment(self._code(code, fence.language, first, False),
                                         "\n" * first + code, "code", segments, continued=not first)
                    fence.piece += 1
                    fence.lines = 0
                    fence.start = 0
                    tail = fence.opening + "\n" + tail[after:]
                    after = len(fence.opening) + 1
            position = after
        self._tail = tail
        self._scanned = position
        return segments
