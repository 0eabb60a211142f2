"""Copying to the clipboard through the terminal (OSC 52), and saying honestly how it went.

A program in a terminal cannot reach the clipboard itself: it asks the terminal (an OSC 52
sequence), and some terminals refuse or need a setting. So t502 says "copied" only where
that is likely true, and otherwise what to do.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from weakref import WeakSet

from textual.app import App

from t502_tui.terminal_text import first_up

MAX_COPIED = 1_000_000
"""Characters sent in one copy. Terminals cap what a program may copy (often far less:
xterm and tmux take about 100 KB), and the whole text goes through the terminal's input at
once, so a bigger text is refused with a pointer to a way that works."""


_TOLD: WeakSet[App[object]] = WeakSet()
"""Apps whose user was told once what a copy through tmux or SSH needs."""


def copy_note(count: int, what: str, environ: Mapping[str, str] | None = None,
              told: bool = False) -> tuple[str, bool]:
    """The message to show after sending ``count`` characters of ``what`` to the terminal,
    and whether it is a warning (the copy may not have reached the clipboard). ``told``:
    the user has read what tmux or SSH needs; it is not said at every copy."""
    env = os.environ if environ is None else environ
    size = f"{count:,} character{'s' if count != 1 else ''}"
    if env.get("TERM_PROGRAM") == "Apple_Terminal":
        return (f"Apple Terminal does not let programs copy: {what} ({size}) was not copied. "
                "Hold ⌥ Option and drag to select with the terminal instead.", True)
    if told and (env.get("TMUX") or env.get("SSH_CONNECTION") or env.get("SSH_TTY")):
        return f"{first_up(what)} ({size}) sent to {'tmux' if env.get('TMUX') else 'your terminal'}", False
    if env.get("TMUX"):
        return (f"{first_up(what)} ({size}) sent to tmux; it reaches your clipboard if tmux has "
                "`set -g set-clipboard on` and your terminal allows it.", True)
    if env.get("SSH_CONNECTION") or env.get("SSH_TTY"):
        return (f"{first_up(what)} ({size}) sent through SSH to your terminal; it reaches the clipboard "
                "if your terminal allows programs to copy (OSC 52).", True)
    return f"Copied {what} ({size})", False


def copy(app: App[object], text: str, what: str) -> None:
    """Copy ``text`` and tell the user what happened."""
    if len(text) > MAX_COPIED:
        app.notify(f"{first_up(what)} is too long to copy through the terminal ({len(text):,} characters; "
                   f"at most {MAX_COPIED:,}). Export the conversation instead (Ctrl+P, 'Export conversation').",
                   severity="warning", timeout=8)
        return
    app.copy_to_clipboard(text)
    note, doubtful = copy_note(len(text), what, told=app in _TOLD)
    if doubtful:
        _TOLD.add(app)
    app.notify(note, severity="warning" if doubtful else "information", timeout=6 if doubtful else 3)
