"""Images attached to a message: read, checked, measured and sent as data URLs.

Only the standard library: the format and size come from each format's header (PNG,
JPEG, GIF, WebP), which is all a chat client needs to tell an image from anything else.
"""

from __future__ import annotations

import base64
import struct
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
DEFAULT_MAX_COUNT = 8


class AttachmentError(ValueError):
    """The file cannot be attached; the message says why, naming the file."""


@dataclass(frozen=True)
class Attachment:
    """An image kept with its message (its bytes, not a path that may vanish)."""

    name: str
    mime: str
    data: bytes
    width: int | None = None
    height: int | None = None
    source: str | None = None
    """The http(s) link it was downloaded from (a generated image a relay linked to);
    None for an image attached by the user or sent inline by the model."""

    @property
    def size(self) -> int:
        return len(self.data)

    def describe(self) -> str:
        """``cat.png · 120 KB · 640×480``."""
        if self.size < 1024:
            size = f"{self.size} B"
        elif self.size < 1024 * 1024:
            size = f"{self.size / 1024:.0f} KB"
        else:
            size = f"{self.size / 1024 / 1024:.1f} MB"
        dims = f" · {self.width}×{self.height}" if self.width and self.height else ""
        return f"{self.name} · {size}{dims}"

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


def path_from_text(text: str) -> Path | None:
    """A path typed, pasted or dropped into the terminal: quotes, ``file://`` and ``\\ ``
    escapes removed; None unless it is one line naming an existing file."""
    text = text.strip()
    if not text or "\n" in text:
        return None
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        text = text[1:-1]
    if text.startswith("file://"):
        text = unquote(urlsplit(text).path)
    text = text.replace("\\ ", " ")
    path = Path(text).expanduser()
    try:
        return path if path.is_file() else None
    except OSError:
        return None


def load_image(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> Attachment:
    """Read an image to attach; raises AttachmentError with a clear reason."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise AttachmentError(f"{path}: no such file") from None
    except OSError as exc:
        raise AttachmentError(f"{path}: {exc.strerror or exc}") from None
    if path.is_dir():
        raise AttachmentError(f"{path} is a folder, not an image")
    if size > max_bytes:
        raise AttachmentError(
            f"{path.name} is {size / 1024 / 1024:.1f} MB; the limit is {max_bytes / 1024 / 1024:g} MB"
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise AttachmentError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    kind = sniff(data)
    if kind is None:
        raise AttachmentError(f"{path.name} is not a PNG, JPEG, WebP or GIF image")
    mime, width, height = kind
    return Attachment(path.name, mime, data, width, height)


def check_count(count: int, max_count: int = DEFAULT_MAX_COUNT) -> None:
    """Refuse more than ``max_count`` images on one message."""
    if count > max_count:
        raise AttachmentError(f"at most {max_count} image{'s' if max_count != 1 else ''} can go with one message")
