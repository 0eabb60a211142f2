"""How a server's address is shown to the user, and what in it is secret: without httpx,
which the first screen (whose status line names the server) does not load."""

from __future__ import annotations

from urllib.parse import urlsplit


def display_host(base_url: str) -> str:
    """The host (and port) of ``base_url`` as the user wrote it, without any user name or
    password in it; the whole URL when it has no host."""
    try:
        netloc = urlsplit(base_url).netloc
    except ValueError:  # e.g. an unbalanced "[" for an IPv6 address
        return base_url
    return netloc.rpartition("@")[2] or base_url


def url_password(base_url: str) -> str:
    """The password written in ``base_url`` (``https://user:password@host/v1``), or ""."""
    try:
        return urlsplit(base_url).password or ""
    except ValueError:
        return ""
