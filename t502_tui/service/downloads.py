"""Fetching the files a reply links to: generated images (kept with the reply) and videos
(written to a file when asked).

Links point at the relay's or the model maker's file hosts, not at the API: the client
here has no API key to send, follows at most a few redirects, and every download has a
size cap and an idle timeout (and an overall one), so no host can make t502 wait or grow
forever. What a server says a file is counts for nothing: the caller looks at the bytes.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import httpx

from t502_tui import __version__
from t502_tui.paths import PRIVATE_FILE
from t502_tui.service.errors import DownloadError

Progress = Callable[[int, int | None], None]
"""Told (bytes received, bytes expected if the server said) as a download goes."""

MAX_REDIRECTS = 5
CHUNK = 64 * 1024


class Downloader:
    """One connection pool for a reply's downloads; close it with :meth:`aclose`."""

    def __init__(self, *, idle_timeout: float = 30.0, connect_timeout: float = 10.0,
                 max_seconds: float = 600.0) -> None:
        self.idle_timeout = idle_timeout
        self.max_seconds = max_seconds
        """The longest one download may take, however the server trickles."""
        self._http = httpx.AsyncClient(
            headers={"User-Agent": f"t502/{__version__}"},
            timeout=httpx.Timeout(idle_timeout, connect=connect_timeout),
            follow_redirects=True,
            max_redirects=MAX_REDIRECTS,
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Downloader:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def fetch(self, url: str, limit: int, on_progress: Progress | None = None) -> bytes:
        """The whole file at ``url``, at most ``limit`` bytes; raises :class:`DownloadError`."""
        data = bytearray()

        async def take(piece: bytes) -> None:
            data.extend(piece)

        await self._get(url, limit, take, on_progress)
        return bytes(data)

    async def fetch_to(self, url: str, path: Path, limit: int, on_progress: Progress | None = None) -> int:
        """Write the file at ``url`` to ``path`` (private; a reader never sees half of it);
        its size. Raises :class:`DownloadError`, OSError when ``path`` cannot be written."""
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
        os.fchmod(fd, PRIVATE_FILE)
        file = os.fdopen(fd, "wb")
        try:
            async def take(piece: bytes) -> None:
                await asyncio.to_thread(file.write, piece)

            size = await self._get(url, limit, take, on_progress)
            file.close()
            os.replace(temporary, path)
            return size
        except BaseException:
            file.close()
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise

    async def _get(self, url: str, limit: int, take: Callable[[bytes], object],
                   on_progress: Progress | None) -> int:
        try:
            host = httpx.URL(url).host if url.startswith(("http://", "https://")) else ""
        except httpx.InvalidURL:
            host = ""
        if not host:
            raise DownloadError("not an http(s) link")
        received = 0
        try:
            async with asyncio.timeout(self.max_seconds):
                async with self._http.stream("GET", url) as response:
                    if response.status_code != 200:
                        raise DownloadError(f"HTTP {response.status_code} from {host}")
                    length = response.headers.get("content-length", "")
                    total = int(length) if length.isdigit() else None
                    if total is not None and total > limit:
                        raise DownloadError(f"larger than {limit // 1024 // 1024} MB")
                    if on_progress:
                        on_progress(0, total)
                    async for piece in response.aiter_bytes(CHUNK):
                        received += len(piece)
                        if received > limit:
                            raise DownloadError(f"larger than {limit // 1024 // 1024} MB")
                        result = take(piece)
                        if asyncio.iscoroutine(result):
                            await result
                        if on_progress:
                            on_progress(received, total)
        except TimeoutError:
            raise DownloadError(f"took longer than {self.max_seconds:g} s") from None
        except httpx.TooManyRedirects:
            raise DownloadError(f"{host} redirects too many times") from None
        except httpx.ConnectTimeout:
            raise DownloadError(f"could not connect to {host}") from None
        except httpx.TimeoutException:
            raise DownloadError(f"{host} sent nothing for {self.idle_timeout:g} s") from None
        except httpx.ConnectError:
            raise DownloadError(f"cannot connect to {host}") from None
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise DownloadError(f"the download from {host} failed ({type(exc).__name__})") from None
        if received == 0:
            raise DownloadError(f"{host} sent an empty file")
        return received
