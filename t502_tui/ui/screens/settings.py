"""The Settings screen (F2): every setting the schema gives a field, checked as it is typed.

The fields, their labels and their checks come from :mod:`t502_tui.settings_schema`, the
same description the config file is held to, so the screen cannot accept what a later
start would refuse. Enter saves; Tab moves to the next field.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Button, Input, Select, Static, TextArea

from t502_tui.config import Config
from t502_tui.paths import config_file, display_path
from t502_tui.settings_schema import Setting, SettingError, every_setting, parse_text, set_from_env
from t502_tui.ui.screens.add_provider import AddProviderScreen, NewProvider
from t502_tui.ui.screens.dialog import Dialog
from t502_tui.ui.screens.dialogs import close_asking_first
from t502_tui.ui.screens.form_keys import REVEAL_KEY, REVEAL_LABEL, TAB_IN_ORDER, toggle
from t502_tui.ui.widgets.text_box import TextField


def _as_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # 120 seconds, not "120.0"
    return "" if value is None else str(value)


class _LineField(Input):
    """A one-line field that, when focused, has its cursor at the end and nothing selected,
    so the first key typed adds to the text instead of replacing it."""

    def _on_focus(self, event: events.Focus) -> None:
        super()._on_focus(event)
        self.cursor_position = len(self.value)


class SettingsScreen(Dialog[dict[str, Any] | None]):
    """Dismisses with the changed settings (config keys and values), or None."""

    BINDINGS = [
        Binding("ctrl+s", "save", "Save", priority=True),
        Binding("escape", "cancel", "Cancel"),
        *toggle(REVEAL_KEY, "reveal", "Show key", "Hide key"),
        *TAB_IN_ORDER,
    ]
    AUTO_FOCUS = ".setting-field"

    @dataclass
    class ProviderAdded(Message):
        """A provider was added (and checked) from here: the app saves it and lists its models."""

        provider: NewProvider

    def __init__(self, config: Config, themes: list[str]) -> None:
        super().__init__()
        self.config = config
        self.themes = themes
        self.fields = [setting for setting in every_setting() if setting.screen]
        """The settings shown, in the schema's order."""
        self._revealed = False
        self._added: dict[str, dict[str, Any]] = {}
        """Providers added from this screen (the app saves them)."""
        self._as_opened: dict[str, object] = {}
        """Each field as it was when the screen opened (to ask before changes are thrown away)."""

    def _current(self, setting: Setting) -> Any:
        if setting.table:
            return getattr(self.config, setting.table).get(setting.name)
        return getattr(self.config, setting.name)

    def _note(self, setting: Setting) -> str:
        assert setting.screen is not None
        note = setting.screen.note
        if setting.screen.widget == "secret":
            keep = f"Empty keeps {self.config.masked_key}." if self.config.api_key else "No key is saved yet."
            note = f"{keep} {REVEAL_LABEL} {'hides' if self._revealed else 'shows'} what you type."
        if env := set_from_env(setting):
            what = "the key in use" if setting.screen.widget == "secret" else "the value shown"
            note = (f"{env} is set: it gives {what}, over the config file's, until it is unset"
                    f" (what you save here goes to the file). {note}").strip()
        return note

    def _choices(self, setting: Setting) -> list[tuple[str, str]]:
        if setting.choices:
            return [(f"{value}: {meaning}", value) for value, meaning in setting.choices.items()]
        options = [(name, name) for name in self.themes]
        current = self._current(setting)
        if current not in self.themes:
            # Offered as it is, so saving other fields does not change it.
            options.insert(0, (f"{current} (not found)", current))
        return options

    def _widget(self, setting: Setting) -> Widget:
        assert setting.screen is not None
        kind, ident, value = setting.screen.widget, setting.name, self._current(setting)
        if kind == "secret":
            return _LineField(password=True, select_on_focus=False, id=ident, classes="setting-field")
        if kind == "text":
            return TextField(value, soft_wrap=True, id=ident, classes="setting-field")
        if kind == "choice":
            # Compact: the field's own border is the frame, not a second one inside it.
            return Select(self._choices(setting), value=value, allow_blank=False, compact=True,
                          id=ident, classes="setting-field")
        placeholder = "server default" if setting.optional else ""
        return _LineField(_as_text(value), placeholder=placeholder, select_on_focus=False, id=ident,
                          classes="setting-field")

    def compose(self) -> ComposeResult:
        path = display_path(self.config.path or config_file())
        with Vertical(id="settings"):
            yield Static(Content.assemble(("Settings", "bold"), f" · saved to {path}"), id="settings-title")
            with VerticalScroll(id="settings-form", can_focus=False):
                for setting in self.fields:
                    assert setting.screen is not None
                    with Vertical(classes="setting"):
                        field = self._widget(setting)
                        field.border_title = setting.screen.label
                        yield field
                        note = self._note(setting)
                        yield Static(Content(note), id=f"{setting.name}-note",
                                     classes="setting-note" + ("" if note else " -empty"))
                yield Static(self._providers_text(), id="settings-providers", classes="setting-note")
                yield Button("Add a provider…", id="settings-add-provider", compact=True)
            yield Static("Enter or Ctrl+S saves · Tab: next field · Esc cancels", id="settings-hint")
            with Horizontal(id="settings-buttons"):
                yield Button("Save", variant="primary", id="settings-save")
                yield Button("Cancel", id="settings-cancel")

    def _providers_text(self) -> Content:
        """Every provider, where it is and where its key comes from."""
        config = self.config
        lines = [f"Providers: {config.default_provider} is the Base URL and API key above."]
        for name, entry in {**config.providers, **self._added}.items():
            if name == config.default_provider:
                continue
            key = ("key in the file" if "api_key" in entry else f"key from ${entry['api_key_env']}"
                   if "api_key_env" in entry else "key from a command" if "api_key_cmd" in entry else "no key")
            lines.append(f"  {name}: {entry.get('base_url', '')} · {key}")
        lines.append("Change or remove them under [providers] in the config file.")
        return Content("\n".join(lines))

    @on(Button.Pressed, "#settings-add-provider")
    def _add_provider(self) -> None:
        names = [self.config.default_provider, *self.config.providers, *self._added]

        def added(new: NewProvider | None) -> None:
            if new is not None:
                self.post_message(self.ProviderAdded(new))
                self._added[new.name] = new.entry
                self.query_one("#settings-providers", Static).update(self._providers_text())

        self.app.push_screen(AddProviderScreen(names), added)

    def _setting(self, name: str) -> Setting:
        return next(setting for setting in self.fields if setting.name == name)

    def _text(self, setting: Setting) -> object:
        """The field as it stands (not checked)."""
        widget = self.query_one(f"#{setting.name}")
        if isinstance(widget, Select):
            return widget.value
        return widget.text if isinstance(widget, TextArea) else widget.value  # type: ignore[attr-defined]

    def on_mount(self) -> None:
        self._as_opened = {setting.name: self._text(setting) for setting in self.fields}

    def _read(self, setting: Setting) -> Any:
        """The field's value, checked; raises :class:`SettingError`."""
        value = self._text(setting)
        return value if isinstance(self.query_one(f"#{setting.name}"), Select) else parse_text(setting, str(value))

    def _check(self, setting: Setting) -> bool:
        """Show what is wrong with the field (or its note); True when it is right."""
        try:
            self._read(setting)
        except SettingError as error:
            assert setting.screen is not None
            self._show_note(setting, f"{setting.screen.label} {error.reason}.", error=True)
            return False
        self._show_note(setting, self._note(setting), error=False)
        return True

    def _show_note(self, setting: Setting, text: str, error: bool) -> None:
        note = self.query_one(f"#{setting.name}-note", Static)
        note.set_class(error, "error")
        note.set_class(not text, "-empty")
        note.update(Content(text))

    @on(Input.Changed)
    @on(TextArea.Changed)
    def _changed(self, event: Input.Changed | TextArea.Changed) -> None:
        widget = event.input if isinstance(event, Input.Changed) else event.text_area
        if widget.id:
            self._check(self._setting(widget.id))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "reveal":
            return parameters[0] != self._revealed
        return True

    def action_reveal(self, show: bool) -> None:
        """Show or hide the key being typed."""
        self._revealed = show
        field = self.query_one("#api_key", Input)
        field.password = not self._revealed
        self._check(self._setting("api_key"))
        self.refresh_bindings()

    @on(Button.Pressed, "#settings-cancel")
    def action_cancel(self) -> None:
        """Close without saving; asked first when a field was changed (a system prompt
        written over several minutes went with one Esc)."""
        close_asking_first(self, lambda: any(self._text(setting) != self._as_opened.get(setting.name, "")
                                             for setting in self.fields), "Settings")

    @on(Input.Submitted)
    @on(Button.Pressed, "#settings-save")
    def action_save(self) -> None:
        """Check every field; save only when all are right, and only what changed."""
        wrong = [setting for setting in self.fields if not self._check(setting)]
        if wrong:
            self.query_one(f"#{wrong[0].name}").focus()  # the first, in sight: keys go where seen
            self.notify("Fix the fields marked in red first.", severity="error")
            return
        changed: dict[str, Any] = {}
        tables: dict[str, dict[str, Any]] = {}
        for setting in self.fields:
            value = self._read(setting)
            if setting.screen is not None and setting.screen.widget == "secret" and not value:
                continue
            if setting.table:
                table = tables.setdefault(setting.table, dict(getattr(self.config, setting.table)))
                if value is None:
                    table.pop(setting.name, None)
                else:
                    table[setting.name] = value
            elif value != getattr(self.config, setting.name):
                changed[setting.name] = value
        for name, table in tables.items():
            if table != getattr(self.config, name):
                changed[name] = table
        self.dismiss(changed)
