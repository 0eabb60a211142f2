"""The user's settings: read from ``config.toml``, overridden by the environment.

Who reads what: the CLI and the TUI call :func:`load_config` once at start; the service
layer receives plain values (URL, key, timeouts) and never reads this module. Only
:func:`save_config` writes the file, atomically and with mode 0600 because it holds the
API key. Keys the app does not know are kept on save and reported as warnings on load.
"""

from __future__ import annotations

import os
import re
import tempfile
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import tomli_w

from t502_tui import paths
from t502_tui.keys import SEND_MODES

DEFAULT_BASE_URL = "https://api.token502.com/v1"
DEFAULT_MODEL = "gpt-5"
SYSTEM_ROLES = ("system", "developer")

ENV_API_KEY = "T502_API_KEY"
ENV_BASE_URL = "T502_BASE_URL"
ENV_MODEL = "T502_MODEL"


class ConfigError(Exception):
    """The config file cannot be used; the message names the file and what is wrong."""


@dataclass
class Config:
    """Settings in force for this run (file values with environment overrides applied)."""

    base_url: str = DEFAULT_BASE_URL
    """Root of the OpenAI-compatible API, up to and including ``/v1``."""
    api_key: str = ""
    """Bearer token; never logged, exported or stored outside this file."""
    model: str = DEFAULT_MODEL
    """Model used for new conversations and ``t502 ask``."""
    system_prompt: str = ""
    """Default system prompt for new conversations (empty: none)."""
    system_role: str = "system"
    """Role the system prompt is sent with: ``system`` (every vendor) or ``developer``."""
    timeout: float = 120.0
    """Seconds to wait for the next piece of a reply before giving up."""
    connect_timeout: float = 10.0
    """Seconds to wait for a connection to the server."""
    max_retries: int = 2
    """Retries for connect errors, 429 and 5xx, only before any reply arrived."""
    theme: str = "t502-midnight"
    """Name of the TUI theme."""
    send_key: str = "enter"
    """``enter`` (Enter sends, Ctrl+J makes a new line) or ``ctrl+j`` (the other way round)."""
    max_image_mb: float = 20.0
    """Largest image that may be attached, in MB."""
    max_images: int = 8
    """Most images that may go with one message."""
    keys: dict[str, Any] = field(default_factory=dict)
    """The ``[keys]`` table: action = "key,key" (checked by :mod:`t502_tui.keys`)."""
    params: dict[str, Any] = field(default_factory=dict)
    """Extra request parameters sent with every chat request (temperature, max_tokens...)."""
    path: Path | None = None
    """The file these settings came from (it may not exist yet)."""
    model_from_default: bool = True
    """True when no file, variable or flag chose the model, so a "model not found" can hint."""
    warnings: list[str] = field(default_factory=list)
    """Problems worth telling the user that did not stop loading (unknown keys)."""

    @property
    def masked_key(self) -> str:
        """The key as the UI may show it."""
        return mask_secret(self.api_key)


_FILE_KEYS = {
    f.name for f in fields(Config) if f.name not in ("path", "model_from_default", "warnings")
}


def mask_secret(secret: str) -> str:
    """Show just enough of a secret to recognise it: ``sk-a…wxyz``."""
    if not secret:
        return ""
    if len(secret) <= 8:
        return "•" * len(secret)
    return f"{secret[:3]}…{secret[-4:]}"


def validate_base_url(value: str) -> str | None:
    """Return why ``value`` is not a usable base URL, or None if it is."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https"):
        return "must start with http:// or https://"
    if not parts.netloc:
        return "has no host name"
    return None


def _check(path: Path, key: str, value: Any, kind: type | tuple[type, ...], what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, kind):
        raise ConfigError(
            f"{path}: '{key}' must be {what}, not {type(value).__name__} {value!r}"[:300]
        )


def _apply_file_values(config: Config, data: dict[str, Any], path: Path) -> None:
    """Validate the file's values and copy them onto ``config``."""
    for key, value in data.items():
        if key not in _FILE_KEYS:
            config.warnings.append(f"{path}: unknown key '{key}' (ignored)")
            continue
        if key in ("base_url", "api_key", "model", "system_prompt", "system_role", "theme", "send_key"):
            _check(path, key, value, str, "a string")
        elif key in ("timeout", "connect_timeout"):
            _check(path, key, value, (int, float), "a number of seconds")
            if value <= 0:
                raise ConfigError(f"{path}: '{key}' must be more than 0 seconds")
            value = float(value)
        elif key == "max_image_mb":
            _check(path, key, value, (int, float), "a number of MB")
            if value <= 0:
                raise ConfigError(f"{path}: 'max_image_mb' must be more than 0")
            value = float(value)
        elif key == "max_images":
            _check(path, key, value, int, "a whole number")
            if value < 1:
                raise ConfigError(f"{path}: 'max_images' must be at least 1")
        elif key == "max_retries":
            _check(path, key, value, int, "a whole number")
            if not 0 <= value <= 10:
                raise ConfigError(f"{path}: 'max_retries' must be between 0 and 10")
        elif key in ("params", "keys"):
            _check(path, key, value, dict, "a table")
        setattr(config, key, value)
    if problem := validate_base_url(config.base_url):
        raise ConfigError(f"{path}: 'base_url' {problem}: {config.base_url!r}")
    if config.system_role not in SYSTEM_ROLES:
        raise ConfigError(f"{path}: 'system_role' must be 'system' or 'developer'")
    if config.send_key not in SEND_MODES:
        raise ConfigError(f"{path}: 'send_key' must be 'enter' or 'ctrl+j'")
    if "model" in data:
        config.model_from_default = False


def read_config_file(path: Path) -> dict[str, Any]:
    """The file's raw table, or an empty one if it does not exist."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"config file {path} is not UTF-8 text") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        reason = str(exc)
        where = re.search(r"\s*\(at line (\d+), column \d+\)$", reason)
        line = int(where.group(1)) if where else max(1, len(text.splitlines()))
        reason = reason[: where.start()] if where else reason.replace(" (at end of document)", "")
        raise ConfigError(f"config file {path}, line {line}: not valid TOML: {reason}") from None


def load_config(path: Path | None = None, env: dict[str, str] | None = None) -> Config:
    """Read the config file (if any) and apply environment overrides.

    Raises :class:`ConfigError` with a one-line message for a broken file.
    """
    path = path or paths.config_file()
    env = os.environ if env is None else env
    config = Config(path=path)
    _apply_file_values(config, read_config_file(path), path)
    if value := env.get(ENV_API_KEY, "").strip():
        config.api_key = value
    if value := env.get(ENV_BASE_URL, "").strip():
        if problem := validate_base_url(value):
            raise ConfigError(f"{ENV_BASE_URL} {problem}: {value!r}")
        config.base_url = value
    if value := env.get(ENV_MODEL, "").strip():
        config.model = value
        config.model_from_default = False
    config.api_key = config.api_key.strip()
    config.base_url = config.base_url.strip().rstrip("/")
    return config


def save_config(path: Path, updates: dict[str, Any]) -> None:
    """Merge ``updates`` into the file at ``path`` and write it atomically, mode 0600.

    Keys and tables the app does not know are kept. A value of None removes the key.
    """
    data = read_config_file(path)
    for key, value in updates.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    text = tomli_w.dumps(data)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".config-", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
