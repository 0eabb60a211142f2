"""The Textual application: composes the chat and owns what every screen shares.

It holds the session (settings, a client per provider, history, and what each provider
told: models, prices, balance), the keys and the themes; screens and widgets get what
they need from it and report back with messages.
"""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import threading
from collections.abc import Iterable, Sequence

from rich.console import RenderableType
from textual import events, work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.filter import LineFilter, Monochrome, NoColor
from textual.notifications import SeverityLevel
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.theme import Theme
from textual.widgets import Input, TextArea
from textual.worker import WorkerFailed

from t502_tui.config import ENV_API_KEY, ENV_MODEL, Config, ConfigError, save_config
from t502_tui.conversation import Conversation
from t502_tui.debug_log import record_crash
from t502_tui.keys import key_label, resolve_keys
from t502_tui.model_catalog import save_cached_models
from t502_tui.paths import config_file, display_path
from t502_tui.session import LAST_MODEL, ChatSession
from t502_tui.settings_schema import KEY_SOURCES
from t502_tui.store import StoreError, default_path
from t502_tui.terminal_text import defuse, visible_name
from t502_tui.turn import Connection, LinkState
from t502_tui.ui import graphics
from t502_tui.ui.key_order import caught_up, run_binding_now
from t502_tui.ui.commands import app_commands
from t502_tui.ui.servers import Servers
from t502_tui.ui.message_render import load_renderers, probe_theme
from t502_tui.ui.screens.chat import ChatScreen
from t502_tui.ui.screens.dialogs import Confirm
from t502_tui.ui.screens.help import HelpScreen
from t502_tui.ui.screens.palette import Palette
from t502_tui.ui.screens.settings import SettingsScreen
from t502_tui.ui.screens.setup import SetupResult, SetupScreen
from t502_tui.ui.screens.theme_picker import ThemePicker
from t502_tui.ui.themes import DEFAULT_THEME, register_themes
from t502_tui.ui.widgets.composer import Composer
from t502_tui.ui.widgets.conversation_pane import ConversationPane

ENDING_SIGNALS = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)
"""Signals that end t502 the way Ctrl+Q does (in the chat Ctrl+C is a key, not SIGINT:
that comes from ``kill -INT``, and lost the words typed)."""
ENDING_GRACE_SECONDS = 10.0
"""After an ending signal, how long t502 may take to close before it ends at once."""
FREEZE_AFTER_SECONDS = 0.25
"""Start-up is over this long after the first frame: what it made lives as long as the app."""
TYPE_AHEAD_RETRY_SECONDS = 0.05
"""How often type-ahead looks for a composer to take it while nothing has the focus."""
_NO_COLOR, _GREYS = NoColor(), Monochrome()
"""The NO_COLOR filters: for a theme of the terminal's own colours, and for any other."""


def _listed(warnings: list[str], most: int = 4, longest: int = 200) -> str:
    """Start-up warnings as one notice: several stacked notices ran off a small screen."""
    if len(warnings) == 1:
        return warnings[0]
    lines = [f"• {w if len(w) <= longest else w[:longest - 1] + '…'}" for w in warnings[:most]]
    if len(warnings) > most:
        lines.append(f"… and {len(warnings) - most} more")
    return "\n".join(lines)


def _saved_what(updates: dict[str, object]) -> str:
    """What a save wrote, in words: the settings' names, a theme's name too (never a key)."""
    words = {"providers": "the servers", "api_key": "the key", "base_url": "the base URL"}
    names = [f"the theme {visible_name(str(value))}" if name == "theme"
             else "no key (none was given)" if name == "api_key" and not value
             else words.get(name, name.replace("_", " "))
             for name, value in updates.items()]
    if len(names) > 4:
        return "the settings"  # a count would differ from the fields changed: a table holds several
    return " and ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)


def _freeze_long_lived_objects() -> None:
    """Load the renderers, then take start-up's objects (modules, styles, widgets) out of
    the garbage collector's sight, once per process, and turn the collector on (``t502``
    starts with it off). They live as long as the app; walking them made each full
    collection cost about 30 ms, twice in the middle of a long streaming reply."""
    load_renderers()
    if not gc.get_freeze_count():
        gc.collect()
        gc.freeze()
    gc.enable()


class T502App(Servers, App[None]):
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
        graphics.probe()  # now: once Textual runs, the terminal's answers would be read as keys
        self.config = config
        self.session = ChatSession(config, history_later=True)
        """Settings, a client per provider, history, and what the providers told."""
        self.provider_problems = [p.problem for p in self.session.providers() if p.problem]
        """Keys that could not be read (a failed api_key_cmd, an unset api_key_env)."""
        self.initial_conversations = conversations or []
        """Conversations to open at start (a new empty one when there are none)."""
        self.recent_models: list[str] = []
        """Models chosen lately (``MODEL`` or ``PROVIDER/MODEL``), newest first."""
        self.default_model = config.model
        """Model for new conversations (``MODEL`` or ``PROVIDER/MODEL``): the config's,
        then the user's latest choice."""
        self._balance_timers: set[str] = set()
        """Providers whose balance is to be asked once the 30 s between requests pass."""
        self.keys, self.key_problems = resolve_keys(config.keys, config.send_key)
        """Keys in force for every action (see :mod:`t502_tui.keys`), and what was wrong."""
        self.set_keymap(self._keymap_for(self.keys))
        self.code_themes, self.theme_warnings = register_themes(self)
        """Pygments style of each t502 theme, and the theme files that were skipped."""
        self.connection = Connection(LinkState.CONNECTING)
        """What the default provider's model list said of it; each conversation keeps its own too."""
        self.connections: dict[str, Connection] = {}
        """What the other providers' model lists said of them."""
        self.started = False
        """The first frame is drawn: requests may go out."""
        self.store_path = default_path()
        self.history_off = False
        """The history could not be opened: nothing typed or said is kept past this run."""
        self._quit_asked = False
        """The user was asked whether to quit with the history off (a second Ctrl+Q quits)."""
        self._typed_ahead: list[events.Key] | None = []
        """Keys typed while t502 started (or a new conversation opened: :meth:`hold_keys`),
        before there was a composer to take them (None once they have been handed to it)."""

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
               timeout: float | None = None, markup: bool = False) -> None:
        """A notice, shown literally: t502's notices carry server messages, paths and names,
        none of which may be read as markup or reach the terminal as an escape sequence.
        ``markup`` is ignored: widgets' and screens' ``notify`` pass True for it, and a
        path like ``x[/]y`` would fail to show."""
        super().notify(defuse(message), title=defuse(title), severity=severity, timeout=timeout, markup=False)

    def action_help_quit(self) -> None:
        """Ctrl+C, where it copies nothing: which key quits (Textual's own notice is markup,
        which t502's notices show as written)."""
        for key, active in self.active_bindings.items():
            if active.binding.action in ("quit", "app.quit"):
                self.notify(f"Press {key_label(key)} to quit t502.", title="Do you want to quit?")
                return

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key) and not event.is_forwarded:
            if self._typed_ahead is not None:
                # Type-ahead: text typed while t502 starts, before the composer has the
                # focus, would go to an empty screen and be lost. It is kept, and typed
                # into the composer ahead of any later key, so nothing is put out of order.
                if self._waiting_for_composer:
                    if event.is_printable and event.character:
                        self._typed_ahead.append(event)
                        return
                else:
                    self._hand_typed_ahead()
            # Keys come in a burst over a slow link: the focused widget applies the earlier
            # ones before the app's own bindings act on this one (see ui.key_order).
            focused = self.focused if self.screen_stack else None  # none while t502 closes
            if isinstance(focused, Composer):
                await focused.caught_up()
            elif focused is not None:
                await caught_up(focused)
                if (isinstance(focused, (Input, TextArea)) and not event.is_printable
                        and await self._field_key(focused, event.key)):
                    return
        await super().on_event(event)

    async def _field_key(self, field: Input | TextArea, key: str) -> bool:
        """Run at once a field's own binding for ``key`` (Ctrl+U, End, →…), as the
        composer does its own (see ui.key_order). False if the field does not bind it."""
        if not self.screen_stack or field is not self.focused:
            return False  # it went while the keys before were handled
        return await run_binding_now(field, key, own=True)

    # -- themes -------------------------------------------------------------------------------

    def get_line_filters(self) -> Sequence[LineFilter]:
        """With NO_COLOR, Textual turns colours to greys, or for a theme of the terminal's own
        colours leaves them to the terminal; but it chooses once, for the theme at start. A
        terminal's-colours theme chosen later was drawn in greys: black on black."""
        filters = super().get_line_filters()
        if not self.no_color:
            return filters
        wanted = _NO_COLOR if self.native_ansi_color else _GREYS
        return [wanted if isinstance(f, (NoColor, Monochrome)) else f for f in filters]

    @property
    def code_theme(self) -> str:
        """The Pygments style for code blocks in the current theme."""
        return self._code_theme_of(self.current_theme)

    def _code_theme_of(self, theme: Theme) -> str:
        if theme.name in self.code_themes:
            return self.code_themes[theme.name]
        if theme.name.startswith("ansi-"):
            return "ansi_dark" if theme.dark else "ansi_light"  # the terminal's own colours
        return "monokai" if theme.dark else "friendly"

    def theme_names(self) -> list[str]:
        """t502's themes first, then Textual's own."""
        ours = sorted(self.code_themes)
        return ours + sorted(name for name in self.available_themes if name not in self.code_themes)

    def try_theme(self, name: str, draw: bool = True) -> bool:
        """Switch to the theme ``name`` if a reply can be drawn with it; otherwise stay (or
        go back to the default) and say so. No theme choice can break drawing later.
        Without ``draw`` only its colours are checked (at start-up, for speed)."""
        theme = self.get_theme(name)
        try:
            if theme is None:
                raise LookupError("there is no such theme")
            theme.to_color_system().generate()  # what Textual makes of it, before it is in force
            probe_theme(self.console, theme, self._code_theme_of(theme), draw)
        except Exception as error:  # a theme file, or a colour, t502 cannot draw with
            if self.theme not in self.available_themes or self.theme == name:
                self.theme = DEFAULT_THEME
            self.notify(f"The theme {name!r} cannot be used ({type(error).__name__}: {error}); "
                        f"using {self.theme}.", title="Theme", severity="warning")
            return False
        self.theme = name
        return True

    def change_theme(self) -> None:
        """Pick a theme with a live preview; the choice is saved for next time (only if
        it works)."""
        def chosen(name: str | None) -> None:
            if name and name != self.config.theme and self.try_theme(name):
                self.config.theme = name
                self.save_settings({"theme": name})

        self.push_screen(ThemePicker(self.theme_names(), self.theme, self.try_theme), chosen)

    # -- keys and settings --------------------------------------------------------------------

    @staticmethod
    def _keymap_for(keys: dict[str, list[str]]) -> dict[str, str]:
        return {action: ",".join(k) for action, k in keys.items() if action != "send"}

    def _apply_keymap(self) -> None:
        self.set_keymap(self._keymap_for(self.keys))
        for pane in self.query(ConversationPane):
            pane.set_keys(self.keys)

    def open_settings(self) -> None:
        """Edit the settings; changes apply at once and are saved to the config file."""
        self.push_screen(SettingsScreen(self.config, self.theme_names()), self._settings_changed)

    async def on_settings_screen_provider_added(self, event: SettingsScreen.ProviderAdded) -> None:
        await self._provider_added(event.provider)

    async def _settings_changed(self, changed: dict[str, object] | None) -> None:
        if not changed:
            return
        for name, value in changed.items():
            setattr(self.config, name, value)
        if "model" in changed:
            self.config.model_from_default = False
            self.note_model_used(self.config.model)
        if "theme" in changed and not self.try_theme(self.config.theme):
            changed.pop("theme")
            self.config.theme = self.theme
        if "send_key" in changed:
            self.keys, self.key_problems = resolve_keys(self.config.keys, self.config.send_key)
            self._apply_keymap()
        if {"base_url", "api_key"} & changed.keys():
            await self.session.provider_changed()
            self.default_provider_changed()
            self.load_models(force=True)
        if "timeout" in changed:
            self.session.timeout_changed()
        if "low_balance" in changed:
            self.refresh_chat()
        self.save_settings(self._file_updates(dict(changed)), key_saved="api_key" in changed)

    def _file_updates(self, changed: dict[str, object]) -> dict[str, object]:
        """Where the changed settings go in the file: the default provider's URL and key go
        to its ``[providers.NAME]`` table when that is where the file describes them (both
        places at once would not load)."""
        entry = self.config.providers.get(self.config.default_provider)
        if not entry:
            return changed
        table = dict(entry)
        if "base_url" in changed and "base_url" in table:
            table["base_url"] = changed.pop("base_url")
        if "api_key" in changed and KEY_SOURCES & table.keys():
            table = {key: value for key, value in table.items() if key not in KEY_SOURCES}
            table["api_key"] = changed.pop("api_key")
        if table != entry:
            self.config.providers = {**self.config.providers, self.config.default_provider: table}
            changed["providers"] = self.config.providers
        return changed

    @work(group="save-config")
    async def save_settings(self, updates: dict[str, object], key_saved: bool = False) -> None:
        """Write settings to the config file off the event loop (a failure is shown);
        ``key_saved``: they hold the default provider's API key."""
        assert self.config.path is not None
        try:
            await asyncio.to_thread(save_config, self.config.path, updates)
        except OSError as error:
            self.notify(f"Could not save {self.config.path}: {error.strerror or error}", severity="error")
        except ConfigError as error:
            self.notify(str(error), severity="error")
        else:
            self.notify(f"Saved {_saved_what(updates)} in {display_path(self.config.path)}", markup=False)
            if key_saved and os.environ.get(ENV_API_KEY, "").strip():
                # Used now, but at the next start the variable wins over the file.
                self.notify(f"{ENV_API_KEY} is set where t502 was started, and takes the place of the saved key"
                            f" when t502 starts again: unset it, or set it to the new key.",
                            title="API key", severity="warning", timeout=20)

    # -- life cycle ---------------------------------------------------------------------------

    @property
    def chat(self) -> ChatScreen:
        """The main screen (under any dialog)."""
        chat = self._chat_if_open()
        assert chat is not None, "the chat screen is not up"
        return chat

    async def action_quit(self) -> None:
        """Quit; with the history off and words on screen or typed, only once the user says
        so, since nothing keeps them (Ctrl+Q again, or y)."""
        chat = self._chat_if_open()
        failing = self.session.history is not None and self.session.history.failing
        unkept = (self.history_off or failing) and chat is not None and any(
            pane.conversation.messages or pane.composer.text.strip() for pane in chat.panes)
        if not unkept or self._quit_asked:
            await super().action_quit()
            return
        self._quit_asked = True

        async def answered(quit_now: bool | None) -> None:
            self._quit_asked = False
            if quit_now:
                await super(T502App, self).action_quit()

        why = ("Saving to the history is failing (is the disk full?), so what is on screen since then and what is"
               " typed are not kept" if failing else "History is off, so nothing on screen or typed is kept")
        self.push_screen(Confirm(f"{why}: it is lost when t502 closes. Quit anyway?", "Quit"), answered)

    def _chat_if_open(self) -> ChatScreen | None:
        """The main screen, or None while t502 starts or closes (a late answer, or a
        background task that finishes then, has nowhere to go)."""
        if not self.is_running:
            return None
        return next((s for s in self.screen_stack if isinstance(s, ChatScreen)), None)

    def refresh_chat(self) -> None:
        """Redraw the chat's state, if it is still there."""
        if (chat := self._chat_if_open()) is not None:
            chat.refresh_state()

    def get_default_screen(self) -> Screen:
        return ChatScreen(self.session)

    def on_mount(self) -> None:
        loop = asyncio.get_running_loop()
        for signum in ENDING_SIGNALS:
            loop.add_signal_handler(signum, self._ended_by_signal, signum)
        self.open_history()
        if self.config.theme in self.available_themes:
            self.try_theme(self.config.theme, draw=False)
        else:
            self.theme = DEFAULT_THEME
            self.notify(f"There is no theme {self.config.theme!r}; using {DEFAULT_THEME}.",
                        title="Config", severity="warning")
        if warnings := [*self.config.warnings, *self.theme_warnings, *self.key_problems]:
            self.notify(_listed(warnings), title="Config", severity="warning", timeout=10)
        for problem in self.provider_problems:
            self.notify(problem, title="API key", severity="error", timeout=15)
        if self._needs_setup:
            self.connection = Connection(LinkState.NO_KEY)
            self.push_screen(
                SetupScreen(self.config.base_url, display_path(self.config.path or config_file())),
                self._setup_done,
            )

    @property
    def _needs_setup(self) -> bool:
        """No key for the default provider, and nothing else configured: the first run."""
        default = self.session.provider()
        return not (default.api_key or default.problem or self.config.providers or self.config.keyless)

    @property
    def _waiting_for_composer(self) -> bool:
        """Starting, the chat is up but nothing has the focus yet (its composer takes it
        first; the first run's setup screen takes keys itself)."""
        return bool(self.screen_stack) and isinstance(self.screen, ChatScreen) and self.focused is None

    def _hand_typed_ahead(self, tries: int = 40) -> None:
        """Type what was typed ahead into the composer in front (only text: an Enter typed
        ahead sends nothing the user has not seen). Until something has the focus, the
        keys wait, and this looks again a little later (for two seconds at most)."""
        if self._waiting_for_composer and tries > 0:
            self.set_timer(TYPE_AHEAD_RETRY_SECONDS, lambda: self._hand_typed_ahead(tries - 1))
            return
        keys, self._typed_ahead = self._typed_ahead or [], None
        if keys and self.screen_stack and isinstance(self.focused, Composer):  # none once t502 closed
            self.focused.take_typed_ahead("".join(k.character or "" for k in keys), keys[0].time)

    def hold_keys(self) -> None:
        """Keys typed from now until a composer has the focus again wait for it: a new
        conversation is opening, and what is typed belongs in its composer, not in the one
        it replaces (the pane takes a moment to mount)."""
        if self._typed_ahead is None:
            self._typed_ahead = []
        self.set_focus(None)

    def release_keys(self) -> None:
        """The composer that was awaited has the focus: type the held keys into it."""
        self.call_after_refresh(self._hand_typed_ahead)

    def on_ready(self) -> None:
        # After the first frame: start-up is not slowed by what can wait, and no request
        # goes out before there is something on screen.
        self.started = True
        self.call_after_refresh(self._hand_typed_ahead)
        if not self._needs_setup:
            self.load_models()
        self.set_timer(FREEZE_AFTER_SECONDS, _freeze_long_lived_objects)

    async def on_unmount(self) -> None:
        loop = asyncio.get_running_loop()
        for signum in ENDING_SIGNALS:
            loop.remove_signal_handler(signum)
        await self.session.aclose()

    # -- ending -------------------------------------------------------------------------------

    def _ended_by_signal(self, signum: int) -> None:
        """SIGTERM, SIGINT, or SIGHUP (the terminal closed): end as Ctrl+Q does, the terminal restored.

        Textual's shutdown writes to the terminal, and with the terminal gone that write can
        wait forever (seen: t502 left running after its tmux session was killed). So if
        t502 is still here ENDING_GRACE_SECONDS later, it ends at once: by then the store
        has long had the interrupted replies and drafts, each write its own transaction."""
        self.exit(return_code=128 + signum)
        watchdog = threading.Timer(ENDING_GRACE_SECONDS, os._exit, [128 + signum])
        watchdog.daemon = True
        watchdog.start()

    def exit(self, result: None = None, return_code: int = 0, message: RenderableType | None = None) -> None:
        """Quit, keeping replies still streaming (as interrupted) and what was typed."""
        self._keep_the_session()
        super().exit(result, return_code, message)

    def _keep_the_session(self) -> None:
        """Mark streaming replies interrupted (they are saved as the turns end) and queue
        the composers' unsent text: both reach the store before it is closed."""
        self.session.interrupt_all()
        history = self.session.history
        if history is None:
            return
        chat = self._chat_if_open()
        try:
            panes = chat.panes if chat else []
            drafts = {pane.conversation.id: pane.draft for pane in panes}
        except NoMatches:
            return  # the chat was never drawn
        # A new conversation's system prompt, parameters and model go with its draft.
        heads = {pane.conversation.id: pane.conversation.head_text() for pane in panes
                 if not pane.conversation.saved and self._set_apart(pane.conversation)}
        history.submit(lambda store: store.save_drafts(drafts, heads))

    def _set_apart(self, conversation: Conversation) -> bool:
        """Whether a new conversation holds anything a fresh one would not."""
        fresh = self.session.split(self.default_model)
        return bool(conversation.system_prompt.strip() or conversation.settings or conversation.preset
                    or (conversation.provider, conversation.model) != fresh)

    def _handle_exception(self, error: Exception) -> None:
        # Textual's one hook for an unhandled error in any screen, widget or worker: t502
        # then exits, but keeps the conversation and the unsent text first, and says where
        # the traceback is.
        failure = error.error if isinstance(error, WorkerFailed) else error
        if self.return_code is not None and isinstance(failure, NoMatches):
            return  # quit while starting: a screen looked for a widget quitting removed
        self._keep_the_session()
        where = record_crash(failure, [self.config.api_key, *(s for p in self.session.providers() for s in p.secrets)])
        super()._handle_exception(error)
        if where is not None:  # the traceback is there, with its locals' secrets masked
            self._exit_renderables[:] = [
                "t502 stopped on an unexpected error; the conversation and any unsent text are saved. "
                f"The details are in {where}"
            ]

    def on_app_focus(self) -> None:
        """Back in t502's terminal (where the terminal says so): `t502 ask` or another
        t502 may have saved conversations meanwhile."""
        if self.session.history is not None and (chat := self._chat_if_open()) is not None:
            chat.reload_history()

    @work(group="history-open")
    async def open_history(self) -> None:
        """Open the history off the event loop; without it, chatting still works (said once)."""
        error = await self.session.open_history(self.store_path, self.store_failed)
        if error is not None:
            self.history_off = True
            self.notify(f"History is off: {error}", title="History", severity="error", timeout=15)
            return
        if (chat := self._chat_if_open()) is None:
            return
        chat.reload_history()
        history = self.session.history
        assert history is not None
        try:
            last = await history.read(lambda store: store.preference(LAST_MODEL))
            drafts = await history.read(lambda store: store.unsent_drafts())
            heads = await history.read(lambda store: store.draft_heads([ident for ident, _ in drafts]))
        except StoreError:
            return  # the list's own read says what is wrong
        if last and not os.environ.get(ENV_MODEL, "").strip():
            # The config's model is only the first run's; then the one chosen last.
            self._set_default_model(last)
        if (chat := self._chat_if_open()) is not None:
            await chat.reopen_drafts(drafts, heads)  # after: a draft's own model stays its own

    def _set_default_model(self, model: str) -> None:
        """New conversations (and the empty ones open now) get ``model`` (``MODEL`` or
        ``PROVIDER/MODEL``)."""
        self.default_model = model
        chat = self._chat_if_open()
        provider, bare = self.session.split(model)
        for pane in chat.panes if chat is not None else []:
            if not pane.conversation.messages:
                pane.conversation.provider, pane.conversation.model = provider, bare
        self.refresh_chat()

    def store_failed(self, error: StoreError) -> None:
        """Tell the user that saving failed; the conversation stays on screen."""
        self.notify(f"Not saved: {error}. The conversation stays on screen.",
                    title="History", severity="error", timeout=15)
        self.call_later(self.refresh_chat)  # the status line says so while it lasts (told from the store's thread too)

    # -- setup --------------------------------------------------------------------------------

    async def _setup_done(self, result: SetupResult | None) -> None:
        if result is None:
            self.load_models()
            return
        self.config.base_url, self.config.api_key = result.base_url, result.api_key
        await self.session.provider_changed()
        self.default_provider_changed()
        await asyncio.to_thread(save_cached_models, result.base_url, result.models)
        self.set_connection(Connection(LinkState.READY))
        self.config.keyless = not result.api_key
        self.save_settings({"base_url": result.base_url, "api_key": result.api_key})  # "": no key needed
        self.load_models()

    # -- palette ------------------------------------------------------------------------------

    def show_help(self) -> None:
        """Open the key help."""
        self.push_screen(HelpScreen(self.keys))

    def action_command_palette(self) -> None:
        """Ctrl+P: the palette that waits for its search before Enter picks a command."""
        if self.use_command_palette and not Palette.is_open(self):
            self.push_screen(Palette(id="--command-palette"))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """t502's commands, not Textual's: its Theme is "Change theme" here (which previews
        and saves), F1 lists the keys, and its Keys panel, Maximize and Screenshot do not
        fit t502's screens (a panel Esc does not close, a composer filling the screen, a
        picture of the conversation left readable by others)."""
        yield from app_commands(self, screen)
        yield SystemCommand("Quit", "Quit t502 (what was typed and any streaming reply are kept)", self.action_quit)
