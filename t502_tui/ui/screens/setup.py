"""First run: ask for the base URL and key, check them with ``/models``, save them.

A server that needs no key (a local Ollama, llama.cpp, vLLM) is checked without one.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from t502_tui.config import validate_base_url
from t502_tui.service import ChatClient, ModelInfo, ServiceError


@dataclass
class SetupResult:
    """What the user confirmed; ``models`` is the list the check fetched."""

    base_url: str
    api_key: str
    models: list[ModelInfo]


class SetupScreen(ModalScreen[SetupResult | None]):
    """Dismisses with the checked settings, or None when skipped."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Skip")]

    def __init__(self, base_url: str, config_path: str) -> None:
        super().__init__()
        self.base_url = base_url
        self.config_path = config_path

    def compose(self) -> ComposeResult:
        with Vertical(id="setup"):
            yield Static(Content.styled("Welcome to t502", "bold"), id="setup-title")
            yield Static(
                Content(
                    "No API key is set. Enter the server and your key (none for a local server); t502"
                    f" checks them and saves them to {self.config_path} (readable only by you). More"
                    " servers can be added later: Ctrl+P → Add a provider."
                ),
                id="setup-intro",
            )
            yield Label("Base URL")
            yield Input(self.base_url, id="setup-url")
            yield Label("API key")
            yield Input(password=True, placeholder="sk-…", id="setup-key")
            yield Static(id="setup-message")
            with Horizontal(id="setup-buttons"):
                yield Button("Check and save", variant="primary", id="setup-save")
                yield Button("Skip", id="setup-skip")

    def on_mount(self) -> None:
        self.query_one("#setup-key", Input).focus()

    def _say(self, text: str, error: bool = False) -> None:
        message = self.query_one("#setup-message", Static)
        message.set_class(error, "error")
        message.update(Content(text))

    @on(Button.Pressed, "#setup-skip")
    def _skip(self) -> None:
        self.dismiss(None)

    @on(Input.Submitted)
    @on(Button.Pressed, "#setup-save")
    def _save(self) -> None:
        url = self.query_one("#setup-url", Input).value.strip().rstrip("/")
        key = self.query_one("#setup-key", Input).value.strip()
        if problem := validate_base_url(url):
            self._say(f"The base URL {problem}.", error=True)
            return
        self._say(f"Checking {'the key' if key else 'without a key'} with {url}/models …")
        self._check(url, key)

    @work(exclusive=True, group="setup-check")
    async def _check(self, url: str, key: str) -> None:
        async with ChatClient(url, key, max_retries=0, idle_timeout=20) as client:
            try:
                models = await client.list_models()
            except ServiceError as error:
                hint = " Enter the API key." if not key and getattr(error, "status", None) == 401 else ""
                self._say(f"That did not work: {error.message}.{hint}", error=True)
                return
        self.dismiss(SetupResult(url, key, models))
