"""The help screen (F1): the keys actually in force, and what the terminal may not send."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Static

from t502_tui.keys import ACTIONS, PLACES, key_label
from t502_tui.ui.screens.dialog import Dialog

TERMINAL_NOTE = (
    "Shift+Enter and Alt+Enter reach t502 only where the terminal tells them from Enter "
    "(kitty, WezTerm, foot, Ghostty, or tmux with extended-keys); Ctrl+J works in every terminal."
)


class HelpScreen(Dialog[None]):
    """A list of keys (scrolled with ↑↓ and PageUp/PageDown in a small terminal); Esc, F1
    or q closes it."""

    BINDINGS = [Binding("escape,f1,q", "dismiss", "Close")]

    def __init__(self, keys: dict[str, list[str]]) -> None:
        super().__init__()
        self.keys = keys

    def compose(self) -> ComposeResult:
        rows = [(key_label(self.keys[action.name]), action.help) for action in ACTIONS if action.name in self.keys]
        rows += list(PLACES)
        with Vertical(id="help"):
            yield Static(Content.styled("t502 keys", "bold"), id="help-title")
            with VerticalScroll(id="help-rows"):
                for key, what in rows:
                    with Horizontal(classes="help-row"):
                        yield Static(Content.styled(key, "bold $accent"), classes="help-key")
                        yield Static(Content(what), classes="help-what")
                yield Static(Content(TERMINAL_NOTE), classes="hint help-note")
            yield Static(Content("↑↓ PageUp PageDown scroll · Esc closes"), classes="hint")
