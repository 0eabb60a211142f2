"""The opt-in debug log (``--debug`` or ``T502_DEBUG=1``), with secrets scrubbed.

Only the ``t502`` logger tree is written. Every record passes a filter that replaces the
API key (and anything else registered as secret) with ``***`` before it reaches the file.
"""

from __future__ import annotations

import logging
import os
import re
import time
import traceback
from pathlib import Path

from t502_tui import paths
from t502_tui.terminal_text import defuse

ENV_DEBUG = "T502_DEBUG"
_enabled_at: Path | None = None
_filter: SecretFilter | None = None

# With the debug log off, t502's records go nowhere, rather than to stderr through
# logging's last-resort handler, where a logged traceback would land in a shell command's
# output.
logging.getLogger("t502").addHandler(logging.NullHandler())


MIN_MASKED = 4
"""Secrets shorter than this are not looked for in text: a local server's key ("k",
"x") would mask that letter in every word, and is no secret anyway."""


SHOWN_PREFIX = 10
"""A run of text starting with this much of a key (16 characters or longer) is masked
whole: a server may echo the key cut short, or with a character changed at its end."""


def masked(text: str, secrets: list[str]) -> str:
    """``text`` with each secret of :data:`MIN_MASKED` characters or more as ``***``,
    and for a long one, any run of key-like characters that begins as it does."""
    for secret in secrets:
        if len(secret) >= MIN_MASKED:
            text = text.replace(secret, "***")
        if len(secret) >= 16:
            text = re.sub(re.escape(secret[:SHOWN_PREFIX]) + r"[\w.~+/=-]*", "***", text)
    return text


class SecretFilter(logging.Filter):
    """Rewrites each record's final text with the secrets masked and control characters
    shown (``ESC`` as ``^[``): ``cat debug.log`` must not retitle the terminal."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = defuse(masked(record.getMessage(), self.secrets)), None
        if record.exc_info and record.exc_text is None:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = defuse(masked(record.exc_text, self.secrets))
        return True


def debug_requested(flag: bool) -> bool:
    """True when the flag or the environment asks for the debug log."""
    return flag or os.environ.get(ENV_DEBUG, "").strip().lower() in ("1", "true", "yes", "on")


class _LogFile(logging.StreamHandler):  # type: ignore[type-arg]
    """The log's file: a write that fails (a full disk) ends the log, quietly. Python's
    own handler printed a traceback to the terminal for every line, over the chat."""

    def handleError(self, record: logging.LogRecord) -> None:
        logging.getLogger("t502").removeHandler(self)


def enable_debug_log(secrets: list[str], path: Path | None = None) -> Path:
    """Start writing the debug log and return its path.

    The log is 0600 in a 0700 folder, and a log left readable by others is tightened:
    requests and replies in it are as private as the history.
    """
    path = path or paths.state_dir() / "debug.log"
    paths.private_dir(path.parent)
    handler = _LogFile(paths.open_private_append(path))
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    global _enabled_at, _filter
    _filter = SecretFilter(secrets)
    handler.addFilter(_filter)
    logger = logging.getLogger("t502")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    _enabled_at = path
    return path


def mask_secret(secret: str) -> None:
    """Mask ``secret`` in the debug log from now on (a key set after start-up)."""
    if _filter is not None and secret and secret not in _filter.secrets:
        _filter.secrets.append(secret)


def record_crash(error: BaseException, secrets: list[str]) -> Path | None:
    """Append an unexpected error's traceback to the debug log (made, private, if it was
    off), secrets masked, so the user can be pointed at it; its path, or None if it
    cannot be written."""
    path = _enabled_at or paths.state_dir() / "debug.log"
    text = defuse(masked("".join(traceback.format_exception(error)), [*secrets, *(_filter.secrets if _filter else [])]))
    try:
        paths.private_dir(path.parent)
        with paths.open_private_append(path) as log:
            log.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} t502 stopped on an unexpected error\n{text}\n")
    except OSError:
        return None
    return path

