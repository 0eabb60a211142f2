"""The settings screen: every setting a person changes often, checked as it is typed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static, TextArea

from t502_tui.config import Config, validate_base_url
from t502_tui.paths import config_file, display_path


def _url_problem(value: str) -> str | None:
    problem = validate_base_url(value)
    return f"The URL {problem}." if problem else None


def _temperature_problem(value: str) -> str | None:
    if not value.strip():
        return None
    try:
        number = float(value)
    except ValueError:
        return "A number from 0 to 2, or empty for the server's default."
    return None if 0 <= number <= 2 else "Temperature goes from 0 to 2."


def _max_tokens_problem(value: str) -> str | None:
    if not value.strip():
        return None
    return None if value.strip().isdigit() and int(value) > 0 else "A whole number above 0, or empty."


def _model_problem(value: str) -> str | None:
    return None if value.strip() else "Name a model."


CHECKS: dict[str, Callable[[str], str | None]] = {
    "base_url": _url_problem,
    "temperature": _temperature_problem,
    "max_tokens": _max_tokens_problem,
    "model": _model_problem,
}


class SettingsScreen(ModalScreen[dict[str, Any] | None]):
    """Dismisses with the changed settings (config keys and values), or None."""

    BINDINGS = [
        Binding("ctrl+s", "save", "Save", priority=True),
        Binding("escape", "dismiss(None)", "Cancel"),
    ]

    def __init__(self, config: Config, themes: list[str]) -> None:
        super().__init__()
        self.config = config
        self.themes = themes

    def _field(self, label: str, widget: Any, name: str, note: str = "") -> ComposeResult:
        with Vertical(classes="setting"):
            yield Label(label)
            yield widget
            yield Static(Content(note), id=f"{name}-note", classes="setting-note")

    def compose(self) -> ComposeResult:
        config = self.config
        params = config.params
        with VerticalScroll(id="settings"):
            yield Static(Content.assemble(("Settings", "bold"), f" · saved to {display_path(config.path or config_file())}"))
            yield from self._field("Base URL", Input(config.base_url, id="base_url"), "base_url")
            key_hint = f"now {config.masked_key}; type a new key to replace it" if config.api_key else "none set"
            yield from self._field(
                "API key", Input(password=True, placeholder=key_hint, id="api_key"), "api_key",
                "Leave empty to keep the current key.",
            )
            yield from self._field("Default model", Input(config.model, id="model"), "model")
            yield from self._field(
                "Default system prompt", TextArea(config.system_prompt, soft_wrap=True, id="system_prompt"),
                "system_prompt", "For new conversations; each conversation can change its own.",
            )
            yield from self._field(
                "System prompt role",
                Select([("system (every vendor takes it)", "system"), ("developer (newer OpenAI models)", "developer")],
                       value=config.system_role, allow_blank=False, id="system_role"),
                "system_role",
            )
            temperature = params.get("temperature")
            yield from self._field(
                "Temperature", Input("" if temperature is None else str(temperature),
                                     placeholder="server default", id="temperature"), "temperature",
            )
            max_tokens = params.get("max_tokens")
            yield from self._field(
                "Max tokens per reply", Input("" if max_tokens is None else str(max_tokens),
                                              placeholder="server default", id="max_tokens"), "max_tokens",
            )
            yield from self._field(
                "Theme", Select([(name, name) for name in self.themes], value=config.theme
                                if config.theme in self.themes else self.themes[0], allow_blank=False, id="theme"),
                "theme",
            )
            yield from self._field(
                "Send key",
                Select([("Enter sends, Ctrl+J makes a new line", "enter"),
                        ("Ctrl+J sends, Enter makes a new line", "ctrl+j")],
                       value=config.send_key, allow_blank=False, id="send_key"),
                "send_key",
            )
            with Horizontal(id="settings-buttons"):
                yield Button("Save (ctrl+s)", variant="primary", id="settings-save")
                yield Button("Cancel (esc)", id="settings-cancel")

    @on(Input.Changed)
    def _check(self, event: Input.Changed) -> None:
        name = event.input.id or ""
        if name in CHECKS:
            self._show_problem(name, CHECKS[name](event.value))

    def _show_problem(self, name: str, problem: str | None) -> None:
        note = self.query_one(f"#{name}-note", Static)
        note.set_class(problem is not None, "error")
        note.update(Content(problem or ""))

    def _values(self) -> dict[str, str]:
        return {name: self.query_one(f"#{name}", Input).value for name in CHECKS}

    @on(Button.Pressed, "#settings-cancel")
    def _cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#settings-save")
    def action_save(self) -> None:
        """Check every field; save only when all are right."""
        values = self._values()
        problems = {name: CHECKS[name](value) for name, value in values.items()}
        for name, problem in problems.items():
            self._show_problem(name, problem)
        if any(problems.values()):
            self.notify("Fix the fields marked in red first.", severity="error")
            return
        config = self.config
        params = dict(config.params)
        for name, convert in (("temperature", float), ("max_tokens", int)):
            text = values[name].strip()
            if text:
                params[name] = convert(text)
            else:
                params.pop(name, None)
        new: dict[str, Any] = {
            "base_url": values["base_url"].strip().rstrip("/"),
            "model": values["model"].strip(),
            "system_prompt": self.query_one("#system_prompt", TextArea).text.strip(),
            "system_role": self.query_one("#system_role", Select).value,
            "theme": self.query_one("#theme", Select).value,
            "send_key": self.query_one("#send_key", Select).value,
            "params": params,
        }
        key = self.query_one("#api_key", Input).value.strip()
        if key:
            new["api_key"] = key
        changed = {name: value for name, value in new.items() if getattr(config, name) != value}
        self.dismiss(changed)
