"""Where t502 keeps its files, following the platform's conventions (XDG on Linux), and
how it writes them: private to the user, whatever the umask.

Every location can be moved with the usual ``XDG_*_HOME`` variables; ``T502_CONFIG``
points at a config file elsewhere (handy for tests and for keeping several profiles).

Chat history, exports, logs and caches are as private as the API key, so everything
t502 writes goes through :func:`private_dir`, :func:`create_private`,
:func:`write_private` or :func:`open_private_append`: folders 0700, files 0600.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from pathlib import Path
from typing import TextIO

import platformdirs

APP_NAME = "t502"
PRIVATE_FILE, PRIVATE_DIR = 0o600, 0o700


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


def private_dir(path: Path) -> Path:
    """Make sure t502's folder ``path`` exists and only its user can enter it.

    Folders created on the way (``~/.local/share`` on a fresh account) are made 0700 too,
    as the XDG spec asks; an existing ``path`` that others can enter is tightened, since
    t502 owns it. Raises OSError when it cannot be created.
    """
    if not new_dirs(path):
        tighten(path)
    return path


def new_dirs(path: Path) -> bool:
    """Make folder ``path`` and those missing on the way to it, each 0700 whatever the
    umask (mkdir's ``parents`` makes them with the umask's mode); folders already there
    are left as they are (a user's own). True if any was made. Raises OSError."""
    created = []
    probe = path
    while not os.path.lexists(probe) and probe != probe.parent:
        if probe.name not in (".", ".."):  # "new/.." is a folder that was there
            created.append(probe)
        probe = probe.parent
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
    for folder in created:
        os.chmod(folder, PRIVATE_DIR)  # mkdir's mode passes through the umask
    return bool(created)


def tighten(path: Path) -> None:
    """Take group and other access away from an existing file or folder of the user's.

    Missing files, and files the user does not own, are left alone (no error).
    """
    try:
        info = path.stat()
        if info.st_uid == os.getuid() and info.st_mode & 0o077:
            os.chmod(path, stat.S_IMODE(info.st_mode) & 0o700)
    except OSError:
        pass


def _open_private(path: Path, flags: int) -> int:
    """A descriptor on ``path``: a new file is exactly 0600, an existing one is tightened."""
    try:
        fd = os.open(path, flags | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except FileExistsError:
        # Without O_NONBLOCK, opening a FIFO waits for its other end: forever.
        not_regular = OSError(errno.EINVAL, "not a regular file (a pipe or a device?)", str(path))
        try:
            fd = os.open(path, flags | os.O_NONBLOCK)
        except OSError as error:
            if error.errno == errno.ENXIO:  # a FIFO opened to write, that nobody reads
                raise not_regular from None
            raise
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            os.close(fd)
            if stat.S_ISDIR(info.st_mode):
                raise OSError(errno.EISDIR, "a folder, not a file", str(path)) from None
            raise not_regular from None
        os.set_blocking(fd, True)
        if info.st_uid == os.getuid() and info.st_mode & 0o077:
            os.fchmod(fd, stat.S_IMODE(info.st_mode) & 0o700)
    else:
        os.fchmod(fd, PRIVATE_FILE)  # os.open's mode passes through the umask
    return fd


def create_private(path: Path) -> None:
    """Create ``path`` empty and 0600 if missing; tighten it if others can read it."""
    os.close(_open_private(path, os.O_RDONLY))


def open_private_append(path: Path) -> TextIO:
    """``path`` opened to append text (UTF-8), created 0600 or tightened first."""
    return os.fdopen(_open_private(path, os.O_WRONLY | os.O_APPEND), "a", encoding="utf-8")


def read_regular(path: Path, limit: int) -> tuple[bytes, int]:
    """The bytes and mode of a regular file of at most ``limit`` bytes.

    Opened without blocking and checked before anything is read: a FIFO put in its place
    would wait forever, ``/dev/zero`` fill the memory. Raises OSError:
    FileNotFoundError, IsADirectoryError, or one saying what is wrong (``strerror``).
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags)
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, "a folder, not a file", str(path))
        if not stat.S_ISREG(mode):
            raise OSError(errno.EINVAL, "not a regular file (a pipe or a device?)", str(path))
        chunks: list[bytes] = []
        size = 0
        while size <= limit and (chunk := os.read(fd, limit + 1 - size)):
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise OSError(errno.EFBIG, f"larger than {limit:,} bytes", str(path))
        return b"".join(chunks), mode
    finally:
        os.close(fd)


def write_private(path: Path, data: str | bytes) -> None:
    """Replace ``path`` with ``data`` at once (a reader never sees half a file), 0600.

    The text goes to a private temporary file beside ``path``, which then takes its
    place; on failure ``path`` is as it was. A pipe or a device at ``path`` is refused
    (OSError), not replaced: `-o /dev/null` run as root must not replace /dev/null.
    """
    with contextlib.suppress(FileNotFoundError):
        if not stat.S_ISREG(os.stat(path).st_mode) and not path.is_dir():
            raise OSError(errno.EINVAL, "not a regular file (a pipe or a device?)", str(path))
    payload = data.encode("utf-8") if isinstance(data, str) else data
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as file:
            os.fchmod(file.fileno(), PRIVATE_FILE)
            file.write(payload)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
