"""The message composer: a multi-line editor where Enter sends."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from textual import events
from textual.binding import Binding
from textual.message import Message

from t502_tui.attachments import paths_from_text
from t502_tui.ui.key_order import caught_up, run_binding_now
from t502_tui.ui.widgets.text_box import TextBox

UNSEEN_SECONDS = 0.2
"""A key this soon after a draft is put back at start was not typed in answer to it (it
takes a frame to be drawn, and people longer to see it)."""


class Composer(TextBox):
    """Enter sends; Shift+Enter, Alt+Enter and Ctrl+J insert a newline.

    Pasted text never sends, whatever newlines it holds (it arrives as one paste event);
    pasted or dropped paths of files (images, text, code) attach them (a folder alone is
    pasted as text). Up in an empty composer brings back the conversation's earlier
    messages, to edit one and send it again; End with nothing after the cursor follows the
    conversation's newest text.

    Keys are applied here, one after the other, in the order they arrive. Textual runs a
    key's binding only once the key has bubbled up to the app, after the keys queued
    behind it have been typed here: a burst of Backspaces and text (a slow SSH link
    delivers keys together) would delete after the text typed after them.
    """

    BINDINGS = [
        # Shown in the footer; the keys themselves are handled in _on_key.
        Binding("ctrl+j,shift+enter,alt+enter", "newline", "Newline", id="newline"),
    ]

    @dataclass
    class FilesPasted(Message):
        """Paths of files were pasted or dropped: attach them."""

        composer: Composer
        paths: list[Path]

    @dataclass
    class FollowAsked(Message):
        """End was pressed with nothing after the cursor: follow the newest text."""

        composer: Composer

    @dataclass
    class DraftDisplaced(Message):
        """Keys typed before ``draft`` was put back reached the composer after it (t502 had
        just started): the keys stay here, the draft goes elsewhere."""

        composer: Composer
        draft: str

    @dataclass
    class Submitted(Message):
        """The user sent ``text``; the composer has already been emptied."""

        composer: Composer
        text: str

    def __init__(
        self,
        *,
        send_keys: list[str] | None = None,
        newline_keys: list[str] | None = None,
        recall: Callable[[], object] | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(
            id=id,
            soft_wrap=True,
            show_line_numbers=False,
            tab_behavior="focus",
            compact=True,
        )
        # A blinking cursor is a frame every half second for as long as t502 is open,
        # idle or not: 0.7% of a core on a laptop's battery for a steady caret's worth.
        self.cursor_blink = False
        self.send_keys = set(send_keys or ["enter"])
        """Keys that send the message."""
        self.newline_keys = set(newline_keys or ["ctrl+j", "shift+enter", "alt+enter"])
        """Keys that insert a line break."""
        self._recall = recall
        """Brings back the previous message (with :meth:`show_recalled`). Called, not
        posted: the keys typed right after ↑ must land in the recalled text."""
        self.recalled = False
        """The text is an earlier message brought back with ↑."""
        self._recalled_text = ""
        self._restored: tuple[float, str] | None = None
        """When a draft was put back in the empty composer, and the draft."""
        self._recallable = False
        """The conversation has messages: ↑ has one of the user's to edit."""
        self.placeholder = self._hint()

    def set_recallable(self, recallable: bool) -> None:
        """Whether the hint offers ↑ (in an empty conversation it would do nothing)."""
        if recallable != self._recallable:
            self._recallable = recallable
            self.placeholder = self._hint()

    def _hint(self) -> str:
        """What to type here and the keys for it: as much as the width shows whole (a hint
        cut at "Message (Ctrl+J sends," reads as a fault)."""
        def name(keys: set[str]) -> str:
            key = next((k for k in ("enter", "ctrl+j") if k in keys), min(keys, default="?"))
            return "+".join(p.capitalize() for p in key.split("+"))

        said = [f"{name(self.send_keys)} sends", f"{name(self.newline_keys)} new line"]
        if self._recallable:
            said.append("↑ edits the last")
        width = self.content_size.width if self.is_mounted else 0
        for count in range(len(said), 0, -1):
            hint = f"Message ({', '.join(said[:count])})"
            if not width or len(hint) < width:
                return hint
        return "Message"

    def on_resize(self) -> None:
        self.placeholder = self._hint()

    def set_keys(self, send_keys: list[str], newline_keys: list[str]) -> None:
        """Change which keys send and which make a new line."""
        self.send_keys, self.newline_keys = set(send_keys), set(newline_keys)
        self.placeholder = self._hint()

    async def _on_key(self, event: events.Key) -> None:
        if self._restored is not None and event.is_printable:
            # The first key since a draft came back at start: typed before it could be seen?
            self._displace_draft(typed_at=event.time)
        if event.key in self.send_keys:
            self._submit()
        elif event.key in self.newline_keys:
            self.action_newline()
        elif event.key == "end" and self.selection.is_empty and self.cursor_location == self.document.end:
            self.post_message(self.FollowAsked(self))
        elif event.is_printable or not await run_binding_now(self, event.key):
            return  # TextArea's own handler types it next, or it bubbles up unused
        event.stop()
        event.prevent_default()

    async def caught_up(self) -> None:
        """Return once the composer, then its conversation, have handled what was sent to
        them so far: the keys, and what those keys asked of the conversation (a send, an
        edit)."""
        await caught_up(self, self.parent)

    def submit(self) -> None:
        """Send what is in the composer, as the send key does."""
        self._submit()

    def _submit(self) -> None:
        text = self.text
        if not text.strip():
            return
        self.recalled = False
        self.clear()
        self.post_message(self.Submitted(self, text))

    def action_newline(self) -> None:
        """Replace the selection (or insert at the cursor) with a line break."""
        start, end = self.selection
        self.replace("\n", start, end, maintain_selection_offset=False)

    def action_cursor_up(self, select: bool = False) -> None:
        """In an empty composer (or on the first line of a recalled message not yet
        changed), ask for the previous message of the conversation, to edit and send again.
        Once the recalled text is changed, ↑ only moves the cursor: edits are never lost."""
        untouched = self.recalled and self.text == self._recalled_text
        if not select and (not self.text or (untouched and self.cursor_location[0] == 0)):
            if self._recall is not None:
                self._recall()
            return
        super().action_cursor_up(select)

    def show_recalled(self, text: str) -> None:
        """Show a recalled message, cursor at its end."""
        self.load_text(text)
        self.move_cursor(self.document.end)
        self.recalled = True
        self._recalled_text = text

    async def _on_paste(self, event: events.Paste) -> None:
        paths = paths_from_text(event.text)
        if any(path.is_file() for path in paths):
            # Dropped or pasted file paths attach the files instead of their names.
            event.stop()
            event.prevent_default()
            self.post_message(self.FilesPasted(self, paths))
        # Otherwise TextArea's own handler runs next (Textual calls each class's handler).

    def _displace_draft(self, typed_at: float) -> None:
        """Keys typed at ``typed_at``, before the draft put back at start could be seen,
        begin a new message: gluing them to the draft would mangle both, so it goes."""
        if self._restored is None:
            return
        restored_at, draft = self._restored
        self._restored = None
        if typed_at < restored_at + UNSEEN_SECONDS and self.text == draft:
            self.load_text("")
            self.post_message(self.DraftDisplaced(self, draft))

    def take_typed_ahead(self, text: str, typed_at: float) -> None:
        """Text typed while t502 started, before there was a composer to take it."""
        self._displace_draft(typed_at)
        self.insert(text)

    def restore(self, text: str, *, at_start: bool = False) -> None:
        """Put back a message that could not be sent, before anything typed since. With
        ``at_start`` (a draft from last time, while t502 starts), keys typed before it came
        back do not join it (see :class:`DraftDisplaced`)."""
        typed = self.text
        self._restored = (time.monotonic(), text) if at_start and not typed.strip() else None
        self.load_text(f"{text}\n{typed}" if typed.strip() else text)
        self.move_cursor(self.document.end)
