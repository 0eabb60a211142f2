"""The help screen (F1): the keys in force and where to find everything else."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

HELP_ROWS = [
    ("Enter", "send the message"),
    ("Ctrl+J", "new line in the message (any terminal)"),
    ("Shift+Enter, Alt+Enter", "new line too, where the terminal tells them from Enter (kitty, WezTerm, foot, …)"),
    ("↑ in an empty composer", "recall earlier messages"),
    ("Esc", "stop the streaming reply (its text is kept)"),
    ("Ctrl+R", "retry the last message"),
    ("Ctrl+O", "switch model (also Ctrl+P → Switch model)"),
    ("Ctrl+N", "new conversation"),
    ("Ctrl+B", "go to the conversation list (again: hide it); Enter opens, r renames, a archives, d deletes"),
    ("Ctrl+F", "search every saved message"),
    ("Ctrl+L", "copy the last reply"),
    ("c on a focused message", "copy that message (Tab / Shift+Tab move focus)"),
    ("Ctrl+P", "command palette: system prompt, copy code block, close conversation, …"),
    ("F1", "this help"),
    ("Ctrl+Q", "quit"),
]


class HelpScreen(ModalScreen[None]):
    """A list of keys; any of Esc, F1 or q closes it."""

    BINDINGS = [Binding("escape,f1,q", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Static(Content.styled("t502 keys", "bold"))
            for key, what in HELP_ROWS:
                with Horizontal(classes="help-row"):
                    yield Static(Content.styled(key, "bold $accent"), classes="help-key")
                    yield Static(Content(what), classes="help-what")
