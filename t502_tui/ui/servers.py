"""The app's dealings with the servers: every provider's model list, its prices and the
balance of its key, and what each said of the connection.

A part of :class:`~t502_tui.ui.app.T502App` kept in a module of its own (the app inherits
it). What is fetched, cached and worked out lives in the core
(:mod:`t502_tui.provider_facts`, through the session); this part asks for it in the
background and redraws what shows it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from textual import work

from t502_tui.debug_log import mask_secret
from t502_tui.keys import key_label
from t502_tui.model_catalog import is_chat_model, load_recent_models, remember_model, save_cached_models
from t502_tui.prices import format_cost
from t502_tui.service import ServiceError
from t502_tui.session import LAST_MODEL
from t502_tui.terminal_text import visible_name
from t502_tui.tokens import short_count
from t502_tui.turn import Connection, LinkState
from t502_tui.ui.screens.add_provider import AddProviderScreen, NewProvider
from t502_tui.ui.screens.model_picker import ModelPicker, PickerGroup, PickerRow

if TYPE_CHECKING:
    from t502_tui.ui.app import T502App

    _Base = T502App
else:
    _Base = object


class Servers(_Base):
    """Model lists, prices and balances, fetched in the background and shown."""

    def connection_of(self, provider: str) -> Connection:
        """What provider ``provider`` (empty: the default) said last, as far as the app knows."""
        if not provider or provider == self.session.default_provider:
            return self.connection
        if provider not in self.session.provider_names:  # a conversation outlived it
            return Connection.gone(provider)
        return self.connections.get(provider, Connection(LinkState.CONNECTING))

    def set_connection(self, connection: Connection) -> None:
        """Record what the server said and show it."""
        self.connection = connection
        self.refresh_chat()

    def default_provider_changed(self) -> None:
        """A new address or key for the default provider: what its conversations' last
        turns heard ("rejected", "offline") was about the old one (the status line said
        "offline" after setup until the next message)."""
        if (chat := self._chat_if_open()) is not None:
            for pane in chat.panes:
                if self.session.provider_of(pane.conversation) == self.session.default_provider and not pane.streaming:
                    pane.connection = None

    # -- models -------------------------------------------------------------------------------

    @property
    def models(self) -> list[str] | None:
        """The default provider's model ids; None until fetched."""
        models = self.session.facts().models
        return None if models is None else [m.id for m in models]

    @work(group="models", exclusive=True)
    async def load_models(self, force: bool = False) -> None:
        """Fetch every provider's model list in the background (from the day-old cache
        unless forced), then its prices and balance; a failure is shown on that provider's
        group in the picker (and, for the default provider, on the status line)."""
        if not self.recent_models:
            self.recent_models = await asyncio.to_thread(load_recent_models)
        await asyncio.gather(*(self._load_provider(name, force) for name in self.session.provider_names))

    async def _load_provider(self, name: str, force: bool) -> None:
        facts = self.session.facts(name)
        if problem := self.session.provider(name).problem:
            # Its key could not be had (a key command failed, a variable is unset): nothing
            # goes to it until t502 starts again, and its group and status say why.
            facts.set_models(None, f"Not asked: {problem}")
            connection = Connection(LinkState.NO_KEY, problem)
            if name == self.session.default_provider:
                self.set_connection(connection)
            else:
                self.connections[name] = connection
            self._models_changed()
            return
        client = self.session.client_for(name)
        error = await facts.load_models(client, force)
        if name == self.session.default_provider:
            connection = Connection(LinkState.READY) if error is None else Connection.after(error)
            # The picker, if open, says it on the provider's line: no notice over it.
            if connection.state is LinkState.REJECTED and error is not None and not isinstance(self.screen, ModelPicker):
                self.notify(f"{error.message.rstrip('.')}. Settings (F2) can replace the key.", title="Server",
                            severity="error", timeout=10)
            self._default_model_check()
            self.set_connection(connection)
            self.refresh_balance(name)
        else:
            self.connections[name] = Connection(LinkState.READY) if error is None else Connection.after(error)
        self._models_changed()
        await facts.load_pricing(client)
        self._models_changed()

    def _default_model_check(self) -> None:
        """When the server does not list the model new conversations use: if no one chose
        it, take the server's first chat model; if someone did, say so (a relay may serve
        more than it lists), rather than let the first message fail."""
        provider, model = self.session.split(self.default_model)
        models = self.models
        if provider or not models or model in models:
            return
        chat = [m for m in models if is_chat_model(m)]
        picks = key_label(self.keys.get("switch_model", [])[:1]) or "The model picker"
        if not self.config.model_from_default:
            listed = f"its {len(models):,} models" if len(models) > 1 else "the one model it lists"
            self.notify(f"This server does not list {visible_name(model)} among {listed}:"
                        f" messages to it may be refused. {picks} picks another.", severity="warning", timeout=10)
        elif chat:
            self.notify(f"This server does not offer {visible_name(model)}; using {visible_name(chat[0])}."
                        f" {picks} picks another.")
            self._set_default_model(chat[0])

    def _models_changed(self) -> None:
        """A model list or a price list arrived: redraw what shows them."""
        if not self.is_running:
            return  # t502 closed while it was on its way
        if isinstance(self.screen, ModelPicker):
            self.screen.set_groups(self.picker_groups())
        self.refresh_chat()

    def on_model_picker_refresh_requested(self) -> None:
        self.load_models(force=True)

    def refresh_models(self) -> None:
        """Fetch every provider's model list again, saying so (the picker shows them)."""
        keys = key_label(self.keys.get("switch_model", [])[:1])
        self.notify(f"Asking for the model lists again{f'; {keys} shows them' if keys else ''}.")
        self.load_models(force=True)

    def picker_groups(self) -> list[PickerGroup]:
        """Every provider's models as the picker shows them, with prices and context."""
        groups = []
        session = self.session
        for name in session.provider_names:
            facts = session.facts(name)
            rows = None
            if facts.models is not None:
                rows = []
                for info in facts.models:
                    price = session.price_for(name, info.id)
                    context = session.context_for(name, info.id)
                    rows.append(PickerRow(
                        f"{name}/{info.id}", session.ref(name, info.id),
                        price.describe() if price is not None and price.known else "",
                        short_count(context) if context else "",
                        price.sort_key if price is not None and price.known else None,
                        is_chat_model(info.id),
                    ))
            note = facts.models_note or ("loading the model list…" if rows is None else
                                         "the server lists no models: type a model's id" if not rows
                                         else "")
            groups.append(PickerGroup(name, rows, note))
        return groups

    def pick_model(self, current: str, chosen: Callable[[str | None], object], title: str = "Switch model") -> None:
        """Open the model picker; ``chosen`` gets ``MODEL`` (typed, of the current provider)
        or ``PROVIDER/MODEL`` (or None)."""
        qualified = [self._qualified(ref) for ref in self.recent_models]
        self.push_screen(ModelPicker(self.picker_groups(), self._qualified(current), qualified, title), chosen)

    def _qualified(self, ref: str) -> str:
        provider, model = self.session.split(ref)
        return f"{provider or self.session.default_provider}/{model}"

    def note_model_used(self, model: str) -> None:
        """The user chose ``model`` (``MODEL`` or ``PROVIDER/MODEL``): first among the
        recent ones, and the model of new conversations from now on, this run and the
        next (saved off the loop)."""
        self.default_model = model
        self.recent_models = [model] + [m for m in self.recent_models if m != model]
        self.run_worker(asyncio.to_thread(remember_model, model), group="recent-models")
        if (history := self.session.history) is not None:
            self.run_worker(history.write(lambda store: store.set_preference(LAST_MODEL, model)),
                            group="last-model")

    def add_provider(self) -> None:
        """Add a provider (checked with its /models), saved under [providers.NAME]."""
        self.push_screen(AddProviderScreen(self.session.provider_names), self._provider_added)

    async def _provider_added(self, new: NewProvider | None) -> None:
        if new is None:
            return
        mask_secret(new.entry.get("api_key", ""))
        self.config.providers = {**self.config.providers, new.name: new.entry}
        await self.session.provider_changed(new.name)
        await asyncio.to_thread(save_cached_models, new.entry["base_url"], new.models)
        self.save_settings({"providers": self.config.providers})
        count = f"its {len(new.models)} models are" if len(new.models) != 1 else "its model is"
        self.notify(f"Added {new.name}: {count} in the picker (ctrl+o).")
        self.run_worker(partial(self._load_provider, new.name, False), group=f"models-{new.name}")

    # -- balance ------------------------------------------------------------------------------

    def refresh_balance(self, name: str = "", asked: bool = False, first_time: bool = False) -> None:
        """Ask provider ``name`` what is left on the key; at most once per 30 s (a request
        inside that time is made when it ends). ``asked``: the user asked (say why not);
        ``first_time``: only if it was never asked."""
        name = name or self.session.default_provider
        try:
            facts = self.session.facts(name)
        except ServiceError:
            return
        if first_time and facts.balance_asked:
            return
        if not facts.balance_possible:
            if asked:
                self.notify(f"{name} does not tell the balance of this key.")
            return
        wait = facts.balance_wait()
        if wait > 0:
            if asked and facts.balance_error:
                self.notify(f"{name} did not tell the balance: {facts.balance_error}. Asking again in {wait:.0f} s.",
                            title="Balance", severity="warning")
            elif asked:
                self.notify(f"The balance was read moments ago: asking again in {wait:.0f} s.", title="Balance")
            if name not in self._balance_timers:
                self._balance_timers.add(name)
                self.set_timer(wait + 0.05, lambda: self._balance_due(name, asked))
            return
        self._read_balance(name, asked)

    def _balance_due(self, name: str, asked: bool) -> None:
        self._balance_timers.discard(name)
        self.refresh_balance(name, asked=asked)

    @work(group="balance")
    async def _read_balance(self, name: str, asked: bool = False) -> None:
        """Read the balance; ``asked``: the user asked, so the answer is said, not only shown."""
        facts = self.session.facts(name)
        if not await facts.refresh_balance(self.session.client_for(name)) or facts.balance is None:
            if asked:
                why = f": {facts.balance_error}" if facts.balance_error else " this time"
                self.notify(f"{name} did not tell the balance{why}.", title="Balance", severity="warning")
            return
        left = facts.balance.left
        if left < self.config.low_balance and not facts.low_balance_told:
            facts.low_balance_told = True
            self.notify(f"Only {format_cost(left)} left on the {name} key (low_balance warns below"
                        f" {format_cost(self.config.low_balance)}).", title="Low balance", severity="warning",
                        timeout=10)
        elif asked:
            self.notify(f"{format_cost(left)} left on the {name} key.", title="Balance")
        self.refresh_chat()

