"""Where t502 keeps its files, following the platform's conventions (XDG on Linux).

Every location can be moved with the usual ``XDG_*_HOME`` variables; ``T502_CONFIG``
points at a config file elsewhere (handy for tests and for keeping several profiles).
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "t502"


def config_dir() -> Path:
    """The folder holding ``config.toml`` and user themes."""
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def config_file() -> Path:
    """The config file: ``$T502_CONFIG`` if set, else ``config.toml`` in :func:`config_dir`."""
    override = os.environ.get("T502_CONFIG")
    return Path(override).expanduser() if override else config_dir() / "config.toml"


def data_dir() -> Path:
    """The folder for the conversation store."""
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def cache_dir() -> Path:
    """The folder for disposable caches (the model list)."""
    return Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))


def state_dir() -> Path:
    """The folder for logs."""
    return Path(platformdirs.user_state_dir(APP_NAME, appauthor=False))


def display_path(path: Path) -> str:
    """``path`` as a person would write it: the home folder shortened to ``~``."""
    home = Path.home()
    try:
        return "~/" + str(path.relative_to(home))
    except ValueError:
        return str(path)
