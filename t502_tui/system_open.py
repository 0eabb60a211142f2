"""Handing a file to the desktop: open it in the system's viewer, or show its folder.

The viewer is started without a shell (a file name is never a command), detached from
t502's terminal and session (closing t502 leaves it open; its output never reaches the
screen), and reaped by a thread so it does not linger as a zombie.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
from pathlib import Path


def opener_command() -> list[str] | None:
    """The command that opens a file with the user's default application, if there is one."""
    if sys.platform == "darwin":
        return ["open"]
    if sys.platform == "win32":
        return ["explorer"]
    found = shutil.which("xdg-open")
    return [found] if found else None


def open_path(path: Path) -> str | None:
    """Open ``path`` (a file, or a folder to show) in the system's viewer; None when it
    was started, else why not in one line."""
    command = opener_command()
    if command is None:
        return "no program to open files with was found (xdg-open is not installed)"
    try:
        process = subprocess.Popen(
            [*command, str(path)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True, close_fds=True)
    except OSError as error:
        return f"could not start {command[0]}: {error.strerror or error}"
    threading.Thread(target=process.wait, name="t502-opener", daemon=True).start()
    return None
