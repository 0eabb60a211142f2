"""Markdown that grows while a reply streams, at a cost that follows the new text only.

Textual's ``Markdown`` makes a widget per block and re-parses its last block (a whole code
fence, however long) on every append, so a long reply costs more with every token. Here
the text is cut, as it arrives, into settled segments that are drawn once and never
again: runs of finished blocks, and code fences (long ones in pieces of a few dozen
lines). Only the open tail is redrawn, at most once a frame, and it stays short. Nothing
is dropped: every appended character ends up in exactly one segment, and :meth:`finish`
draws the tail one last time from the complete text.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from rich.console import RenderableType
from rich.markdown import Markdown as RichMarkdown
from rich.segment import Segment
from rich.syntax import Syntax
from textual.await_complete import AwaitComplete
from textual.containers import Vertical
from textual.geometry import Size
from textual.strip import Strip
from textual.timer import Timer
from textual.widget import Widget

FRAME_SECONDS = 1 / 30
"""The open tail is redrawn at most this often."""
SEGMENT_CHARS = 1500
"""Finished blocks are settled into a segment once the tail holds this much."""
FENCE_PIECE_LINES = 40
"""A code fence is settled in pieces of this many lines while it is still open."""

_FENCE_OPEN = re.compile(r"^ {0,3}(`{3,}|~{3,})([^`]*)$")


@dataclass
class _Fence:
    """The code fence the tail is inside."""

    marker: str
    opening: str
    language: str
    piece: int = 0
    lines: int = 0


def _closes(line: str, fence: _Fence) -> bool:
    stripped = line.strip()
    return (
        len(line) - len(line.lstrip(" ")) < 4
        and stripped.startswith(fence.marker)
        and set(stripped) == {fence.marker[0]}
    )


class RenderedBlock(Widget):
    """A Rich renderable drawn once per width and theme, then served from its lines.

    Layout asks every block its height on each reflow; answering from a cache keeps a
    long reply as cheap to lay out as a short one.
    """

    DEFAULT_CSS = "RenderedBlock { height: auto; }"

    def __init__(self, renderable: RenderableType = "", *, classes: str | None = None) -> None:
        super().__init__(classes=classes)
        self._renderable = renderable
        self._lines: list[Strip] = []
        self._lines_width = -1

    def update(self, renderable: RenderableType) -> None:
        """Show something else."""
        self._renderable = renderable
        self._lines_width = -1
        self.refresh(layout=True)

    def notify_style_update(self) -> None:
        self._lines_width = -1
        super().notify_style_update()

    def _lines_for(self, width: int) -> list[Strip]:
        if width != self._lines_width:
            console = self.app.console
            options = console.options.update(width=width, min_width=width, max_width=width, height=None)
            style = self.rich_style
            lines = console.render_lines(self._renderable, options, style=style, pad=True)
            self._lines = [Strip(line, width) for line in lines]
            self._lines_width = width
        return self._lines

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        if width <= 0 or self._renderable == "":
            return 0
        return len(self._lines_for(width))

    def render_line(self, y: int) -> Strip:
        width = self.content_size.width
        lines = self._lines_for(width)
        if y < len(lines):
            return lines[y]
        return Strip([Segment(" " * width, self.rich_style)], width)


class StreamingMarkdown(Vertical):
    """A growing Markdown document drawn as settled segments plus one open tail."""

    DEFAULT_CSS = "StreamingMarkdown { height: auto; }"

    def __init__(self, text: str = "", *, code_theme: str = "monokai", classes: str | None = None) -> None:
        super().__init__(classes=classes)
        self.code_theme = code_theme
        self._parts: list[str] = []
        self._tail = ""
        """Text not yet settled."""
        self._scanned = 0
        """How much of the tail has been read as complete lines."""
        self._fence: _Fence | None = None
        self._tail_widget = RenderedBlock(classes="md-tail")
        self._timer: Timer | None = None
        self._last_draw = 0.0
        self._initial = text

    @property
    def text(self) -> str:
        """Everything appended so far."""
        if len(self._parts) > 1:
            self._parts = ["".join(self._parts)]
        return self._parts[0] if self._parts else ""

    def compose(self):  # type: ignore[no-untyped-def]
        yield self._tail_widget

    def on_mount(self) -> None:
        if self._initial:
            self.append(self._initial)
            self._initial = ""
            self.finish()

    def append(self, text: str) -> None:
        """Add text; it is drawn within a frame."""
        if not text:
            return
        self._parts.append(text)
        self._tail += text
        if self._timer is None:
            delay = max(0.001, FRAME_SECONDS - (time.monotonic() - self._last_draw))
            self._timer = self.set_timer(delay, self._draw)

    def finish(self) -> AwaitComplete:
        """Draw everything now; await it to be sure the last text is on screen."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        awaits = self._settle()
        self._tail_widget.update(self._render_tail(final=True))
        self._last_draw = time.monotonic()

        async def wait() -> None:
            for awaitable in awaits:
                await awaitable

        return AwaitComplete(wait())

    # -- drawing ------------------------------------------------------------------------------

    def _draw(self) -> None:
        self._timer = None
        self._settle()
        self._tail_widget.update(self._render_tail(final=False))
        self._last_draw = time.monotonic()

    def _render_tail(self, final: bool) -> RenderableType:
        if self._fence is not None:
            code = self._tail.partition("\n")[2]
            return self._code(code, self._fence.language, first=self._fence.piece == 0, last=final)
        return self._markdown(self._tail) if self._tail.strip() else ""

    def _markdown(self, text: str) -> RenderableType:
        return RichMarkdown(text, code_theme=self.code_theme, hyperlinks=True)

    def _code(self, code: str, language: str, first: bool, last: bool) -> RenderableType:
        return Syntax(
            code.rstrip("\n"),
            language or "text",
            theme=self.code_theme,
            word_wrap=True,
            padding=(1 if first else 0, 1, 1 if last else 0, 1),
        )

    def _settle_segment(self, renderable: RenderableType, kind: str, awaits: list) -> None:
        segment = RenderedBlock(renderable, classes=f"md-segment md-{kind}")
        awaits.append(self.mount(segment, before=self._tail_widget))

    def _settle(self) -> list:
        """Move finished blocks from the tail into settled segments."""
        awaits: list = []
        tail = self._tail
        position = self._scanned
        while (newline := tail.find("\n", position)) != -1:
            line = tail[position:newline]
            after = newline + 1
            fence = self._fence
            if fence is None:
                if match := _FENCE_OPEN.match(line):
                    before = tail[:position]
                    if before.strip():
                        self._settle_segment(self._markdown(before), "text", awaits)
                    marker, info = match.group(1), match.group(2).strip()
                    self._fence = _Fence(marker, line, info.split()[0] if info else "")
                    tail, after = tail[position:], after - position
                elif (not line.strip() and after >= SEGMENT_CHARS) or (
                    # A long run with no blank line (a huge list): cut between lines
                    # that are not table rows or indented continuations.
                    position >= 4 * SEGMENT_CHARS
                    and not line.startswith((" ", "\t", "|"))
                    and not tail[:position].rstrip("\n").rpartition("\n")[2].lstrip().startswith("|")
                ):
                    cut = after if not line.strip() else position
                    self._settle_segment(self._markdown(tail[:cut]), "text", awaits)
                    tail, after = tail[cut:], after - cut
            elif _closes(line, fence):
                code = tail[: position].partition("\n")[2]
                self._settle_segment(self._code(code, fence.language, fence.piece == 0, True), "code", awaits)
                self._fence = None
                tail, after = tail[after:], 0
            else:
                fence.lines += 1
                if fence.lines >= FENCE_PIECE_LINES:
                    code = tail[:after].partition("\n")[2]
                    self._settle_segment(self._code(code, fence.language, fence.piece == 0, False), "code", awaits)
                    fence.piece += 1
                    fence.lines = 0
                    tail = fence.opening + "\n" + tail[after:]
                    after = len(fence.opening) + 1
            position = after
        self._tail = tail
        self._scanned = position
        return awaits
