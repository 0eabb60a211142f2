"""A scriptable OpenAI-compatible HTTP server on 127.0.0.1, for tests and benchmarks.

It runs its own asyncio loop in a thread, so synchronous tests, async tests and
subprocesses (the CLI) can all talk to it. Tests queue :class:`Reply` objects per path
(or install a handler); each reply is sent exactly as scripted: status, headers, a body,
or chunks written one by one with pauses, gates that wait for the test, and an optional
dropped connection at the end. Every request is recorded with its parsed JSON body.

Like a new-api relay, it can also check a key (:attr:`LoopbackServer.key`), list models
with metadata (:attr:`~LoopbackServer.models`), and serve ``/api/pricing`` and the two
``/dashboard/billing`` endpoints (:attr:`~LoopbackServer.pricing`, ``balance``); without
them those paths answer 404, as a plain OpenAI-compatible server does.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import ssl
import subprocess
import sys
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class Gate:
    """A point in a scripted stream where the server waits until the test opens it."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.reached = threading.Event()
        """Set when the server has sent everything before the gate."""

    def open(self) -> None:
        self._event.set()

    async def wait(self) -> None:
        self.reached.set()
        while not self._event.is_set():
            await asyncio.to_thread(self._event.wait, 0.5)


@dataclass
class Pause:
    """Wait this many seconds before the next chunk (for slow and idle streams)."""

    seconds: float


Chunk = bytes | str | Pause | Gate


@dataclass
class Reply:
    """One scripted HTTP response."""

    status: int = 200
    body: bytes | str | None = None
    chunks: list[Chunk] | None = None
    """Written one by one, HTTP-chunked; with a Content-Length header, as the body itself
    (a file of known size arriving bit by bit)."""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"
    drop: bool = False
    """End the connection without finishing the chunked body (a broken stream)."""


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


def chunk(content: str | None = None, *, reasoning: str | None = None,
          finish: str | None = None, role: str | None = None, model: str = "test-model",
          usage: dict[str, Any] | None = None, no_finish_key: bool = False) -> dict[str, Any]:
    """One ``chat.completion.chunk`` object."""
    delta: dict[str, Any] = {}
    if role:
        delta["role"] = role
    if content is not None:
        delta["content"] = content
    if reasoning is not None:
        delta["reasoning_content"] = reasoning
    choice: dict[str, Any] = {"index": 0, "delta": delta}
    if not no_finish_key:
        choice["finish_reason"] = finish
    data: dict[str, Any] = {"id": "chatcmpl-1", "object": "chat.completion.chunk",
                            "created": 1760000000, "model": model, "choices": [choice]}
    if usage is not None:
        data["usage"] = usage
    return data


def usage_chunk(prompt: int = 5, completion: int = 7, **extra: Any) -> dict[str, Any]:
    """The final ``choices: []`` chunk that ``include_usage`` asks for."""
    return {"id": "chatcmpl-1", "object": "chat.completion.chunk", "model": "test-model",
            "choices": [], "usage": usage(prompt, completion, **extra)}


def usage(prompt: int = 5, completion: int = 7, **extra: Any) -> dict[str, Any]:
    return {"prompt_tokens": prompt, "completion_tokens": completion,
            "total_tokens": prompt + completion, **extra}


def sse(*items: dict[str, Any] | str, done: bool = True, newline: str = "\n") -> list[Chunk]:
    """SSE chunks, one event per item (dicts become JSON); ``[DONE]`` at the end."""
    out: list[Chunk] = []
    for item in items:
        payload = item if isinstance(item, str) else json.dumps(item)
        out.append(f"data: {payload}{newline}{newline}")
    if done:
        out.append(f"data: [DONE]{newline}{newline}")
    return out


def stream_reply(chunks: Iterable[Chunk], **kwargs: Any) -> Reply:
    return Reply(chunks=list(chunks), content_type="text/event-stream", **kwargs)


def text_stream(text: str, *, pieces: int = 3, model: str = "test-model",
                prompt_tokens: int = 5, reasoning: str = "") -> Reply:
    """A well-behaved stream of ``text`` in a few pieces, with usage and [DONE]."""
    step = max(1, len(text) // pieces)
    parts = [text[i:i + step] for i in range(0, len(text), step)] or [""]
    items: list[dict[str, Any]] = [chunk(role="assistant", content="", model=model)]
    if reasoning:
        items.append(chunk(reasoning=reasoning, model=model))
    items += [chunk(p, model=model) for p in parts]
    items.append(chunk(finish="stop", model=model))
    items.append(usage_chunk(prompt_tokens, len(text.split()) or 1))
    return stream_reply(sse(*items))


def models_reply(ids: Iterable[str]) -> Reply:
    return Reply(body=json.dumps({"object": "list", "data": [
        {"id": i, "object": "model", "created": 1700000000, "owned_by": "test"} for i in ids]}))


DEFAULT_MODELS = ["gpt-5", "claude-sonnet-4", "deepseek-r1", "gemini-2.5-pro",
                  "text-embedding-3-small", "dall-e-3"]


def relay_pricing(entries: dict[str, dict[str, Any]], group_ratio: dict[str, float] | None = None) -> dict[str, Any]:
    """A new-api ``/api/pricing`` body: ``{model: {"model_ratio": ..., ...}}`` per model."""
    data = [{"model_name": name, "quota_type": 0, "model_ratio": 1, "completion_ratio": 1, "model_price": 0,
             "enable_groups": ["default"], **entry} for name, entry in entries.items()]
    return {"success": True, "data": data, "group_ratio": group_ratio if group_ratio is not None else {"default": 1}}


DEMO_PRICING = relay_pricing({
    "gpt-5": {"model_ratio": 0.625, "completion_ratio": 8},            # $1.25 / $10 per 1M
    "claude-sonnet-4": {"model_ratio": 1.5, "completion_ratio": 5},    # $3 / $15 per 1M
    "deepseek-r1": {"model_ratio": 0.275, "completion_ratio": 4},      # $0.55 / $2.20 per 1M
    "gemini-2.5-pro": {"quota_type": 1, "model_price": 0.04},          # $0.04 per request
})
"""A relay's price list for the default models, for tests and for trying t502 by hand."""
DEMO_MODELS = [
    {"id": "gpt-5", "context_length": 400_000}, {"id": "claude-sonnet-4", "context_length": 200_000},
    {"id": "deepseek-r1", "context_window": 64_000}, {"id": "gemini-2.5-pro", "max_model_len": 1_048_576},
    {"id": "tiny-context", "top_provider": {"context_length": 300}}, {"id": "text-embedding-3-small"},
]
"""Model entries with context lengths, each key a server may use; ``tiny-context`` takes 300 tokens."""


def self_signed(folder: Path) -> tuple[ssl.SSLContext, Path] | None:
    """A server TLS context with a certificate made for 127.0.0.1 (and the certificate's
    file, to trust it with SSL_CERT_FILE), or None without ``openssl``."""
    openssl = shutil.which("openssl")
    if openssl is None:
        return None
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context, cert


class LoopbackServer:
    """Start with :meth:`start`; the base URL for clients is :attr:`url` (ends in ``/v1``)."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.tls = tls
        """Serve https with this context (None: plain http)."""
        self.requests: list[RecordedRequest] = []
        self.queues: dict[str, deque[Reply]] = defaultdict(deque)
        self.handler: Callable[[RecordedRequest], Reply | None] | None = None
        self.request_seen = threading.Condition()
        self.disconnected = threading.Event()
        """Set when a client closes its connection while a reply is still being sent."""
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.AbstractServer | None = None
        self.port = 0
        self.last_byte_at = 0.0
        """When the last streamed reply's last byte was written (time.time())."""
        self.log_requests = False
        """Print each request (method, path, body) to stderr: for trying t502 by hand."""
        self.key: str | None = None
        """When set, a request without ``Authorization: Bearer <key>`` gets 401."""
        self.models: list[dict[str, Any]] | None = None
        """The ``/models`` entries (metadata and all); None: :data:`DEFAULT_MODELS`, bare."""
        self.pricing: dict[str, Any] | str | None = None
        """The body of ``/api/pricing`` (at the root, not under /v1); None: 404."""
        self.balance: tuple[float, float] | None = None
        """(``hard_limit_usd``, ``total_usage`` in cents) for the billing endpoints; None: 404."""

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}/v1"

    def start(self) -> LoopbackServer:
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self.tls), self._loop).result(5)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        async def close() -> None:
            assert self._server is not None
            self._server.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()
        asyncio.run_coroutine_threadsafe(close(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def script(self, path: str, *replies: Reply) -> None:
        """Queue replies for requests whose path ends with ``path`` (e.g. ``/chat/completions``)."""
        self.queues[path].extend(replies)

    def chat_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    def wait_for_requests(self, count: int, timeout: float = 10) -> None:
        with self.request_seen:
            if not self.request_seen.wait_for(lambda: len(self.requests) >= count, timeout):
                raise TimeoutError(f"expected {count} requests, got {len(self.requests)}")

    def requests_to(self, suffix: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.split("?")[0].endswith(suffix)]

    def _economy(self, request: RecordedRequest) -> Reply | None:
        path = request.path.split("?")[0]
        if path == "/api/pricing" and self.pricing is not None:
            return Reply(body=self.pricing if isinstance(self.pricing, str) else json.dumps(self.pricing))
        if path.endswith("/dashboard/billing/subscription") and self.balance is not None:
            return Reply(body=json.dumps({"object": "billing_subscription", "hard_limit_usd": self.balance[0],
                                          "soft_limit_usd": self.balance[0], "access_until": 0}))
        if path.endswith("/dashboard/billing/usage") and self.balance is not None:
            return Reply(body=json.dumps({"object": "list", "total_usage": self.balance[1]}))
        if path.endswith("/models") and self.models is not None:
            return Reply(body=json.dumps({"object": "list", "data": [
                {"object": "model", "created": 1700000000, "owned_by": "test", **m} for m in self.models]}))
        return None

    def _pick(self, request: RecordedRequest) -> Reply:
        if self.key is not None and request.headers.get("authorization") != f"Bearer {self.key}":
            return Reply(401, body=json.dumps({"error": {"message": "Invalid token", "type": "new_api_error"}}))
        if (reply := self._economy(request)) is not None and not any(
                request.path.endswith(suffix) and queue for suffix, queue in self.queues.items()):
            return reply
        for suffix, queue in self.queues.items():
            if request.path.endswith(suffix) and queue:
                return queue.popleft()
        if self.handler and (reply := self.handler(request)):
            return reply
        if request.path.endswith("/models"):
            return models_reply(DEFAULT_MODELS)
        if request.path.endswith("/chat/completions"):
            model = request.json.get("model", "test-model")
            return text_stream("Hello from the loopback server.", model=model)
        return Reply(404, body=json.dumps({"error": {"message": "no such path"}}))

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, path, _ = lines[0].split(" ", 2)
            headers = {}
            for line in lines[1:]:
                if ":" in line:
                    name, value = line.split(":", 1)
                    headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            request = RecordedRequest(method, path, headers, body)
            if self.log_requests:
                print(method, path, body.decode("utf-8", "replace"), file=sys.stderr, flush=True)
            with self.request_seen:
                self.requests.append(request)
                self.request_seen.notify_all()
            await self._respond(self._pick(request), reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            self.disconnected.set()
        except asyncio.CancelledError:
            pass
        finally:
            writer.close()

    async def _respond(self, reply: Reply, reader: asyncio.StreamReader,
                       writer: asyncio.StreamWriter) -> None:
        status_line = f"HTTP/1.1 {reply.status} {_REASONS.get(reply.status, 'Status')}\r\n"
        headers = {"Content-Type": reply.content_type, "Connection": "close", **reply.headers}
        if reply.chunks is None:
            body = reply.body.encode() if isinstance(reply.body, str) else (reply.body or b"")
            headers["Content-Length"] = str(len(body))
            writer.write((status_line + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
                          + "\r\n").encode() + body)
            await writer.drain()
            return
        sized = "Content-Length" in reply.headers  # a body of known length, sent in pieces
        if not sized:
            headers["Transfer-Encoding"] = "chunked"
        writer.write((status_line + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
                      + "\r\n").encode())
        await writer.drain()
        watcher = asyncio.create_task(self._watch_disconnect(reader))
        try:
            for item in reply.chunks:
                if isinstance(item, Pause):
                    await asyncio.sleep(item.seconds)
                    continue
                if isinstance(item, Gate):
                    await item.wait()
                    continue
                data = item.encode() if isinstance(item, str) else item
                writer.write(data if sized else f"{len(data):x}\r\n".encode() + data + b"\r\n")
                await writer.drain()
            if not reply.drop and not sized:
                writer.write(b"0\r\n\r\n")
                await writer.drain()
            self.last_byte_at = time.time()
            if self.log_requests:
                print(f"LAST-BYTE {self.last_byte_at:.6f}", file=sys.stderr, flush=True)
        finally:
            watcher.cancel()

    async def _watch_disconnect(self, reader: asyncio.StreamReader) -> None:
        if await reader.read(1) == b"":
            self.disconnected.set()


_REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden",
            404: "Not Found", 422: "Unprocessable Entity", 429: "Too Many Requests",
            500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable",
            301: "Moved Permanently"}


def main() -> None:
    """Run the server in the foreground, for trying t502 by hand: ``python tests/loopback.py``."""
    # Import by module name: scripted replies must share this module's classes, not __main__'s.
    from loopback import LoopbackServer
    from scripted_replies import reply_for

    import argparse

    parser = argparse.ArgumentParser(description="a loopback OpenAI-compatible server for trying t502")
    parser.add_argument("--key", help="refuse requests without this key (401)")
    parser.add_argument("--relay", action="store_true",
                        help="act as a new-api relay: prices, a balance, context lengths (tiny-context: 300)")
    parser.add_argument("--balance", type=float, default=25.0, help="hard_limit_usd with --relay")
    args = parser.parse_args()
    server = LoopbackServer()
    server.handler = reply_for
    server.log_requests = True
    server.key = args.key
    if args.relay:
        server.pricing, server.models, server.balance = DEMO_PRICING, DEMO_MODELS, (args.balance, 658.0)
    server.start()
    print(f"T502_BASE_URL={server.url}", file=sys.stderr, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
