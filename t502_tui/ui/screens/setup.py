"""First run: ask for the base URL and key, check them with ``/models``, save them.

The cursor starts in the key field (the one thing most people fill in); Tab goes URL →
key → buttons, and anything typed while a button has the focus goes into the key field,
masked: a key typed after one Tab too many is never lost, nor shown.
A server that needs no key (a local Ollama, llama.cpp, vLLM) is checked without one.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.widgets import Button, Input, Static

from t502_tui.config import problem_with
from t502_tui.service import ModelInfo, ServiceError
from t502_tui.ui.screens.dialog import Dialog
from t502_tui.ui.screens.dialogs import focus_from_top
from t502_tui.ui.screens.form_keys import REVEAL_KEY, REVEAL_LABEL, TAB_IN_ORDER, toggle


@dataclass
class SetupResult:
    """What the user confirmed; ``models`` is the list the check fetched."""

    base_url: str
    api_key: str
    models: list[ModelInfo]


class _SetupButton(Button):
    """A button that hands typed characters to the key field (and the focus with them)."""

    async def _on_key(self, event: events.Key) -> None:
        if event.is_printable and event.key != "space" and event.character:
            event.stop()
            event.prevent_default()
            key = self.screen.query_one("#setup-key", Input)
            self.screen.set_focus(key)
            key.insert_text_at_cursor(event.character)


class SetupScreen(Dialog[SetupResult | None]):
    """Dismisses with the checked settings, or None when skipped."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Skip"), *toggle(REVEAL_KEY, "reveal", "Show key", "Hide key"), *TAB_IN_ORDER]
    AUTO_FOCUS = ""  # see on_mount

    def __init__(self, base_url: str, config_path: str) -> None:
        super().__init__()
        self.base_url = base_url
        self.config_path = config_path
        self._key_shown = False

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="setup", can_focus=False):
            yield Static(Content.styled("Welcome to t502", "bold"), id="setup-title")
            yield Static(
                Content(
                    "No API key is set. Type or paste your key (none for a local server), and the "
                    f"server's address if it is not this one; t502 checks them and saves them to "
                    f"{self.config_path}, readable only by you. More servers can be added later: "
                    "Ctrl+P → Add a provider."
                ),
                id="setup-intro",
            )
            url = Input(self.base_url, select_on_focus=False, id="setup-url", classes="setup-field")
            url.border_title = "Base URL"
            yield url
            key = Input(password=True, select_on_focus=False, placeholder=f"sk-… (hidden: {REVEAL_LABEL} shows it)",
                        id="setup-key", classes="setup-field")
            key.border_title = "API key"
            yield key
            yield Static(id="setup-message")
            yield Static(Content(f"Enter checks and saves · {REVEAL_LABEL} shows the key · Tab: next · Esc skips"),
                         classes="hint")
            with Horizontal(id="setup-buttons"):
                yield _SetupButton("Check and save", variant="primary", id="setup-save")
                yield _SetupButton("Skip", id="setup-skip")

    def on_mount(self) -> None:
        focus_from_top(self, self.query_one("#setup-key", Input))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "reveal":
            return parameters[0] != self._key_shown
        return True

    def action_reveal(self, show: bool) -> None:
        """Show or hide the key typed (a pasted key can be checked by eye)."""
        self._key_shown = show
        self.query_one("#setup-key", Input).password = not show
        self.refresh_bindings()

    def _say(self, text: str, error: bool = False) -> None:
        message = self.query_one("#setup-message", Static)
        message.set_class(error, "error")
        message.update(Content(text))

    @on(Button.Pressed, "#setup-skip")
    def _skip(self) -> None:
        self.dismiss(None)

    @on(Input.Submitted, "#setup-url")
    def _url_entered(self) -> None:
        key = self.query_one("#setup-key", Input)
        if key.value.strip():
            self._save()
        else:
            self.set_focus(key)

    @on(Input.Submitted, "#setup-key")
    @on(Button.Pressed, "#setup-save")
    def _save(self) -> None:
        url = self.query_one("#setup-url", Input).value.strip().rstrip("/")
        key = self.query_one("#setup-key", Input).value.strip()
        if problem := problem_with("base_url", url):
            self._say(f"The base URL {problem}.", error=True)
            return
        if key and (problem := problem_with("api_key", key)):
            self._say(f"The API key {problem}.", error=True)
            self.set_focus(self.query_one("#setup-key", Input))
            return
        self._say(f"Checking {'the key' if key else 'without a key'} with {url}/models …")
        self._check(url, key)

    @work(exclusive=True, group="setup-check")
    async def _check(self, url: str, key: str) -> None:
        from t502_tui.service.client import ChatClient  # httpx: not needed for the first screen

        async with ChatClient(url, key, max_retries=0, idle_timeout=20) as client:
            try:
                models = await client.list_models()
            except ServiceError as error:
                hint = " Enter the API key." if not key and getattr(error, "status", None) == 401 else ""
                self._say(f"That did not work: {error.message}.{hint}", error=True)
                return
        self.dismiss(SetupResult(url, key, models))
