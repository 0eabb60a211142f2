"""The user's settings: read from ``config.toml``, overridden by the environment.

Who reads what: the CLI and the TUI call :func:`load_config` once at start; the service
layer receives plain values (URL, key, timeouts) and never reads this module. What each
setting may hold is described once, in :mod:`t502_tui.settings_schema`; this module reads,
checks and writes. Only :func:`save_config` writes the file: it changes just the keys that
changed, so the user's comments, order and formatting survive, and it writes atomically
with mode 0600 because the file holds the API key.
"""

from __future__ import annotations

import errno
import os
import re
import shlex
import stat
import threading
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from t502_tui import paths
from t502_tui.settings_schema import (
    BY_NAME,
    SETTINGS,
    Setting,
    SettingError,
    default_of,
    parse_text,
    shown_value,
    validate,
)

ENV_API_KEY = BY_NAME["api_key"].env
ENV_MODEL = BY_NAME["model"].env

MAX_CONFIG_BYTES = 1024 * 1024
"""A config file is a few hundred bytes; anything past a megabyte is not one."""


class ConfigError(Exception):
    """The config cannot be used; the message names the file (or variable) and the key."""


@dataclass
class Config:
    """Settings in force for this run (file values with environment overrides applied).

    Each setting's default, range and meaning are in :mod:`t502_tui.settings_schema`.
    """

    base_url: str = default_of("base_url")
    api_key: str = default_of("api_key")
    """Bearer token; never logged, exported or stored outside the config file."""
    model: str = default_of("model")
    system_prompt: str = default_of("system_prompt")
    system_role: str = default_of("system_role")
    timeout: float = default_of("timeout")
    """Seconds to wait for the next piece of a reply before giving up."""
    connect_timeout: float = default_of("connect_timeout")
    max_reply_seconds: float = default_of("max_reply_seconds")
    """The ceiling on a whole reply, however steadily it arrives."""
    max_retries: int = default_of("max_retries")
    theme: str = default_of("theme")
    send_key: str = default_of("send_key")
    max_image_mb: float = default_of("max_image_mb")
    max_images: int = default_of("max_images")
    max_file_kb: int = default_of("max_file_kb")
    max_files: int = default_of("max_files")
    download_images: bool = default_of("download_images")
    """Fetch a reply's linked images when it ends (relays' links expire); off, only on ``r``."""
    default_provider: str = default_of("default_provider")
    """The name ``base_url`` and ``api_key`` go by among the providers."""
    group: str = default_of("group")
    low_balance: float = default_of("low_balance")
    keys: dict[str, Any] = field(default_factory=lambda: default_of("keys"))
    """The ``[keys]`` table: action = "key,key" (checked by :mod:`t502_tui.keys`)."""
    params: dict[str, Any] = field(default_factory=lambda: default_of("params"))
    """Extra request parameters sent with every chat request (temperature, max_tokens...)."""
    providers: dict[str, Any] = field(default_factory=lambda: default_of("providers"))
    """``[providers.NAME]`` tables, as written (see :mod:`t502_tui.providers`)."""
    presets: dict[str, Any] = field(default_factory=lambda: default_of("presets"))
    prices: dict[str, Any] = field(default_factory=lambda: default_of("prices"))
    context: dict[str, Any] = field(default_factory=lambda: default_of("context"))
    env_keys: dict[str, str] = field(default_factory=dict)
    """Keys read at load from the variables that providers' ``api_key_env`` name (never saved)."""
    path: Path | None = None
    """The file these settings came from (it may not exist yet)."""
    model_from_default: bool = True
    """True when no file, variable or flag chose the model, so a "model not found" can hint."""
    keyless: bool = False
    """The file says ``api_key = ""``: the server needs no key (set-up is not offered again)."""
    warnings: list[str] = field(default_factory=list)
    """Problems worth telling the user that did not stop loading (unknown keys, file mode)."""

    @property
    def masked_key(self) -> str:
        """The key as the UI may show it."""
        return mask_secret(self.api_key)


def mask_secret(secret: str) -> str:
    """Show just enough of a secret to recognise it: ``sk-a…wxyz``."""
    if not secret:
        return ""
    if len(secret) <= 8:
        return "•" * 8  # not even its length
    return f"{secret[:3]}…{secret[-4:]}"


def problem_with(name: str, value: str) -> str | None:
    """Why ``value`` will not do for setting ``name`` ("has no host name"), or None: for a
    form to say so before it closes, rather than when saving."""
    try:
        validate(BY_NAME[name], value)
    except SettingError as error:
        return error.reason
    return None


def _explain(setting: Setting, value: Any, error: SettingError) -> str:
    """``'timeout' must be ... (it is nan)``: the key, the rule, and the value unless secret."""
    if error.key:
        return f"'{setting.name}.{error.key}' {error.reason}"
    if setting.secret:
        return f"'{setting.name}' {error.reason}"
    return f"'{setting.name}' {error.reason} (it is {shown_value(value)})"


# -- reading ---------------------------------------------------------------------------------


def _read_bytes(path: Path) -> tuple[bytes, int] | None:
    """The file's bytes and mode, or None if there is no file; a FIFO, a device, a folder
    or more than :data:`MAX_CONFIG_BYTES` is refused (see :func:`paths.read_regular`)."""
    try:
        return paths.read_regular(path, MAX_CONFIG_BYTES)
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise ConfigError(f"config file {path} is a folder, not a file") from None
    except OSError as exc:
        if exc.errno == errno.EFBIG:
            raise ConfigError(f"config file {path} is larger than 1 MB; is it the right file?") from None
        if exc.errno == errno.EINVAL:
            raise ConfigError(f"config file {path} is not a regular file (a pipe or a device?)") from None
        raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from None


def _read_text(path: Path) -> tuple[str, int] | None:
    """The file's text and mode, or None if there is no file."""
    found = _read_bytes(path)
    if found is None:
        return None
    raw, mode = found
    try:
        return raw.decode("utf-8-sig"), mode  # Notepad starts a UTF-8 file with a BOM
    except UnicodeDecodeError:
        raise ConfigError(f"config file {path} is not UTF-8 text") from None


def _parse(text: str, path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        reason = str(exc)
        where = re.search(r"\s*\(at line (\d+), column \d+\)$", reason)
        line = int(where.group(1)) if where else max(1, len(text.splitlines()))
        reason = reason[: where.start()] if where else reason.replace(" (at end of document)", "")
        raise ConfigError(f"config file {path}, line {line}: not valid TOML: {reason}") from None
    except RecursionError:
        raise ConfigError(f"config file {path}: not valid TOML: nested too deeply") from None
    except ValueError:  # an integer of thousands of digits
        raise ConfigError(f"config file {path}: not valid TOML: a number is too long") from None


def _unknown_keys_warning(path: Path, unknown: list[str]) -> str:
    names = ", ".join(repr(key)[:40] for key in unknown[:5])
    more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
    noun = "key" if len(unknown) == 1 else "keys"
    return f"{path}: unknown {noun} {names}{more} (ignored)"


def load_config(path: Path | None = None, env: dict[str, str] | None = None) -> Config:
    """Read the config file (if any) and apply environment overrides.

    Raises :class:`ConfigError` with a one-line message naming the file or the variable,
    and the key, for anything that cannot be used.
    """
    path = path or paths.config_file()
    env = os.environ if env is None else env
    config = Config(path=path)
    found = _read_text(path)
    data = _parse(found[0], path) if found else {}
    unknown: list[str] = []
    for key, value in data.items():
        setting = BY_NAME.get(key)
        if setting is None:
            unknown.append(key)
            continue
        try:
            setattr(config, key, validate(setting, value))
        except SettingError as error:
            raise ConfigError(f"{path}: {_explain(setting, value, error)}") from None
    if unknown:
        config.warnings.append(_unknown_keys_warning(path, unknown))
    if "model" in data:
        config.model_from_default = False
    config.keyless = data.get("api_key") == ""
    _take_default_provider(config, data, path)
    keys_in_file = config.api_key or any("api_key" in entry for entry in config.providers.values())
    if found and keys_in_file and found[1] & 0o077 and os.name != "nt":
        config.warnings.append(
            f"{path} holds your API key and other users may read it "
            f"(mode {stat.S_IMODE(found[1]):04o}); fix: chmod 600 {shlex.quote(str(path))}"
        )
    for setting in SETTINGS:
        raw = env.get(setting.env, "").strip() if setting.env else ""
        if not raw:
            continue
        try:
            setattr(config, setting.name, parse_text(setting, raw))
        except SettingError as error:
            shown = "" if setting.secret else f" (it is {shown_value(raw)})"
            raise ConfigError(f"{setting.env} {error.reason}{shown}") from None
        if setting.name == "model":
            config.model_from_default = False
    for name, entry in config.providers.items():
        if "api_key_env" in entry:
            config.env_keys[name] = env.get(entry["api_key_env"], "").strip()
    default = config.providers.get(config.default_provider, {})
    if "api_key_env" in default and not env.get(ENV_API_KEY, "").strip():
        config.api_key = config.env_keys[config.default_provider]
    return config


def _take_default_provider(config: Config, data: dict[str, Any], path: Path) -> None:
    """``[providers.<default_provider>]`` may describe the default provider instead of the
    top-level ``base_url`` and ``api_key``; saying the same thing in both places is refused."""
    for name, entry in config.providers.items():
        if name != config.default_provider and "base_url" not in entry:
            raise ConfigError(f"{path}: 'providers.{name}' needs a base_url (its /v1 root)")
    entry = config.providers.get(config.default_provider)
    if not entry:
        return
    name = config.default_provider
    for key, top in (("base_url", "base_url"), ("api_key", "api_key"), ("api_key_env", "api_key"),
                     ("api_key_cmd", "api_key")):
        if key in entry and top in data:
            raise ConfigError(f"{path}: '{top}' and 'providers.{name}.{key}' both describe the default"
                              f" provider '{name}'; keep one")
    if "base_url" in entry:
        config.base_url = entry["base_url"]
    if "api_key" in entry:
        config.api_key = entry["api_key"]


# -- writing ---------------------------------------------------------------------------------

_SAVE_LOCK = threading.Lock()
"""Saves come from worker threads; one read-modify-write at a time."""


def _checked_updates(path: Path, updates: dict[str, Any]) -> dict[str, Any]:
    """``updates`` as they will be written; nothing a later start would refuse."""
    checked: dict[str, Any] = {}
    for key, value in updates.items():
        setting = BY_NAME.get(key)
        if setting is not None and value is not None:
            try:
                value = validate(setting, value)
            except SettingError as error:
                raise ConfigError(f"not saved to {path}: {_explain(setting, value, error)}") from None
        checked[key] = value
    return checked


def _edited_text(text: str, updates: dict[str, Any], path: Path) -> str:
    """``text`` with ``updates`` applied, checked to read back as intended."""
    from t502_tui.config_edit import CannotEdit, edit

    try:
        edited = edit(text, updates)
    except CannotEdit as exc:
        raise ConfigError(f"not saved: t502 cannot edit {path} ({exc}); change it by hand") from None
    after = _parse(edited, path)
    if any(after.get(key) != value for key, value in updates.items()):
        raise ConfigError(f"not saved: t502 could not edit {path} safely; change it by hand")
    return edited


def _write_atomically(target: Path, text: str) -> None:
    if not target.parent.exists():  # a folder of the user's own choosing is left as it is
        paths.private_dir(target.parent)
    paths.write_private(target, text)


def _as_written(value: Any) -> Any:
    """A whole number as people write it (``timeout = 600``, not ``600.0``): every
    setting that takes a fraction takes a whole number too."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, dict):
        return {key: _as_written(item) for key, item in value.items()}
    return value


def save_config(path: Path, updates: dict[str, Any]) -> None:
    """Write ``updates`` into the file at ``path``; a value of None removes the key.

    An existing file is edited in place: only the keys in ``updates`` change, and its
    comments, order, formatting and unknown keys stay. A new file is written whole. The
    write is atomic (a temporary file renamed over the old one) and the file is 0600.
    Through a symlink, the file it points to is written and the link stays (as git does).
    Raises :class:`ConfigError` (a value t502 would refuse, a file that became broken)
    or :class:`OSError`.
    """
    updates = {key: _as_written(value) for key, value in _checked_updates(path, updates).items()}
    target = Path(os.path.realpath(path))
    with _SAVE_LOCK:
        found = _read_text(target)
        if found is None:
            text = tomli_w.dumps({key: value for key, value in updates.items() if value is not None})
        else:
            text = _edited_text(found[0], updates, path)
        _write_atomically(target, text)
