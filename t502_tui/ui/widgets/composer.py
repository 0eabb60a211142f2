"""The message composer: a multi-line editor where Enter sends."""

from __future__ import annotations

from dataclasses import dataclass

from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.widgets import TextArea


class Composer(TextArea):
    """Enter sends; Shift+Enter, Alt+Enter and Ctrl+J insert a newline.

    Pasted text never sends, whatever newlines it holds (it arrives as one paste event).
    Up in an empty composer recalls earlier messages, newest first.
    """

    BINDINGS = [
        # Shown in the footer; the keys themselves are handled in _on_key.
        Binding("ctrl+j,shift+enter,alt+enter", "newline", "Newline", id="newline"),
    ]

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
        self._history: list[str] = []
        self._recall_index: int | None = None
        self.placeholder = self._hint()

    def _hint(self) -> str:
        def name(keys: set[str]) -> str:
            key = "ctrl+j" if "ctrl+j" in keys else sorted(keys)[0] if keys else "?"
            return "+".join(p.capitalize() for p in key.split("+"))

        return f"Message ({name(self.send_keys)} sends, {name(self.newline_keys)} new line, ↑ recalls)"

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
            return
        await super()._on_key(event)

    def _submit(self) -> None:
        text = self.text
        if not text.strip():
            return
        if not self._history or self._history[-1] != text:
            self._history.append(text)
        self._recall_index = None
        self.clear()
        self.post_message(self.Submitted(self, text))

    def action_newline(self) -> None:
        """Replace the selection (or insert at the cursor) with a line break."""
        start, end = self.selection
        self.replace("\n", start, end, maintain_selection_offset=False)

    def action_cursor_up(self, select: bool = False) -> None:
        """Recall history when empty (or already recalling on the first line)."""
        recalling = self._recall_index is not None and self.cursor_location[0] == 0
        if self._history and not select and (not self.text or recalling):
            index = len(self._history) if self._recall_index is None else self._recall_index
            if index > 0:
                self._recall_index = index - 1
                self.load_text(self._history[self._recall_index])
                self.move_cursor(self.document.end)
            return
        super().action_cursor_up(select)

    def restore(self, text: str) -> None:
        """Put back a message that could not be sent, before anything typed since."""
        typed = self.text
        self.load_text(f"{text}\n{typed}" if typed.strip() else text)
        self.move_cursor(self.document.end)
