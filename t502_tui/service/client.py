"""The HTTP client for an OpenAI-compatible API: model list, streamed and whole replies.

One :class:`ChatClient` (one ``httpx.AsyncClient``, so one connection pool) per app.
Requests are retried with backoff only where that is safe: connect failures, 429 and
5xx answers, and only before any part of a reply arrived. Cancelling the task that
iterates :meth:`ChatClient.stream_chat` closes the connection at once.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import random
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from t502_tui import __version__
from t502_tui.service.chunks import (
    completion_from_body,
    decode_payload,
    events_from_chunk,
    events_from_completion,
    is_error,
    stream_error,
)
from t502_tui.service.errors import (
    APIError,
    ConnectionFailed,
    IncompleteReply,
    ServiceError,
    TimedOut,
    error_fields,
    error_from_response,
    one_line,
    summarize_body,
)
from t502_tui.service.events import (
    Completion,
    ContentDelta,
    Finished,
    ModelInfo,
    ReasoningDelta,
    StreamEvent,
)
from t502_tui.service.pricing import UnusableAnswer, context_length, listed_prices
from t502_tui.service.sse import SSEDecoder, SSEEvent

log = logging.getLogger("t502.service")

MAX_ERROR_BODY = 256 * 1024
"""How much of an error body is read: enough for any message, not a whole site."""
MAX_INFO_BODY = 8 * 1024 * 1024
"""The largest price list or billing answer read: a relay's covers a few thousand models."""


@dataclass(frozen=True)
class RetryNotice:
    """Told to the ``on_retry`` callback before waiting to try again."""

    attempt: int
    delay: float
    reason: str


def _errno_free(exc: BaseException) -> str:
    """The most specific reason in an exception chain: "Connection refused" rather than
    httpx's "All connection attempts failed"."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError) and (seen.errno or seen.strerror):
            return os.strerror(seen.errno) if isinstance(seen.errno, int) and seen.errno > 0 else str(seen.strerror)
        seen = seen.__cause__ or seen.__context__
    text = str(exc) or type(exc).__name__
    return re.sub(r"^\[Errno -?\d+\]\s*", "", text)


class ChatClient:
    """Talks to one OpenAI-compatible server with one key."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        idle_timeout: float = 120.0,
        connect_timeout: float = 10.0,
        max_retries: int = 2,
        retry_base_delay: float = 1.0,
        max_retry_wait: float = 30.0,
        on_retry: Callable[[RetryNotice], None] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self.idle_timeout = idle_timeout
        self.connect_timeout = connect_timeout
        self.max_retries = max_retries
        self.retry_base_delay = retry_base_delay
        self.max_retry_wait = max_retry_wait
        self.on_retry = on_retry
        headers = {"User-Agent": f"t502/{__version__}", "Accept": "application/json"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self._http = httpx.AsyncClient(
            base_url=self.base_url + "/",
            headers=headers,
            timeout=httpx.Timeout(idle_timeout, connect=connect_timeout, write=30.0),
            follow_redirects=False,
        )

    @property
    def host(self) -> str:
        """The server's address as the user wrote it, for messages."""
        return httpx.URL(self.base_url).netloc.decode("ascii", "replace")

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def __aenter__(self) -> ChatClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def _scrub(self, text: str) -> str:
        """Remove the API key from text a server echoed back."""
        return text.replace(self._api_key, "***") if self._api_key else text

    def _scrubbed(self, error: ServiceError) -> ServiceError:
        error.message = self._scrub(error.message)
        error.detail = self._scrub(error.detail)
        error.args = (error.message,)
        log.debug("request failed: %s", error.detail)
        return error

    # -- requests ----------------------------------------------------------------------

    @asynccontextmanager
    async def _response(
        self, method: str, path: str, body: dict[str, Any] | None = None,
        on_retry: Callable[[RetryNotice], None] | None = None,
    ) -> AsyncIterator[httpx.Response]:
        """Send a request and yield its successful response, open for streaming.

        Error statuses become :class:`APIError`; retryable failures are retried first.
        """
        attempt = 0
        waited = 0.0
        while True:
            error = await self._attempt(method, path, body)
            if isinstance(error, httpx.Response):
                try:
                    yield error
                finally:
                    await error.aclose()
                return
            retryable = isinstance(error, ConnectionFailed) or (
                isinstance(error, APIError) and error.retryable
            )
            if isinstance(error, APIError) and error.retry_after is not None:
                delay = error.retry_after
            else:
                delay = self.retry_base_delay * (2**attempt) * (0.75 + random.random() / 2)
            if not retryable or attempt >= self.max_retries or waited + delay > self.max_retry_wait:
                raise self._scrubbed(error)
            attempt += 1
            waited += delay
            log.debug("retry %d in %.1f s after: %s", attempt, delay, error.detail)
            if tell := on_retry or self.on_retry:
                tell(RetryNotice(attempt, delay, self._scrub(error.message)))
            await asyncio.sleep(delay)

    async def _attempt(
        self, method: str, path: str, body: dict[str, Any] | None
    ) -> httpx.Response | ServiceError:
        """One try: the open response if it succeeded, else the error it came to."""
        request = self._http.build_request(method, path, json=body)
        log.debug("%s %s model=%s", method, request.url, (body or {}).get("model"))
        try:
            response = await self._http.send(request, stream=True)
        except httpx.ConnectTimeout:
            return TimedOut(f"could not connect to {self.host} within {self.connect_timeout:g} s")
        except httpx.ConnectError as exc:
            return ConnectionFailed(f"cannot connect to {self.host}: {_errno_free(exc)}")
        except httpx.TimeoutException:
            raise self._scrubbed(
                TimedOut(f"the server did not answer within {self.idle_timeout:g} s")
            ) from None
        except httpx.UnsupportedProtocol:
            raise ServiceError(f"the base URL {self.base_url!r} is not an http(s) URL") from None
        except httpx.HTTPError as exc:
            raise self._scrubbed(
                ConnectionFailed(f"the connection to {self.host} failed: {_errno_free(exc)}")
            ) from None
        status = response.status_code
        if status < 300:
            return response
        try:
            raw = bytearray()
            async for piece in response.aiter_bytes():
                raw += piece
                if len(raw) >= MAX_ERROR_BODY:
                    break
        except httpx.HTTPError:
            pass
        finally:
            await response.aclose()
        text = raw.decode("utf-8", "replace")
        if status < 400:
            where = response.headers.get("location", "")
            return APIError(
                f"the server redirects (HTTP {status}) to {where or 'another address'}:"
                " set the base URL to the address it names",
                status=status,
                detail=text,
            )
        return error_from_response(
            status, response.reason_phrase, self._scrub(text), response.headers.get("retry-after")
        )

    async def _read_json(self, response: httpx.Response, what: str) -> Any:
        """The whole body as JSON, or a clear error naming what was expected."""
        try:
            raw = await response.aread()
        except httpx.TimeoutException:
            raise TimedOut(f"the server did not finish its answer within {self.idle_timeout:g} s") from None
        except httpx.HTTPError as exc:
            raise ConnectionFailed(f"the connection was lost: {_errno_free(exc)}") from None
        text = raw.decode("utf-8", "replace")
        try:
            return json.loads(text)
        except ValueError:
            message, _, _ = summarize_body(text)
            raise ServiceError(
                f"the server's answer is not {what}: {one_line(message) or 'empty body'}"
                f" (is the base URL {self.base_url} right?)",
                detail=text,
            ) from None

    # -- models --------------------------------------------------------------------------

    async def list_models(self) -> list[ModelInfo]:
        """The models the key may use, in the server's order."""
        try:
            async with self._response("GET", "models") as response:
                data = await self._read_json(response, "a model list")
        except ServiceError as error:
            raise self._scrubbed(error) from None
        items = data.get("data", data.get("models")) if isinstance(data, dict) else data
        if not isinstance(items, list):
            fields = error_fields(data)
            message = fields[0] if fields else "no 'data' list"
            raise self._scrubbed(ServiceError(f"the server's model list is not usable: {one_line(message)}"))
        models = []
        for item in items:
            if isinstance(item, str):
                models.append(ModelInfo(item))
            elif isinstance(item, dict):
                ident = item.get("id") or item.get("name") or item.get("model")
                if isinstance(ident, str) and ident:
                    owner = item.get("owned_by")
                    created = item.get("created")
                    models.append(
                        ModelInfo(
                            ident,
                            owner if isinstance(owner, str) else "",
                            created if isinstance(created, int) else None,
                            context_length(item),
                            *listed_prices(item),
                        )
                    )
        return models

    # -- what the server tells about money ------------------------------------------------

    @property
    def root_url(self) -> str:
        """The server's root: the base URL without its ``/v1`` (where a relay serves
        ``/api/pricing``)."""
        return re.sub(r"/v1$", "", self.base_url, flags=re.I)

    async def get_json(self, path: str, *, limit: int = MAX_INFO_BODY) -> Any:
        """One GET (never retried: these are optional) of ``path`` under the base URL, or of
        an absolute URL, its body read up to ``limit`` bytes and decoded as JSON.

        Any failure (an error status, an HTML page, a body too large or not JSON) raises
        :class:`ServiceError`; the caller decides the server has no such endpoint.
        """
        outcome = await self._attempt("GET", path, None)
        if isinstance(outcome, ServiceError):
            raise self._scrubbed(outcome)
        response = outcome
        try:
            raw = bytearray()
            async for piece in response.aiter_bytes():
                raw += piece
                if len(raw) > limit:
                    raise self._scrubbed(UnusableAnswer(f"the answer to {path} is larger than {limit // 1024} KB"))
        except httpx.HTTPError as exc:
            raise self._scrubbed(ConnectionFailed(f"the connection was lost: {_errno_free(exc)}")) from None
        finally:
            await response.aclose()
        try:
            return json.loads(raw.decode("utf-8", "replace"))
        except ValueError:
            raise self._scrubbed(UnusableAnswer(f"the answer to {path} is not JSON")) from None

    # -- chat ------------------------------------------------------------------------------

    async def complete(
        self, messages: list[dict[str, Any]], model: str, *,
        on_retry: Callable[[RetryNotice], None] | None = None, **params: Any
    ) -> Completion:
        """One whole reply (``stream: false``)."""
        body = {**params, "model": model, "messages": messages, "stream": False}
        try:
            async with self._response("POST", "chat/completions", body, on_retry) as response:
                data = await self._read_json(response, "a chat completion")
            if is_error(data):
                raise stream_error(data, partial=False)
            completion = completion_from_body(data)
            if completion is None:
                raise ServiceError(
                    "the server's answer is not a chat completion (no 'choices')",
                    detail=json.dumps(data)[:2000],
                )
            return completion
        except ServiceError as error:
            raise self._scrubbed(error) from None

    async def stream_chat(
        self, messages: list[dict[str, Any]], model: str, *,
        on_retry: Callable[[RetryNotice], None] | None = None, **params: Any
    ) -> AsyncIterator[StreamEvent]:
        """Stream one reply as events; raises a :class:`ServiceError` if it cannot finish.

        A raised error has ``partial=True`` when some text had already been yielded.
        """
        body = {
            **params,
            "model": model,
            "messages": messages,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        reader = _StreamReader()
        try:
            try:
                async with self._response("POST", "chat/completions", body, on_retry) as response:
                    async for event in reader.read(response, self.idle_timeout):
                        yield event
            except APIError as error:
                # Some servers refuse the (optional) usage request outright: ask without it.
                if error.status not in (400, 422) or "stream_options" not in error.detail or reader.saw_event:
                    raise
                log.debug("server refused stream_options; asking again without it")
                del body["stream_options"]
                async with self._response("POST", "chat/completions", body, on_retry) as response:
                    async for event in reader.read(response, self.idle_timeout):
                        yield event
        except ServiceError as error:
            error.partial = error.partial or reader.got_text
            raise self._scrubbed(error) from None


class _StreamReader:
    """Reads one streaming response, tracking what is needed to judge how it ended."""

    def __init__(self) -> None:
        self.got_text = False
        self.finished = False
        self.done = False
        self.saw_event = False
        self.garbage: list[str] = []
        self.head = bytearray()

    async def read(self, response: httpx.Response, idle_timeout: float) -> AsyncIterator[StreamEvent]:
        content_type = response.headers.get("content-type", "")
        if "json" in content_type and "event-stream" not in content_type:
            for event in self._whole_body(await response.aread()):
                yield event
            return
        decoder = SSEDecoder()
        try:
            async for piece in response.aiter_bytes():
                if not self.saw_event and len(self.head) < MAX_ERROR_BODY:
                    self.head += piece
                for sse in decoder.feed(piece):
                    for event in self._interpret(sse):
                        yield event
                    if self.done:
                        return
        except httpx.TimeoutException:
            raise TimedOut(
                f"the server sent nothing for {idle_timeout:g} s; the reply is incomplete"
            ) from None
        except httpx.HTTPError as exc:
            if self.finished:
                return
            raise IncompleteReply(
                "the connection was lost before the reply was finished",
                detail=f"connection lost mid-reply: {exc!r}",
            ) from None
        for sse in decoder.close():
            for event in self._interpret(sse):
                yield event
            if self.done:
                return
        if not self.saw_event:
            for event in self._whole_body(bytes(self.head)):
                yield event
            return
        if not self.finished:
            note = ""
            if self.garbage:
                note = f"; it also sent {len(self.garbage)} line(s) that are not JSON, first: {one_line(self.garbage[0], 80)!r}"
            raise IncompleteReply(
                f"the server ended the stream before the reply was finished{note}"
            )

    def _interpret(self, sse: SSEEvent) -> list[StreamEvent]:
        self.saw_event = True
        payload = sse.data.strip()
        if not payload:
            return []
        if payload == "[DONE]":
            self.done = True
            return []
        events: list[StreamEvent] = []
        for value in decode_payload(payload):
            if isinstance(value, str):
                log.debug("not JSON in stream: %r", value[:500])
                self.garbage.append(value)
                continue
            if sse.event == "error" and isinstance(value, dict) and "error" not in value:
                value = {"error": value}
            if not isinstance(value, dict):
                self.garbage.append(str(value))
                continue
            for event in events_from_chunk(value, partial=self.got_text):
                if isinstance(event, (ContentDelta, ReasoningDelta)):
                    self.got_text = True
                elif isinstance(event, Finished):
                    self.finished = True
                events.append(event)
        return events

    def _whole_body(self, raw: bytes) -> list[StreamEvent]:
        """A streaming request answered with one body: a completion, an error, or junk."""
        text = raw.decode("utf-8", "replace")
        try:
            data = json.loads(text)
        except ValueError:
            message, _, _ = summarize_body(text)
            raise ServiceError(
                "the server's answer is not an event stream or JSON: "
                f"{one_line(message) or 'empty body'}",
                detail=text,
            ) from None
        if is_error(data):
            raise stream_error(data, partial=False)
        completion = completion_from_body(data)
        if completion is None:
            raise ServiceError(
                "the server's answer is not a chat completion (no 'choices')", detail=text
            )
        self.finished = True
        events = events_from_completion(completion)
        self.got_text = bool(completion.content or completion.reasoning)
        return events
