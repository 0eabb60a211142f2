"""The messages of one conversation, drawn line by line.

One widget for the whole conversation (Textual's line API): each message is a
:class:`~t502_tui.ui.message_block.Block` whose lines are drawn once and kept, so adding
a line, scrolling or following a streaming reply repaints only what changed, and a
conversation of thousands of messages is not thousands of widgets. The view follows the
newest text while it is at the bottom; scrolled up, it stays put to the line and says
that there is more below. Text can be selected with the mouse and copied.
"""

from __future__ import annotations

import asyncio
import time
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, replace

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.selection import Selection
from textual.strip import Strip

from t502_tui.conversation import ChatMessage, ReplyStatus
from t502_tui.ui.clipboard import copy
from t502_tui.ui.image_preview import MAX_ROWS as MAX_PREVIEW_ROWS, PreviewCache
from t502_tui.ui.message_block import Block, Palette
from t502_tui.ui.message_render import Look

FRAME_SECONDS = 1 / 12
"""A streaming reply is drawn at most this often (less often when drawing is slow): a
frame costs Textual a millisecond or two however little changed, and a dozen a second
reads as smooth as twenty."""
FRAME_CHARS = 16
SLOW_FRAME_SECONDS = 0.25
"""A frame waits for FRAME_CHARS new characters, or this long: at reading speed a frame
per few words, not per word (the first words after a pause are drawn at once)."""
FOLLOW_SHARE = 3
"""Following a streaming reply, the view moves a third of its height at a time, past the
newest line: a move repaints every line shown and the scrollbar, three times what a frame
that only adds text costs, so it is done every dozen lines or so, not every line or five."""
EDGE = 3
"""Older messages are asked for when the view is this close to its top."""
KEPT_STRIPS = 2048
"""Drawn lines kept for repainting (all dropped when there are more)."""
_VERSION_KEYS = {"less_than_sign", "left_square_bracket", "greater_than_sign", "right_square_bracket"}
"""The keys of the version actions (see BINDINGS)."""
_MEDIA_KEYS = {"o": "open", "s": "save", "y": "copy_path", "v": "view", "f": "reveal", "r": "download"}
"""The keys for a reply's images and links, offered on a message that has some."""
SCANNED_LINES = 3000
"""How far into a message a search hit's words are looked for (a longer one opens at its top)."""
_WORD_EDGES = "\"'.,;:!?()[]{}*"
"""Punctuation around a searched word that the search itself ignores."""

_LEFT, _RIGHT = 3, 1
"""Cells left of a message's text (a margin, its bar, a space) and right of it."""


class ConversationView(ScrollView, can_focus=True):
    """Shows messages; the arrow keys move between them, keys act on the one chosen."""

    COMPONENT_CLASSES = {
        "conversation-view--header", "conversation-view--model", "conversation-view--accent",
        "conversation-view--warning", "conversation-view--error", "conversation-view--secondary",
        "conversation-view--fold", "conversation-view--user-bar", "conversation-view--reply-bar",
        "conversation-view--chosen-bar",
    }

    BINDINGS = [
        Binding("escape", "leave", "Back"),  # first in the footer: the way out
        Binding("up", "choose(-1)", "Previous", show=False),
        Binding("down", "choose(1)", "Next", show=False),
        Binding("tab", "choose(1)", "Next", show=False),
        Binding("shift+tab", "choose(-1)", "Previous", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "top", "Top", show=False),
        Binding("end", "bottom", "Bottom", show=False),
        Binding("enter", "fold", "Thinking", show=False),
        Binding("c", "act('copy')", "Copy"),
        Binding("e", "act('edit')", "Edit"),
        Binding("d,delete", "act('delete')", "Delete"),
        # A reply's images before its other keys: on a reply that has some, they are its business.
        Binding("o", "act('open')", "Open"),
        Binding("s", "act('save')", "Save"),
        Binding("i", "next_item", "Next image"),
        Binding("less_than_sign,left_square_bracket", "act('previous_version')", "Prev version", key_display="<"),
        Binding("greater_than_sign,right_square_bracket", "act('next_version')", "Next version", key_display=">"),
        Binding("k", "act('context')", "Send/leave out"),
        Binding("y", "act('copy_path')", "Copy image path", show=False),
        Binding("v", "act('view')", "View image", show=False),
        Binding("f", "act('reveal')", "Show in folder", show=False),
        Binding("r", "act('download')", "Download again", show=False),
    ]

    @dataclass
    class ActionRequested(Message):
        """The user asked for ``action`` on ``message`` (edit, delete, a version, context,
        or one of its images and links: open, save, copy_path, view, reveal, download)."""

        message: ChatMessage
        action: str
        item: int = 0
        """Which of the message's images and links (see reply_media.media_items)."""

    @dataclass
    class OlderWanted(Message):
        """The view is near its top and there may be older messages to show (with
        ``everything``, all of them: the user asked for the top of the conversation)."""

        everything: bool = False

    @dataclass
    class FollowChanged(Message):
        """Following the newest text started or stopped; ``unseen``: text came meanwhile."""

        following: bool
        unseen: bool

    @dataclass
    class Left(Message):
        """The user is done with the messages (Esc): back to the composer."""

    @dataclass
    class TypedAway(Message):
        """A character no message key takes was typed on a chosen message, or any key
        right after one: it was meant for the composer (typing a word there must not act
        on the message, key by key; the Enter after it sends it)."""

        key: str
        character: str | None

    def __init__(self, *, classes: str | None = None) -> None:
        super().__init__(classes=classes)
        self.blocks: list[Block] = []
        self._tops: list[int] = []
        self._total = 0
        self._layout_for: tuple[int, Look] | None = None
        self._chosen: int | None = None
        self._typing_away = False
        """A character was typed here for the composer; what follows goes there too."""
        self.following = True
        """The newest line is in view: new text scrolls into view."""
        self._unseen = False
        self._selection: Selection | None = None
        self._selection_style = Style()
        self._draw_timer: asyncio.TimerHandle | None = None
        """The next frame of the streaming replies: the loop's own timer, which hands the
        frame to the view's messages (a frame or two are planned per frame drawn, and a
        Textual timer is a task each)."""
        self._moving = False
        """The view is scrolling itself (following, keeping its place), not the user."""
        self._placing = False
        """The view is putting a given line at its top (a message, its place after a new
        width): the lines seen before do not hold it back."""
        self._preview_rows = MAX_PREVIEW_ROWS
        """The tallest image preview this view's height leaves room for."""
        self._hit_to_show: tuple[ChatMessage, Sequence[str]] | None = None
        """A search hit asked for before the view had its size: shown at the first one."""
        self._draw_due = 0.0
        self._undrawn = 0
        """Characters added since the last frame."""
        self._last_draw = 0.0
        self._draw_cost = 0.0
        self._look: Look | None = None
        self._palette: Palette = {}
        self._bars: dict[str, Style] = {}
        self._strips: dict[int, tuple[Strip, str, Strip]] = {}
        """Line → (its text, its bar, the line drawn): a line repainted unchanged is the
        same strip, which Textual has already cut, filtered and turned into escape codes."""
        self._blank: Strip | None = None
        self._row_cells = 0
        """The width of a row, as the paint under way found it (see render_lines)."""
        self.previews = PreviewCache(self._previews_ready)
        """Image previews of the replies shown, made in a thread."""

    @property
    def chosen(self) -> int | None:
        """The message the keys act on (its index), shown by its bar."""
        return self._chosen

    @chosen.setter
    def chosen(self, index: int | None) -> None:
        self._chosen = index
        self.refresh_bindings()  # the version keys are offered for a message with versions

    # -- looks --------------------------------------------------------------------------

    @property
    def look(self) -> Look:
        """The theme's colours for drawing; made again when the styles change (a theme)."""
        look = self._look
        if look is None:
            app = self.app
            self._look = look = replace(Look.of(app.current_theme, getattr(app, "code_theme", "monokai"),
                                                self.rich_style), preview_rows=self._preview_rows)
            styles = {name: self.get_component_rich_style(f"conversation-view--{name}")
                      for name in ("header", "model", "accent", "warning", "error", "secondary", "fold")}
            self._palette = styles
            self._bars = {
                "user": self.get_component_rich_style("conversation-view--user-bar"),
                "assistant": self.get_component_rich_style("conversation-view--reply-bar"),
                "chosen": self.get_component_rich_style("conversation-view--chosen-bar"),
            }
        return look

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._look = None
        self._strips.clear()
        self._blank = None
        self._layout_for = None
        self.refresh()

    @property
    def _width(self) -> int:
        """Cells for a message's text."""
        return max(8, self.scrollable_content_region.width - _LEFT - _RIGHT)

    # -- the messages -------------------------------------------------------------------

    def show(self, messages: list[ChatMessage]) -> None:
        """Show these messages (and nothing else), scrolled to the newest."""
        self.blocks = [Block(m, previews=self.previews) for m in messages]
        self.chosen = None
        self._relayout(0)
        self.follow()

    def prepend(self, messages: list[ChatMessage]) -> None:
        """Older messages above the ones shown; what is on screen stays where it is."""
        if not messages:
            return
        before = self._total
        self.blocks[:0] = [Block(m, previews=self.previews) for m in messages]
        if self.chosen is not None:
            self.chosen += len(messages)
        self._relayout(0)
        if not self.following:
            self._scroll(self.scroll_y + self._total - before)
        self.refresh()

    def add(self, message: ChatMessage, *, streaming: bool = False) -> None:
        """A new message at the bottom (a reply that will stream, with ``streaming``)."""
        if not self.has_focus:
            self.chosen = None  # once there are newer messages, Shift+Tab starts from them
        else:
            self.refresh_bindings()  # the chosen message may be another version now
        self.blocks.append(Block(message, streaming=streaming, previews=self.previews))
        self._relayout(len(self.blocks) - 1)
        self._after_growth()

    def remove_from(self, message: ChatMessage) -> None:
        """Drop ``message`` and everything below it."""
        index = self._index(message)
        if index is not None:
            del self.blocks[index:]
            self._dropped(index)

    def remove(self, message: ChatMessage) -> None:
        """Drop one message."""
        index = self._index(message)
        if index is not None:
            del self.blocks[index]
            self._dropped(index)

    def _dropped(self, index: int) -> None:
        """Blocks from ``index`` on were dropped: keep the choice on one that is left."""
        if self.chosen is not None and self.chosen >= len(self.blocks):
            self.chosen = len(self.blocks) - 1 if self.blocks else None
        self.refresh_bindings()
        self._relayout(index)
        self.refresh()

    def changed(self, message: ChatMessage) -> None:
        """The message's header, status, error or media changed."""
        index = self._index(message)
        if index is not None:
            self.blocks[index].changed()
            self._relayout(index)
            if self.following:
                self._prepare_view()  # it may have grown: keep the newest line in sight
            if index == self.chosen:
                self.refresh_bindings()  # an image may have come: its keys are offered
            self.refresh()

    def waiting(self, message: ChatMessage, note: str | None) -> None:
        """What the streaming ``message`` waits for (a retry), or None once it streams."""
        index = self._index(message)
        if index is not None and self.blocks[index].waiting != note:
            self.blocks[index].waiting = note
            self.changed(message)

    def _previews_ready(self) -> None:
        """A thumbnail was made: draw the replies waiting for previews again (their height
        is known beforehand, so nothing moves unless an image has no preview). Once the
        view is gone (t502 closing), there is nothing to draw."""
        if not self.is_attached:
            return
        first = None
        for index, block in enumerate(self.blocks):
            if block.waits_for_previews:
                block.changed()
                first = index if first is None else first
        if first is not None:
            self._relayout(first)
            self.refresh()

    def grow(self, message: ChatMessage, content: str, reasoning: str) -> None:
        """Streamed text for ``message``; drawn within a frame."""
        index = self._index(message)
        if index is None:
            return
        self.blocks[index].grow(content, reasoning)
        self._undrawn += len(content) + len(reasoning)
        since = time.monotonic() - self._last_draw
        if since >= SLOW_FRAME_SECONDS:
            delay = 0.001  # the first words after a pause: at once
        elif self._undrawn >= FRAME_CHARS:
            delay = max(0.001, max(FRAME_SECONDS, 3 * self._draw_cost) - since)
        else:
            delay = SLOW_FRAME_SECONDS - since  # a few words more, or a moment, first
        due = time.monotonic() + delay
        if self._draw_timer is not None and due < self._draw_due:
            self._draw_timer.cancel()
            self._draw_timer = None
        if self._draw_timer is None:
            self._draw_due = due
            self._draw_timer = asyncio.get_running_loop().call_later(delay, self.call_next, self._draw)

    def finish(self, message: ChatMessage) -> None:
        """The reply is over: everything drawn, the header as it ended."""
        index = self._index(message)
        if index is None:
            return
        self._cancel_draw()
        self.blocks[index].finish()
        self._relayout(index)
        self._after_growth()

    def _index(self, message: ChatMessage) -> int | None:
        for index in range(len(self.blocks) - 1, -1, -1):
            if self.blocks[index].message is message:
                return index
        return None

    @property
    def messages(self) -> list[ChatMessage]:
        """The messages shown, oldest first."""
        return [block.message for block in self.blocks]

    # -- layout -------------------------------------------------------------------------

    def _height(self, block: Block) -> int:
        return block.height(self.app.console, self._width, self.look, self._palette)

    def _relayout(self, start: int) -> None:
        """Work out where each block starts, from block ``start`` on. At a new width or
        theme, a view scrolled up keeps the message at its top where it was."""
        key = (self._width, self.look)
        kept = None
        if key != self._layout_for:
            if not self.following and self._tops:
                kept = self._top_place()
            start, self._layout_for = 0, key
        start = min(start, len(self._tops))
        tops = self._tops[:start]
        y = tops[-1] + self._height(self.blocks[start - 1]) if start else 0
        for block in self.blocks[start:]:
            tops.append(y)
            y += self._height(block)
        self._tops, self._total = tops, y
        self._set_height(self._followed_height())
        if kept is not None and kept[0] < len(tops):
            index, share = kept
            height = (tops[index + 1] if index + 1 < len(tops) else y) - tops[index]
            self._scroll(tops[index] + int(share * height), place=True)

    def _top_place(self) -> tuple[int, float]:
        """The message at the top of the view, and how far into it the top is (a share
        of its height: lines move when the width changes)."""
        top = int(self.scroll_y)
        index = max(0, bisect_right(self._tops, top) - 1)
        end = self._tops[index + 1] if index + 1 < len(self._tops) else self._total
        return index, (top - self._tops[index]) / max(1, end - self._tops[index])

    def _followed_height(self) -> int:
        """The height to scroll in: while following, what is shown may end in blank lines
        below the newest text (the view moves a third of a screen at a time, so most
        frames repaint only the lines that changed, not a whole view shifted by one)."""
        if self.following:
            return max(self._total, int(self.scroll_y) + self.scrollable_content_region.height)
        return self._total

    def _set_height(self, height: int) -> None:
        """Let the scrollbar know the new height. A streaming reply changes it every few
        frames: Textual would lay out the whole screen for that, when nothing but the
        scrollbar needs telling (the view's own size does not change)."""
        size = Size(self.scrollable_content_region.width, height)
        if size == self.virtual_size:
            return
        if not self.is_mounted or not self.show_vertical_scrollbar:
            self.virtual_size = size  # the scrollbar may appear: that is a layout
            return
        self.set_reactive(ConversationView.virtual_size, size)
        self._scroll_update(size)

    def _prepare(self, top: int, bottom: int, anchor: int | None = None) -> bool:
        """Draw what lines ``top`` to ``bottom`` show; True if heights changed. Scrolled
        up, the line ``anchor`` (``top`` unless given) stays where it is on screen: the
        paragraphs above it may have been guesses."""
        anchor = top if anchor is None else anchor
        if not self.blocks:
            return False
        console, width, look, palette = self.app.console, self._width, self.look, self._palette
        first = max(0, bisect_right(self._tops, top) - 1)
        changed_at, moved = None, 0
        for index in range(first, len(self.blocks)):
            start = self._tops[index]
            if start >= bottom:
                break
            changed, shift = self.blocks[index].prepare(console, width, look, palette, top - start,
                                                        bottom - start, anchor - start)
            if changed:
                changed_at = index if changed_at is None else changed_at
                moved += shift
        if changed_at is None:
            return False
        self._relayout(changed_at)
        if moved and not self.following:
            self._scroll(self.scroll_y + moved)  # what changed below the anchor does not move it
        return True

    def _prepare_to_read(self, top: int, bottom: int) -> None:
        """Draw lines ``top`` to ``bottom`` to read them (they may be off screen): if that
        moved what is on screen, the view keeps following or stays put, and is painted again."""
        if self._prepare(top, bottom):
            if self.following:
                self._prepare_view()
            self.refresh()

    def _follow_top(self) -> int:
        """Where the view's top goes to keep the newest line in sight: where it is while
        that line still fits, else so that the line is a third of the view from the bottom
        while a reply streams (the view then moves every dozen lines or so, not every
        line); once nothing streams, the newest line at the bottom."""
        height = self.scrollable_content_region.height
        if height <= 0:
            return 0  # not laid out yet
        top = int(self.scroll_y)
        streaming = any(block.streaming for block in self.blocks)
        if top <= self._total <= top + height and (streaming or top + height <= max(height, self._total)):
            return top
        jump = height // FOLLOW_SHARE if streaming else 0
        return max(0, self._total - height + jump)

    def _prepare_view(self) -> None:
        """Draw what is about to be shown (following: the newest line, however it moves)."""
        height = self.scrollable_content_region.height
        if height <= 0:
            return  # not laid out yet: the first resize does this
        for _ in range(4):
            top = self._follow_top() if self.following else int(self.scroll_y)
            if not self._prepare(top, top + height):
                break
        if self.following:
            top = self._follow_top()
            self._set_height(max(self._total, top + height))
            if top != int(self.scroll_y):
                self._scroll(top)

    def _cancel_draw(self) -> None:
        if self._draw_timer is not None:
            self._draw_timer.cancel()
            self._draw_timer = None

    def on_unmount(self) -> None:
        self._cancel_draw()

    def _draw(self) -> None:
        """A frame of the streaming replies."""
        self._draw_timer = None
        self._undrawn = 0
        started = time.perf_counter()
        streaming = [i for i, block in enumerate(self.blocks) if block.streaming]
        if not streaming:
            return
        console, width, look, palette = self.app.console, self._width, self.look, self._palette
        # What was the open tail until now may be drawn anew as settled text: from there on.
        changed_from = min(self._tops[i] + self.blocks[i].tail_top(console, width, look, palette) for i in streaming)
        total = self._total
        for index in streaming:
            again = self.blocks[index].settle(console, width, look, palette)
            if again is not None:  # a closed fence, drawn again whole: from its first line
                changed_from = min(changed_from, self._tops[index] + again)
        self._relayout(streaming[0])
        self._after_growth((changed_from, max(total, self._total)))
        self._last_draw = time.monotonic()
        self._draw_cost = time.perf_counter() - started

    def _after_growth(self, changed: tuple[int, int] | None = None) -> None:
        """Show what grew: follow it, or tell that it is there. With ``changed`` (first
        line, end), the lines outside it are as they were: unless the view moved, only
        those are painted again."""
        top = int(self.scroll_y)
        if self.following:
            self._prepare_view()
        elif not self._unseen and self._total > self.scroll_y + self.scrollable_content_region.height:
            self._unseen = True
            self.post_message(self.FollowChanged(False, True))
        if changed is not None and top == int(self.scroll_y):
            first, end = max(0, changed[0] - top), min(self.size.height, changed[1] - top)
            if end > first:
                self.refresh(Region(0, first, self.size.width, end - first))
        else:
            self.refresh()

    def on_resize(self, event: events.Resize) -> None:
        # An image preview leaves room for its caption and the text around it in a short view.
        rows = min(MAX_PREVIEW_ROWS, max(4, self.scrollable_content_region.height - 5))
        if self._look is not None and self._look.preview_rows != rows:
            self._look = replace(self._look, preview_rows=rows)
        self._preview_rows = rows
        self._relayout(0)
        self._prepare_view()
        if self._hit_to_show is not None and self.scrollable_content_region.height:
            message, words = self._hit_to_show
            self._hit_to_show = None
            self.scroll_to_message(message, words)

    # -- scrolling and following ---------------------------------------------------------

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        height = self.scrollable_content_region.height
        self._follow_if_in_sight(new_value)
        if not self.following:
            # Scrolling up a little, the lines seen last stay where the scroll put them.
            top, last_top = int(new_value), int(old_value)
            near = top < last_top < top + height and not self._placing
            self._prepare(top, top + height, last_top if near else top)
        if new_value < EDGE and old_value > new_value and not self._moving:
            self.post_message(self.OlderWanted())  # the user is scrolling up to the top

    def _follow_if_in_sight(self, top: float) -> None:
        """Follow the newest text while the view shows the end, else stop."""
        # As far down as it goes is in sight too: for a moment (a bar above the composer
        # going), the view's height and the scroll's room may disagree by a line.
        height = self.scrollable_content_region.height
        in_sight = top + height >= self._total - 0.5 or top >= self.max_scroll_y - 0.5
        if in_sight != self.following:
            self.following = in_sight
            if in_sight:
                self._unseen = False
            else:
                self._set_height(self._total)
            self.post_message(self.FollowChanged(self.following, self._unseen))

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        if self.scroll_y < EDGE:
            self.post_message(self.OlderWanted())  # at the top already: the wheel asks for more

    def _scroll(self, y: float, place: bool = False) -> None:
        """Scroll now, even before the scrollbar knows the new height (it is shown later).
        With ``place``, line ``y`` is what must be at the top, wherever the view was."""
        self._moving, self._placing = True, place
        try:
            self.scroll_to(y=y, animate=False, force=True)
        finally:
            self._moving = self._placing = False

    def follow(self) -> None:
        """Go to the newest text and keep following it."""
        self.following = True
        self._unseen = False
        height = self.scrollable_content_region.height
        if height > 0 and self._total > height:  # else the first resize goes there
            self._set_height(self._total)
            self._scroll(self._total - height)
        self._prepare_view()
        self.refresh()
        self.post_message(self.FollowChanged(True, False))

    def page(self, step: int) -> None:
        """Scroll a page up or down (from the composer too)."""
        height = max(1, self.scrollable_content_region.height - 2)
        self._scroll(max(0, min(self.max_scroll_y, self.scroll_y + step * height)))
        if step < 0 and self.scroll_y < EDGE:
            self.post_message(self.OlderWanted())

    def action_page(self, step: int) -> None:
        self.page(step)

    def action_top(self) -> None:
        self._scroll(0)
        self.post_message(self.OlderWanted(everything=True))

    def top_reached(self) -> None:
        """Older messages were shown above for Ctrl+Home: go on to the very top."""
        self._scroll(0, place=True)
        self.refresh()

    def action_bottom(self) -> None:
        self.follow()

    def scroll_to_message(self, message: ChatMessage, words: Sequence[str] = ()) -> None:
        """Put ``message`` at the top of the view and choose it; with ``words`` (a search),
        its first line holding them is put a third of the way down, if further on."""
        index = self._index(message)
        if index is None:
            return
        self.chosen = index
        height = self.scrollable_content_region.height
        top = self._tops[index]
        if words and not height:  # not laid out yet: lines are found at their real width
            self._hit_to_show = message, words
        elif (found := self._line_with(index, words)) is not None and found >= top + height:
            top = found - height // 3
        elif found is None and words and self._end_of(index) - top >= SCANNED_LINES:
            self.notify(f"The words searched for may be further into this message than the"
                        f" {SCANNED_LINES:,} lines looked through: it opens at its top.")
        self._prepare(top, top + height)
        self.following = False
        self._scroll(min(top, self.max_scroll_y), place=True)
        self.refresh()

    def _end_of(self, index: int) -> int:
        """The line after block ``index``."""
        return self._tops[index + 1] if index + 1 < len(self.blocks) else self._total

    def _line_with(self, index: int, words: Sequence[str]) -> int | None:
        """The first line of block ``index`` (of its first SCANNED_LINES) that holds every
        word, or else the first word, ignoring case; None if none does."""
        needles = [needle for word in words if (needle := word.strip(_WORD_EDGES).lower())]
        message = self.blocks[index].message
        if not needles or needles[0] not in f"{message.content}\n{message.reasoning or ''}".lower():
            return None  # matched otherwise (accents, a link's address): no drawing for nothing
        start = self._tops[index]
        self._prepare(start, start + SCANNED_LINES)  # heights are guesses until drawn
        end = min(self._end_of(index), start + SCANNED_LINES)
        first = None
        for y in range(self._tops[index], end):
            _block, _index, _part, line = self._line(y)
            text = line.text.lower() if line is not None else ""
            if all(needle in text for needle in needles):
                return y
            if first is None and needles[0] in text:
                first = y
        return first

    # -- choosing a message ----------------------------------------------------------------

    def on_key(self, event: events.Key) -> None:
        # Once typing has begun, the keys that follow it before the composer has the focus
        # (a burst) go there too, message keys or not.
        if self._typing_away or (event.is_printable and event.character
                                 and (not self.blocks or event.key not in self._bindings.key_to_bindings)):
            self._typing_away = True
            event.stop()
            event.prevent_default()
            self.post_message(self.TypedAway(event.key, event.character))
        elif (chosen := self.chosen_message) is not None and (
                (event.key in _VERSION_KEYS and not chosen.alternative_label)
                or (event.key == "k" and chosen.role != "assistant")
                or (event.key == "e" and chosen.role == "assistant")
                or (event.key in _MEDIA_KEYS and not self._media_count())):
            event.stop()
            event.prevent_default()
            # Not offered there: pressed anyway, it says why.
            self.action_act("previous_version" if event.key in _VERSION_KEYS else "context" if event.key == "k"
                            else "edit" if event.key == "e" else _MEDIA_KEYS[event.key])

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The message keys are not offered with no message to act on (their letters are
        typed into the composer then), nor a version key with no version that way (none at
        all on a message with one version), nor "Send/leave out" on the user's own message,
        nor "Edit" on a reply, nor the image keys on a message with no images or links
        ("Next image" with fewer than two)."""
        if action in ("act", "next_item", "fold") and not self.blocks:
            return False
        if action == "act" and parameters and parameters[0] in ("previous_version", "next_version"):
            chosen = self.chosen_message  # offered where there is a version that way
            if chosen is None or not chosen.alternative_label:
                return False
            at = chosen.alternatives.index(chosen.id)
            return at > 0 if parameters[0] == "previous_version" else at < len(chosen.alternatives) - 1
        if action == "act" and parameters == ("context",):  # the user's own messages always go
            return (chosen := self.chosen_message) is not None and chosen.role == "assistant"
        if action == "act" and parameters == ("edit",):
            return (chosen := self.chosen_message) is not None and chosen.role == "user"
        if action == "act" and parameters and parameters[0] in _MEDIA_KEYS.values():
            return self._media_count() > 0
        if action == "next_item":
            return self._media_count() > 1
        return True

    def _media_count(self) -> int:
        """How many images and links the chosen message has."""
        return len(self.blocks[self.chosen].media_items) if self.chosen is not None and self.blocks else 0

    def on_focus(self) -> None:
        self._typing_away = False
        # Keys act on the chosen message: it must be one the user can see. A choice made
        # earlier that has scrolled away gives way to the newest message in view.
        seen = self.scrollable_content_region.height > 0  # not before the view has its size
        if self.blocks and (self.chosen is None or (seen and not self._in_view(self.chosen))):
            newest = bisect_left(self._tops, self.scroll_y + self.scrollable_content_region.height) - 1
            self.chosen = min(max(newest, 0), len(self.blocks) - 1) if seen else len(self.blocks) - 1
        self.refresh()

    def _in_view(self, index: int) -> bool:
        """Some of block ``index`` is on screen (its closing gap aside)."""
        if index >= len(self._tops):
            return False
        top = self._tops[index]
        bottom = top + self._height(self.blocks[index]) - 1
        return top < self.scroll_y + self.scrollable_content_region.height and bottom > self.scroll_y

    def on_blur(self) -> None:
        self._typing_away = False
        self.refresh()

    @property
    def chosen_message(self) -> ChatMessage | None:
        return self.blocks[self.chosen].message if self.chosen is not None and self.blocks else None

    def action_choose(self, step: int) -> None:
        """The previous or next message; past the newest, back to the composer."""
        if not self.blocks:
            return
        index = (len(self.blocks) if self.chosen is None else self.chosen) + step
        if index >= len(self.blocks):
            self.post_message(self.Left())
            return
        self.chosen = max(0, index)
        top, bottom = self._tops[self.chosen], self._tops[self.chosen] + self._height(self.blocks[self.chosen])
        height = self.scrollable_content_region.height
        if top < self.scroll_y:
            self._scroll(top)
        elif bottom > self.scroll_y + height:
            self._scroll(min(top, bottom - height))
        if self.chosen == 0:
            self.post_message(self.OlderWanted())
        self.refresh()

    def action_fold(self) -> None:
        """Open or close the chosen reply's reasoning, its header kept on the row it was on
        (at the top, if it was out of sight): a long thinking folded with the view inside
        it or at its end showed what came after the reply, or only blank lines."""
        index = self.chosen
        if index is None:
            return
        height = self.scrollable_content_region.height
        row = self._tops[index] - int(self.scroll_y)
        if not self.blocks[index].toggle_fold():
            return
        self._relayout(index)
        target = max(0, min(self._tops[index] - (row if 0 <= row < height else 0), self._total - height))
        self._set_height(self._total)
        self._scroll(target, place=True)
        self._follow_if_in_sight(target)  # (the view may not have moved: opened, the end is far below)
        self._prepare_view()
        self.refresh()

    def action_act(self, action: str) -> None:
        """Ask for ``action`` on the chosen message."""
        message = self.chosen_message
        if message is None or self.chosen is None:
            return
        if action == "copy":
            copy(self.app, message.content, "the message as Markdown")
        elif message.status is ReplyStatus.STREAMING:
            self.notify("This reply is still streaming: wait for it, or Esc twice stops it.", severity="warning")
        else:
            self.post_message(self.ActionRequested(message, action, self.blocks[self.chosen].chosen_item))

    def chosen_item_of(self, message: ChatMessage) -> int:
        """Which of ``message``'s images and links is chosen (0 when it is not shown)."""
        index = self._index(message)
        return self.blocks[index].chosen_item if index is not None else 0

    def action_next_item(self) -> None:
        """Choose the next image or link of the chosen reply (for o, s, y, v, f)."""
        if self.chosen is None or not self.blocks:
            return
        block = self.blocks[self.chosen]
        count = len(block.media_items)
        if count > 1:
            block.chosen_item = (block.chosen_item + 1) % count
            block.changed()
            self._relayout(self.chosen)
            self.refresh()

    def action_leave(self) -> None:
        self.post_message(self.Left())

    def on_click(self, event: events.Click) -> None:
        y = event.y + int(self.scroll_y)
        if not self.blocks or y >= self._total:
            return
        index = bisect_right(self._tops, y) - 1
        self.chosen = index
        part, _ = self.blocks[index].line(self.app.console, self._width, self.look, self._palette, y - self._tops[index])
        if part == "fold":
            self.action_fold()
        self.refresh()

    # -- drawing lines ---------------------------------------------------------------------

    def _line(self, y: int, width: int | None = None) -> tuple[Block | None, int, str, Strip | None]:
        if y >= self._total or not self.blocks:
            return None, -1, "gap", None
        index = bisect_right(self._tops, y) - 1
        block = self.blocks[index]
        part, line = block.line(self.app.console, width or self._width, self.look, self._palette, y - self._tops[index])
        return block, index, part, line

    def render_lines(self, crop: Region) -> list[Strip]:
        """Before painting, make sure the lines are laid out for this width and theme and
        the ones painted are drawn: a resize or a new theme can be painted before the view
        hears of it, and a paragraph's height is a guess until it is drawn."""
        moved = (self._width, self.look) != self._layout_for
        if moved:
            self._relayout(0)
        top = int(self.scroll_y)
        if self._prepare(top + crop.y, top + crop.bottom) or moved:
            if self.following:
                self._prepare_view()
            self.refresh()  # the lines below moved too: paint them again next
        self._row_cells = self.scrollable_content_region.width  # once a paint, not once a line
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        look = self.look
        width = self._row_cells
        line_y = y + int(self.scroll_y)
        block, index, part, content = self._line(line_y, max(8, width - _LEFT - _RIGHT))
        if block is None or content is None:
            if self._blank is None or self._blank.cell_length != width:
                self._blank = Strip([Segment(" " * width, look.base)], width)
            return self._blank
        chosen = index == self.chosen and self.has_focus
        bar_key = "chosen" if chosen else "user" if block.message.role == "user" else "assistant"
        if self._selection is not None and (span := self._selection.get_span(line_y)) is not None:
            content = _highlight(content, span, self._selection_style)
        else:
            kept = self._strips.get(line_y)
            if kept is not None and kept[0] is content and kept[1] == bar_key:
                return kept[2]
        left = Segment(" ", look.base), Segment("▌" if chosen else "▎", look.base + self._bars[bar_key]), Segment(" ", look.base)
        strip = Strip.join([Strip(left, _LEFT), content.apply_offsets(0, line_y),
                            Strip([Segment(" " * _RIGHT, look.base)], _RIGHT)])
        if len(self._strips) >= KEPT_STRIPS:
            self._strips.clear()
        self._strips[line_y] = (content, bar_key, strip)
        return strip

    # -- selecting text ----------------------------------------------------------------------

    def text_line(self, y: int) -> str:
        """The text on virtual line ``y`` (what selecting it copies)."""
        _, _, _, content = self._line(y)
        return content.text.rstrip() if content is not None else ""

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        start = selection.start.y if selection.start is not None else 0
        end = selection.end.y if selection.end is not None else self._total - 1
        self._prepare_to_read(start, end + 1)
        lines = [""] * start + [self.text_line(y) for y in range(start, min(end, self._total - 1) + 1)]
        return selection.extract("\n".join(lines)), "\n"

    def selection_updated(self, selection: Selection | None) -> None:
        self._selection = selection
        if selection is not None:
            # The theme's selection colours; a "transparent" text colour (Textual's default)
            # keeps each character's own, where applying it as is would hide the text.
            style = self.screen.get_component_rich_style("screen--selection")
            if self.screen.get_component_styles("screen--selection").color.a == 0:
                style = Style(bgcolor=style.bgcolor)
            self._selection_style = style
        self.refresh()

    # -- reading it back (tests, and copying a whole message) ---------------------------------

    def text_of(self, message: ChatMessage) -> str:
        """What the view shows for ``message``, line by line."""
        index = self._index(message)
        if index is None:
            return ""
        top, height = self._tops[index], self._height(self.blocks[index])
        self._prepare_to_read(top, top + height)
        return "\n".join(self.text_line(y) for y in range(top, top + height)).strip("\n")

    def visible_text(self) -> str:
        """The lines on screen now."""
        top = int(self.scroll_y)
        return "\n".join(self.text_line(y) for y in range(top, top + self.scrollable_content_region.height))


def _highlight(strip: Strip, span: tuple[int, int], style: Style) -> Strip:
    """``strip`` with the characters ``span`` (a selection) in ``style``."""
    text = strip.text
    start, end = span
    end = len(text) if end == -1 else end
    if start >= end:
        return strip
    cells = [0]
    from rich.cells import cell_len

    for char in text:
        cells.append(cells[-1] + cell_len(char))
    cut_start, cut_end = cells[min(start, len(text))], cells[min(end, len(text))]
    before, middle, after = strip.divide([cut_start, cut_end, strip.cell_length])
    middle = Strip(list(Segment.apply_style(iter(middle), post_style=style)), middle.cell_length)
    return Strip.join([before, middle, after])
