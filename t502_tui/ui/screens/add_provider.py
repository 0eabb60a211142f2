"""Adding a provider from inside t502: a name, its /v1 root and (if it needs one) a key,
checked with ``/models`` before it is saved under ``[providers.NAME]``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Button, Input, Label, Static

from t502_tui.service import ModelInfo, ServiceError
from t502_tui.settings_schema import BY_NAME, SettingError, validate
from t502_tui.terminal_text import first_up
from t502_tui.ui.screens.dialog import Dialog
from t502_tui.ui.widgets.button_row import ButtonRow
from t502_tui.ui.screens.dialogs import focus_from_top
from t502_tui.ui.screens.form_keys import TAB_IN_ORDER


@dataclass(frozen=True)
class NewProvider:
    """A provider the user added, checked: its table for the config, and its models."""

    name: str
    entry: dict[str, Any]
    models: list[ModelInfo]


class AddProviderScreen(Dialog[NewProvider | None]):
    """Dismisses with the checked provider, or None."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel"), *TAB_IN_ORDER]
    AUTO_FOCUS = ""  # see on_mount

    def __init__(self, taken: list[str]) -> None:
        super().__init__()
        self.taken = taken

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog", id="add-provider", can_focus=False):
            yield Static(Content.styled("Add a provider", "bold"))
            yield Static(Content("Another OpenAI-compatible server: a local Ollama, llama.cpp or vLLM, OpenRouter,"
                                 " another relay. Its models then show in the picker under its name."),
                         classes="hint")
            yield Label("Name (letters, digits, . _ -)")
            yield Input(placeholder=self._example_name(), id="provider-name", select_on_focus=False)
            yield Label("Base URL (up to and including /v1)")
            yield Input(placeholder="http://localhost:11434/v1", id="provider-url", select_on_focus=False)
            yield Label("API key (empty for a server that needs none)")
            yield Input(password=True, id="provider-key", select_on_focus=False)
            yield Static(id="provider-message")
            with ButtonRow(classes="dialog-buttons"):
                yield Button("Check and save", variant="primary", id="provider-save")
                yield Button("Cancel", id="provider-cancel")

    def on_mount(self) -> None:
        focus_from_top(self, self.query_one("#provider-name", Input))

    def _example_name(self) -> str:
        """A name to suggest, not one already taken."""
        names = ("local", "ollama", "openrouter", "lmstudio", *(f"local{n}" for n in range(2, 99)))
        return next((name for name in names if name not in self.taken), "")

    def _say(self, text: str, error: bool = False) -> None:
        message = self.query_one("#provider-message", Static)
        message.set_class(error, "error")
        message.update(Content(text))
        message.scroll_visible(animate=False)  # below the fields: out of sight in a short terminal

    @on(Button.Pressed, "#provider-cancel")
    def _cancel(self) -> None:
        self.dismiss(None)

    @on(Input.Submitted)
    @on(Button.Pressed, "#provider-save")
    def _save(self) -> None:
        name = self.query_one("#provider-name", Input).value.strip()
        entry: dict[str, Any] = {"base_url": self.query_one("#provider-url", Input).value.strip()}
        if key := self.query_one("#provider-key", Input).value.strip():
            entry["api_key"] = key
        if not name:
            self._say("Type a name for it: letters, digits, '.', '_' or '-'.", error=True)
            return
        if name in self.taken:
            self._say(f"There is a provider called {name} already.", error=True)
            return
        try:
            checked = validate(BY_NAME["providers"], {name: entry})
        except SettingError as error:
            field = error.key[len(name) + 1:] if error.key.startswith(f"{name}.") else ""
            if not field:  # the name itself: its key is the name, which may hold dots
                self._say(f"The name “{name}” {error.reason}.", error=True)
                return
            what = field.replace("_", " ")
            self._say(f"{first_up(what)} {error.reason}.", error=True)
            return
        self._say(f"Checking {'the key' if key else 'without a key'} with {checked[name]['base_url']}/models …")
        self._check(name, checked[name])

    @work(exclusive=True, group="provider-check")
    async def _check(self, name: str, entry: dict[str, Any]) -> None:
        from t502_tui.service.client import ChatClient  # httpx: not needed for the first screen

        async with ChatClient(entry["base_url"], entry.get("api_key", ""), max_retries=0, idle_timeout=20) as client:
            try:
                models = await client.list_models()
            except ServiceError as error:
                self._say(f"That did not work: {error.message}", error=True)
                return
        self.dismiss(NewProvider(name, entry, models))
