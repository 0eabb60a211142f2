"""The Textual application: owns the config, the API client and the model list."""

from __future__ import annotations

import asyncio
import gc
import os
import re
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.command import SimpleCommand
from textual.screen import Screen

from t502_tui.config import Config, ConfigError, save_config
from t502_tui.keys import resolve_keys
from t502_tui.paths import config_file, display_path
from t502_tui.conversation import Conversation
from t502_tui.model_catalog import (
    is_chat_model,
    load_cached_models,
    load_recent_models,
    remember_model,
    save_cached_models,
)
from t502_tui.debug_log import debug_log_path, mask_secret
from t502_tui.service import ChatClient, ServiceError, StreamEvent
from t502_tui.service.reader_process import ClientSettings, ReaderProcess
from t502_tui.store import Store, StoreError, StoreRunner, default_path
from t502_tui.ui.screens.chat import ChatScreen
from t502_tui.ui.screens.help import HelpScreen
from t502_tui.ui.screens.model_picker import ModelPicker
from t502_tui.ui.screens.setup import SetupResult, SetupScreen
from t502_tui.ui.screens.settings import SettingsScreen
from t502_tui.ui.screens.system_prompt import SystemPromptEditor
from t502_tui.ui.screens.theme_picker import ThemePicker
from t502_tui.ui.themes import DEFAULT_THEME, register_themes
from t502_tui.ui.widgets.composer import Composer
from t502_tui.ui.widgets.streaming_markdown import StreamingMarkdown

_FENCE = re.compile(r"^(```|~~~)[^\n]*\n(.*?)^\1", re.M | re.S)


ENV_INLINE_READER = "T502_INLINE_READER"
"""Set to 1 to read replies in the app's own process, not in a helper."""
READER_WAIT_SECONDS = 1.0
"""How long a reply waits for a helper that is still starting before reading in-process."""
FREEZE_AFTER_SECONDS = 0.25
"""Start-up is over this long after the first frame: what it made lives as long as the app."""


def _freeze_long_lived_objects() -> None:
    """Take start-up's objects (modules, styles, widgets) out of the garbage collector's
    sight, once per process. They live as long as the app; walking them made each full
    collection cost about 30 ms, twice in the middle of a long streaming reply."""
    if not gc.get_freeze_count():
        gc.collect()
        gc.freeze()


class T502App(App[None]):
    """t502's full-screen chat."""

    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", show=False, priority=True, id="quit"),
        Binding("ctrl+p", "command_palette", "palette", show=False, priority=True, id="command_palette"),
    ]

    TITLE = "t502"
    CSS_PATH = "app.tcss"
    ENABLE_COMMAND_PALETTE = True
    COMMAND_PALETTE_BINDING = "ctrl+p"
    NOTIFICATION_TIMEOUT = 4

    def __init__(self, config: Config, conversations: list[Conversation] | None = None) -> None:
        super().__init__()
        self.config = config
        self.initial_conversations = conversations or []
        """Conversations to open at start (a new empty one when there are none)."""
        self.client = self._make_client()
        self.models: list[str] | None = None
        """Model ids from the server; None until fetched."""
        self.models_note = "Loading the model list…"
        self.recent_models: list[str] = []
        """Models chosen lately, newest first (read from disk with the model list)."""
        self.default_model = config.model
        """Model for new conversations: the config's, then the user's latest choice."""
        self.keys, self.key_problems = resolve_keys(config.keys, config.send_key)
        """Keys in force for every action (see :mod:`t502_tui.keys`), and what was wrong."""
        self.set_keymap(self._keymap_for(self.keys))
        self.code_themes, self.theme_warnings = register_themes(self)
        """Pygments style of each t502 theme, and the theme files that were skipped."""
        self.connection = "connecting"
        """``connecting``, ``ready``, ``streaming`` or ``offline: <reason>``."""
        self.store_runner: StoreRunner | None = None
        """The history store, once open; None while opening or when it cannot be used."""
        self.store_path = default_path()
        self.store_ready = asyncio.Event()
        """Set once opening the store has succeeded or failed."""
        self._store_error_shown = False
        self.reader = ReaderProcess()
        """Reads streamed replies in a helper process, when it runs."""
        self.reader_ready = asyncio.Event()
        """Set once the helper has started or failed to (replies are then read here)."""

    @property
    def code_theme(self) -> str:
        """The Pygments style for code blocks in the current theme."""
        return self.code_themes.get(self.theme, "monokai" if self.current_theme.dark else "friendly")

    def _restyle_code(self, theme: object) -> None:
        for markdown in self.query(StreamingMarkdown):
            markdown.restyle(self.code_theme)

    def theme_names(self) -> list[str]:
        """t502's themes first, then Textual's own."""
        ours = sorted(self.code_themes)
        return ours + sorted(name for name in self.available_themes if name not in self.code_themes)

    def change_theme(self) -> None:
        """Pick a theme with a live preview; the choice is saved for next time."""
        def chosen(name: str | None) -> None:
            if name and name != self.config.theme:
                self.config.theme = name
                self.save_settings({"theme": name})

        self.push_screen(ThemePicker(self.theme_names(), self.theme), chosen)

    @staticmethod
    def _keymap_for(keys: dict[str, list[str]]) -> dict[str, str]:
        return {action: ",".join(k) for action, k in keys.items() if action != "send"}

    def _apply_keymap(self) -> None:
        self.set_keymap(self._keymap_for(self.keys))
        for composer in self.query(Composer):
            composer.set_keys(self.keys["send"], self.keys["newline"])

    def open_settings(self) -> None:
        """Edit the settings; changes apply at once and are saved to the config file."""
        self.push_screen(SettingsScreen(self.config, self.theme_names()), self._settings_changed)

    async def _settings_changed(self, changed: dict[str, object] | None) -> None:
        if not changed:
            return
        for name, value in changed.items():
            setattr(self.config, name, value)
        if "model" in changed:
            self.config.model_from_default = False
            self.default_model = self.config.model
        if "theme" in changed:
            self.theme = self.config.theme
        if "send_key" in changed:
            self.keys, self.key_problems = resolve_keys(self.config.keys, self.config.send_key)
            self._apply_keymap()
        if {"base_url", "api_key"} & changed.keys():
            await self._replace_client()
            self.load_models(force=True)
        self.save_settings(dict(changed))

    async def _replace_client(self) -> None:
        """Talk to the server (or with the key) now in the config."""
        mask_secret(self.config.api_key)
        old_client, self.client = self.client, self._make_client()
        await old_client.aclose()

    @property
    def client_settings(self) -> ClientSettings:
        """The server, key and timeouts in the config."""
        config = self.config
        return ClientSettings(config.base_url, config.api_key, config.timeout, config.connect_timeout,
                              config.max_retries)

    def _make_client(self) -> ChatClient:
        return self.client_settings.client()

    # -- replies ------------------------------------------------------------------------------

    @work(group="reader", exit_on_error=False)
    async def start_reader(self) -> None:
        """Start the helper process that reads replies (unless T502_INLINE_READER=1)."""
        if os.environ.get(ENV_INLINE_READER, "").strip() not in ("1", "true", "yes", "on"):
            await self.reader.start(debug_log_path(), [self.config.api_key])
        self.reader_ready.set()

    async def stream_reply(self, messages: list[dict[str, Any]], model: str) -> AsyncIterator[StreamEvent]:
        """A reply's events, read by the helper process when it runs, else in this one."""
        try:  # a message sent in the first instant waits a moment for the helper, no more
            await asyncio.wait_for(self.reader_ready.wait(), READER_WAIT_SECONDS)
        except asyncio.TimeoutError:
            pass
        if self.reader.running:
            events = self.reader.stream_chat(self.client_settings, messages, model, **self.config.params)
        else:
            events = self.client.stream_chat(messages, model, **self.config.params)
        async for event in events:
            yield event

    @property
    def chat(self) -> ChatScreen:
        screen = next(s for s in self.screen_stack if isinstance(s, ChatScreen))
        return screen

    def get_default_screen(self) -> Screen:
        return ChatScreen()

    def on_mount(self) -> None:
        self.open_store()
        if self.config.theme in self.available_themes:
            self.theme = self.config.theme
        else:
            self.theme = DEFAULT_THEME
            self.notify(f"There is no theme {self.config.theme!r}; using {DEFAULT_THEME}.",
                        title="Config", severity="warning")
        self.theme_changed_signal.subscribe(self, self._restyle_code)
        for warning in [*self.config.warnings, *self.theme_warnings, *self.key_problems]:
            self.notify(warning, title="Config", severity="warning", timeout=10)
        if not self.config.api_key:
            self.connection = "no API key"
            self.push_screen(
                SetupScreen(self.config.base_url, display_path(self.config.path or config_file())),
                self._setup_done,
            )

    def on_ready(self) -> None:
        # After the first frame: start-up is not slowed by what can wait, and no request
        # goes out before there is something on screen.
        if self.config.api_key:
            self.load_models()
        self.start_reader()
        self.set_timer(FREEZE_AFTER_SECONDS, _freeze_long_lived_objects)

    async def on_unmount(self) -> None:
        await self.client.aclose()
        await self.reader.aclose()
        if self.store_runner is not None:
            await asyncio.to_thread(self.store_runner.close)

    # -- history store ------------------------------------------------------------------------

    @work(group="store-open", exit_on_error=False)
    async def open_store(self) -> None:
        """Open the history off the event loop; without it, chatting still works."""
        try:
            store = await asyncio.to_thread(Store, self.store_path)
        except StoreError as error:
            self.notify(f"History is off: {error}", title="History", severity="error", timeout=15)
        else:
            self.store_runner = StoreRunner(store)
            self.chat.reload_history()
        self.store_ready.set()

    def store_failed(self, error: StoreError) -> None:
        """Tell the user once that saving failed; the conversation stays on screen."""
        if not self._store_error_shown:
            self._store_error_shown = True
            self.notify(
                f"Not saved: {error}. The conversation stays on screen.",
                title="History", severity="error", timeout=15,
            )

    async def save(self, write: Callable[[Store], object]) -> bool:
        """Run a store write on the store's thread; False (and a notice) if it failed."""
        runner = self.store_runner
        if runner is None:
            return False
        try:
            await runner.run(write, runner.store)
        except StoreError as error:
            self.store_failed(error)
            return False
        self._store_error_shown = False
        return True

    def set_connection(self, state: str) -> None:
        """Record the connection state and show it."""
        self.connection = state
        self.chat.refresh_state()

    # -- setup -----------------------------------------------------------------------------

    async def _setup_done(self, result: SetupResult | None) -> None:
        if result is None:
            self.load_models()
            return
        self.config.base_url, self.config.api_key = result.base_url, result.api_key
        await self._replace_client()
        self._models_arrived(result.models, "")
        self.set_connection("ready")
        self.save_settings({"base_url": result.base_url, "api_key": result.api_key})

    @work(group="save-config", exit_on_error=False)
    async def save_settings(self, updates: dict[str, object]) -> None:
        """Write settings to the config file off the event loop."""
        assert self.config.path is not None
        try:
            await asyncio.to_thread(save_config, self.config.path, updates)
        except OSError as error:
            self.notify(f"Could not save {self.config.path}: {error.strerror or error}", severity="error")
        except ConfigError as error:
            self.notify(str(error), severity="error", markup=False)
        else:
            self.notify(f"Saved to {self.config.path}")

    # -- models -------------------------------------------------------------------------------

    @work(group="models", exclusive=True, exit_on_error=False)
    async def load_models(self, force: bool = False) -> None:
        """Fetch the model list in the background (from the day-old cache unless forced)."""
        base = self.client.base_url
        if not self.recent_models:
            self.recent_models = await asyncio.to_thread(load_recent_models)
        cached = None if force else await asyncio.to_thread(load_cached_models, base)
        if cached is not None:
            self._models_arrived(cached, "")
            self.set_connection("ready")
            return
        try:
            models = [m.id for m in await self.client.list_models()]
        except ServiceError as error:
            self._models_arrived(None, f"Could not load the model list: {error.message}")
            status = getattr(error, "status", None)
            if status is None:
                self.set_connection(f"offline: {error.message}")
            elif status in (401, 403):
                self.set_connection(f"error: {error.message}")
                self.notify(f"{error.message}. Settings (F2) can replace the key.", title="Server",
                            severity="error", timeout=10)
            else:
                self.set_connection("ready")
            return
        await asyncio.to_thread(save_cached_models, base, models)
        self._models_arrived(models, "")
        self.set_connection("ready")

    def _models_arrived(self, models: list[str] | None, note: str) -> None:
        self.models = models
        self.models_note = note
        if models and self.config.model_from_default and self.default_model not in models:
            chat = [m for m in models if is_chat_model(m)]
            if chat:
                self.notify(
                    f"This server does not offer {self.default_model}; using {chat[0]}. "
                    "Ctrl+O picks another.",
                )
                self.default_model = chat[0]
                for pane in self.chat.panes:
                    if not pane.conversation.messages:
                        pane.conversation.model = chat[0]
        if isinstance(self.screen, ModelPicker):
            self.screen.set_models(models, note)
        self.chat.refresh_state()

    def on_model_picker_refresh_requested(self) -> None:
        self.load_models(force=True)

    def pick_model(self, current: str, chosen: Callable[[str | None], object]) -> None:
        """Open the model picker; ``chosen`` gets the model (or None)."""
        self.push_screen(ModelPicker(self.models, current, self.recent_models, self.models_note), chosen)

    def note_model_used(self, model: str) -> None:
        """Put ``model`` first among the recent ones (written to disk off the loop)."""
        self.recent_models = [model] + [m for m in self.recent_models if m != model]
        self.run_worker(asyncio.to_thread(remember_model, model), group="recent-models")

    def open_model_picker(self) -> None:
        """Choose the model for the next message of the visible conversation."""
        pane = self.chat.active_pane
        if pane is None:
            return

        def chosen(model: str | None) -> None:
            if not model or pane.conversation.model == model:
                return
            pane.conversation.model = model
            self.default_model = model
            self.note_model_used(model)
            if pane.conversation.saved:
                self.run_worker(self.save(lambda store: store.save_conversation(pane.conversation)))
            self.chat.refresh_state()
            self.notify(f"Next replies come from {model}")

        self.pick_model(pane.conversation.model, chosen)

    # -- other dialogs ------------------------------------------------------------------------

    def show_help(self) -> None:
        """Open the key help."""
        self.push_screen(HelpScreen(self.keys))

    def edit_system_prompt(self) -> None:
        """Edit the visible conversation's system prompt."""
        pane = self.chat.active_pane
        if pane is None:
            return

        def done(prompt: str | None) -> None:
            if prompt is not None:
                pane.conversation.system_prompt = prompt
                if pane.conversation.saved:
                    self.run_worker(self.save(lambda store: store.save_conversation(pane.conversation)))
                self.notify("System prompt set" if prompt else "System prompt removed")

        self.push_screen(SystemPromptEditor(pane.conversation.system_prompt, self.config.system_role), done)

    def copy_code_blocks(self) -> None:
        """Pick one of the code blocks of the visible conversation to copy."""
        pane = self.chat.active_pane
        blocks = []
        if pane:
            for message in pane.conversation.messages:
                if message.role == "assistant":
                    blocks += [m.group(2) for m in _FENCE.finditer(message.content)]
        if not blocks:
            self.notify("No code blocks in this conversation.", severity="warning")
            return

        def copier(code: str) -> None:
            self.copy_to_clipboard(code)
            self.notify("Code block copied to the clipboard")

        commands = [
            SimpleCommand(
                " ".join(code.split())[:60] or "(empty)",
                lambda code=code: copier(code),
                f"{len(code.splitlines())} lines",
            )
            for code in reversed(blocks)
        ]
        self.search_commands(commands, placeholder="Copy which code block?")

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        for command in super().get_system_commands(screen):
            if command.title != "Theme":  # replaced by "Change theme", which previews and saves
                yield command
        yield SystemCommand("Change theme", "Preview themes as you move; the choice is saved", self.change_theme)
        if not isinstance(screen, ChatScreen):
            return
        yield SystemCommand("Switch model", "Choose the model for the next reply (ctrl+o)", self.open_model_picker)
        yield SystemCommand("New conversation", "Start a new conversation (ctrl+n)", screen.action_new_conversation)
        yield SystemCommand("Edit system prompt", "Set this conversation's system prompt", self.edit_system_prompt)
        yield SystemCommand("Copy last reply", "Copy the newest reply (ctrl+l)", screen.action_copy_last_reply)
        yield SystemCommand("Copy code block", "Copy one code block of this conversation", self.copy_code_blocks)
        yield SystemCommand("Retry", "Send the last message again (ctrl+r)", screen.action_retry)
        yield SystemCommand("Regenerate", "Ask again for the last reply, keeping the old one (ctrl+g)", screen.action_regenerate)
        yield SystemCommand("Regenerate with…", "Pick a model, then ask again for the last reply", screen.action_regenerate_with)
        yield SystemCommand("Edit last message", "Change your last message and send it as a new branch (↑)", screen.action_edit_last)
        yield SystemCommand("Attach image", "Add a PNG, JPEG, WebP or GIF to the next message (ctrl+t)", screen.action_attach)
        yield SystemCommand("Copy conversation as Markdown", "The whole conversation, with models and usage", screen.action_copy_conversation)
        yield SystemCommand("Stop reply", "Stop the streaming reply, keeping its text (Esc)", screen.action_cancel)
        yield SystemCommand("Search conversations", "Full-text search over every saved message (ctrl+f)", screen.action_search)
        yield SystemCommand("Rename conversation", "Give this conversation a title", screen.action_rename)
        yield SystemCommand("Archive conversation", "Hide this conversation from the list (can be undone)", screen.action_archive)
        yield SystemCommand("Unarchive a conversation", "Bring back an archived conversation", screen.action_unarchive)
        yield SystemCommand("Delete conversation", "Delete this conversation for good (asks first)", screen.action_delete)
        yield SystemCommand("Export conversation as Markdown", "Write a readable transcript to a file", lambda: screen.action_export("md"))
        yield SystemCommand("Export conversation as JSON", "Write a complete, re-importable file", lambda: screen.action_export("json"))
        yield SystemCommand("Close conversation", "Close this conversation, stopping its reply", screen.action_close_conversation)
        yield SystemCommand("Toggle sidebar", "Go to, or hide, the conversation list (ctrl+b)", screen.action_toggle_sidebar)
        yield SystemCommand("Refresh model list", "Fetch the model list from the server again", lambda: self.load_models(force=True))
        yield SystemCommand("Settings", "Server, key, default model, prompt, theme, send key (F2)", self.open_settings)
        yield SystemCommand("Help", "Keys and commands (F1)", self.show_help)
