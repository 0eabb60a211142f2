"""Reading streamed replies in a helper process, so drawing keeps a core of its own.

A server that sends a reply as fast as it can delivers tens of thousands of events a
second, and taking them in (HTTP chunks, SSE, JSON) costs as much CPU as drawing them.
The helper runs a :class:`ChatClient` and hands the app the events in batches, text
merged, a few milliseconds apart; the app only draws. Messages between the two are
length-prefixed pickles over the helper's stdin and stdout: the API key travels there,
never in its arguments or environment. Where the helper cannot start, replies are read
in the app's own process, as before.
"""

from __future__ import annotations

import asyncio
import logging
import os
import pickle
import struct
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from t502_tui.debug_log import enable_debug_log, mask_secret
from t502_tui.service.client import ChatClient
from t502_tui.service.errors import ServiceError
from t502_tui.service.events import ContentDelta, ReasoningDelta, StreamEvent

log = logging.getLogger("t502.service.reader")

BATCH_SECONDS = 0.005
"""Events are handed over at most this often; a lone event goes at once."""
START_SECONDS = 15.0
"""A helper not ready by then is given up on (replies are read in-process)."""
_LENGTH = struct.Struct(">I")


@dataclass(frozen=True)
class ClientSettings:
    """Everything a :class:`ChatClient` is made from."""

    base_url: str
    api_key: str
    idle_timeout: float = 120.0
    connect_timeout: float = 10.0
    max_retries: int = 2

    def client(self) -> ChatClient:
        return ChatClient(
            self.base_url, self.api_key, idle_timeout=self.idle_timeout,
            connect_timeout=self.connect_timeout, max_retries=self.max_retries,
        )


def _frame(message: object) -> bytes:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return _LENGTH.pack(len(data)) + data


async def _receive(reader: asyncio.StreamReader) -> Any:
    (size,) = _LENGTH.unpack(await reader.readexactly(_LENGTH.size))
    return pickle.loads(await reader.readexactly(size))


# -- the helper's side ------------------------------------------------------------------------


class _Batch:
    """Events waiting to be handed over, consecutive text merged into one event."""

    def __init__(self, send: Callable[[list[StreamEvent]], None]) -> None:
        self._send = send
        self._events: list[StreamEvent] = []
        self._texts: list[str] = []
        self._text_kind: type[ContentDelta] | type[ReasoningDelta] | None = None
        self._sent_at = 0.0
        self._timer: asyncio.TimerHandle | None = None
        self.sent_text = False

    def add(self, event: StreamEvent) -> None:
        if isinstance(event, (ContentDelta, ReasoningDelta)):
            if type(event) is not self._text_kind:
                self._end_text()
                self._text_kind = type(event)
            self._texts.append(event.text)
        else:
            self._end_text()
            self._events.append(event)
        wait = BATCH_SECONDS - (time.monotonic() - self._sent_at)
        if wait <= 0:
            self.flush()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(wait, self.flush)

    def _end_text(self) -> None:
        if self._texts and self._text_kind is not None:
            self._events.append(self._text_kind("".join(self._texts)))
            self.sent_text = True
        self._texts = []
        self._text_kind = None

    def flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._end_text()
        if self._events:
            self._send(self._events)
            self._events = []
            self._sent_at = time.monotonic()


class _Helper:
    """Serves the app's requests, one task per reply."""

    def __init__(self, out: int) -> None:
        self._out = out
        self._clients: dict[ClientSettings, ChatClient] = {}
        self._tasks: dict[int, asyncio.Task[None]] = {}

    def send(self, message: object) -> None:
        """Write a message whole; a full pipe (the app is busy) makes the reply wait."""
        data = memoryview(_frame(message))
        while data:
            data = data[os.write(self._out, data):]

    def handle(self, message: tuple[Any, ...]) -> None:
        if message[0] == "stream":
            _, ident, settings, messages, model, params = message
            self._tasks[ident] = asyncio.create_task(self._stream(ident, settings, messages, model, params))
        elif message[0] == "cancel" and (task := self._tasks.pop(message[1], None)):
            task.cancel()

    async def _stream(self, ident: int, settings: ClientSettings, messages: list[dict[str, Any]],
                      model: str, params: dict[str, Any]) -> None:
        if settings not in self._clients:
            mask_secret(settings.api_key)
            self._clients[settings] = settings.client()
        batch = _Batch(lambda events: self.send((ident, "events", events)))
        try:
            async for event in self._clients[settings].stream_chat(messages, model, **params):
                batch.add(event)
            batch.flush()
            self.send((ident, "done", None))
        except ServiceError as error:
            batch.flush()
            self.send((ident, "error", error))
        except Exception as error:  # never leave the app waiting on a reply that is gone
            log.exception("reply reader failed")
            batch.flush()
            self.send((ident, "error", ServiceError(f"reading the reply failed: {error!r}",
                                                    partial=batch.sent_text)))
        finally:
            self._tasks.pop(ident, None)

    async def aclose(self) -> None:
        for task in self._tasks.values():
            task.cancel()
        for client in self._clients.values():
            await client.aclose()


async def _serve(out: int) -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    helper = _Helper(out)
    helper.send(("ready",))
    try:
        while True:
            try:
                message = await _receive(reader)
            except (asyncio.IncompleteReadError, ConnectionError):
                return  # the app is gone
            if message[0] == "debug":
                enable_debug_log(message[2], Path(message[1]))
            else:
                helper.handle(message)
    finally:
        await helper.aclose()


def main() -> None:
    """The helper's entry point: stdout carries messages only, so anything printed by
    mistake goes to stderr instead."""
    out = os.dup(sys.stdout.fileno())
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    try:
        asyncio.run(_serve(out))
    except KeyboardInterrupt:
        pass


# -- the app's side ---------------------------------------------------------------------------


class ReaderProcess:
    """Starts the helper, sends it requests and yields the events that come back."""

    def __init__(self) -> None:
        self._process: asyncio.subprocess.Process | None = None
        self._pump: asyncio.Task[None] | None = None
        self._queues: dict[int, asyncio.Queue[tuple[str, Any]]] = {}
        self._next_id = 0

    @property
    def running(self) -> bool:
        """True while the helper can take requests."""
        return self._pump is not None and not self._pump.done()

    async def start(self, debug_log: Path | None = None, secrets: list[str] | None = None) -> bool:
        """Start the helper; False when it cannot run (replies are then read in-process).

        ``secrets`` (the API key) are kept out of the helper's environment, and masked in
        its part of the debug log.
        """
        secrets = [s for s in secrets or [] if s]
        package_root = str(Path(__file__).resolve().parents[2])
        env = {name: value for name, value in os.environ.items() if value.strip() not in secrets}
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH", "")) if p)
        try:
            self._process = process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "t502_tui.service.reader_process",
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.DEVNULL, env=env, start_new_session=True,
            )
            assert process.stdout is not None
            hello = await asyncio.wait_for(_receive(process.stdout), START_SECONDS)
            if hello != ("ready",):
                raise ValueError(f"unexpected greeting {hello!r}")
        except (OSError, ValueError, EOFError, pickle.UnpicklingError, asyncio.TimeoutError,
                asyncio.IncompleteReadError) as error:
            log.debug("reply reader did not start: %r; replies are read in-process", error)
            await self.aclose()
            return False
        if debug_log is not None:
            self._send(("debug", str(debug_log), secrets))
        self._pump = asyncio.create_task(self._take_replies(process))
        log.debug("reply reader started (pid %d)", process.pid)
        return True

    def _send(self, message: object) -> None:
        if self._process is not None and self._process.stdin is not None:
            self._process.stdin.write(_frame(message))

    async def _take_replies(self, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None
        try:
            while True:
                ident, kind, payload = await _receive(process.stdout)
                if queue := self._queues.get(ident):
                    queue.put_nowait((kind, payload))
        except (asyncio.IncompleteReadError, ConnectionError, EOFError, pickle.UnpicklingError) as error:
            log.debug("reply reader stopped: %r", error)
        finally:
            for queue in self._queues.values():
                queue.put_nowait(("lost", None))

    async def stream_chat(
        self, settings: ClientSettings, messages: list[dict[str, Any]], model: str, **params: Any
    ) -> AsyncIterator[StreamEvent]:
        """Like :meth:`ChatClient.stream_chat`, read by the helper."""
        if not self.running:
            raise ServiceError("the reply reader process is not running")
        self._next_id += 1
        ident = self._next_id
        queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self._queues[ident] = queue
        got_text = ended = False
        try:
            self._send(("stream", ident, settings, messages, model, params))
            while True:
                kind, payload = await queue.get()
                if kind == "events":
                    for event in payload:
                        got_text = got_text or isinstance(event, (ContentDelta, ReasoningDelta))
                        yield event
                elif kind == "done":
                    ended = True
                    return
                elif kind == "error":
                    ended = True
                    raise payload
                else:
                    ended = True
                    raise ServiceError("the reply reader process stopped unexpectedly", partial=got_text)
        finally:
            del self._queues[ident]
            if not ended and self.running:
                self._send(("cancel", ident))

    async def aclose(self) -> None:
        """Stop the helper (it also stops by itself when the app's end of the pipe closes)."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.stdin is not None:
            process.stdin.close()
        try:
            await asyncio.wait_for(process.wait(), 2)
        except asyncio.TimeoutError:
            process.kill()
            await process.wait()
        if self._pump is not None:
            await self._pump


if __name__ == "__main__":
    main()
