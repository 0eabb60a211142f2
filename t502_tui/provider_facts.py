"""What one provider told t502 this run: its models, its prices and its balance.

The chat and the shell share these through the session. Each is loaded when the caller
asks (the chat after its first frame, never before; ``t502 ask`` alongside its request).
An endpoint a server does not have (404, 405, an HTML page, a body of the wrong shape) is
remembered as absent; any other failure (a refused key, no connection, a timeout, a 5xx)
says nothing about the endpoint, is never cached, and is tried again when next asked. The
balance is asked at most once per :data:`BALANCE_SECONDS`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

from t502_tui.model_catalog import (
    load_cached_models,
    load_cached_pricing,
    save_cached_models,
    save_cached_pricing,
)
from t502_tui.prices import Price, relay_prices
from t502_tui.providers import Provider
from t502_tui.service import APIError, ModelInfo, ServiceError, TooLarge
from t502_tui.service.pricing import Balance, UnusableAnswer, parse_balance, parse_relay_pricing

if TYPE_CHECKING:
    from t502_tui.service.client import ChatClient

log = logging.getLogger("t502.facts")

BALANCE_SECONDS = 30.0
"""The least time between two balance requests to one provider."""
clock = time.monotonic
"""The clock the balance's 30 s are measured on (tests move it)."""
PRICES_WAIT_SECONDS = 5.0
"""How long a finished reply waits for a price list still loading before its cost is left unknown."""


ABSENT_STATUSES = frozenset({404, 405})
"""Statuses that say the server has no such endpoint (a 401 or 403 only says the key was refused)."""


def _absent(error: ServiceError) -> bool:
    """The server has no such endpoint, or answers it with something t502 cannot use; any
    other failure (a refused key, no connection, a timeout, a 5xx) may pass."""
    if isinstance(error, APIError):
        return error.status in ABSENT_STATUSES
    return isinstance(error, (UnusableAnswer, TooLarge))


class ProviderFacts:
    """Models, prices and balance of one provider, as far as they are known."""

    def __init__(self, provider: Provider) -> None:
        self.provider = provider
        self.models: list[ModelInfo] | None = None
        """The server's models (None until loaded)."""
        self.models_note = ""
        """Why the list could not be loaded, for the picker."""
        self._by_id: dict[str, ModelInfo] = {}
        self.relay: dict[str, Price] = {}
        """Prices from the relay's ``/api/pricing``, for this provider's group."""
        self.pricing_absent = False
        """The server has no price list (or one t502 cannot use): not asked again for a while."""
        self._pricing: asyncio.Task[None] | None = None
        self._pricing_failed = False
        """The last reading failed in a way that may pass (a refused key, no connection...)."""
        self.balance: Balance | None = None
        self.balance_absent = False
        self.balance_error: str | None = None
        """Why the last request for the balance failed (a refused key, a bot check), or None."""
        """The server has no billing endpoints (or answers them with garbage): not asked again this run."""
        self._balance_asked: float | None = None
        """When the balance was last asked (on :data:`clock`)."""
        self._balance_lock = asyncio.Lock()
        self.low_balance_told = False
        """The one notice about a low balance has been given."""

    # -- models -----------------------------------------------------------------------------

    def set_models(self, models: list[ModelInfo] | None, note: str = "") -> None:
        self.models, self.models_note = models, note
        self._by_id = {m.id: m for m in models or []}

    def model(self, model_id: str) -> ModelInfo | None:
        """The server's entry for ``model_id``, if it listed one."""
        return self._by_id.get(model_id)

    async def use_cached_models(self) -> None:
        """The model list from the cache, if there is a fresh one (no request: for the shell)."""
        if self.models is None:
            cached = await asyncio.to_thread(load_cached_models, self.provider.base_url)
            if cached is not None:
                self.set_models(cached)

    async def load_models(self, client: ChatClient, force: bool = False) -> ServiceError | None:
        """The model list, from the day-old cache unless ``force``; the failure, if any."""
        base = self.provider.base_url
        cached = None if force else await asyncio.to_thread(load_cached_models, base)
        if cached is not None:
            self.set_models(cached)
            return None
        try:
            models = await client.list_models()
        except ServiceError as error:
            if self.models:  # a refresh that failed: the list loaded before still holds
                self.set_models(self.models, f"Could not refresh the model list (this is the last one): {error.message}")
            else:
                self.set_models(None, f"Could not load the model list: {error.message}")
            return error
        await asyncio.to_thread(save_cached_models, base, models)
        left_out = client.models_left_out
        self.set_models(models, f"the server lists {len(models) + left_out:,} models; t502 keeps the first "
                                f"{len(models):,} (type another's id to use it)" if left_out else "")
        return None

    # -- prices -------------------------------------------------------------------------------

    def price(self, model_id: str) -> Price | None:
        """What the server says ``model_id`` costs: the relay's list, else the model entry."""
        if model_id in self.relay:
            return self.relay[model_id]
        entry = self.model(model_id)
        if entry is not None and entry.input_price is not None and entry.output_price is not None:
            return Price(entry.input_price, entry.output_price)
        return None

    def load_pricing(self, client: ChatClient) -> asyncio.Task[None]:
        """Start reading the relay's price list (cached for a few hours), once per run, or
        again after a failure that may pass."""
        if self._pricing is None or (self._pricing.done() and self._pricing_failed):
            self._pricing = asyncio.ensure_future(self._read_pricing(client))
        return self._pricing

    async def stop(self) -> None:
        """Stop reading the price list (t502 is closing its connections): a read left
        running would fail on a closed client, and asyncio would print its traceback."""
        if self._pricing is not None and not self._pricing.done():
            self._pricing.cancel()
            await asyncio.gather(self._pricing, return_exceptions=True)

    async def pricing_ready(self) -> None:
        """Wait (briefly) for a price list being loaded."""
        if self._pricing is not None and not self._pricing.done():
            try:
                await asyncio.wait_for(asyncio.shield(self._pricing), PRICES_WAIT_SECONDS)
            except (TimeoutError, ServiceError):
                pass

    async def _read_pricing(self, client: ChatClient) -> None:
        self._pricing_failed = False
        base = self.provider.base_url
        cached = await asyncio.to_thread(load_cached_pricing, base)
        if cached is not None:
            pricing = cached[0]
        else:
            try:
                body = await client.get_json(client.root_url + "/api/pricing")
            except ServiceError as error:
                log.debug("no price list at %s: %s", client.root_url, error.message)
                if _absent(error):
                    self.pricing_absent = True
                    await asyncio.to_thread(save_cached_pricing, base, None)
                else:
                    self._pricing_failed = True
                return
            pricing = parse_relay_pricing(body)
            await asyncio.to_thread(save_cached_pricing, base, pricing)
        if pricing is None:
            self.pricing_absent = True
            return
        self.relay = relay_prices(pricing, self.provider.group)

    # -- balance ------------------------------------------------------------------------------

    def balance_wait(self) -> float:
        """Seconds until the balance may be asked again (0: now)."""
        if self._balance_asked is None:
            return 0.0
        return max(0.0, self._balance_asked + BALANCE_SECONDS - clock())

    @property
    def balance_asked(self) -> bool:
        """The balance was asked (or is being asked) this run."""
        return self._balance_asked is not None

    @property
    def balance_possible(self) -> bool:
        """The balance can be asked at all: the server has the endpoints, and there is a key."""
        return not self.balance_absent and bool(self.provider.api_key)

    async def refresh_balance(self, client: ChatClient) -> bool:
        """Ask the balance if it may be asked now; True when it was read."""
        async with self._balance_lock:
            if not self.balance_possible or self.balance_wait() > 0:
                return False
            self._balance_asked = clock()
            self.balance_error = None
            try:
                subscription = await client.get_json("dashboard/billing/subscription")
                usage = await client.get_json("dashboard/billing/usage")
            except ServiceError as error:
                log.debug("no balance from %s: %s", client.host, error.message)
                self.balance_absent = _absent(error)
                self.balance_error = None if self.balance_absent else error.message
                return False
            balance = parse_balance(subscription, usage)
            if balance is None:
                self.balance_absent = True
                return False
            self.balance = balance
            return True
