"""The server's model list as the picker needs it: cached on disk, chat models apart.

A relay lists hundreds of models, many of them not for chat (images, video, audio,
embeddings, rerankers). Those are told apart by name, since the list carries no kind.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

from t502_tui import paths

CACHE_SECONDS = 24 * 3600
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


def _cache_file() -> Path:
    return paths.cache_dir() / "models.json"


def _recent_file() -> Path:
    return paths.state_dir() / "recent_models.json"


def load_cached_models(base_url: str, max_age: float = CACHE_SECONDS) -> list[str] | None:
    """Model ids fetched from ``base_url`` less than ``max_age`` seconds ago, or None."""
    try:
        data = json.loads(_cache_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("base_url") != base_url:
        return None
    fetched = data.get("fetched")
    models = data.get("models")
    if not isinstance(fetched, (int, float)) or not isinstance(models, list):
        return None
    if time.time() - fetched > max_age:
        return None
    return [m for m in models if isinstance(m, str)]


def save_cached_models(base_url: str, models: list[str]) -> None:
    """Remember the list for a day; a cache that cannot be written is no error."""
    try:
        path = _cache_file()
        paths.private_dir(path.parent)
        paths.write_private(path, json.dumps({"base_url": base_url, "fetched": time.time(), "models": models}))
    except OSError:
        pass


def load_recent_models() -> list[str]:
    """Models the user chose lately, newest first."""
    try:
        data = json.loads(_recent_file().read_text(encoding="utf-8"))
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
