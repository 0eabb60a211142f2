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
from collections.abc import Callable
from dataclasses import dataclass

from rich.console import RenderableType
from rich.markdown import Markdown as RichMarkdown
from rich.segment import Segment
from rich.syntax import Syntax
from rich.theme import Theme as RichTheme
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


Build = Callable[[str], RenderableType]
"""Makes a block's renderable for a Pygments style name."""


class RenderedBlock(Widget):
    """A Rich renderable drawn once per width and theme, then served from its lines.

    Layout asks every block its height on each reflow; answering from a cache keeps a
    long reply as cheap to lay out as a short one.
    """

    DEFAULT_CSS = "RenderedBlock { height: auto; }"

    def __init__(
        self, build: Build | None = None, *, code_theme: Callable[[], str], trim: bool = True,
        classes: str | None = None,
    ) -> None:
        super().__init__(classes=classes)
        self._build = build
        self.trim = trim
        """Drop blank lines at the top and bottom (text, not code with its padding)."""
        self.display = build is not None
        self._code_theme = code_theme
        self._lines: list[Strip] = []
        self._lines_width = -1

    def update(self, build: Build | None, trim: bool = True) -> None:
        """Show something else."""
        self._build = build
        self.trim = trim
        self.display = build is not None
        self._lines_width = -1
        self.refresh(layout=True)

    def notify_style_update(self) -> None:
        self._lines_width = -1
        super().notify_style_update()

    def _rich_theme(self) -> RichTheme:
        """Markdown styles taken from the app's theme, so every theme reads well."""
        theme = self.app.current_theme
        accent = theme.accent or theme.primary
        return RichTheme({
            "markdown.code": f"bold {accent}",
            "markdown.link": f"underline {theme.primary}",
            "markdown.link_url": theme.primary,
            "markdown.block_quote": f"italic {theme.secondary or theme.primary}",
            "markdown.h1.border": theme.primary,
        })

    def _lines_for(self, width: int) -> list[Strip]:
        if width != self._lines_width:
            lines: list[list[Segment]] = []
            if self._build is not None:
                console = self.app.console
                options = console.options.update(width=width, min_width=width, max_width=width, height=None)
                with console.use_theme(self._rich_theme()):
                    lines = console.render_lines(self._build(self._code_theme()), options, style=self.rich_style, pad=True)
                if self.trim:
                    # Rich puts blank lines around some blocks; spacing comes from CSS instead.
                    blank = [not "".join(s.text for s in line).strip() for line in lines]
                    start = blank.index(False) if False in blank else len(lines)
                    end = len(lines) - (blank[::-1].index(False) if False in blank else 0)
                    lines = lines[start:end]
            self._lines = [Strip(line, width) for line in lines]
            self._lines_width = width
        return self._lines

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self._lines_for(width)) if width > 0 else 0

    def render_line(self, y: int) -> Strip:
        width = self.content_size.width
        lines = self._lines_for(width)
        if y < len(lines):
            return lines[y]
        return Strip([Segment(" " * width, self.rich_style)], width)


class StreamingMarkdown(Vertical):
    """A growing Markdown document drawn as settled segments plus one open tail."""

    DEFAULT_CSS = """
    StreamingMarkdown { height: auto; }
    StreamingMarkdown > RenderedBlock { margin-top: 1; }
    StreamingMarkdown > RenderedBlock.md-continued, StreamingMarkdown > RenderedBlock:first-child {
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
        self._scanned = 0
        """How much of the tail has been read as complete lines."""
        self._fence: _Fence | None = None
        self._tail_widget = RenderedBlock(code_theme=self._current_code_theme, classes="md-tail")
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
        self._update_tail(final=True)
        self._last_draw = time.monotonic()

        async def wait() -> None:
            for awaitable in awaits:
                await awaitable

        return AwaitComplete(wait())

    # -- drawing ------------------------------------------------------------------------------

    def _draw(self) -> None:
        self._timer = None
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
                block.notify_style_update()
                block.refresh(layout=True)

    def _update_tail(self, final: bool) -> None:
        fence = self._fence
        self._tail_widget.set_class(fence is not None and fence.piece > 0, "md-continued")
        self._tail_widget.update(self._render_tail(final), trim=fence is None)

    def _render_tail(self, final: bool) -> Build | None:
        if self._fence is not None:
            code = self._tail.partition("\n")[2]
            return self._code(code, self._fence.language, first=self._fence.piece == 0, last=final)
        return self._markdown(self._tail) if self._tail.strip() else None

    @staticmethod
    def _markdown(text: str) -> Build:
        return lambda theme: RichMarkdown(text, code_theme=theme, hyperlinks=True)

    @staticmethod
    def _code(code: str, language: str, first: bool, last: bool) -> Build:
        code = code.rstrip("\n")
        padding = (1 if first else 0, 1, 1 if last else 0, 1)
        return lambda theme: Syntax(code, language or "text", theme=theme, word_wrap=True, padding=padding)

    def _settle_segment(self, build: Build, kind: str, awaits: list, continued: bool = False) -> None:
        classes = f"md-segment md-{kind}" + (" md-continued" if continued else "")
        segment = RenderedBlock(build, code_theme=self._current_code_theme, trim=kind == "text", classes=classes)
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
                self._settle_segment(self._code(code, fence.language, fence.piece == 0, True), "code", awaits, fence.piece > 0)
                self._fence = None
                tail, after = tail[after:], 0
            else:
                fence.lines += 1
                if fence.lines >= FENCE_PIECE_LINES:
                    code = tail[:after].partition("\n")[2]
                    self._settle_segment(self._code(code, fence.language, fence.piece == 0, False), "code", awaits, fence.piece > 0)
                    fence.piece += 1
                    fence.lines = 0
                    tail = fence.opening + "\n" + tail[after:]
                    after = len(fence.opening) + 1
            position = after
        self._tail = tail
        self._scanned = position
        return awaits
