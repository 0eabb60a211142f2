"""Files attached to a message: images (sent as data URLs) and text or code files (sent
as fenced blocks), read, checked and measured.

Only the standard library: an image's format and size come from its header (PNG, JPEG,
GIF, WebP), which is all a chat client needs to tell an image from anything else; any
other file is taken as text if it decodes as text (see :mod:`t502_tui.text_files`).
"""

from __future__ import annotations

import base64
import glob
import os
import shlex
import stat
import struct
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from urllib.parse import unquote, urlsplit

from t502_tui.text_files import decode_text
from t502_tui.tokens import estimate_image_tokens, estimate_tokens, short_count

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
DEFAULT_MAX_COUNT = 8
DEFAULT_MAX_TEXT_BYTES = 512 * 1024


class AttachmentError(ValueError):
    """The file cannot be attached; the message says why, naming the file."""


@dataclass(frozen=True)
class Attachment:
    """An image or a text file kept with its message (its content, not a path that may
    vanish); a text file's ``data`` is its text in UTF-8, whatever it was on disk."""

    name: str
    mime: str
    data: bytes
    width: int | None = None
    height: int | None = None
    kind: str = "image"
    """``image`` or ``text``."""
    source: str | None = None
    """The http(s) link it was downloaded from (a generated image a relay linked to);
    None for an image attached by the user or sent inline by the model."""

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def is_text(self) -> bool:
        return self.kind == "text"

    @property
    def text(self) -> str:
        """A text file's content."""
        return self.data.decode("utf-8", "replace")

    @property
    def icon(self) -> str:
        return "📄" if self.is_text else "🖼"

    @cached_property
    def tokens(self) -> int:
        """About how many tokens the attachment adds to a request (an image by its size:
        :func:`~t502_tui.tokens.estimate_image_tokens`). Worked out once: the context meter
        asks for every file of the conversation at each redraw."""
        if not self.is_text:
            return estimate_image_tokens(self.width, self.height)
        return estimate_tokens(self.text) + estimate_tokens(self.name) + 4

    def describe(self, name: str | None = None) -> str:
        """``cat.png · 120 KB · 640×480``, or ``main.py · ≈1.2k tokens`` (with ``name``
        in place of the file's own: a shortened one)."""
        name = self.name if name is None else name
        if self.is_text:
            return f"{name} · ≈{short_count(self.tokens)} tokens"
        if self.size < 1024:
            size = f"{self.size} B"
        elif self.size < 1024 * 1024:
            size = f"{self.size / 1024:.0f} KB"
        else:
            size = f"{self.size / 1024 / 1024:.1f} MB"
        dims = f" · {self.width}×{self.height}" if self.width and self.height else ""
        return f"{name} · {size}{dims}"

    def data_url(self) -> str:
        """The image as a ``data:`` URL, as the chat API takes it."""
        return f"data:{self.mime};base64,{base64.b64encode(self.data).decode('ascii')}"


def sniff(data: bytes) -> tuple[str, int | None, int | None] | None:
    """(mime type, width, height) of a PNG, JPEG, GIF or WebP image, or None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return "image/png", width, height
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return "image/gif", width, height
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return ("image/webp", *_webp_size(data))
    if data.startswith(b"\xff\xd8\xff"):
        return ("image/jpeg", *_jpeg_size(data))
    return None


def _webp_size(data: bytes) -> tuple[int | None, int | None]:
    chunk = data[12:16]
    if chunk == b"VP8X" and len(data) >= 30:
        return 1 + int.from_bytes(data[24:27], "little"), 1 + int.from_bytes(data[27:30], "little")
    if chunk == b"VP8L" and len(data) >= 25:
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8 " and len(data) >= 30:
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    return None, None


def _jpeg_size(data: bytes) -> tuple[int | None, int | None]:
    index = 2
    while index + 9 < len(data):
        if data[index] != 0xFF:
            index += 1
            continue
        marker = data[index + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            index += 2
            continue
        length = int.from_bytes(data[index + 2:index + 4], "big")
        if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF):
            height, width = struct.unpack(">HH", data[index + 5:index + 9])
            return width, height
        index += 2 + length
    return None, None


def _existing(text: str) -> Path | None:
    if text.startswith("file://"):
        text = unquote(urlsplit(text).path)
    path = Path(text).expanduser()
    try:
        return path if path.exists() else None
    except (OSError, ValueError):
        return None


def path_from_text(text: str, folders: bool = False) -> Path | None:
    """A path typed, pasted or dropped into the terminal: quotes, ``file://`` and ``\\ ``
    escapes removed; None unless it is one line naming an existing file (or, with
    ``folders``, folder)."""
    text = text.strip()
    if not text or "\n" in text:
        return None
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        text = text[1:-1]
    path = _existing(text.replace("\\ ", " "))
    return path if path is not None and (folders or path.is_file()) else None


def paths_from_text(text: str) -> list[Path]:
    """The paths in a paste or a drop: one path (spaces and all), or several as a terminal
    drops them (quoted or escaped, space-separated), every one existing; else none."""
    single = path_from_text(text, folders=True)
    if single is not None:
        return [single]
    if "\n" in text.strip():
        return []
    try:
        words = shlex.split(text)
    except ValueError:
        return []
    found = [_existing(word) for word in words]
    return [path for path in found if path is not None] if words and all(found) else []


def expand_paths(text: str) -> list[Path]:
    """Paths typed into the attach dialog: several (quoted like a shell), and patterns
    (``src/*.py``) expanded, in order; a pattern that matches nothing is kept as typed,
    to be reported as missing."""
    try:
        words = shlex.split(text)
    except ValueError:
        words = [text.strip()]
    out: list[Path] = []
    for word in words:
        expanded = str(Path(word).expanduser())
        matches = sorted(glob.glob(expanded)) if glob.has_magic(expanded) else []
        out += [Path(match) for match in matches] or [Path(expanded)]
    return out


class TooBig(AttachmentError):
    """The file is larger than the limit; ``size`` says by how much."""

    def __init__(self, message: str, size: int) -> None:
        super().__init__(message)
        self.size = size


def _too_big(path: Path, size: int, max_bytes: int) -> TooBig:
    return TooBig(f"{path.name} is {size / 1024 / 1024:.1f} MB; the limit is {max_bytes / 1024 / 1024:g} MB", size)


def read_regular_file(path: Path, max_bytes: int, what: str = "a file") -> bytes:
    """The bytes of ``path``, which must be a regular file of at most ``max_bytes``.

    A folder, a FIFO (opening it would wait for a writer), a device such as /dev/zero
    (endless) or anything that grows past the limit while read is refused with a clear
    reason: never more than ``max_bytes + 1`` bytes are read.
    """
    try:
        handle = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise AttachmentError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise AttachmentError(f"{path} is a folder, not {what}") from None
    except OSError as exc:
        raise AttachmentError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    try:
        info = os.fstat(handle)
        if stat.S_ISDIR(info.st_mode):
            raise AttachmentError(f"{path} is a folder, not {what}")
        if not stat.S_ISREG(info.st_mode):
            raise AttachmentError(f"{path} is not a regular file (a pipe or a device), so it is not {what}")
        if info.st_size > max_bytes:
            raise _too_big(path, info.st_size, max_bytes)
        with os.fdopen(handle, "rb", closefd=False) as file:
            data = file.read(max_bytes + 1)
    except OSError as exc:
        raise AttachmentError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    finally:
        os.close(handle)
    if len(data) > max_bytes:
        raise _too_big(path, len(data), max_bytes)
    return data


def load_image(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> Attachment:
    """Read an image to attach; raises AttachmentError with a clear reason."""
    data = read_regular_file(path, max_bytes, "an image")
    kind = sniff(data)
    if kind is None:
        raise AttachmentError(f"{path.name} is not a PNG, JPEG, WebP or GIF image")
    return _image(path, data, kind)


def _image(path: Path, data: bytes, kind: tuple[str, int | None, int | None]) -> Attachment:
    """An image attachment; one whose header says it has no pixels is refused (a server
    would, and it would count as a whole image in the context meanwhile)."""
    mime, width, height = kind
    if width == 0 or height == 0:
        raise AttachmentError(f"{path.name} is an image with no pixels ({width}×{height})")
    return Attachment(path.name, mime, data, width, height)


def check_count(count: int, max_count: int = DEFAULT_MAX_COUNT, what: str = "image") -> None:
    """Refuse more than ``max_count`` images (or text files) on one message."""
    if count > max_count:
        raise AttachmentError(f"at most {max_count} {what}{'s' if max_count != 1 else ''} can go with one message")


def _size(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB" if size >= 1024 * 1024 else f"{size / 1024:.0f} KB"


def load_text(path: Path, data: bytes) -> Attachment:
    """A text file's attachment from its bytes; AttachmentError for a binary one."""
    decoded = decode_text(data)
    if decoded is None:
        raise AttachmentError(f"{path.name} looks like a binary file, not text: only text and code files"
                              " and images (PNG, JPEG, WebP, GIF) can be attached")
    return Attachment(path.name, "text/plain", decoded[0].encode("utf-8"), kind="text")


def load_attachment(path: Path, max_image_bytes: int = DEFAULT_MAX_BYTES,
                    max_text_bytes: int = DEFAULT_MAX_TEXT_BYTES) -> Attachment:
    """Read an image or a text file to attach; AttachmentError says why it cannot be."""
    if path.is_dir():
        raise AttachmentError(f"{path} is a folder: attach the files in it instead"
                              f" (several paths, or a pattern like {path / '*.py'})")
    try:
        data = read_regular_file(path, max(max_image_bytes, max_text_bytes), "an image or a text file")
    except TooBig as error:  # too big for either: say both limits (a .txt is not held to an image's)
        raise AttachmentError(f"{path.name} is {_size(error.size)}; images up to {_size(max_image_bytes)}"
                              f" and text files up to {_size(max_text_bytes)} can be attached") from None
    if (kind := sniff(data)) is not None:
        if len(data) > max_image_bytes:
            raise _too_big(path, len(data), max_image_bytes)
        return _image(path, data, kind)
    if len(data) > max_text_bytes:
        raise AttachmentError(f"{path.name} is {_size(len(data))}; text files up to {_size(max_text_bytes)} can be attached")
    return load_text(path, data)
