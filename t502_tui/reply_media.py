"""A reply's media once the reply is in: the images it links to, downloaded and kept with
it (relays' links expire within hours); a video it links to, fetched to a file when
asked; its images written out as files, to open, save, or name on the shell.

Used alike by the chat and by ``t502 ask``. Progress and failures are kept on the reply
(:attr:`ChatMessage.media`, by URL or ``attachment:N``) and told through ``on_change``; a
failed download leaves the link in the text, to be tried again.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import platformdirs

from t502_tui import paths
from t502_tui.attachments import Attachment
from t502_tui.conversation import ChatMessage
from t502_tui.history import History
from t502_tui.media import (
    EXTENSIONS,
    MAX_IMAGE_BYTES,
    MAX_IMAGES,
    MediaError,
    MediaLink,
    MediaState,
    file_name,
    image_of,
    links_in,
)
from t502_tui.service.errors import DownloadError

if TYPE_CHECKING:
    from t502_tui.service.downloads import Downloader

IMAGES_AT_ONCE = 4
MAX_VIDEO_BYTES = 4 * 1024 * 1024 * 1024
"""The largest video fetched (a minute of 4K is well under this)."""
PROGRESS_SECONDS = 0.1
"""Progress is told at most this often."""

OnChange = Callable[[], None]


@dataclass(frozen=True)
class MediaItem:
    """One image or link of a reply, as the chat lists them: kept images first, then the
    links not kept (images still to download, videos)."""

    key: str
    """Its key in ``ChatMessage.media``: ``attachment:N``, or the link."""
    image: Attachment | None = None
    link: MediaLink | None = None

    @property
    def name(self) -> str:
        """A file name for it."""
        return self.image.name if self.image is not None else self.link.name if self.link else "file"


def media_items(message: ChatMessage) -> list[MediaItem]:
    """The images and media links of a reply, in the order the chat shows them."""
    if message.role != "assistant":
        return []
    items = [MediaItem(f"attachment:{index}", image=image) for index, image in enumerate(message.attachments, 1)]
    kept = {image.source for image in message.attachments if image.source}
    items += [MediaItem(link.url, link=link) for link in links_in(message.content) if link.url not in kept]
    return items


def pending_images(reply: ChatMessage, everything: bool = False) -> list[MediaLink]:
    """The images the reply shows by link (with ``everything``, also bare links to image
    files) that are neither kept with it yet nor downloading now."""
    kept = {image.source for image in reply.attachments if image.source}
    return [link for link in links_in(reply.content)
            if link.kind == "image" and link.url not in kept and (link.shown or everything)
            and not (link.url in reply.media and reply.media[link.url].downloading)]


def image_from_download(data: bytes, link: MediaLink, index: int) -> Attachment:
    """A downloaded file as an image of the reply, if its bytes are one (whatever the
    server called it); raises DownloadError."""
    stem = link.name.rsplit(".", 1)[0] if "." in link.name else link.name
    try:
        return image_of(data, stem or f"image-{index}", link.url)
    except MediaError:
        raise DownloadError("the link does not give a PNG, JPEG, WebP or GIF image") from None


def _state(reply: ChatMessage, key: str) -> MediaState:
    return reply.media.setdefault(key, MediaState())


def _progress(state: MediaState, on_change: OnChange) -> Callable[[int, int | None], None]:
    """Keeps a download's progress on its state, told at most every PROGRESS_SECONDS."""
    last = 0.0

    def progress(received: int, total: int | None) -> None:
        nonlocal last
        state.received, state.total = received, total
        now = time.monotonic()
        if now - last >= PROGRESS_SECONDS:
            last = now
            on_change()

    return progress


async def keep_linked_images(reply: ChatMessage, history: History | None, on_change: OnChange,
                             downloader: Downloader | None = None, everything: bool = False,
                             own_url: str = "", own_key: str = "") -> None:
    """Download the images the reply shows by link (see :func:`pending_images`) and keep
    them with it (in the store too). A failure is noted on the reply
    (``reply.media[url].error``); it never raises.

    Unless the user asked (``everything``: ``r``), only public hosts are fetched, and the
    host of ``own_url``, the provider's base URL (a server of the user's own may be local):
    a model can be made to link to anything on the user's network. ``own_key`` goes to
    that server only."""
    links = pending_images(reply, everything)
    if not links:
        return
    from t502_tui.service.downloads import Downloader  # httpx: not needed for the first screen

    own = downloader is None
    client = downloader or Downloader(public_only=not everything, own_url=own_url, own_key=own_key)
    limit = asyncio.Semaphore(IMAGES_AT_ONCE)

    async def one(link: MediaLink) -> None:
        state = _state(reply, link.url)
        state.error, state.downloading, state.received, state.total = None, True, 0, None
        on_change()
        try:
            async with limit:
                data = await client.fetch(link.url, MAX_IMAGE_BYTES, _progress(state, on_change))
            if len(reply.attachments) >= MAX_IMAGES:
                raise DownloadError(f"a reply keeps at most {MAX_IMAGES} images")
            image = image_from_download(data, link, len(reply.attachments) + 1)
        except DownloadError as error:
            state.error = str(error)
        else:
            reply.attachments = [*reply.attachments, image]
            if history is not None and reply.id is not None:
                ident = reply.id
                await history.write(lambda store: store.add_attachments(ident, [image]))
        finally:
            state.downloading = False
            on_change()

    try:
        await asyncio.gather(*(one(link) for link in links))
    finally:
        if own:
            await client.aclose()


def downloads_dir() -> Path:
    """The user's downloads folder (``~/Downloads`` or the XDG one)."""
    return Path(platformdirs.user_downloads_dir())


def unique_path(folder: Path, name: str) -> Path:
    """``folder/name``, or ``name-2``, ``name-3``... if it is taken; ``name`` made a safe
    file name first (:func:`~t502_tui.media.file_name`: it may come from a server or an
    imported file)."""
    name = file_name(name)
    path = folder / name
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        stem, suffix = name, ""
    number = 2
    while path.exists():
        path = folder / (f"{stem}-{number}.{suffix}" if suffix else f"{stem}-{number}")
        number += 1
    return path


def file_for(target: Path, name: str) -> Path:
    """The file to write for ``target``: a new one named ``name`` in it if it is a folder,
    else ``target`` itself (a path the user typed), its folder made if missing (a first
    save to a downloads folder that does not exist yet). Raises OSError, and ValueError
    for a path holding a NUL. Blocks."""
    if target.is_dir():
        return unique_path(target, name)
    paths.new_dirs(target.parent)
    return target


def write_image(image: Attachment, path: Path) -> Path:
    """Write the image's bytes to ``path`` (a folder: a new file in it named after the
    image); the file written. Raises OSError, and ValueError for a path holding a NUL.
    Blocks: run it off the event loop."""
    path = file_for(path, image.name)
    paths.write_private(path, image.data)
    return path


def cached_file(image: Attachment) -> Path:
    """The image as a file in t502's cache (to open it, or copy its path), written once."""
    folder = paths.private_dir(paths.cache_dir() / "images")
    path = folder / f"{hashlib.sha256(image.data).hexdigest()[:24]}.{EXTENSIONS.get(image.mime, 'img')}"
    if not path.exists():
        paths.write_private(path, image.data)
    return path


async def download_video(reply: ChatMessage, link: MediaLink, target: Path, on_change: OnChange,
                         downloader: Downloader | None = None, own_url: str = "", own_key: str = "") -> Path | None:
    """Fetch a video to ``target`` (a folder: a new file in it) with progress on the
    reply; the file, or None with the reason in ``reply.media[url].error``. ``own_key``
    goes to the server of ``own_url`` only."""
    state = _state(reply, link.url)
    state.error, state.downloading, state.received, state.total = None, True, 0, None
    on_change()

    from t502_tui.service.downloads import Downloader

    own = downloader is None
    client = downloader or Downloader(idle_timeout=60.0, max_seconds=3600.0, own_url=own_url, own_key=own_key)
    try:
        path = await asyncio.to_thread(file_for, target, link.name)
        await client.fetch_to(link.url, path, MAX_VIDEO_BYTES, _progress(state, on_change))
        state.path = path
    except DownloadError as error:
        state.error = str(error)
        return None
    except OSError as error:
        state.error = f"could not write {target}: {error.strerror or error}"
        return None
    except ValueError as error:  # a path holding a NUL
        state.error = f"could not write {target}: {error}"
        return None
    finally:
        state.downloading = False
        if own:
            await client.aclose()
        on_change()
    return path
