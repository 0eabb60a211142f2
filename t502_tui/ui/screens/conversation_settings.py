"""One conversation's own settings: its system prompt and request parameters.

Each field left empty takes the default (``[params]``, or the server's); the fields are
checked with the same rules as ``[params]`` in the config (:mod:`t502_tui.settings_schema`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Button, Input, Select, Static

from t502_tui.request_params import effort_sent, takes_reasoning_effort
from t502_tui.settings_schema import PARAMS_BY_NAME, REASONING_EFFORTS, SettingError, parse_text
from t502_tui.ui.screens.dialog import Dialog
from t502_tui.ui.screens.dialogs import close_asking_first
from t502_tui.ui.widgets.button_row import ButtonRow
from t502_tui.ui.widgets.text_box import TextField
from t502_tui.ui.screens.form_keys import TAB_IN_ORDER

FIELDS = ("temperature", "top_p", "max_tokens")
LABELS = {"temperature": "Temperature (0 to 2)", "top_p": "top_p (0 to 1)", "max_tokens": "Max tokens per reply"}
NAMES = {"temperature": "Temperature", "top_p": "top_p", "max_tokens": "Max tokens"}


@dataclass(frozen=True)
class ConversationSettings:
    """What the dialog was closed with."""

    system_prompt: str
    settings: dict[str, Any]


class ConversationSettingsScreen(Dialog[ConversationSettings | None]):
    """Dismisses with the conversation's new settings (ctrl+s), or None (Esc)."""

    BINDINGS = [
        Binding("ctrl+s", "save", "Save", priority=True),
        Binding("escape", "cancel", "Cancel"),
        *TAB_IN_ORDER,
    ]
    AUTO_FOCUS = "#conv-system"

    def __init__(self, system_prompt: str, settings: dict[str, Any], defaults: dict[str, Any], model: str,
                 preset: str = "") -> None:
        super().__init__()
        self.system_prompt = system_prompt
        self.settings = settings
        self.defaults = defaults
        self.model = model
        self.preset = preset

    def _default(self, name: str) -> str:
        value = self.defaults.get(name)
        return "empty: the server's default" if value is None else f"empty: {value} (from [params])"

    def compose(self) -> ComposeResult:
        started = f" · started from preset {self.preset}" if self.preset else ""
        with Vertical(id="conversation-settings"):
            yield Static(Content.assemble(("This conversation's settings", "bold"), started,
                                          (" · sent with each of its requests", "dim")))
            with VerticalScroll(id="conv-form", can_focus=False):
                prompt = TextField(self.system_prompt, soft_wrap=True, id="conv-system", classes="conv-field")
                prompt.border_title = "System prompt"
                yield prompt
                for name in FIELDS:
                    value = self.settings.get(name)
                    field = Input("" if value is None else str(value), placeholder=self._default(name),
                                  select_on_focus=False, id=f"conv-{name}", classes="conv-field")
                    field.border_title = LABELS[name]
                    yield field
                    yield Static(classes="setting-note -empty", id=f"conv-{name}-note")
                effort = self.settings.get("reasoning_effort")
                choices = [(f"{value}: {meaning}", value) for value, meaning in REASONING_EFFORTS.items()]
                select = Select([("default", "")] + choices, value=effort or "", allow_blank=False, compact=True,
                                id="conv-effort", classes="conv-field")
                select.border_title = "Reasoning effort"
                yield select
                yield Static(Content(self._effort_note(effort or "")), id="conv-effort-note", classes="setting-note")
            yield Static("Enter (in a one-line field) or Ctrl+S saves · Tab: next field · Esc cancels", classes="hint")
            with ButtonRow(classes="dialog-buttons"):
                yield Button("Save", variant="primary", id="conv-save")
                yield Button("Cancel", id="conv-cancel")

    def _effort_note(self, effort: str) -> str:
        """What is sent of the reasoning effort chosen (or of [params]' for "default") to
        this conversation's model."""
        if not takes_reasoning_effort(self.model):
            return f"{self.model} does not take it: kept, and sent to models that do."
        effort = effort or str(self.defaults.get("reasoning_effort") or "")
        if not effort:
            return f"Not sent: {self.model} thinks as much as it does by default."
        sent = effort_sent(self.model, effort)
        return f"Sent to {self.model}." if sent == effort else f"Sent to {self.model} as {sent}: only GPT-5 takes {effort}."

    @on(Select.Changed, "#conv-effort")
    def _effort_chosen(self, event: Select.Changed) -> None:
        value = event.value if isinstance(event.value, str) else ""
        self.query_one("#conv-effort-note", Static).update(Content(self._effort_note(value)))

    def _read(self, name: str) -> Any:
        return parse_text(PARAMS_BY_NAME[name], self.query_one(f"#conv-{name}", Input).value)

    def _check(self, name: str) -> bool:
        note = self.query_one(f"#conv-{name}-note", Static)
        try:
            self._read(name)
        except SettingError as error:
            note.update(Content(f"{NAMES[name]} {error.reason}."))
            note.set_classes("setting-note error")
            return False
        note.set_classes("setting-note -empty")
        return True

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        if event.input.id and event.input.id.startswith("conv-"):
            self._check(event.input.id[5:])

    def _fields(self) -> list[object]:
        """Every field as it stands (not checked)."""
        return [self.query_one("#conv-system", TextField).text, *(self.query_one(f"#conv-{name}", Input).value
                for name in FIELDS), self.query_one("#conv-effort", Select).value]

    @on(Button.Pressed, "#conv-cancel")
    def action_cancel(self) -> None:
        as_opened = [self.system_prompt, *("" if self.settings.get(name) is None else str(self.settings[name])
                                           for name in FIELDS), self.settings.get("reasoning_effort") or ""]
        close_asking_first(self, lambda: self._fields() != as_opened, "this conversation's settings")

    @on(Input.Submitted)
    @on(Button.Pressed, "#conv-save")
    def action_save(self) -> None:
        wrong = [name for name in FIELDS if not self._check(name)]
        if wrong:
            self.query_one(f"#conv-{wrong[0]}", Input).focus()  # the first, in sight: keys go where seen
            self.notify("Fix the fields marked in red first.", severity="error")
            return
        settings = {k: v for k, v in self.settings.items() if k not in (*FIELDS, "reasoning_effort")}
        for name in FIELDS:
            if (value := self._read(name)) is not None:
                settings[name] = value
        effort = self.query_one("#conv-effort", Select).value
        if isinstance(effort, str) and effort:
            settings["reasoning_effort"] = effort
        self.dismiss(ConversationSettings(self.query_one("#conv-system", TextField).text.strip(), settings))
