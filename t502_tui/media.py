"""Media in a model's reply: images carried in its text, its content parts or its
``images`` arrays, and links to images and videos.

Image models answer through the chat endpoint in several shapes (see the API notes): a
Markdown image whose URL is a ``data:`` URL of megabytes, streamed over hundreds of
pieces; an expiring http(s) link; a content part holding a data URL, a link or bare
base64; an ``images`` array. :class:`MediaExtractor` reads the text as it streams and
lifts each data-URL image out *before* the text is kept, recorded or shown, so base64
never sits in a message's content, the store's text, the Markdown renderer or the
terminal: the text keeps a short reference (:func:`reference`, ``![image 1](attachment:1)``)
to the image, which becomes an attachment of the reply. Links stay in the text as the
model wrote them; :func:`links_in` finds them for downloading.

Everything is bounded: one image's base64 (:data:`MAX_IMAGE_BYTES` decoded), the images
of one reply (:data:`MAX_IMAGES`), the text held back while a pattern is undecided.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from t502_tui.attachments import Attachment, sniff

MAX_IMAGE_BYTES = 32 * 1024 * 1024
"""The largest generated image kept. Larger than ``max_image_mb`` (what may be attached,
20 MB by default): image models return 1-5 MB, and a 4096² PNG can reach 25 MB. Its
base64 is held in memory once while it arrives; past this it is dropped, not kept."""
MAX_BASE64_CHARS = MAX_IMAGE_BYTES * 4 // 3 + 4096
MAX_IMAGES = 32
"""Images kept from one reply; more are dropped with a note in the text."""
MAX_LINKS = 16
"""Links to images or videos considered in one reply."""
MAX_ALT = 200
"""The longest alt text of an image; a longer ``![...`` is not an image."""
EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/webp": "webp"}
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".gif")
VIDEO_SUFFIXES = (".mp4", ".webm", ".mov", ".m4v")

_PARAM = r"(?:;[A-Za-z0-9._=+-]{1,60})"
_HEADER = re.compile(
    r"(?:(!?)\[([^\[\]\n]{0,%d})\]\(\s*)?data:(image/[A-Za-z0-9.+-]{1,40})%s{0,3};base64," % (MAX_ALT, _PARAM))
"""The start of a base64 image data URL, with the ``![alt](`` before it if there is one."""


def _prefixes(literal: str, then: str) -> str:
    """A regex matching the first character of ``literal`` followed by any prefix of the
    rest (and, after all of it, ``then``)."""
    pattern = then
    for char in reversed(literal[1:]):
        pattern = f"(?:{re.escape(char)}{pattern})?"
    return re.escape(literal[0]) + pattern


_DATA_PREFIX = _prefixes("data:image/", r"[A-Za-z0-9.+-]{0,40}(?:;[A-Za-z0-9._=+-]{0,60}){0,4}")
_UNDECIDED = re.compile(
    r"(?:!?\[[^\[\]\n]{0,%d}(?:\](?:\(\s*(?:%s)?)?)?|!|%s)\Z" % (MAX_ALT, _DATA_PREFIX, _DATA_PREFIX))
"""Text at the end that may still become a :data:`_HEADER` once more text comes."""
_HOLD = MAX_ALT + 320
"""The most text held back while it may still become an image's start."""
_END = re.compile(r"[^A-Za-z0-9+/=_\-]")
"""Where an image's base64 ends: a space or anything else that base64 does not hold (a
data URL missing its ``)`` must not swallow the rest of the answer)."""
_END_IN_LINK = re.compile(r'[\s)"]|[^\x21-\x7e]')
"""Where an image's base64 ends in a link (``![alt](data:...)``): other ASCII before the
``)`` is damage in it, not text after it (text in another script is the answer going on)."""
_LINK_END = re.compile(r'\s{0,40}(?:"[^"]{0,%d}"\s{0,40})?\)' % MAX_ALT)
"""What closes a data URL in a link: spaces, a title, the ``)``."""
_LINK_END_SO_FAR = re.compile(r'\s{0,40}(?:"[^"]{0,%d}(?:"\s{0,40})?)?\Z' % MAX_ALT)
"""Text at the end that may still become :data:`_LINK_END`."""
_WHITESPACE = re.compile(r"\s")

REFERENCE = re.compile(r"!\[([^\[\]\n]{0,%d})\]\(attachment:(\d{1,4})\)" % MAX_ALT)
"""A reference to a reply's attachment, as it stands in the reply's text."""


def reference(alt: str, index: int) -> str:
    """The text that stands for attachment ``index`` (from 1) of a reply."""
    alt = " ".join(alt.replace("[", "").replace("]", "").split())[:MAX_ALT] or f"image {index}"
    return f"![{alt}](attachment:{index})"


@dataclass(frozen=True)
class RawImage:
    """An image's base64 as it arrived, still to be decoded (:func:`decode_image`; its
    bytes tell its type, whatever the server claimed)."""

    alt: str
    data: str
    too_large: bool = False
    cut_off: bool = False
    """The reply ended in the middle of it."""


class MediaError(ValueError):
    """An image cannot be kept; the message says why, in a few words."""


class MediaExtractor:
    """Lifts data-URL images out of streamed text; :meth:`feed` each piece, then
    :meth:`finish`. Both return the text to keep and the images, in order.

    Past :data:`MAX_IMAGES` images, the base64 of each further one is skipped and only
    counted (:attr:`dropped`). The text is walked once, by position: a piece of a
    megabyte holding thousands of small images is not copied once per image.
    """

    def __init__(self) -> None:
        self._held = ""
        """Text that may be the start of an image (or, after an image in a link, its
        ``)``), waiting for more."""
        self._parts: list[str] | None = None
        """The base64 of the image being read (None: reading text)."""
        self._size = 0
        self._alt = ""
        self._in_link = False
        self._keeping = True
        """The image being read is one of the first MAX_IMAGES (else it is skipped)."""
        self._closing = False
        """After an image's base64 in a link: skipping its title up to the ``)``."""
        self._lifted = 0
        self.dropped = 0
        """Images skipped past MAX_IMAGES."""

    def feed(self, text: str) -> list[str | RawImage]:
        """The kept text and the images found in ``text`` (with what came before)."""
        out: list[str | RawImage] = []
        buffer, self._held = self._held + text, ""
        at = 0
        while at < len(buffer):
            if self._closing:
                at = self._skip_title(buffer, at)
            elif self._parts is not None:
                at = self._read_base64(buffer, at, out)
            else:
                at = self._read_text(buffer, at, out)
        return out

    def finish(self, complete: bool = True) -> list[str | RawImage]:
        """What is left at the end of the reply; an image still open is cut off unless the
        reply ended normally (a data URL missing only its ``)``)."""
        out: list[str | RawImage] = []
        if self._parts is not None:
            self._close(out, cut_off=not complete)
        if self._held:
            out.append(self._held)
            self._held = ""
        self._closing = False
        return out

    def _read_text(self, buffer: str, at: int, out: list[str | RawImage]) -> int:
        match = _HEADER.search(buffer, at)
        if match is not None:
            if match.start() > at:
                out.append(buffer[at:match.start()])
            self._parts, self._size = [], 0
            self._alt = match.group(2) or ""
            self._in_link = match.group(2) is not None
            self._keeping = self._lifted < MAX_IMAGES
            return match.end()
        start = self._undecided(buffer, at)
        if start > at:
            out.append(buffer[at:start])
        self._held = buffer[start:]
        return len(buffer)

    @staticmethod
    def _undecided(buffer: str, at: int) -> int:
        """Where the text that may still become an image starts (its length: none)."""
        match = _UNDECIDED.search(buffer, max(at, len(buffer) - _HOLD))
        return len(buffer) if match is None else match.start()

    def _read_base64(self, buffer: str, at: int, out: list[str | RawImage]) -> int:
        end = (_END_IN_LINK if self._in_link else _END).search(buffer, at)
        stop = len(buffer) if end is None else end.start()
        self._size += stop - at
        if self._parts is not None and self._keeping and self._size <= MAX_BASE64_CHARS:
            self._parts.append(buffer[at:stop])
        if end is not None:
            self._close(out, cut_off=False)
            self._closing = self._in_link
        return stop

    def _skip_title(self, buffer: str, at: int) -> int:
        """After an image's base64 in a link: past its title and ``)``; or, when the text
        goes on otherwise (the ``)`` left out), back to text where the base64 ended."""
        match = _LINK_END.match(buffer, at)
        if match is not None:
            self._closing = False
            return match.end()
        if _LINK_END_SO_FAR.match(buffer, at):
            self._held = buffer[at:]
            return len(buffer)
        self._closing = False
        return at

    def _close(self, out: list[str | RawImage], cut_off: bool) -> None:
        if self._keeping:
            too_large = self._size > MAX_BASE64_CHARS
            out.append(RawImage(self._alt, "" if too_large else "".join(self._parts or []), too_large, cut_off))
            self._lifted += 1
        else:
            self.dropped += 1
        self._parts = None


def raw_image(url: str) -> RawImage | None:
    """An image sent as a data URL or bare base64 (a content part, an ``images`` entry);
    None for an http(s) link (kept as a link and downloaded)."""
    text = url.strip()
    if text[:8].lower().startswith(("http://", "https://")):
        return None
    if len(text) > MAX_BASE64_CHARS + 200:
        return RawImage("", "", too_large=True)
    match = _HEADER.match(text)
    if match is not None and match.group(2) is None:
        return RawImage("", text[match.end():])
    return RawImage("", text)


def decode_image(raw: RawImage, name: str) -> Attachment:
    """The image's bytes, checked: valid base64 of a PNG, JPEG, GIF or WebP image within
    :data:`MAX_IMAGE_BYTES`. Raises :class:`MediaError`. Takes tens of milliseconds for
    a large image: run it off the event loop."""
    if raw.cut_off:
        raise MediaError("the reply ended in the middle of it")
    if raw.too_large:
        raise MediaError(f"larger than {MAX_IMAGE_BYTES // 1024 // 1024} MB")
    text = raw.data
    if _WHITESPACE.search(text):
        text = "".join(text.split())
    if "-" in text or "_" in text:
        text = text.translate(str.maketrans("-_", "+/"))
    text = text.rstrip("=")
    text += "=" * (-len(text) % 4)
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise MediaError("its base64 is damaged") from None
    if not data:
        raise MediaError("it is empty")
    return image_of(data, name)


def image_of(data: bytes, stem: str, source: str | None = None) -> Attachment:
    """``data`` as an image of a reply, named ``stem`` and the extension its bytes call
    for (what a server called it counts for nothing); raises :class:`MediaError` unless
    it is a PNG, JPEG, GIF or WebP image."""
    kind = sniff(data)
    if kind is None:
        raise MediaError("not a PNG, JPEG, WebP or GIF image")
    mime, width, height = kind
    return Attachment(f"{stem}.{EXTENSIONS[mime]}", mime, data, width, height, source=source)


def file_name(name: str, default: str = "image") -> str:
    """``name`` made safe to write a file by: its last path part, with anything but
    letters, digits, ``.``, ``_`` and ``-`` turned into ``-``. Names come from servers and
    imported files: none may lead out of its folder, make one, or hide as a dot file."""
    tail = name.replace("\\", "/").rsplit("/", 1)[-1]
    return re.sub(r"[^\w.-]+", "-", tail)[-80:].strip(".-") or default


def text_for_model(content: str) -> str:
    """A reply's text as it goes back to the model: references become ``[image N]``
    (the images themselves go back as image parts, see Conversation.request_messages)."""
    return REFERENCE.sub(lambda m: f"[image {m.group(2)}]", content)


# -- links ------------------------------------------------------------------------------------

_MARKDOWN_IMAGE = re.compile(r"!\[[^\[\]\n]{0,%d}\]\(\s*<?(https?://[^\s<>()]+)" % MAX_ALT)
_URL = re.compile(r"https?://[^\s<>()\[\]\"'`]+")


@dataclass(frozen=True)
class MediaLink:
    """A link in a reply to an image (kept once downloaded) or a video (fetched when asked)."""

    url: str
    kind: str
    """``image`` or ``video``."""
    shown: bool = False
    """A Markdown image (``![..](url)``) or an image part: what image models send, fetched
    as soon as the reply is in. A bare link that merely ends in ``.png`` is fetched only
    when asked, as a model explaining a web page did not make it."""

    @property
    def name(self) -> str:
        """The file name the link ends in (for saving), or a plain one."""
        return file_name(_path(self.url).rstrip("/"), "video.mp4" if self.kind == "video" else "image")


def _path(url: str) -> str:
    """The path of ``url``; empty when urlsplit cannot read it (a host with characters
    that change under NFKC, such as a fullwidth ``＠``)."""
    try:
        return urlsplit(url).path
    except ValueError:
        return ""


def _kind(url: str) -> str | None:
    """``video`` or ``image`` by the link's extension; None for neither."""
    path = _path(url).lower()
    return "video" if path.endswith(VIDEO_SUFFIXES) else "image" if path.endswith(IMAGE_SUFFIXES) else None


def links_in(text: str) -> list[MediaLink]:
    """Links to media in ``text``, each once: http(s) Markdown images, then any other
    http(s) URL whose path ends in an image or video extension. The extension comes first:
    ``![video](…/clip.mp4)`` is a video."""
    found: dict[str, str] = {}
    shown = [match.group(1) for match in _MARKDOWN_IMAGE.finditer(text)]
    for url in shown:
        found.setdefault(url, _kind(url) or "image")
    for match in _URL.finditer(text):
        url = match.group(0).rstrip(".,;:!?*_")
        if kind := _kind(url):
            found.setdefault(url, kind)
    inline = set(shown)
    return [MediaLink(url, kind, url in inline) for url, kind in list(found.items())[:MAX_LINKS]]


@dataclass
class MediaState:
    """What t502 is doing, or did, with one image or link of a reply in this run (not
    stored: a restart shows links not downloaded yet again as such)."""

    downloading: bool = False
    received: int = 0
    """Bytes received so far (while downloading)."""
    total: int | None = None
    """Bytes expected, when the server said."""
    error: str | None = None
    """Why the last download failed."""
    path: Path | None = None
    """Where the file was written (a video downloaded, an image saved or opened)."""
