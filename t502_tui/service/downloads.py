"""Fetching the files a reply links to: generated images (kept with the reply) and videos
(written to a file when asked).

Links point at the relay's or the model maker's file hosts, not at the API: the client
here has no API key to send, follows at most a few redirects, and every download has a
size cap and an idle timeout (and an overall one), so no host can make t502 wait or grow
forever. What a server says a file is counts for nothing: the caller looks at the bytes.

A reply's text is the model's, and a model can be talked into writing any link: what
t502 fetches without being asked (``public_only``) stays off the user's own network and
off plain http once a link started on https.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import os
import socket
import tempfile
from collections.abc import Callable
from pathlib import Path

import httpx

from t502_tui import __version__
from t502_tui.paths import PRIVATE_FILE
from t502_tui.service.errors import DownloadError, tls_problem

Progress = Callable[[int, int | None], None]
"""Told (bytes received, bytes expected if the server said) as a download goes."""

MAX_REDIRECTS = 5
CHUNK = 64 * 1024


def _host(url: str) -> str:
    """The host of an http(s) URL as httpx writes it; empty for anything else."""
    try:
        return httpx.URL(url).host if url.startswith(("http://", "https://")) else ""
    except httpx.InvalidURL:
        return ""


def _origin(url: httpx.URL) -> tuple[str, str, int]:
    """Scheme, host and port (the scheme's own when none is written)."""
    return url.scheme, url.host, url.port or (443 if url.scheme == "https" else 80)


def _is_public(address: str) -> bool:
    """False for loopback, private, link-local, reserved and multicast addresses (an
    IPv4 address written as IPv6 too), and for anything that is not an address."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


class Downloader:
    """One connection pool for a reply's downloads; close it with :meth:`aclose`."""

    def __init__(self, *, idle_timeout: float = 30.0, connect_timeout: float = 10.0,
                 max_seconds: float = 600.0, public_only: bool = False, own_url: str = "",
                 own_key: str = "") -> None:
        self.idle_timeout = idle_timeout
        self.connect_timeout = connect_timeout
        self.max_seconds = max_seconds
        """The longest one download may take, however the server trickles."""
        self.public_only = public_only
        """Refuse hosts at private, loopback, link-local or reserved addresses (but the
        server of ``own_url``, the provider's, which may be a local one: its host at its
        port, not any other service on that host), and redirects
        from https to http: for downloads nobody asked for."""
        self._own: tuple[str, str, int] | None = None
        if _host(own_url):
            self._own = _origin(httpx.URL(own_url))
        self._own_key = own_key
        """The provider's key, sent to its own server only (a relay may serve the files it
        made behind the key, as the API is), never to another host, redirects included."""
        self._http = httpx.AsyncClient(
            headers={"User-Agent": f"t502/{__version__}"},
            timeout=httpx.Timeout(idle_timeout, connect=connect_timeout),
            follow_redirects=False,  # followed by _open, which checks each step
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

    async def _open(self, url: str) -> httpx.Response:
        """The response at ``url``, redirects followed; with ``public_only``, each step
        checked before it is taken. Close it."""
        request = self._http.build_request("GET", url)
        for _ in range(MAX_REDIRECTS + 1):
            if self.public_only:
                await self._check_host(request.url)
            if self._own_key and self._own is not None and _origin(request.url) == self._own:
                request.headers["Authorization"] = f"Bearer {self._own_key}"
            else:
                request.headers.pop("Authorization", None)
            response = await self._http.send(request, stream=True)
            following = response.next_request
            if following is None:
                return response
            await response.aclose()
            if following.url.scheme not in ("http", "https"):
                raise DownloadError(f"{request.url.host} redirects to a {following.url.scheme}: address, not a web one")
            if self.public_only and request.url.scheme == "https" and following.url.scheme != "https":
                raise DownloadError(f"{request.url.host} redirects from https to plain http")
            request = following
        raise httpx.TooManyRedirects("too many redirects", request=request)

    async def _check_host(self, url: httpx.URL) -> None:
        """Raise unless ``url`` is the provider's server or its host has only public addresses."""
        host = url.host
        if _origin(url) == self._own:
            return
        try:
            addresses = [str(ipaddress.ip_address(host))]
        except ValueError:
            try:
                async with asyncio.timeout(self.connect_timeout):
                    found = await asyncio.get_running_loop().getaddrinfo(host, url.port or 443,
                                                                         type=socket.SOCK_STREAM)
            except (OSError, UnicodeError, TimeoutError):
                raise DownloadError(f"cannot find the host {host}") from None
            addresses = [str(info[4][0]) for info in found]
        if not all(_is_public(address) for address in addresses):
            raise DownloadError(f"{host} is a local or private address, not fetched without asking")

    async def _get(self, url: str, limit: int, take: Callable[[bytes], object],
                   on_progress: Progress | None) -> int:
        host = _host(url)
        if not host:
            raise DownloadError("not an http(s) link")
        received = 0
        try:
            async with asyncio.timeout(self.max_seconds):
                response = await self._open(url)
                async with contextlib.aclosing(response):
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
        except httpx.ConnectError as exc:
            raise DownloadError(tls_problem(exc, host) or f"cannot connect to {host}") from None
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise DownloadError(f"the download from {host} failed ({type(exc).__name__})") from None
        if received == 0:
            raise DownloadError(f"{host} sent an empty file")
        return received
