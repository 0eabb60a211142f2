"""What every conversation of one run of t502 shares: the settings, one API client per
provider, and the history. The full-screen chat and ``t502 ask`` each make one; neither
the turn engine nor the conversations reach past it into the app.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from t502_tui.config import Config
from t502_tui.conversation import Conversation
from t502_tui.debug_log import mask_secret
from t502_tui.history import History
from t502_tui.model_catalog import forget_cached
from t502_tui.prices import Price, reply_cost, user_price
from t502_tui.provider_facts import ProviderFacts
from t502_tui.providers import Provider, configured, ref_for, split_ref
from t502_tui.request_params import params_for
from t502_tui.service import ServiceError, Usage
from t502_tui.store import Store, StoreError

if TYPE_CHECKING:
    from t502_tui.service.client import ChatClient
    from t502_tui.turn import Turn

LAST_MODEL = "last_model"
"""The preference that remembers the model the user chose last."""
TURN_END_SECONDS = 5.0
"""How long closing waits for replies to be saved."""


def make_client(config: Config, provider: Provider | None = None) -> ChatClient:
    """A client for ``provider`` (by default, the server and key in ``config``)."""
    from t502_tui.service.client import ChatClient  # httpx: not needed for the first screen

    return ChatClient(
        provider.base_url if provider else config.base_url,
        provider.api_key if provider else config.api_key,
        idle_timeout=config.timeout,
        connect_timeout=config.connect_timeout,
        max_retries=config.max_retries,
        max_reply_seconds=config.max_reply_seconds,
        headers=dict(provider.headers) if provider else None,
    )


class ChatSession:
    """The settings, a client per provider and the history, for the turns of one run.

    Providers are read from the config when first needed (a key command runs then, once
    per start). The history may open after the session starts (``history_later``: the chat
    opens it in the background with :meth:`open_history`); :attr:`history` is None when
    there is none.
    """

    def __init__(self, config: Config, history: History | None = None, *, history_later: bool = False) -> None:
        self.config = config
        self._providers: dict[str, Provider] = {}
        self._clients: dict[str, ChatClient] = {}
        self._facts: dict[str, ProviderFacts] = {}
        self._learned: dict[str, int] = {}
        """Context lengths servers named in their "too long" errors, by ``PROVIDER/MODEL``."""
        self.history = history
        self.history_ready = asyncio.Event()
        """Set once the history is open, or known to be missing."""
        self.turns: set[Turn] = set()
        """The turns running now."""
        if not history_later:
            self.history_ready.set()

    async def open_history(self, path: Path, on_failure: Callable[[StoreError], None]) -> StoreError | None:
        """Open the store off the event loop; the reason if it cannot be used."""
        try:
            store = await asyncio.to_thread(Store, path)
        except StoreError as error:
            return error
        else:
            self.history = History(store, on_failure)
            return None
        finally:
            self.history_ready.set()

    # -- providers ------------------------------------------------------------------------

    @property
    def default_provider(self) -> str:
        """The name of the provider ``base_url`` and ``api_key`` describe."""
        return self.config.default_provider

    @property
    def provider_names(self) -> list[str]:
        """Every provider's name, the default first."""
        return [self.default_provider] + [n for n in self.config.providers if n != self.default_provider]

    def provider(self, name: str = "") -> Provider:
        """The provider called ``name`` (empty: the default); raises ServiceError for a
        name the config does not have (a conversation may outlive its provider)."""
        name = name or self.default_provider
        if name not in self._providers:
            if name not in self.provider_names:
                raise ServiceError(f"there is no provider {name!r} in the config (any more):"
                                   " Ctrl+O or -m PROVIDER/MODEL picks another")
            self._providers.update(configured(self.config, only=name))
        return self._providers[name]

    def providers(self) -> list[Provider]:
        """Every provider, the default first (running key commands not run yet)."""
        return [self.provider(name) for name in self.provider_names]

    def client_for(self, name: str = "") -> ChatClient:
        """The client of provider ``name`` (empty: the default), made when first needed."""
        provider = self.provider(name)
        if provider.name not in self._clients:
            self._clients[provider.name] = make_client(self.config, provider)
        return self._clients[provider.name]

    @property
    def client(self) -> ChatClient:
        """The default provider's client."""
        return self.client_for()

    @client.setter
    def client(self, client: ChatClient) -> None:
        self._clients[self.default_provider] = client

    def server_of(self, name: str = "") -> tuple[str, str]:
        """The base URL and key of provider ``name`` (empty: the default); empty when the
        config no longer has it (for downloads from its own server)."""
        try:
            provider = self.provider(name)
        except ServiceError:
            return "", ""
        return provider.base_url, provider.api_key

    def provider_of(self, conversation: Conversation) -> str:
        """The name of the provider the conversation's next reply comes from."""
        return conversation.provider or self.default_provider

    def split(self, ref: str, current: str = "") -> tuple[str, str]:
        """(provider, model) named by ``MODEL`` (of ``current``) or ``PROVIDER/MODEL``; the
        provider is empty for the default one, as conversations keep it."""
        name, model = split_ref(ref, self.provider_names, current or self.default_provider)
        return ("" if name == self.default_provider else name), model

    def ref(self, provider: str, model: str) -> str:
        """How the user names ``model`` of ``provider``: bare for the default provider."""
        return ref_for(provider, model, self.default_provider)

    def timeout_changed(self) -> None:
        """The reply timeout in the config changed: the next requests wait that long (a
        reply streaming keeps the one it started with)."""
        for client in self._clients.values():
            client.idle_timeout = self.config.timeout

    async def provider_changed(self, name: str = "") -> None:
        """Provider ``name`` (empty: the default) has a new server or key in the config:
        talk to it anew, and forget what it told (models, prices, balance), in this run and
        in the cache, since another key may see other models or have been refused."""
        name = name or self.default_provider
        mask_secret(self.config.api_key)
        self._providers.pop(name, None)
        self._facts.pop(name, None)
        old = self._clients.pop(name, None)
        if old is not None:
            await old.aclose()
        if name in self.provider_names:
            base_url = configured(self.config, only=name, run_commands=False)[name].base_url
            await asyncio.to_thread(forget_cached, base_url)

    # -- what the providers told -----------------------------------------------------------

    def facts(self, name: str = "") -> ProviderFacts:
        """What provider ``name`` (empty: the default) told about its models, prices, balance."""
        provider = self.provider(name)
        if provider.name not in self._facts:
            self._facts[provider.name] = ProviderFacts(provider)
        return self._facts[provider.name]

    def price_for(self, name: str, model: str) -> Price | None:
        """What ``model`` of provider ``name`` costs: the user's ``[prices]`` first, then
        what the server says; None when unknown."""
        name = name or self.default_provider
        mine = user_price(self.config.prices, f"{name}/{model}", model)
        if mine is not None and mine.known:
            return mine
        try:
            return self.facts(name).price(model)
        except ServiceError:
            return None

    def context_for(self, name: str, model: str) -> int | None:
        """How many tokens ``model`` of provider ``name`` takes: ``[context]`` first, then
        the server's model entry; None when unknown."""
        name = name or self.default_provider
        table = self.config.context
        mine = table.get(f"{name}/{model}", table.get(model))
        if isinstance(mine, int):
            return mine
        if f"{name}/{model}" in self._learned:
            return self._learned[f"{name}/{model}"]
        try:
            entry = self.facts(name).model(model)
        except ServiceError:
            return None
        return entry.context_length if entry else None

    def learn_context(self, name: str, model: str, tokens: int) -> None:
        """Remember, for this run, the context length a server named when it refused a request."""
        self._learned[f"{name or self.default_provider}/{model}"] = tokens

    def reply_cost(self, name: str, model: str, usage: Usage | None, answered: bool = False) -> float | None:
        """What a reply with ``usage`` cost: the server's figure, else from the best price
        (see prices.reply_cost for ``answered``)."""
        return reply_cost(usage, self.price_for(name, model), answered)

    def request_params(self, conversation: Conversation, model: str | None = None) -> dict[str, Any]:
        """Parameters for a request of ``conversation``: the defaults, then its own, less
        what ``model`` does not take (see :mod:`t502_tui.request_params`)."""
        return params_for(self.config.params, conversation.settings, model or conversation.model)

    def interrupt_all(self) -> None:
        """t502 is ending: replies still streaming will be kept as interrupted."""
        for turn in self.turns:
            turn.interrupt()

    async def aclose(self) -> None:
        """Wait (a little) for running replies to be saved, then close the connections
        and, once its writes are done, the history."""
        if self.turns:
            await asyncio.wait([asyncio.ensure_future(t.ended.wait()) for t in self.turns], timeout=TURN_END_SECONDS)
        for facts in self._facts.values():
            await facts.stop()
        for client in self._clients.values():
            await client.aclose()
        if self.history is not None:
            await self.history.close()
