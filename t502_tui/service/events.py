"""Typed values the service layer hands to its callers: stream events, usage, models."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("t502.service")

MAX_TOKENS = 10**12
"""The largest token count believed. No request comes near it (context windows are ~10^7),
it is exact as a JSON double (below 2^53), and the store can sum nine million such counts
without leaving SQLite's 64-bit integers: a server's ``1e29`` is dropped, not stored."""

MAX_NAME = 256
"""The longest model id, owner or model name believed from a server; longer ones are dropped."""

MAX_TIMESTAMP = 253_402_300_799
"""The last second of the year 9999: any later Unix time cannot become a ``datetime``."""


def server_int(value: Any, name: str, limit: int) -> int | None:
    """A whole number from a server, if it is one in ``0..limit``; anything else is dropped
    (None), with a debug-log line when a number was there but unusable."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and 0 <= value <= limit:
        return value
    log.debug("dropped %s from the server: %.40s is not a whole number in 0..%d", name, value, limit)
    return None


def _count(data: dict[str, Any], *names: str) -> int | None:
    """The first of ``names`` in ``data`` that holds a believable token count."""
    for name in names:
        if (count := server_int(data.get(name), name, MAX_TOKENS)) is not None:
            return count
    return None


@dataclass(frozen=True)
class Usage:
    """Token counts of one reply, as the server reported them."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    reasoning_tokens: int | None = None
    """Part of the completion spent thinking, when the server says."""
    cached_tokens: int | None = None
    """Part of the prompt served from the provider's cache, when the server says."""
    cost: float | None = None
    """What the server says the reply cost, in US$ (OpenRouter's ``usage.cost``)."""

    @classmethod
    def from_json(cls, data: Any) -> Usage | None:
        """Read an OpenAI ``usage`` object; None when it holds no counts at all.

        Detail objects may be missing or null, and some servers use the
        ``input_tokens`` / ``output_tokens`` names instead. Counts that are not whole
        numbers in ``0..MAX_TOKENS`` are dropped (see :func:`server_int`).
        """
        if not isinstance(data, dict):
            return None
        prompt = _count(data, "prompt_tokens", "input_tokens")
        completion = _count(data, "completion_tokens", "output_tokens")
        total = _count(data, "total_tokens")
        if prompt is None and completion is None and total is None:
            return None
        # A count dropped (not a believable number) is what the total leaves of it.
        if total is not None and prompt is None and completion is not None and total >= completion:
            prompt = total - completion
        if total is not None and completion is None and prompt is not None and total >= prompt:
            completion = total - prompt
        prompt, completion = prompt or 0, completion or 0
        details = data.get("completion_tokens_details") or data.get("output_tokens_details")
        prompt_details = data.get("prompt_tokens_details") or data.get("input_tokens_details")
        reasoning = _count(details, "reasoning_tokens") if isinstance(details, dict) else None
        cached = _count(prompt_details, "cached_tokens") if isinstance(prompt_details, dict) else None
        cost = data.get("cost")
        if isinstance(cost, dict):  # Perplexity's: the parts and their total, in US$
            cost = cost.get("total_cost")
        return cls(
            prompt_tokens=prompt,
            completion_tokens=completion,
            total_tokens=max(total or 0, prompt + completion),  # a total short of its parts is a slip
            # Parts larger than their whole are a server's slip, not counts.
            reasoning_tokens=reasoning if reasoning is None or reasoning <= completion else None,
            cached_tokens=cached if cached is None or cached <= prompt else None,
            cost=float(cost) if isinstance(cost, (int, float)) and not isinstance(cost, bool)
            and math.isfinite(cost) and 0 <= cost < 1e6 else None,
        )

    def __add__(self, other: Usage) -> Usage:
        def both(a: int | None, b: int | None) -> int | None:
            return None if a is None and b is None else (a or 0) + (b or 0)

        return Usage(
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
            self.total_tokens + other.total_tokens,
            both(self.reasoning_tokens, other.reasoning_tokens),
            both(self.cached_tokens, other.cached_tokens),
            None if self.cost is None and other.cost is None else (self.cost or 0) + (other.cost or 0),
        )

    def describe(self) -> str:
        """One human line: ``18 prompt + 20 completion = 38 total (reasoning 4)``."""
        text = (
            f"{self.prompt_tokens:,} prompt + {self.completion_tokens:,} completion"
            f" = {self.total_tokens:,} total"
        )
        extras = self._extras()
        return f"{text} ({', '.join(extras)})" if extras else text

    def describe_short(self) -> str:
        """The same, shorter, for a narrow line: ``38 tokens (18 in, 20 out, reasoning 4)``."""
        counts = [f"{self.prompt_tokens:,} in", f"{self.completion_tokens:,} out", *self._extras()]
        return f"{self.total_tokens:,} tokens ({', '.join(counts)})"

    def _extras(self) -> list[str]:
        extras = []
        if self.reasoning_tokens:
            extras.append(f"reasoning {self.reasoning_tokens:,}")
        if self.cached_tokens:
            extras.append(f"cached {self.cached_tokens:,}")
        return extras


@dataclass(frozen=True)
class ContentDelta:
    """A piece of the answer's text."""

    text: str


@dataclass(frozen=True)
class ReasoningDelta:
    """A piece of the model's thinking (``reasoning_content`` or ``reasoning``)."""

    text: str


@dataclass(frozen=True)
class UsageReport:
    """The server's token counts; when several arrive, the last one counts."""

    usage: Usage


@dataclass(frozen=True)
class Finished:
    """The server said the reply is over, and why (``stop``, ``length``, ...)."""

    finish_reason: str


@dataclass(frozen=True)
class ImageDelta:
    """An image the model made, outside the text: a part of a ``content`` array, or an
    entry of ``delta.images`` / ``message.images``. ``url`` is as the server sent it: a
    ``data:`` URL, an http(s) link, or bare base64 (the caller tells the type from the
    bytes)."""

    url: str


@dataclass(frozen=True)
class Unreadable:
    """The stream ended as it should, but ``count`` of its events were not JSON and were
    skipped (``first`` is the first of them): some of the reply may be missing."""

    count: int
    first: str


@dataclass(frozen=True)
class Source:
    """A web page a reply cites: an entry of Perplexity's ``citations`` or
    ``search_results``, or a ``url_citation`` annotation (OpenAI's search models,
    OpenRouter's web search). The text refers to it as ``[1]`` or by its place."""

    url: str
    title: str = ""
    number: int | None = None
    """Its place in the server's numbered list (Perplexity's ``[3]`` is the third), or
    None where the text does not refer to sources by number (annotations)."""


@dataclass(frozen=True)
class SourcesFound:
    """Sources of the reply, as one chunk lists them (servers repeat the whole list in
    every chunk, or send each annotation once); ``beyond``: how many more it listed than
    t502 reads from one chunk."""

    sources: tuple[Source, ...]
    beyond: int = 0


StreamEvent = ContentDelta | ReasoningDelta | ImageDelta | UsageReport | Finished | Unreadable | SourcesFound


@dataclass(frozen=True)
class Completion:
    """A whole reply, from a non-streaming request."""

    content: str
    reasoning: str = ""
    finish_reason: str | None = None
    usage: Usage | None = None
    model: str | None = None
    images: tuple[str, ...] = ()
    """Images outside the text (see :class:`ImageDelta`), in the order they came."""
    sources: SourcesFound | None = None
    """The web pages the reply cites (see :class:`Source`)."""


@dataclass(frozen=True)
class ModelInfo:
    """One entry of the server's model list."""

    id: str
    owned_by: str = ""
    created: int | None = None
    context_length: int | None = None
    """Tokens the model takes in one request, when the server says."""
    input_price: float | None = None
    """US$ per 1M input tokens, when the server lists prices (OpenRouter's ``pricing``)."""
    output_price: float | None = None
    """US$ per 1M output tokens, likewise."""


@dataclass(frozen=True)
class RetryNotice:
    """Told to the ``on_retry`` callback before waiting to try again."""

    attempt: int
    delay: float
    reason: str
