"""A raw-socket HTTP server on 127.0.0.1 that misbehaves on purpose, for fault tests.

:mod:`loopback` speaks correct HTTP; this one writes whatever bytes a behaviour says:
a body shorter than its ``Content-Length``, headers and then silence, keep-alive comments
forever, one byte at a time, an endless line, a gzip bomb, garbage for a status line, a
reset mid-stream. Each connection runs in a thread of its own. A behaviour is a function
of the :class:`Connection`; the factories below build the common ones::

    server = FaultServer(stall_after_headers()).start()
    ...  # point a ChatClient at server.url
    assert server.connections[0].client_closed.wait(5)
    server.stop()

A :class:`Connection` records what was asked and what was sent, and notices when the client
goes away, so a test can show that the client stopped reading before the server was done
(``client_closed`` set, ``completed`` not). Behaviours that would go on forever end when
the client leaves or the server stops; none of them sleeps longer than its ``interval``.
"""

from __future__ import annotations

import select
import socket
import struct
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

Behaviour = Callable[["Connection"], None]


@dataclass
class Connection:
    """One accepted connection: the request read from it and what the behaviour sent."""

    sock: socket.socket
    stopping: threading.Event
    request: bytes = b""
    sent: int = 0
    """Bytes written so far (status line and headers included)."""
    client_closed: threading.Event = field(default_factory=threading.Event)
    """Set when a write failed or the client was seen closing its end."""
    completed: threading.Event = field(default_factory=threading.Event)
    """Set when the behaviour wrote everything it meant to."""

    @property
    def path(self) -> str:
        return self.request.split(b" ", 2)[1].decode("latin-1") if self.request.count(b" ") >= 2 else ""

    def send(self, data: bytes) -> bool:
        """Write ``data``; False (and ``client_closed`` set) if the client has gone."""
        try:
            self.sock.sendall(data)
        except OSError:
            self.client_closed.set()
            return False
        self.sent += len(data)
        return True

    def gone(self, wait: float = 0.0) -> bool:
        """True if the client closed its end (or the server is stopping), waiting up to ``wait`` s."""
        if self.stopping.is_set():
            return True
        try:
            readable, _, _ = select.select([self.sock], [], [], wait)
            if readable and not self.sock.recv(65536, socket.MSG_PEEK):
                self.client_closed.set()
        except OSError:
            self.client_closed.set()
        return self.client_closed.is_set() or self.stopping.is_set()

    def hold(self) -> None:
        """Keep the connection open, saying nothing, until the client leaves or the server stops."""
        while not self.gone(0.05):
            pass

    def reset(self) -> None:
        """Close with a TCP reset instead of an orderly close."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()


def head(status: int = 200, headers: dict[str, str] | None = None, reason: str = "OK") -> bytes:
    """A status line and headers, ready to write."""
    lines = [f"HTTP/1.1 {status} {reason}", *(f"{k}: {v}" for k, v in (headers or {}).items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


SSE_HEADERS = {"Content-Type": "text/event-stream", "Connection": "close"}


def respond(status: int, body: bytes, headers: dict[str, str] | None = None) -> Behaviour:
    """A well-formed response with a Content-Length (a baseline, or for bodies that are the fault)."""
    def behaviour(conn: Connection) -> None:
        all_headers = {"Content-Type": "application/json", "Connection": "close",
                       "Content-Length": str(len(body)), **(headers or {})}
        if conn.send(head(status, all_headers) + body):
            conn.completed.set()
    return behaviour


def short_body(body: bytes, claimed: int, content_type: str = "application/json") -> Behaviour:
    """Claim ``claimed`` bytes of body, send ``body`` (fewer), then close."""
    def behaviour(conn: Connection) -> None:
        headers = {"Content-Type": content_type, "Content-Length": str(claimed), "Connection": "close"}
        if conn.send(head(200, headers) + body):
            conn.completed.set()
    return behaviour


def stall_after_headers(headers: dict[str, str] | None = None, body: bytes = b"") -> Behaviour:
    """Send the headers (and the start of a body, if given), then nothing, ever."""
    def behaviour(conn: Connection) -> None:
        if conn.send(head(200, headers or SSE_HEADERS) + body):
            conn.hold()
    return behaviour


def repeat_forever(piece: bytes, interval: float, headers: dict[str, str] | None = None,
                   first: bytes = b"") -> Behaviour:
    """Headers, ``first``, then ``piece`` every ``interval`` s until the client leaves."""
    def behaviour(conn: Connection) -> None:
        if not conn.send(head(200, headers or SSE_HEADERS) + first):
            return
        while not conn.gone(interval) and conn.send(piece):
            pass
    return behaviour


def keep_alive_forever(interval: float = 0.02, first: bytes = b"") -> Behaviour:
    """An event stream of nothing but ``: keep-alive`` comments."""
    return repeat_forever(b": keep-alive\n\n", interval, first=first)


def trickle(data: bytes, interval: float = 0.02, headers: dict[str, str] | None = None,
            first: bytes | None = None) -> Behaviour:
    """Send the headers (or ``first`` instead), then ``data`` one byte every ``interval`` s
    (one byte per second, sped up for tests)."""
    def behaviour(conn: Connection) -> None:
        if not conn.send(head(200, headers or SSE_HEADERS) if first is None else first):
            return
        for byte in data:
            if conn.gone(interval) or not conn.send(bytes([byte])):
                return
        conn.completed.set()
    return behaviour


def endless_line(total: int, piece: int = 64 * 1024, prefix: bytes = b"data: ") -> Behaviour:
    """An event stream whose first line never ends: ``prefix`` then ``x`` up to ``total`` bytes."""
    def behaviour(conn: Connection) -> None:
        if not conn.send(head(200, SSE_HEADERS) + prefix):
            return
        filler = b"x" * piece
        for _ in range(0, total, piece):
            if not conn.send(filler):
                return
        conn.completed.set()
        conn.hold()
    return behaviour


def gzip_bomb(size: int, unit: bytes = b"\0") -> bytes:
    """``unit`` repeated to ``size`` bytes, gzipped: about a thousandth of that on the wire."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: the gzip container
    block = unit * (1024 * 1024 // len(unit))
    parts = [compressor.compress(block) for _ in range(size // len(block))]
    parts.append(compressor.flush())
    return b"".join(parts)


def gzipped(body: bytes, content_type: str = "text/event-stream", piece: int = 16 * 1024,
            interval: float = 0.0, status: int = 200) -> Behaviour:
    """Send ``body`` (already gzipped) with ``Content-Encoding: gzip``, ``piece`` bytes every
    ``interval`` s (so that a client that stops reading is seen to leave before the end)."""
    def behaviour(conn: Connection) -> None:
        headers = {"Content-Type": content_type, "Content-Encoding": "gzip",
                   "Content-Length": str(len(body)), "Connection": "close"}
        if not conn.send(head(status, headers)):
            return
        for start in range(0, len(body), piece):
            if conn.gone(interval) or not conn.send(body[start:start + piece]):
                return
        conn.completed.set()
        conn.hold()
    return behaviour


def bad_gzip(content_type: str = "text/event-stream") -> Behaviour:
    """``Content-Encoding: gzip`` over bytes that are not gzip."""
    return gzipped(b"this is not gzip at all, not even close" * 4, content_type)


def raw(data: bytes, then: str = "close") -> Behaviour:
    """Write ``data`` exactly (garbage for a status line, say); then ``close``, ``hold`` or ``reset``."""
    def behaviour(conn: Connection) -> None:
        if not conn.send(data):
            return
        conn.completed.set()
        if then == "hold":
            conn.hold()
        elif then == "reset":
            conn.reset()
    return behaviour


def sse_then_reset(events: bytes) -> Behaviour:
    """An event stream that starts well and ends in a TCP reset."""
    return raw(head(200, SSE_HEADERS) + events, then="reset")


class FaultServer:
    """A threaded server: every request gets ``behaviour`` (or the next of ``script``)."""

    def __init__(self, behaviour: Behaviour | None = None) -> None:
        self.behaviour = behaviour
        self.script: list[Behaviour] = []
        """Behaviours for the next requests, in order; ``behaviour`` once these are used."""
        self.connections: list[Connection] = []
        self.stopping = threading.Event()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> FaultServer:
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self._listener.settimeout(0.05)
        self.port = self._listener.getsockname()[1]
        thread = threading.Thread(target=self._accept, daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def stop(self) -> None:
        self.stopping.set()
        for thread in self._threads:
            thread.join(5)
        self._listener.close()

    def __enter__(self) -> FaultServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                sock, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            thread = threading.Thread(target=self._serve, args=(sock,), daemon=True)
            thread.start()
            with self._lock:
                self._threads.append(thread)

    def _serve(self, sock: socket.socket) -> None:
        conn = Connection(sock, self.stopping)
        try:
            sock.settimeout(5)
            conn.request = self._read_request(sock)
            with self._lock:
                self.connections.append(conn)
                behaviour = self.script.pop(0) if self.script else self.behaviour
            sock.settimeout(None)
            if behaviour is not None:
                behaviour(conn)
        except OSError:
            conn.client_closed.set()
        finally:
            try:
                sock.close()
            except OSError:
                pass

    @staticmethod
    def _read_request(sock: socket.socket) -> bytes:
        data = b""
        while b"\r\n\r\n" not in data:
            piece = sock.recv(65536)
            if not piece:
                return data
            data += piece
        header, _, body = data.partition(b"\r\n\r\n")
        length = 0
        for line in header.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        while len(body) < length:
            piece = sock.recv(65536)
            if not piece:
                break
            body += piece
        return header + b"\r\n\r\n" + body

