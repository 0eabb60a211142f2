"""The HTTP client for an OpenAI-compatible API: model list, streamed and whole replies.

One :class:`ChatClient` (one ``httpx.AsyncClient``, so one connection pool) per app.
Requests are retried with backoff only where a second try can succeed: connect failures,
429, and passing server failures (not a 503 that says no upstream serves the model, nor
any error that names the request, key or model as wrong), and only before any part of a
reply arrived. Cancelling the task that iterates :meth:`ChatClient.stream_chat` closes the
connection at once.

Nothing a server sends raises anything but a :class:`ServiceError`, and no server can make
a call grow without bound or last forever: replies are capped in size (decompressed),
a stream must bring new content within ``idle_timeout``, and a whole call ends after
``max_reply_seconds``.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import math
import os
import random
import re
import ssl
from collections.abc import AsyncIterator, Callable, Generator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import httpx

from t502_tui import __version__
from t502_tui.debug_log import masked
from t502_tui.service.addresses import display_host
from t502_tui.service.chunks import (
    choice_index,
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
    TLSFailed,
    TooLarge,
    challenge_error,
    describe_size,
    error_fields,
    error_from_response,
    one_line,
    summarize_body,
    tls_problem,
    unwrap_error,
)
from t502_tui.service.events import (
    MAX_NAME,
    MAX_TIMESTAMP,
    Completion,
    ContentDelta,
    Finished,
    ImageDelta,
    ModelInfo,
    ReasoningDelta,
    RetryNotice,
    SourcesFound,
    StreamEvent,
    Unreadable,
    Usage,
    UsageReport,
    server_int,
)
from t502_tui.service.pricing import UnusableAnswer, context_length, listed_prices
from t502_tui.service.server_json import dumps, loads
from t502_tui.service.sse import SSEDecoder, SSEEvent

log = logging.getLogger("t502.service")

MAX_ERROR_BODY = 256 * 1024
"""How much of an error body is read: enough for any message, not a whole site."""
MAX_INFO_BODY = 8 * 1024 * 1024
"""The largest price list or billing answer read: a relay's covers a few thousand models."""

MAX_STREAM_REPLY = 256 * 1024 * 1024
"""Decompressed bytes of one streamed reply. SSE spends about 200 bytes of framing per
token, so the longest replies models write (128K tokens) come to some 30-50 MB, and a
5 MB image comes as about 7 MB of base64: room for both several times over, and still a
ceiling for a gzip bomb. Events pass through; they are not all held at once."""

MAX_WHOLE_REPLY = 64 * 1024 * 1024
"""A reply read whole and parsed as one JSON body (``complete``, or a stream answered with
one body): nine 5 MB images in base64 with their text. Lower than a stream's, because the
body, its text and its parsed values are all in memory together."""

MAX_MODEL_LIST = 16 * 1024 * 1024
"""A model list: relays list hundreds of models in well under a megabyte."""

MAX_MODELS = 10_000
"""Models kept from one list; the rest are dropped (a picker of more helps nobody)."""

TRICKLE_PACE = 1 / 20
"""Seconds a reply that trickles in fast (a token per network packet at 50-150 tokens/s)
is left to gather between reads. Taking in one packet costs about 0.4 ms of CPU through
httpx (bench/reading_floor.py), more than drawing the text. The view draws at most 12
times a second; a pause of a frame's length (1/12 s) plus the wait for the next packet
left some frames with nothing new, and the screen stood still for over 0.1 s more often
(bench/screen_gaps.py), so the pause is shorter than a frame."""
TRICKLE_RATE = 2 / TRICKLE_PACE
"""Pieces a second above which a pause gathers two or more: slower streams (prose at the
speed people read) are read as they come, since a pause would gather nothing."""
TRICKLE_BYTES = 16 * 1024
"""A pause only when less than this came since the last: a flood is read without one."""
WAITED = 0.002
"""A piece that took longer than this to come was waited for: what had arrived is taken."""


MODEL_LIST_SECONDS = 120.0
"""The longest listing the models may take, retries included (a picker and ``t502 models``
wait on it): far less than a reply may take, however a server trickles it."""


def fast_trickle(pieces: int, gathered: int, seconds: float) -> bool:
    """Whether a stream that brought ``pieces`` pieces (``gathered`` bytes) in the last
    ``seconds`` should pause TRICKLE_PACE before its next read, to gather several."""
    return gathered < TRICKLE_BYTES and pieces > TRICKLE_RATE * seconds


def _finite(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


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


def _undecodable(exc: httpx.DecodingError) -> ServiceError:
    return ServiceError(
        f"the server's reply is compressed wrongly and cannot be read: {one_line(str(exc), 80)}",
        detail=repr(exc),
    )


def _stray_text(value: Any) -> str:
    """A stray value in a stream, as text for the log: an array only by name (it may be huge)."""
    if isinstance(value, str):
        return value
    return "a JSON array" if isinstance(value, list) else dumps(value)


def _too_large(what: str, limit: int) -> TooLarge:
    return TooLarge(f"the server's {what} is larger than {describe_size(limit)}; t502 stopped reading it")


class _BearerKey(httpx.Auth):
    """Sends the API key on every request. As the client's ``auth`` it also keeps httpx from
    sending a ``user:password@`` written in the base URL instead of the key (HTTP carries
    one ``Authorization``); with no key, such a URL still reaches a proxy that asks for it."""

    def __init__(self, api_key: str) -> None:
        self._header = f"Bearer {api_key}"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = self._header
        yield request


@functools.cache
def tls_context() -> ssl.SSLContext:
    """What servers' certificates are checked against, as httpx would make it for each
    client: made once, since reading and parsing the certificates takes about 30 ms, and
    t502 makes a client for each provider and for each key it checks."""
    return httpx.create_ssl_context()


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
        max_reply_seconds: float = 1800.0,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        for name, value in (("idle_timeout", idle_timeout), ("connect_timeout", connect_timeout),
                            ("max_reply_seconds", max_reply_seconds)):
            if not _finite(value) or value <= 0:
                raise ValueError(f"{name} must be a finite number of seconds above 0, not {value!r}")
        for name, value in (("retry_base_delay", retry_base_delay), ("max_retry_wait", max_retry_wait)):
            if not _finite(value) or value < 0:
                raise ValueError(f"{name} must be a finite number of seconds, 0 or more, not {value!r}")
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self.idle_timeout = idle_timeout
        self.connect_timeout = connect_timeout
        self.max_retries = max_retries
        self.retry_base_delay = retry_base_delay
        self.max_retry_wait = max_retry_wait
        self.on_retry = on_retry
        """Told of each retry, unless a call names its own ``on_retry``."""
        self.max_reply_seconds = max_reply_seconds
        """The longest one call may take, retries included, however the server trickles."""
        self.models_left_out = 0
        """How many models the last model list named past MAX_MODELS (not kept)."""
        self._refused: set[tuple[str, str]] = set()
        """What the server refused for a model (see _REFUSALS), as (what, model): left out
        of every request to that model from then on (a relay may pass others elsewhere)."""
        # A gateway's own headers (``headers`` in the provider's table) go with every request.
        headers = {"User-Agent": f"t502/{__version__}", "Accept": "application/json", **(headers or {})}
        self._unusable: str | None = None
        """Why the base URL cannot be used (every request fails with it), or None."""
        try:
            root = httpx.URL(self.base_url + "/")
        except httpx.InvalidURL as exc:  # checked config never gets here; a variable may
            self._unusable = f"the base URL {self.base_url!r} cannot be used: {exc}"
            root = httpx.URL("http://invalid/")
        self._http_settings: dict[str, Any] = {
            "base_url": root, "headers": headers, "auth": _BearerKey(api_key) if api_key else None,
            "follow_redirects": False,
        }
        self._http: httpx.AsyncClient | None = None
        """Made for the first request (see _pool): the certificates are read off the event loop."""

    @property
    def host(self) -> str:
        """The server's address as the user wrote it, for messages."""
        return self.base_url if self._unusable else display_host(self.base_url)

    async def _pool(self) -> httpx.AsyncClient:
        """The connection pool, made when first needed, once the certificates servers are
        checked against have been read in a thread (about 30 ms of disk and parsing)."""
        if self._http is None:
            verify = await asyncio.to_thread(tls_context)
            if self._http is None:  # another request may have made it meanwhile
                self._http = httpx.AsyncClient(verify=verify, **self._http_settings)
        return self._http

    async def aclose(self) -> None:
        """Close the connection pool."""
        if self._http is not None:
            await self._http.aclose()

    async def __aenter__(self) -> ChatClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def _scrub(self, text: str) -> str:
        """Remove the API key from text a server echoed back."""
        return masked(text, [self._api_key])

    def _scrubbed(self, error: ServiceError) -> ServiceError:
        error.message = self._scrub(error.message)
        error.detail = self._scrub(error.detail)
        error.args = (error.message,)
        log.debug("request failed: %s", error.detail)
        return error

    # -- requests ----------------------------------------------------------------------

    def _deadline(self) -> float:
        """When a call starting now must be over (on the event loop's clock)."""
        return asyncio.get_running_loop().time() + self.max_reply_seconds

    def _too_long(self, answered: bool = False) -> TimedOut:
        return TimedOut(
            f"the reply took longer than {self.max_reply_seconds:g} s, the most t502 waits"
            " for one (max_reply_seconds)", answered=answered,
        )

    @asynccontextmanager
    async def _response(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None,
        deadline: float,
        on_retry: Callable[[RetryNotice], None] | None = None,
    ) -> AsyncIterator[httpx.Response]:
        """Send a request and yield its successful response, open for streaming.

        Error statuses become :class:`APIError`; retryable failures are retried first,
        as long as the wait fits the retry budget and ``deadline``.
        """
        attempt = 0
        waited = 0.0
        notify = on_retry or self.on_retry
        loop = asyncio.get_running_loop()
        while True:
            error = await self._attempt(method, path, body, deadline)
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
            if (
                not retryable
                or attempt >= self.max_retries
                or waited + delay > self.max_retry_wait
                or loop.time() + delay >= deadline
            ):
                if retryable and attempt:  # its "retry after" was heeded already
                    error.message = f"{error.message}; tried {attempt + 1} times"
                raise self._scrubbed(error)
            attempt += 1
            waited += delay
            log.debug("retry %d in %.1f s after: %s", attempt, delay, error.detail)
            if notify:
                notify(RetryNotice(attempt, delay, self._scrub(error.message)))
            await asyncio.sleep(delay)

    async def _attempt(
        self, method: str, path: str, body: dict[str, Any] | None, deadline: float
    ) -> httpx.Response | ServiceError:
        """One try: the open response if it succeeded, else the error it came to."""
        if self._unusable:
            raise ServiceError(self._unusable)
        # The timeouts of each request are the client's at the time: Settings may change them.
        timeout = httpx.Timeout(self.idle_timeout, connect=self.connect_timeout, write=30.0)
        http = await self._pool()
        request = http.build_request(method, path, json=body, timeout=timeout)
        log.debug("%s %s model=%s", method, request.url, (body or {}).get("model"))
        try:
            async with asyncio.timeout_at(deadline):  # headers sent a byte at a time never time out
                response = await http.send(request, stream=True)
        except TimeoutError:
            raise self._scrubbed(self._too_long()) from None
        except httpx.ConnectTimeout:
            return TimedOut(f"could not connect to {self.host} within {self.connect_timeout:g} s")
        except httpx.ConnectError as exc:
            if (tls := tls_problem(exc, self.host)) is not None:  # not mended by trying again
                raise self._scrubbed(TLSFailed(tls)) from None
            return ConnectionFailed(f"cannot connect to {self.host}: {_errno_free(exc)}")
        except httpx.TimeoutException:
            raise self._scrubbed(
                TimedOut(f"the server did not answer within {self.idle_timeout:g} s")
            ) from None
        except httpx.UnsupportedProtocol:
            raise ServiceError(f"the base URL {self.base_url!r} is not an http(s) URL") from None
        except httpx.RemoteProtocolError as exc:
            reason = _errno_free(exc)
            if "without sending a response" in reason:
                error: ServiceError = ConnectionFailed(f"{self.host} closed the connection without answering")
            else:
                error = ServiceError(
                    f"the server's answer is not HTTP ({one_line(reason, 80)}): is the base URL right?"
                )
            raise self._scrubbed(error) from None
        except httpx.HTTPError as exc:
            raise self._scrubbed(
                TLSFailed(tls) if (tls := tls_problem(exc, self.host))
                else ConnectionFailed(f"the connection to {self.host} failed: {_errno_free(exc)}")
            ) from None
        status = response.status_code
        if 200 <= status < 300:
            return response
        text = (await self._error_body(response, deadline)).decode("utf-8", "replace")
        if 300 <= status < 400:
            where = one_line(response.headers.get("location", ""), 120)
            return APIError(
                f"the server redirects (HTTP {status}) to {where or 'another address'}:"
                " set the base URL to the address it names",
                status=status,
                detail=text,
            )
        return error_from_response(
            status, response.reason_phrase, self._scrub(text), response.headers.get("retry-after"),
            response.headers,
        )

    async def _error_body(self, response: httpx.Response, deadline: float) -> bytes:
        """As much of an error body as arrives within the idle timeout, up to its cap: the
        status alone says what went wrong, the body only adds the server's words."""
        raw = bytearray()
        until = min(deadline, asyncio.get_running_loop().time() + self.idle_timeout)
        try:
            async with asyncio.timeout_at(until):
                async for piece in response.aiter_bytes():
                    raw += piece
                    if len(raw) >= MAX_ERROR_BODY:
                        break
        except (httpx.HTTPError, TimeoutError):
            pass
        finally:
            await response.aclose()
        return bytes(raw[:MAX_ERROR_BODY])

    async def _read_whole(self, response: httpx.Response, what: str, limit: int, deadline: float) -> bytes:
        """A whole body, up to ``limit`` decompressed bytes and until ``deadline``.

        Only the deadline bounds a body that trickles in: some servers send whitespace to
        keep a slow whole reply alive, and its content counts only once it is all there.
        """
        raw = bytearray()
        try:
            async with asyncio.timeout_at(deadline):
                async for piece in response.aiter_bytes():
                    raw += piece
                    if len(raw) > limit:
                        raise _too_large(what, limit)
        except TimeoutError:
            raise self._too_long(answered=True) from None
        except httpx.TimeoutException:
            raise TimedOut(
                f"the server sent nothing for {self.idle_timeout:g} s before finishing its answer", answered=True,
            ) from None
        except httpx.DecodingError as exc:
            raise _undecodable(exc) from None
        except httpx.HTTPError as exc:
            raise ConnectionFailed(f"the connection was lost: {_errno_free(exc)}") from None
        return bytes(raw)

    async def _read_json(
        self, response: httpx.Response, what: str, noun: str, limit: int, deadline: float
    ) -> Any:
        """The whole body as JSON, or a clear error naming what was expected (``what``)."""
        text = (await self._read_whole(response, noun, limit, deadline)).decode("utf-8", "replace")
        try:
            return loads(text)
        except ValueError:
            if challenge := challenge_error(response.status_code, response.headers, text, text):
                raise challenge from None
            message, _, _ = summarize_body(text)
            raise ServiceError(
                f"the server's answer is not {what}: {one_line(message) or 'empty body'}"
                f" (is the base URL {self.base_url} right?)",
                detail=text,
            ) from None

    # -- models --------------------------------------------------------------------------

    async def list_models(self) -> list[ModelInfo]:
        """The models the key may use, in the server's order."""
        loop = asyncio.get_running_loop()
        seconds = min(self.max_reply_seconds, MODEL_LIST_SECONDS)
        deadline = loop.time() + seconds
        try:
            async with self._response("GET", "models", None, deadline) as response:
                data = await self._read_json(response, "a model list", "model list", MAX_MODEL_LIST, deadline)
        except ServiceError as error:
            if isinstance(error, TimedOut) and seconds < self.max_reply_seconds and loop.time() >= deadline:
                error = TimedOut(f"{self.host} took longer than {seconds:g} s to list its models")
            raise self._scrubbed(error) from None
        items = data.get("data", data.get("models")) if isinstance(data, dict) else data
        if not isinstance(items, list):
            fields = error_fields(data)
            message = fields[0] if fields else "no 'data' list"
            raise self._scrubbed(ServiceError(f"the server's model list is not usable: {one_line(message)}"))
        self.models_left_out = max(0, len(items) - MAX_MODELS)
        if self.models_left_out:
            log.debug("kept the first %d of %d models", MAX_MODELS, len(items))
        models = []
        for item in items[:MAX_MODELS]:
            if isinstance(item, str):
                item = {"id": item}
            if not isinstance(item, dict):
                continue
            ident = item.get("id") or item.get("name") or item.get("model")
            if isinstance(ident, str) and ident.startswith("models/") and len(ident) > len("models/"):
                ident = ident[len("models/"):]  # Google's way of listing ids it takes without "models/"
            if isinstance(ident, str) and 0 < len(ident) <= MAX_NAME:
                owner = item.get("owned_by")
                models.append(
                    ModelInfo(
                        ident,
                        owner if isinstance(owner, str) and len(owner) <= MAX_NAME else "",
                        server_int(item.get("created"), "a model's created", MAX_TIMESTAMP),
                        context_length(item),
                        *listed_prices(item),
                    )
                )
            elif isinstance(ident, str) and ident:
                log.debug("dropped a model id of %d characters", len(ident))
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
        deadline = asyncio.get_running_loop().time() + min(self.max_reply_seconds, self.idle_timeout)
        try:
            outcome = await self._attempt("GET", path, None, deadline)
            if isinstance(outcome, ServiceError):
                raise outcome
            try:
                text = (await self._read_whole(outcome, f"the answer to {path}", limit, deadline)).decode(
                    "utf-8", "replace")
            finally:
                await outcome.aclose()
            try:
                return loads(text)
            except ValueError:
                if challenge := challenge_error(outcome.status_code, outcome.headers, text, text):
                    raise challenge from None  # not "no such endpoint": every request meets it
                raise UnusableAnswer(f"the answer to {path} is not JSON") from None
        except ServiceError as error:
            raise self._scrubbed(error) from None

    # -- chat ------------------------------------------------------------------------------

    def _without_refused(self, body: dict[str, Any], error: APIError) -> bool:
        """Change ``body`` to do without what ``error`` refused, if t502 can (and remember
        it: the next request goes without it at once); False if not."""
        if error.status not in (400, 422):
            return False
        for key, said, change in _REFUSALS:
            if key in body and body[key] is not False and said in error.detail:  # (asked whole already)
                log.debug("server refused %s; asking again %s", key,
                          "as max_completion_tokens" if key == "max_tokens" else "without it")
                change(body)
                self._refused.add((key, body["model"]))
                return True
        return False

    def _leave_out_refused(self, body: dict[str, Any]) -> None:
        for key, _said, change in _REFUSALS:
            if (key, body["model"]) in self._refused and key in body:
                change(body)

    async def complete(
        self,
        messages: list[dict[str, Any]],
        model: str,
        *,
        on_retry: Callable[[RetryNotice], None] | None = None,
        **params: Any,
    ) -> Completion:
        """One whole reply (``stream: false``). ``on_retry`` overrides the client's for this call."""
        body = {**params, "model": model, "messages": messages, "stream": False}
        self._leave_out_refused(body)
        try:
            deadline = self._deadline()
            for asked in range(1, len(_REFUSALS) + 2):
                try:
                    async with self._response("POST", "chat/completions", body, deadline, on_retry) as response:
                        if "event-stream" in response.headers.get("content-type", ""):
                            return await self._gathered(response, deadline)  # it streams anyway
                        data = await self._read_json(response, "a chat completion", "answer", MAX_WHOLE_REPLY, deadline)
                    break
                except APIError as error:
                    if asked > len(_REFUSALS) or not self._without_refused(body, error):
                        raise
            if is_error(data):
                raise stream_error(data, partial=False)
            completion = completion_from_body(data)
            if completion is None:
                raise ServiceError(
                    "the server's answer is not a chat completion (no 'choices')",
                    detail=dumps(data),
                )
            return completion
        except ServiceError as error:
            raise self._scrubbed(error) from None

    async def _gathered(self, response: httpx.Response, deadline: float) -> Completion:
        """A whole reply from a server that streamed it though it was asked not to (some
        relays always stream): its events, gathered."""
        content: list[str] = []
        reasoning: list[str] = []
        images: list[str] = []
        finish: str | None = None
        usage: Usage | None = None
        sources: SourcesFound | None = None
        async for event in _StreamReader(self).read(response, deadline):
            if isinstance(event, ContentDelta):
                content.append(event.text)
            elif isinstance(event, ReasoningDelta):
                reasoning.append(event.text)
            elif isinstance(event, ImageDelta):
                images.append(event.url)
            elif isinstance(event, UsageReport):
                usage = event.usage
            elif isinstance(event, Finished):
                finish = event.finish_reason
            elif isinstance(event, SourcesFound):
                sources = event
        return Completion("".join(content), "".join(reasoning), finish, usage, None, tuple(images), sources)

    async def stream_chat(
        self,
        messages: list[dict[str, Any]],
        model: str,
        *,
        on_retry: Callable[[RetryNotice], None] | None = None,
        **params: Any,
    ) -> AsyncIterator[StreamEvent]:
        """Stream one reply as events; raises a :class:`ServiceError` if it cannot finish.

        A raised error has ``partial=True`` when some text had already been yielded.
        ``on_retry`` overrides the client's for this call. Iterate it from one task: its
        idle timer interrupts the task that started it.
        """
        body = {
            **params,
            "model": model,
            "messages": messages,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        reader = _StreamReader(self)
        self._leave_out_refused(body)
        try:
            deadline = self._deadline()
            for asked in range(1, len(_REFUSALS) + 2):
                try:
                    async with self._response("POST", "chat/completions", body, deadline, on_retry) as response:
                        async for event in reader.read(response, deadline):
                            yield event
                    break
                except APIError as error:
                    if reader.saw_event or asked > len(_REFUSALS) or not self._without_refused(body, error):
                        raise
            if reader.garbage:
                yield Unreadable(reader.garbage, reader.first_garbage)
        except ServiceError as error:
            error.partial = error.partial or reader.got_text
            raise self._scrubbed(error) from None


def _leave_out(key: str) -> Callable[[dict[str, Any]], None]:
    def change(body: dict[str, Any]) -> None:
        del body[key]
    return change


def _rename_max_tokens(body: dict[str, Any]) -> None:
    body["max_completion_tokens"] = body.pop("max_tokens")


def _whole(body: dict[str, Any]) -> None:
    """Ask for the reply whole (the stream reader takes a whole answer too)."""
    body["stream"] = False
    body.pop("stream_options", None)


_REFUSALS: tuple[tuple[str, str, Callable[[dict[str, Any]], None]], ...] = (
    ("stream_options", "stream_options", _leave_out("stream_options")),
    ("max_tokens", "max_completion_tokens", _rename_max_tokens),
    ("temperature", "'temperature' does not support", _leave_out("temperature")),
    ("top_p", "'top_p' does not support", _leave_out("top_p")),
    ("stream", "to stream this model", _whole),
    ("stream", "'stream' does not support", _whole),
)
"""What a request may carry that some servers refuse with a 400, the words in the refusal
that say so, and how to ask without it: the usage request (optional); ``max_tokens``,
which OpenAI's reasoning models take only as ``max_completion_tokens``; a temperature or
top_p those models refuse ("only the default (1) value is supported"), left out; and
streaming, which OpenAI refuses for some models, or to an organization it has not
verified ("must be verified to stream this model"): the reply comes whole."""


class _Watchdog:
    """Ends a stream's pending read once it has gone ``idle`` seconds without content, or at
    ``deadline``, whichever is first.

    One timer per idle period, not a timeout per read: a flood is tens of thousands of
    reads, and a timeout context around each would double what taking them in costs. The
    reader sets :attr:`reading` while it waits for the network; the timer cancels the
    reading task then and only then, never while the caller holds the events, and
    :meth:`expired` tells that cancel from any other. The task is the one that started
    the stream (asking for it on every read would cost more than the read).
    """

    __slots__ = ("_loop", "_time", "_idle", "_deadline", "_quiet_since", "_task", "reading", "fired", "timer")

    def __init__(self, idle: float, deadline: float) -> None:
        self._loop = asyncio.get_running_loop()
        self._time = self._loop.time
        self._idle = idle
        self._deadline = deadline
        self._quiet_since = self._time()
        self._task = asyncio.current_task()
        self.reading = False
        self.fired = False
        """The timer cancelled the task; a read that finished just before still gets it."""
        self.timer: asyncio.TimerHandle | None = self._loop.call_at(self._due, self._check)

    @property
    def _due(self) -> float:
        return min(self._quiet_since + self._idle, self._deadline)

    @property
    def at_deadline(self) -> bool:
        """The call's deadline, not the idle timeout, is what ran out."""
        return self._due >= self._deadline

    def progressed(self) -> None:
        """Content arrived and was handed on: the idle clock starts again."""
        self._quiet_since = self._time()

    def rearm(self) -> None:
        """After the timer went off while the caller held the events: TimeoutError if
        the stream is overdue, else the timer again."""
        if self._time() >= self._due:
            raise TimeoutError
        self.timer = self._loop.call_at(self._due, self._check)

    def shorten(self, idle: float) -> None:
        """Wait at most ``idle`` seconds of quiet from now on."""
        self._idle = min(self._idle, idle)
        if self.timer is not None:
            self.timer.cancel()
            self.timer = self._loop.call_at(self._due, self._check)

    def expired(self) -> bool:
        """Whether a CancelledError in the reader came from this timer (and only from it)."""
        return self.fired and self._task is not None and self._task.uncancel() == 0

    def close(self) -> None:
        if self.timer is not None:
            self.timer.cancel()

    def _check(self) -> None:
        self.timer = None
        if self._time() < self._due:  # content came meanwhile: look again when due
            self.timer = self._loop.call_at(self._due, self._check)
        elif self.reading and self._task is not None:
            self.fired = True
            self._task.cancel()


FINISHED_GRACE = 3.0
"""Seconds of quiet after a ``finish_reason`` before the reply is taken as ended, though the
server sends neither ``[DONE]`` nor closes the connection (the usage chunk may still come)."""


class _StreamReader:
    """Reads one streaming response, tracking what is needed to judge how it ended."""

    def __init__(self, client: ChatClient) -> None:
        self.client = client
        self.got_text = False
        self.finished = False
        self.done = False
        self.saw_event = False
        self.garbage = 0
        self.first_garbage = ""
        self.head = bytearray()
        self.headers: Mapping[str, str] = {}
        self.status = 200
        self.index: object | None = None
        """The index of the choice this reply follows: its first chunk's (see choice_index)."""

    async def read(self, response: httpx.Response, deadline: float) -> AsyncIterator[StreamEvent]:
        """The reply's events. Each wait for the network ends at the idle deadline (the last
        content plus ``idle_timeout``: keep-alive comments and stray bytes do not count) or
        at the call's ``deadline``, whichever is first."""
        self.headers, self.status = response.headers, response.status_code
        content_type = response.headers.get("content-type", "")
        if "json" in content_type and "event-stream" not in content_type:
            raw = await self.client._read_whole(response, "reply", MAX_WHOLE_REPLY, deadline)
            for event in self._whole_body(raw):
                yield event
            return
        idle_timeout = self.client.idle_timeout
        limit = MAX_STREAM_REPLY
        decoder = SSEDecoder()
        watch = _Watchdog(idle_timeout, deadline)
        received = 0
        received_when_quiet = 0
        now = asyncio.get_running_loop().time
        pieces = gathered = 0
        try:
            watch.reading = True
            asked = last_wait = now()
            async for piece in response.aiter_bytes():
                watch.reading = False
                arrived = now()
                if watch.fired:  # the timer went off just as this read finished: take its cancel
                    await asyncio.sleep(0)
                received += len(piece)
                if received > limit:
                    raise _too_large("reply", limit)
                if not self.saw_event and len(self.head) < MAX_ERROR_BODY:
                    self.head += piece
                progressed = False
                for sse in decoder.feed(piece):
                    if events := self._interpret(sse):
                        progressed = True
                        for event in events:
                            yield event
                    if self.done:
                        return
                pieces += 1
                gathered += len(piece)
                if arrived - asked > WAITED:  # all that had come is taken
                    if progressed and fast_trickle(pieces, gathered, arrived - last_wait):
                        await asyncio.sleep(TRICKLE_PACE)
                    pieces = gathered = 0
                    last_wait = arrived
                if progressed:  # the idle clock restarts once the caller has taken the events
                    watch.progressed()
                    received_when_quiet = received
                    if self.finished:  # only the usage may follow: not worth the whole idle wait
                        watch.shorten(FINISHED_GRACE)
                if watch.timer is None:
                    watch.rearm()
                watch.reading = True
                asked = now()
        except asyncio.CancelledError:
            if not watch.expired():
                raise
            if self.finished and not watch.at_deadline:
                return  # the reply was over; the server left the connection open
            raise self._overdue(watch, received > received_when_quiet) from None
        except TimeoutError:
            if self.finished and not watch.at_deadline:
                return
            raise self._overdue(watch, received > received_when_quiet) from None
        except httpx.TimeoutException:
            raise self._idle(idle_timeout, False) from None
        except httpx.DecodingError as exc:
            raise _undecodable(exc) from None
        except httpx.HTTPError as exc:
            if self.finished:
                return
            raise IncompleteReply(
                "the connection was lost before the reply was finished",
                detail=f"connection lost mid-reply: {exc!r}",
            ) from None
        finally:
            watch.close()
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
                note = f"; it also sent {self.garbage} line(s) that are not JSON, first: {self.first_garbage!r}"
            raise IncompleteReply(
                f"the server ended the stream before the reply was finished{note}"
            )

    def _overdue(self, watch: _Watchdog, stray: bool) -> TimedOut:
        if watch.at_deadline:
            return self.client._too_long(answered=True)
        return self._idle(self.client.idle_timeout, stray)

    def _idle(self, idle_timeout: float, stray: bool) -> TimedOut:
        ending = "the reply is incomplete" if self.got_text else "no reply came"
        if stray:
            # Keep-alives do not reset the idle clock (a stuck upstream can send them for
            # ever), but a model that thinks long before its first word sends only them.
            return TimedOut(
                f"the server sent no new content for {idle_timeout:g} s, only keep-alives or"
                f" fragments; {ending} (a model that thinks for longer needs a larger reply timeout:"
                " Settings (F2), or `timeout` in the config file)", answered=True,
            )
        return TimedOut(f"the server sent nothing for {idle_timeout:g} s; {ending}", answered=True)

    def _interpret(self, sse: SSEEvent) -> list[StreamEvent]:
        """The events in one SSE event. The common case, one chunk object, goes straight
        through; everything else (``[DONE]``, blank, error events, joined lines, junk) is
        sorted out by :meth:`_interpret_other`."""
        self.saw_event = True
        try:
            value = loads(sse.data)
        except ValueError:
            return self._interpret_other(sse)
        if type(value) is not dict or sse.event == "error":
            return self._interpret_other(sse)
        return self._take(self._chunk_events(value))

    def _chunk_events(self, chunk: dict[str, Any]) -> list[StreamEvent]:
        if self.index is None:
            self.index = choice_index(chunk)
        return events_from_chunk(chunk, self.got_text, 0 if self.index is None else self.index)

    def _take(self, events: list[StreamEvent]) -> list[StreamEvent]:
        for event in events:
            kind = type(event)
            if kind is ContentDelta or kind is ReasoningDelta or kind is ImageDelta:
                self.got_text = True
            elif kind is Finished:
                self.finished = True
        return events

    def _interpret_other(self, sse: SSEEvent) -> list[StreamEvent]:
        payload = sse.data.strip()
        if not payload:
            return []
        if payload == "[DONE]":
            self.done = True
            return []
        events: list[StreamEvent] = []
        for value in map(unwrap_error, decode_payload(payload)):
            if sse.event == "error" and isinstance(value, dict) and "error" not in value:
                value = {"error": value}
            if not isinstance(value, dict):
                text = _stray_text(value)
                log.debug("not a JSON object in stream: %.500s", text)
                if not self.garbage:
                    self.first_garbage = one_line(text, 80)
                self.garbage += 1
                continue
            events += self._take(self._chunk_events(value))
        return events

    def _whole_body(self, raw: bytes) -> list[StreamEvent]:
        """A streaming request answered with one body: a completion, an error, or junk."""
        text = raw.decode("utf-8", "replace")
        if not text.strip():
            raise IncompleteReply("the server answered with nothing: no reply, no error")
        try:
            data = loads(text)
        except ValueError:
            if challenge := challenge_error(self.status, self.headers, text, text):
                raise challenge from None
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
        self.got_text = bool(completion.content or completion.reasoning or completion.images)
        return events
