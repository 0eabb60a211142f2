"""What servers say about money and limits, read where it enters and never trusted.

Three optional sources, each of which may be missing, refused or malformed:
- a new-api relay's ``/api/pricing`` (ratios per model, a ratio per user group) and its
  ``/dashboard/billing/subscription`` and ``/dashboard/billing/usage`` (the balance);
- ``pricing`` (US$ per token) and a context length on ``/models`` entries (OpenRouter,
  vLLM, LiteLLM...).

Every number is checked to be finite, non-negative and below a bound; an entry that fails
is left out, and a body that is not the expected shape at all is ignored with a debug-log
line. Nothing here computes a price: see :mod:`t502_tui.prices`.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

from t502_tui.service.errors import ServiceError

log = logging.getLogger("t502.service.pricing")


class UnusableAnswer(ServiceError):
    """The server answered, but not with what was asked for (not JSON, far too large)."""

MAX_MONEY = 1e9
"""No price, balance or ratio is anywhere near this; a larger number is garbage."""
MAX_CONTEXT = 100_000_000
MAX_MODELS = 20_000
"""Entries read from one pricing list."""
CONTEXT_KEYS = ("context_length", "context_window", "max_model_len", "max_context_length")


def number(value: Any, high: float = MAX_MONEY) -> float | None:
    """``value`` as a finite number from 0 to ``high`` (numeric strings too), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None
    if not isinstance(value, (int, float)):
        return None
    try:
        value = float(value)
    except OverflowError:
        return None
    return value if math.isfinite(value) and 0 <= value <= high else None


def context_length(item: dict[str, Any]) -> int | None:
    """A ``/models`` entry's context length, from whichever key the server uses."""
    candidates = [item.get(key) for key in CONTEXT_KEYS]
    top = item.get("top_provider")
    if isinstance(top, dict):
        candidates.append(top.get("context_length"))
    for candidate in candidates:
        value = number(candidate, MAX_CONTEXT)
        if value is not None and value >= 1:
            return int(value)
    return None


def listed_prices(item: dict[str, Any]) -> tuple[float | None, float | None]:
    """(input, output) US$ per 1M tokens from a ``/models`` entry's ``pricing`` (given per
    token, OpenRouter's way), each None when absent or unusable."""
    pricing = item.get("pricing")
    if not isinstance(pricing, dict):
        return None, None
    prompt, completion = number(pricing.get("prompt"), 1.0), number(pricing.get("completion"), 1.0)
    return (None if prompt is None else prompt * 1e6, None if completion is None else completion * 1e6)


@dataclass(frozen=True)
class RelayPrice:
    """One model's entry in a new-api relay's ``/api/pricing``."""

    per_request: bool
    """``quota_type`` 1: a fixed price per request (``model_price``), not per token."""
    model_ratio: float | None = None
    completion_ratio: float | None = None
    model_price: float | None = None
    groups: tuple[str, ...] = ()
    """``enable_groups``: the user groups that may use the model (empty: not said)."""


@dataclass(frozen=True)
class RelayPricing:
    """A relay's whole price list: per model, and the ratio of each user group."""

    models: dict[str, RelayPrice]
    group_ratio: dict[str, float]


def _relay_price(item: dict[str, Any]) -> tuple[str, RelayPrice] | None:
    name = item.get("model_name")
    if not isinstance(name, str) or not name or len(name) > 200:
        return None
    quota_type = item.get("quota_type", 0)
    if quota_type not in (0, 1) or isinstance(quota_type, bool):
        return None
    groups = item.get("enable_groups")
    names = tuple(g for g in groups if isinstance(g, str))[:100] if isinstance(groups, list) else ()
    price = RelayPrice(quota_type == 1, number(item.get("model_ratio")), number(item.get("completion_ratio")),
                       number(item.get("model_price")), names)
    return name, price


def parse_relay_pricing(data: Any) -> RelayPricing | None:
    """A ``/api/pricing`` body, or None (logged) when it is not one."""
    if not isinstance(data, dict) or data.get("success") is False or not isinstance(data.get("data"), list):
        log.debug("pricing body ignored: not {'success': true, 'data': [...]}")
        return None
    models: dict[str, RelayPrice] = {}
    for item in data["data"][:MAX_MODELS]:
        if isinstance(item, dict) and (entry := _relay_price(item)) is not None:
            models[entry[0]] = entry[1]
    ratios: dict[str, float] = {}
    raw = data.get("group_ratio")
    if isinstance(raw, dict):
        for group, ratio in list(raw.items())[:1000]:
            if isinstance(group, str) and (value := number(ratio)) is not None:
                ratios[group] = value
    if not models:
        log.debug("pricing body ignored: no usable model entries")
        return None
    return RelayPricing(models, ratios)


@dataclass(frozen=True)
class Balance:
    """What a key may still spend, in US$."""

    limit: float
    used: float

    @property
    def left(self) -> float:
        return self.limit - self.used


def parse_balance(subscription: Any, usage: Any) -> Balance | None:
    """The balance from the two billing bodies (``total_usage`` is in US cents), or None
    (logged) when either is not what a relay sends."""
    limit = number(subscription.get("hard_limit_usd")) if isinstance(subscription, dict) else None
    used = number(usage.get("total_usage"), MAX_MONEY * 100) if isinstance(usage, dict) else None
    if limit is None or used is None:
        log.debug("balance bodies ignored: no usable hard_limit_usd or total_usage")
        return None
    return Balance(limit, used / 100)
