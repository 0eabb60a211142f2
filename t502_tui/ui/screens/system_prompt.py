"""Editing a conversation's system prompt."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Static

from t502_tui.ui.screens.dialog import Dialog
from t502_tui.ui.screens.dialogs import close_asking_first
from t502_tui.ui.widgets.text_box import TextField


class SystemPromptEditor(Dialog[str | None]):
    """Dismisses with the new prompt (ctrl+s) or None (Esc)."""

    BINDINGS = [
        Binding("ctrl+s", "save", "Save", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, prompt: str, role: str) -> None:
        super().__init__()
        self.prompt = prompt
        self.role = role

    def compose(self) -> ComposeResult:
        with Vertical(id="system-prompt"):
            yield Static(
                Content.assemble(("System prompt", "bold"), f" · sent first, as the '{self.role}' role"),
            )
            yield TextField(self.prompt, soft_wrap=True, id="system-prompt-text")
            yield Static(Content("Ctrl+S saves · Esc cancels · empty means none"), classes="hint")

    def action_save(self) -> None:
        self.dismiss(self.query_one(TextField).text.strip())

    def action_cancel(self) -> None:
        close_asking_first(self, lambda: self.query_one(TextField).text != self.prompt, "the system prompt")
