"""The help screen (F1): the keys actually in force, and what the terminal may not send."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

ACTIONS = {
    "send": "send the message",
    "newline": "new line in the message",
    "cancel": "stop the streaming reply (its text is kept)",
    "retry": "retry a failed or stopped reply",
    "regenerate": "ask again for the last reply (the old one is kept: < > flips)",
    "attach": "attach images, text or code files (or paste or drop their paths)",
    "switch_model": "switch model (also Ctrl+P → Switch model)",
    "new_conversation": "new conversation (blank, or from a preset)",
    "toggle_sidebar": "go to the conversation list (again: hide it)",
    "search": "search every saved message",
    "copy_last_reply": "copy the last reply",
    "command_palette": "command palette: every command, by name",
    "settings": "settings",
    "conversation_settings": "this conversation's prompt, temperature, top_p, max tokens, effort",
    "help": "this help",
    "quit": "quit",
}
FIXED = [
    ("↑ in an empty composer", "edit your last message (again: the one before); Enter sends a new branch"),
    ("e, d, < > on a message", "edit it, delete it, flip between its versions"),
    ("Tab / Shift+Tab", "move between the list, the messages and the composer"),
    ("c on a message", "copy that message"),
    ("k on a reply", "send it with your next message, or leave it out (a cut-off reply is left out)"),
    ("Enter, r, a, d in the list", "open, rename, archive, delete a conversation"),
]
TERMINAL_NOTE = (
    "Shift+Enter and Alt+Enter reach t502 only where the terminal tells them from Enter "
    "(kitty, WezTerm, foot, Ghostty, or tmux with extended-keys); Ctrl+J works in every terminal."
)


def _pretty(keys: list[str]) -> str:
    return ", ".join("+".join(part.capitalize() if len(part) > 1 else part.upper() for part in key.split("+")) for key in keys)


class HelpScreen(ModalScreen[None]):
    """A list of keys; Esc, F1 or q closes it."""

    BINDINGS = [Binding("escape,f1,q", "dismiss", "Close")]

    def __init__(self, keys: dict[str, list[str]]) -> None:
        super().__init__()
        self.keys = keys

    def compose(self) -> ComposeResult:
        rows = [(_pretty(self.keys[action]), what) for action, what in ACTIONS.items() if action in self.keys]
        with VerticalScroll(id="help"):
            yield Static(Content.styled("t502 keys", "bold"))
            for key, what in [*rows, *FIXED]:
                with Horizontal(classes="help-row"):
                    yield Static(Content.styled(key, "bold $accent"), classes="help-key")
                    yield Static(Content(what), classes="help-what")
            yield Static(Content(TERMINAL_NOTE), classes="hint help-note")
