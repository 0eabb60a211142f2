"""Each server's model list and price list as t502 needs them: cached on disk with the
time they were fetched, chat models told apart.

A relay lists hundreds of models, many of them not for chat (images, video, audio,
embeddings, rerankers). Those are told apart by name, since the list carries no kind.
Each server (base URL) has its own cache files; a cache that cannot be read or written
is no error, only a slower start.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from t502_tui import paths
from t502_tui.service.events import ModelInfo
from t502_tui.service.pricing import RelayPrice, RelayPricing, number

CACHE_SECONDS = 24 * 3600
PRICES_SECONDS = 6 * 3600
"""Prices change more often than model lists; a relay's list is fetched again after this."""
MAX_RECENT = 8

_NOT_CHAT = re.compile(
    r"(dall-e|gpt-image|image|imagen|flux|midjourney|mj[-_]|stable-diffusion|sdxl|sd3|"
    r"kling|sora|veo|video|runway|luma|hailuo|vidu|seedance|seedream|pika|suno|music|"
    r"tts|whisper|speech|audio|transcribe|embedding|embed|rerank|bge-|moderation|"
    r"jina-clip|ideogram|recraft)",
    re.I,
)


def is_chat_model(model_id: str) -> bool:
    """False for ids that name image, video, audio, embedding or rerank models."""
    return not _NOT_CHAT.search(model_id)


def _server_id(base_url: str) -> str:
    """What a cache file keeps to name its server: a digest, since a base URL may carry a
    user name and password."""
    return hashlib.sha256(base_url.encode("utf-8")).hexdigest()


def _cache_file(kind: str, base_url: str) -> Path:
    return paths.cache_dir() / f"{kind}-{_server_id(base_url)[:16]}.json"


MAX_CACHE_BYTES = 32 * 1024 * 1024
"""A cached model list or price list is read only up to this size (the largest lists
servers send take a few MB); a bigger file, or a pipe or a device, is no cache."""
MAX_RECENT_BYTES = 64 * 1024


def _recent_file() -> Path:
    return paths.state_dir() / "recent_models.json"


def _load(kind: str, base_url: str, max_age: float) -> tuple[Any, float] | None:
    """(what was cached, when) for ``base_url`` if younger than ``max_age`` seconds."""
    try:
        data = json.loads(paths.read_regular(_cache_file(kind, base_url), MAX_CACHE_BYTES)[0])
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("server") != _server_id(base_url):
        return None
    fetched = data.get("fetched")
    if not isinstance(fetched, (int, float)) or not 0 <= time.time() - fetched <= max_age:
        return None
    return data.get("value"), fetched


def _save(kind: str, base_url: str, value: Any) -> None:
    try:
        path = _cache_file(kind, base_url)
        paths.private_dir(path.parent)
        paths.write_private(path, json.dumps({"server": _server_id(base_url), "fetched": time.time(), "value": value}))
    except (OSError, ValueError):
        pass


def _model(item: Any) -> ModelInfo | None:
    if isinstance(item, str):
        return ModelInfo(item)
    if not isinstance(item, dict) or not isinstance(item.get("id"), str):
        return None
    fields = {k: item.get(k) for k in ("owned_by", "created", "context_length", "input_price", "output_price")}
    try:
        return ModelInfo(item["id"], **{k: v for k, v in fields.items() if v is not None})
    except TypeError:
        return None


def load_cached_models(base_url: str, max_age: float = CACHE_SECONDS) -> list[ModelInfo] | None:
    """The models fetched from ``base_url`` less than ``max_age`` seconds ago, or None."""
    found = _load("models", base_url, max_age)
    if found is None or not isinstance(found[0], list):
        return None
    return [m for m in map(_model, found[0]) if m is not None]


def save_cached_models(base_url: str, models: list[ModelInfo] | list[str]) -> None:
    """Remember the list (with what each model's entry said) for a day."""
    _save("models", base_url, [m if isinstance(m, str) else asdict(m) for m in models])


def load_cached_pricing(base_url: str, max_age: float = PRICES_SECONDS) -> tuple[RelayPricing | None] | None:
    """``(pricing,)`` as fetched from the relay at ``base_url`` lately (``(None,)``: it has
    no price list), or None when it is to be asked."""
    found = _load("prices", base_url, max_age)
    if found is None:
        return None
    value = found[0]
    if value is None:
        return (None,)
    try:
        models = {str(name): RelayPrice(bool(e[0]), number(e[1]), number(e[2]), number(e[3]),
                                        tuple(g for g in e[4] if isinstance(g, str)))
                  for name, e in value["models"].items()}
        ratios = {str(g): r for g, v in value["group_ratio"].items() if (r := number(v)) is not None}
        return (RelayPricing(models, ratios),)
    except (KeyError, IndexError, TypeError, AttributeError):
        return None


def save_cached_pricing(base_url: str, pricing: RelayPricing | None) -> None:
    """Remember a relay's price list (or that it has none) for a few hours."""
    value = None if pricing is None else {
        "models": {name: [e.per_request, e.model_ratio, e.completion_ratio, e.model_price, list(e.groups)]
                   for name, e in pricing.models.items()},
        "group_ratio": pricing.group_ratio,
    }
    _save("prices", base_url, value)


def forget_cached(base_url: str) -> None:
    """Drop what ``base_url`` told (its models, its prices): its server or key changed."""
    for kind in ("models", "prices"):
        try:
            _cache_file(kind, base_url).unlink(missing_ok=True)
        except OSError:
            pass


def load_recent_models() -> list[str]:
    """Models the user chose lately, newest first."""
    try:
        data = json.loads(paths.read_regular(_recent_file(), MAX_RECENT_BYTES)[0])
    except (OSError, ValueError):
        return []
    return [m for m in data if isinstance(m, str)][:MAX_RECENT] if isinstance(data, list) else []


def remember_model(model: str) -> list[str]:
    """Put ``model`` first in the recent list and return the new list."""
    recent = [model] + [m for m in load_recent_models() if m != model]
    recent = recent[:MAX_RECENT]
    try:
        path = _recent_file()
        paths.private_dir(path.parent)
        paths.write_private(path, json.dumps(recent))
    except OSError:
        pass
    return recent
