"""The message composer: a multi-line editor where Enter sends."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.widgets import TextArea

from t502_tui.attachments import paths_from_text

class Composer(TextArea):
    """Enter sends; Shift+Enter, Alt+Enter and Ctrl+J insert a newline.

    Pasted text never sends, whatever newlines it holds (it arrives as one paste event);
    pasted or dropped paths of files (images, text, code) attach them (a folder alone is
    pasted as text). Up in an empty composer asks for the conversation's earlier messages,
    to edit one and send it again.
    """

    BINDINGS = [
        # Shown in the footer; the keys themselves are handled in _on_key.
        Binding("ctrl+j,shift+enter,alt+enter", "newline", "Newline", id="newline"),
    ]

    @dataclass
    class RecallRequested(Message):
        """↑ in an empty composer: bring back the previous message of the conversation."""

        composer: Composer

    @dataclass
    class FilesPasted(Message):
        """Paths of files were pasted or dropped: attach them."""

        composer: Composer
        paths: list[Path]

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
        id: str | None = None,
    ) -> None:
        super().__init__(
            id=id,
            soft_wrap=True,
            show_line_numbers=False,
            tab_behavior="focus",
            compact=True,
        )
        self.send_keys = set(send_keys or ["enter"])
        """Keys that send the message."""
        self.newline_keys = set(newline_keys or ["ctrl+j", "shift+enter", "alt+enter"])
        """Keys that insert a line break."""
        self.recalled = False
        """The text is an earlier message brought back with ↑."""
        self._recalled_text = ""
        self.placeholder = self._hint()

    def _hint(self) -> str:
        def name(keys: set[str]) -> str:
            key = "ctrl+j" if "ctrl+j" in keys else sorted(keys)[0] if keys else "?"
            return "+".join(p.capitalize() for p in key.split("+"))

        return f"Message ({name(self.send_keys)} sends, {name(self.newline_keys)} new line, ↑ edits the last)"

    def set_keys(self, send_keys: list[str], newline_keys: list[str]) -> None:
        """Change which keys send and which make a new line."""
        self.send_keys, self.newline_keys = set(send_keys), set(newline_keys)
        self.placeholder = self._hint()

    async def _on_key(self, event: events.Key) -> None:
        # Handled here, not through bindings: a binding's action runs later, after keys
        # typed just behind it, which would put the newline (or the send) out of order.
        if event.key in self.send_keys:
            event.stop()
            event.prevent_default()
            self._submit()
            return
        if event.key in self.newline_keys:
            event.stop()
            event.prevent_default()
            self.action_newline()
        # Other keys go on to TextArea's own handler (Textual calls each class's in turn).

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
            self.post_message(self.RecallRequested(self))
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

    def restore(self, text: str) -> None:
        """Put back a message that could not be sent, before anything typed since."""
        typed = self.text
        self.load_text(f"{text}\n{typed}" if typed.strip() else text)
        self.move_cursor(self.document.end)
