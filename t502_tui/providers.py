"""The servers t502 talks to: the default one and those in ``[providers]``.

The default provider is the one the top-level ``base_url`` and ``api_key`` describe (or
``[providers.<default_provider>]``; ``T502_BASE_URL`` and ``T502_API_KEY`` still set it).
A model is named ``MODEL`` (of the current provider) or ``PROVIDER/MODEL``; a model id may
itself hold ``/`` (``openai/gpt-4o`` on OpenRouter), so only a known provider's name
before the first ``/`` makes it a provider.

A key may be written in the file (``api_key``), read from a variable (``api_key_env``) or
printed by a command (``api_key_cmd``, run once per start, without a shell unless the
command holds shell syntax). The key is never logged, stored, put in argv or shown.
"""

from __future__ import annotations

import os
import re
import selectors
import shlex
import subprocess
import time
from collections.abc import Iterable
from dataclasses import dataclass

from t502_tui.config import Config
from t502_tui.debug_log import mask_secret, masked
from t502_tui.service.addresses import url_password
from t502_tui.terminal_text import defuse

KEY_COMMAND_SECONDS = 60.0
"""How long a key command may take (a password manager may ask for its passphrase)."""
KEY_COMMAND_DRAIN_SECONDS = 0.2
"""Once a key command has ended, how long what it printed may take to be read."""
KEY_OUTPUT_LIMIT = 64 * 1024
"""A key is a line; a command printing more than this is not printing a key."""

_SHELL_SYNTAX = re.compile(r"[|&;<>()$`*?\[\]{}~#\n]|^\s*[A-Za-z_][A-Za-z0-9_]*=")
"""Pipes, redirections, substitutions, globs, ``~``, comments, ``VAR=value cmd``: what only
a shell understands. A command without any of them is split like a shell would and run
directly, so quoting still works."""


@dataclass(frozen=True)
class Provider:
    """One server, with the key in force for it."""

    name: str
    base_url: str
    api_key: str = ""
    group: str = "default"
    """The relay's user group whose price ratio applies to this key."""
    problem: str = ""
    """Why there is no key though the config asks for one (a failed command, an unset variable)."""
    headers: tuple[tuple[str, str], ...] = ()
    """More HTTP headers the server asks for (``headers`` in its table): as secret as the key."""

    @property
    def secrets(self) -> list[str]:
        """What must never be written anywhere: the key and the headers' values."""
        return [self.api_key, *(value for _, value in self.headers)]

    @property
    def key_hint(self) -> str:
        """How to give this provider a key, for a 401 without one."""
        if self.problem:
            return self.problem
        return f"set its api_key, api_key_env or api_key_cmd under [providers.{self.name}] in the config file"


def needs_shell(command: str) -> bool:
    """True when ``command`` holds syntax only a shell understands."""
    return bool(_SHELL_SYNTAX.search(command))


def _first_line(text: str, limit: int = 200) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    line = lines[-1] if lines else ""
    return defuse(line if len(line) <= limit else line[: limit - 1] + "…")


def _read_bounded(process: subprocess.Popen[bytes], seconds: float) -> tuple[bytes, bytes, bool]:
    """(stdout, stderr, finished in time) of ``process``, each cut at KEY_OUTPUT_LIMIT.

    Read until the pipes close, or until a moment after the process has ended: a child it
    left running in the background (``sh -c "(agent &); echo key"``) holds them open."""
    assert process.stdout is not None and process.stderr is not None
    out, err = bytearray(), bytearray()
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ, out)
    selector.register(process.stderr, selectors.EVENT_READ, err)
    deadline = time.monotonic() + seconds
    ended: float | None = None
    try:
        while selector.get_map():
            now = time.monotonic()
            left = deadline - now
            if left <= 0:
                return bytes(out), bytes(err), False
            if ended is None and process.poll() is not None:
                ended = now
            if ended is not None and now - ended > KEY_COMMAND_DRAIN_SECONDS:
                break
            for key, _ in selector.select(min(left, KEY_COMMAND_DRAIN_SECONDS)):
                piece = os.read(key.fd, 4096)
                if not piece:
                    selector.unregister(key.fileobj)
                elif len(key.data) < KEY_OUTPUT_LIMIT:
                    key.data.extend(piece[: KEY_OUTPUT_LIMIT - len(key.data)])
        process.wait(max(0.1, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        return bytes(out), bytes(err), False
    finally:
        selector.close()
    return bytes(out), bytes(err), True


_COMMAND_KEYS: dict[str, tuple[str, str]] = {}
"""Each key command's (key, why there is none), so a command runs once per start (two
providers may share one; each problem names its own)."""


def key_from_command(command: str, where: str) -> tuple[str, str]:
    """(key, problem) from running ``command``: the first line it prints, or why there is none.

    The command gets no stdin (a prompt must use the terminal itself, as pinentry does);
    its stderr is shown on failure (the key never is).
    """
    if command not in _COMMAND_KEYS:
        _COMMAND_KEYS[command] = _run_key_command(command)
    key, reason = _COMMAND_KEYS[command]
    return key, f"{where}: {reason}" if reason else ""


def _run_key_command(command: str) -> tuple[str, str]:
    """(key, why there is none) from running ``command`` (see :func:`key_from_command`)."""
    argv = ["/bin/sh", "-c", command] if needs_shell(command) else shlex.split(command)
    try:
        process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE)
    except (OSError, ValueError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        result = "", f"api_key_cmd could not start ({defuse(reason)})"
    else:
        with process:
            out, err, finished = _read_bounded(process, KEY_COMMAND_SECONDS)
            if not finished:
                process.kill()
        lines = out.decode("utf-8", "replace").splitlines()
        key = next((line.strip() for line in lines if line.strip()), "")
        stderr = err.decode("utf-8", "replace")
        if key:
            stderr = masked(stderr, [key])
        if not finished:
            result = "", f"api_key_cmd took longer than {KEY_COMMAND_SECONDS:g} s and was stopped"
        elif process.returncode != 0:
            said = _first_line(stderr)
            result = "", f"api_key_cmd failed (exit {process.returncode})" + (f": {said}" if said else "")
        elif not key:
            result = "", "api_key_cmd printed nothing"
        elif not key.isascii() or not key.isprintable() or " " in key:
            result = "", "api_key_cmd printed something that is not a key (printable ASCII without spaces)"
        else:
            result = key, ""
    return result


def forget_key_commands() -> None:
    """Run key commands again when next asked (for tests: a "start" is a process)."""
    _COMMAND_KEYS.clear()


def _provider(config: Config, name: str, entry: dict[str, str], run_commands: bool) -> Provider:
    where = f"providers.{name}"
    if name == config.default_provider:  # load_config has applied the file, the table and T502_*
        base_url, key = config.base_url, config.api_key
    else:
        base_url, key = entry.get("base_url", ""), entry.get("api_key", "")
        if "api_key_env" in entry:
            key = config.env_keys.get(name, "")
    problem = ""
    if "api_key_env" in entry and not key:
        problem = f"{where}: api_key_env names {entry['api_key_env']}, which is not set"
    if "api_key_cmd" in entry and not key:
        if run_commands:
            key, problem = key_from_command(entry["api_key_cmd"], where)
        else:
            problem = f"{where}: api_key_cmd was not run"
    headers = tuple(entry.get("headers", {}).items())
    provider = Provider(name, base_url, key, entry.get("group", config.group), problem, headers)
    for secret in provider.secrets:  # whichever way it came, it never reaches the debug log
        mask_secret(secret)
    mask_secret(url_password(base_url))  # nor a password in the URL (requests are logged)
    return provider


def configured(config: Config, *, only: str | None = None, run_commands: bool = True) -> dict[str, Provider]:
    """Every provider in force, the default first (or just ``only``); key commands run
    (once per process) unless ``run_commands`` is False."""
    names = [config.default_provider] + [n for n in config.providers if n != config.default_provider]
    if only is not None:
        names = [n for n in names if n == only]
    return {name: _provider(config, name, config.providers.get(name, {}), run_commands) for name in names}


def split_ref(ref: str, names: Iterable[str], current: str) -> tuple[str, str]:
    """(provider, model) named by ``ref``: ``PROVIDER/MODEL`` when PROVIDER is known, else
    a model of ``current``."""
    head, sep, rest = ref.partition("/")
    if sep and rest and head in set(names):
        return head, rest
    return current, ref


def ref_for(provider: str, model: str, default: str) -> str:
    """How a model is named to the user: bare for the default provider, else ``PROVIDER/MODEL``."""
    return model if provider in ("", default) else f"{provider}/{model}"
