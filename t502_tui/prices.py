"""What a model costs and what a reply cost, from the best source there is.

The order, best first: a reply's own ``usage.cost`` (what the server billed); the user's
``[prices]`` table; a new-api relay's ``/api/pricing`` under its rule; the ``pricing`` on
``/models`` entries. Unknown stays unknown: no cost is ever made up.

The relay's rule: a ``model_ratio`` of 1 is US$2 per 1M input tokens; output tokens cost
``completion_ratio`` times the input price; a per-request model costs ``model_price``;
everything is multiplied by the ratio of the user's group. Completion tokens include
reasoning tokens (the OpenAI convention), so reasoning is billed as output.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from t502_tui.service.events import Usage
from t502_tui.service.pricing import RelayPrice, RelayPricing
from t502_tui.settings_schema import PRICE_FIELDS

DOLLARS_PER_RATIO = 2.0
"""US$ per 1M input tokens at a ``model_ratio`` of 1."""


@dataclass(frozen=True)
class Price:
    """A model's price: per 1M input and output tokens, or per request."""

    input: float | None = None
    output: float | None = None
    request: float | None = None

    @property
    def known(self) -> bool:
        """True when a reply's cost can be computed from it."""
        return self.request is not None or (self.input is not None and self.output is not None)

    def cost(self, usage: Usage) -> float | None:
        """What a reply with ``usage`` costs, or None when this price cannot say."""
        if self.request is not None:
            return self.request
        if self.input is None or self.output is None:
            return None
        return (usage.prompt_tokens * self.input + usage.completion_tokens * self.output) / 1e6

    def describe(self) -> str:
        """``$1.25/$10 per 1M``, ``$0.04/request`` or ``free``."""
        if self.request is not None:
            return f"{money(self.request)}/request" if self.request else "free"
        if self.input is None or self.output is None:
            return ""
        return f"{money(self.input)}/{money(self.output)}" if self.input or self.output else "free"

    @property
    def sort_key(self) -> float:
        """Cheapest first; a per-request price counts as 1,000 input tokens' worth."""
        if self.request is not None:
            return self.request * 1000
        return (self.input or 0) + (self.output or 0) / 4


def relay_price(entry: RelayPrice, ratios: dict[str, float], group: str) -> Price | None:
    """A relay model's price for a user of ``group``, or None when the list cannot say
    (the group has no ratio, the model is not enabled for it, a needed number is missing,
    or the ratios make a price beyond any a ``[prices]`` table may hold)."""
    if entry.groups and group not in entry.groups:
        return None
    ratio = ratios.get(group) if ratios else (1.0 if group == "default" else None)
    if ratio is None:
        return None
    if entry.per_request:
        if entry.model_price is None or entry.model_price * ratio > PRICE_FIELDS["request"].high:
            return None
        return Price(request=entry.model_price * ratio)
    if entry.model_ratio is None:
        return None
    per_input = entry.model_ratio * DOLLARS_PER_RATIO * ratio
    per_output = per_input * (entry.completion_ratio if entry.completion_ratio is not None else 1.0)
    if max(per_input, per_output) > PRICE_FIELDS["output"].high:
        return None
    return Price(per_input, per_output)


def relay_prices(pricing: RelayPricing, group: str) -> dict[str, Price]:
    """Every model's price in a relay's list, for ``group``."""
    out = {}
    for model, entry in pricing.models.items():
        if (price := relay_price(entry, pricing.group_ratio, group)) is not None:
            out[model] = price
    return out


def user_price(table: dict[str, Any], ref: str, model: str) -> Price | None:
    """The user's ``[prices]`` entry for ``PROVIDER/MODEL`` or else ``MODEL``."""
    entry = table.get(ref, table.get(model))
    if not isinstance(entry, dict):
        return None
    return Price(entry.get("input"), entry.get("output"), entry.get("request"))


def money(value: float) -> str:
    """A price in US$, short: ``$1.25``, ``$10``, ``$0.075``."""
    if value == 0:
        return "$0"
    if value < 0.001:
        return "<$0.001"
    return f"${value:.4g}" if value < 10_000 else f"${value:,.0f}"


def format_cost(cost: float) -> str:
    """A reply's or a conversation's cost: ``$0.0031``, ``$1.24``."""
    if cost == 0:
        return "$0"
    if cost < 0.0001:
        return "<$0.0001"
    return f"${cost:.4f}" if cost < 1 else f"${cost:,.2f}"


def reply_cost(usage: Usage | None, price: Price | None, answered: bool = False) -> float | None:
    """What a reply cost: the server's own figure when it gave one, else from ``price``.
    Without usage, only a per-request price says, for a reply that was ``answered`` whole
    (image and video models often report none); a failed one may not have been charged."""
    if usage is None:
        return price.request if answered and price is not None else None
    if usage.cost is not None:
        return usage.cost
    return price.cost(usage) if price is not None else None
