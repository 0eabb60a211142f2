"""The service layer against hostile servers: every fault is a clear ServiceError, in bounded
time and memory. Raw-socket faults come from :mod:`fault_server`; hostile bodies in
well-formed HTTP from :mod:`loopback`.

Timeouts here are small (tenths of a second) so that each test is quick; caps are made
small through the module constants where the real ones would only cost time.
"""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

import fault_server as fs
from loopback import LoopbackServer, Reply, chunk, sse, stream_reply
from t502_tui.service import (
    ConnectionFailed,
    ContentDelta,
    IncompleteReply,
    ServiceError,
    TimedOut,
    TooLarge,
)
from t502_tui.service.addresses import display_host
from t502_tui.service.client import ChatClient
from t502_tui.service import client as client_module
from t502_tui.service import sse as sse_module

KEY = "sk-fault-test-key"
HI = [{"role": "user", "content": "hi"}]
COMPLETION = json.dumps({"choices": [{"index": 0, "message": {"content": "whole"}, "finish_reason": "stop"}]})
FIRST_EVENT = ("data: " + json.dumps(chunk("Hello")) + "\n\n").encode()


@pytest.fixture
def fault() -> Iterator[fs.FaultServer]:
    server = fs.FaultServer().start()
    yield server
    server.stop()


@pytest.fixture
async def client(fault: fs.FaultServer) -> AsyncIterator[ChatClient]:
    async with ChatClient(fault.url, KEY, idle_timeout=0.2, max_retries=0, max_reply_seconds=5) as c:
        yield c


async def stream(client: ChatClient, seen: list[Any] | None = None) -> list[Any]:
    events = seen if seen is not None else []
    async for event in client.stream_chat(HI, "m"):
        events.append(event)
    return events


def stopped_early(fault: fs.FaultServer) -> bool:
    """The client closed the connection before the server had sent all it meant to."""
    conn = fault.connections[-1]
    return conn.client_closed.wait(5) and not conn.completed.is_set()


# -- a body shorter than its Content-Length, or stalled ---------------------------------------


async def test_stream_answered_with_json_shorter_than_its_length(fault: fs.FaultServer, client: ChatClient) -> None:
    fault.behaviour = fs.short_body(COMPLETION[:20].encode(), claimed=500)
    with pytest.raises(ConnectionFailed, match="connection was lost.*received 20 bytes, expected 500"):
        await stream(client)
    with pytest.raises(ConnectionFailed, match="connection was lost"):
        await client.complete(HI, "m")
    with pytest.raises(ConnectionFailed, match="connection was lost"):
        await client.list_models()


async def test_stream_answered_with_json_that_stalls(fault: fs.FaultServer, client: ChatClient) -> None:
    fault.behaviour = fs.stall_after_headers(
        {"Content-Type": "application/json", "Content-Length": "500"}, COMPLETION[:20].encode())
    with pytest.raises(TimedOut, match="sent nothing for 0.2 s before finishing its answer"):
        await stream(client)
    assert fault.connections[0].client_closed.wait(5)


async def test_stall_after_headers(fault: fs.FaultServer, client: ChatClient) -> None:
    fault.behaviour = fs.stall_after_headers(body=FIRST_EVENT)
    seen: list[Any] = []
    with pytest.raises(TimedOut, match="sent nothing for 0.2 s; the reply is incomplete") as info:
        await stream(client, seen)
    assert seen == [ContentDelta("Hello")] and info.value.partial
    fault.behaviour = fs.stall_after_headers({"Content-Type": "application/json"})
    with pytest.raises(TimedOut, match="sent nothing for 0.2 s"):
        await client.complete(HI, "m")
    fault.behaviour = fs.stall_after_headers()  # not a word came: nothing to call incomplete
    with pytest.raises(TimedOut, match="sent nothing for 0.2 s; no reply came$"):
        await stream(client)


# -- time without content ----------------------------------------------------------------------


def patient(fault: fs.FaultServer, idle: float = 0.4, most: float = 5) -> ChatClient:
    """A client whose idle timeout is long beside the servers' 10 ms pauses, so that a busy
    machine cannot turn "only keep-alives" into "nothing at all"."""
    return ChatClient(fault.url, KEY, idle_timeout=idle, max_retries=0, max_reply_seconds=most)


async def test_keep_alive_comments_forever_time_out(fault: fs.FaultServer) -> None:
    fault.behaviour = fs.keep_alive_forever(interval=0.01, first=FIRST_EVENT)
    seen: list[Any] = []
    async with patient(fault) as client:
        with pytest.raises(TimedOut, match="no new content for 0.4 s, only keep-alives") as info:
            await stream(client, seen)
    assert "a larger reply timeout: Settings (F2), or `timeout` in the config file" in info.value.message  # what to do, for a long thinker
    assert seen == [ContentDelta("Hello")] and info.value.partial
    assert fault.connections[0].client_closed.wait(5)


async def test_one_byte_at_a_time_times_out(fault: fs.FaultServer) -> None:
    fault.behaviour = fs.trickle(b"data: " + b"x" * 10_000, interval=0.01)
    async with patient(fault) as client:
        with pytest.raises(TimedOut, match="no new content for 0.4 s"):
            await stream(client)
    assert stopped_early(fault)


async def test_content_that_keeps_coming_ends_at_max_reply_seconds(fault: fs.FaultServer) -> None:
    """Real content arriving often enough is never idle; the whole reply still has a ceiling."""
    fault.behaviour = fs.repeat_forever(FIRST_EVENT, interval=0.01)
    seen: list[Any] = []
    async with patient(fault, idle=5, most=0.4) as client:
        with pytest.raises(TimedOut, match="longer than 0.4 s, the most t502 waits for one") as info:
            await stream(client, seen)
    assert len(seen) > 1 and info.value.partial


@pytest.mark.parametrize("call", ["complete", "list_models"])
async def test_whole_bodies_that_trickle_end_at_max_reply_seconds(fault: fs.FaultServer, call: str) -> None:
    fault.behaviour = fs.trickle(b" " * 10_000, interval=0.01, headers={"Content-Type": "application/json"})
    async with patient(fault, idle=5, most=0.3) as client:
        with pytest.raises(TimedOut, match="max_reply_seconds"):
            await (client.complete(HI, "m") if call == "complete" else client.list_models())
    assert stopped_early(fault)


async def test_headers_that_trickle_end_at_max_reply_seconds(fault: fs.FaultServer) -> None:
    fault.behaviour = fs.trickle(b"X-Slow: " + b"x" * 10_000, interval=0.01, first=b"HTTP/1.1 200 OK\r\n")
    async with patient(fault, idle=5, most=0.3) as client:
        with pytest.raises(TimedOut, match="max_reply_seconds"):
            await stream(client)
    assert stopped_early(fault)


# -- size ----------------------------------------------------------------------------------------


async def test_an_endless_data_line_fails_at_the_event_cap(fault: fs.FaultServer, client: ChatClient,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sse_module, "MAX_EVENT", 1 << 20)
    fault.behaviour = fs.endless_line(total=64 << 20)
    with pytest.raises(TooLarge, match="event larger than 1 MiB"):
        await stream(client)
    assert stopped_early(fault)


async def test_an_endless_line_after_some_text_is_partial(fault: fs.FaultServer, client: ChatClient,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sse_module, "MAX_EVENT", 1 << 20)
    fault.behaviour = fs.endless_line(total=64 << 20, prefix=FIRST_EVENT + b"data: ")
    with pytest.raises(TooLarge) as info:
        await stream(client)
    assert info.value.partial


@functools.cache
def bomb(unit: bytes) -> bytes:
    return fs.gzip_bomb(64 << 20, unit)


def bomb_client(fault: fs.FaultServer) -> ChatClient:
    """A client that a cap, not its idle timeout, stops: a bomb of keep-alives or NULs
    carries no content, and a loaded machine can take 0.2 s to read its first piece."""
    return patient(fault, idle=30, most=60)


def bomb_behaviour(unit: bytes, content_type: str, status: int = 200) -> fs.Behaviour:
    """64 MiB of ``unit`` gzipped (about 64 KB), sent slowly enough to see the client leave
    (over a second in all: a loaded machine may take a while to read the first pieces; a
    client that stops after those ends the test early)."""
    return fs.gzipped(bomb(unit), content_type, piece=1024, interval=0.02, status=status)


@pytest.mark.parametrize(("unit", "cap", "message"), [
    (b"\0", "MAX_EVENT", "event larger than 1 MiB"),
    (b": keep-alive\n", "MAX_STREAM_REPLY", "reply is larger than 1 MiB"),
])
async def test_gzip_bomb_in_a_stream(fault: fs.FaultServer, monkeypatch: pytest.MonkeyPatch,
                                     unit: bytes, cap: str, message: str) -> None:
    monkeypatch.setattr(sse_module if cap == "MAX_EVENT" else client_module, cap, 1 << 20)
    fault.behaviour = bomb_behaviour(unit, "text/event-stream")
    async with bomb_client(fault) as client:
        with pytest.raises(TooLarge, match=message):
            await stream(client)
    assert stopped_early(fault)


async def test_gzip_bomb_as_a_whole_reply(fault: fs.FaultServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(client_module, "MAX_WHOLE_REPLY", 1 << 20)
    fault.behaviour = bomb_behaviour(b" ", "application/json")
    async with bomb_client(fault) as client:
        with pytest.raises(TooLarge, match="the server's answer is larger than 1 MiB"):
            await client.complete(HI, "m")
        assert stopped_early(fault)
        with pytest.raises(TooLarge, match="the server's reply is larger than 1 MiB"):
            await stream(client)
    assert stopped_early(fault)


async def test_gzip_bomb_as_a_model_list(fault: fs.FaultServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(client_module, "MAX_MODEL_LIST", 1 << 20)
    fault.behaviour = bomb_behaviour(b" ", "application/json")
    async with bomb_client(fault) as client:
        with pytest.raises(TooLarge, match="model list is larger than 1 MiB"):
            await client.list_models()
    assert stopped_early(fault)


async def test_gzip_bomb_as_an_error_body_is_read_only_to_its_cap(fault: fs.FaultServer) -> None:
    fault.behaviour = bomb_behaviour(b"x", "text/plain", status=500)
    async with bomb_client(fault) as client:
        with pytest.raises(ServiceError, match=r"HTTP 500.*: xxxx"):
            await stream(client)
    assert stopped_early(fault)


# -- broken HTTP -----------------------------------------------------------------------------------


@pytest.mark.parametrize("content_type", ["text/event-stream", "application/json"])
async def test_invalid_gzip(fault: fs.FaultServer, client: ChatClient, content_type: str) -> None:
    fault.behaviour = fs.bad_gzip(content_type)
    with pytest.raises(ServiceError, match="compressed wrongly and cannot be read"):
        await stream(client)
    with pytest.raises(ServiceError, match="compressed wrongly"):
        await client.complete(HI, "m")
    with pytest.raises(ServiceError, match="compressed wrongly"):
        await client.list_models()


async def test_http_garbage_instead_of_a_status_line(fault: fs.FaultServer, client: ChatClient) -> None:
    fault.behaviour = fs.raw(b"SSH-2.0-OpenSSH_9.6\r\n\r\n")
    with pytest.raises(ServiceError, match="answer is not HTTP .*is the base URL right"):
        await stream(client)
    with pytest.raises(ServiceError, match="not HTTP"):
        await client.list_models()


async def test_a_status_line_then_close(fault: fs.FaultServer, client: ChatClient) -> None:
    fault.behaviour = fs.raw(b"HTTP/1.1 200 OK\r\n")
    with pytest.raises(ConnectionFailed, match="closed the connection without answering"):
        await stream(client)
    with pytest.raises(ConnectionFailed, match="without answering"):
        await client.complete(HI, "m")


async def test_a_reset_mid_stream_is_partial(fault: fs.FaultServer, client: ChatClient) -> None:
    fault.behaviour = fs.sse_then_reset(FIRST_EVENT)
    seen: list[Any] = []
    with pytest.raises(IncompleteReply, match="connection was lost") as info:
        await stream(client, seen)
    assert seen == [ContentDelta("Hello")] and info.value.partial


async def test_a_reset_in_a_whole_body(fault: fs.FaultServer, client: ChatClient) -> None:
    headers = {"Content-Type": "application/json", "Content-Length": "500"}
    fault.behaviour = fs.raw(fs.head(200, headers) + COMPLETION[:20].encode(), then="reset")
    with pytest.raises(ConnectionFailed, match="connection was lost"):
        await client.complete(HI, "m")


# -- hostile bodies in good HTTP -----------------------------------------------------------------

DEEP = "[" * 100_000
HOSTILE_BODIES = [
    DEEP,
    '{"choices": ' + DEEP + "}",
    '{"error": {"message": ' + DEEP + "}}",
    "[" * 950 + "]" * 950,
    '{"error": {"message": ' + "[" * 960 + "]" * 960 + "}}",
    '{"choices": "x"}',
    '{"choices": [1, null, "x", []]}',
    '{"choices": [{"delta": 5, "message": [], "finish_reason": 7, "index": {}}]}',
    '{"choices": [{"message": {"content": {"a": 1}, "reasoning_content": 5}, "finish_reason": "' + "s" * 100_000 + '"}]}',
    '{"choices": [{"message": {"content": [1, {"text": 5}, {"text": "ok"}]}}], "usage": "lots"}',
    '{"choices": [], "usage": {"prompt_tokens": "1e29", "total_tokens": 1e400, "completion_tokens": NaN}}',
    '{"choices": [], "usage": {"prompt_tokens": ' + "9" * 5000 + "}}",
    '{"choices": [], "model": ' + "1" * 4000 + ', "usage": {"prompt_tokens": ' + "9" * 4000 + "}}",
    '{"error": 5}',
    '{"error": {"message": 5, "code": 1e300, "type": []}}',
    '{"error": {"message": "m", "code": ' + "9" * 4000 + "}}",
    '{"object": "error", "message": {"x": [1, 2]}, "code": "x"}',
    '{"detail": [{"loc": 5, "msg": []}, 3, {"loc": [{}], "msg": "m"}]}',
    '{"data": 5, "models": {"a": 1}}',
    '{"data": [5, null, {"id": 5}, {"id": "x", "created": 1e300, "owned_by": []}]}',
    "null",
    '"just a string"',
    "1e999999",
    "\ufeff{}",
    "[" + ",".join(["{}"] * 20_000) + "]",
]


def hostile_replies(body: str) -> dict[str, Reply]:
    raw = body.encode("utf-8", "surrogatepass")
    return {
        "json": Reply(body=raw),
        "sse": stream_reply([b"data: " + raw + b"\n\n"]),
        "sse-lines": stream_reply([b"data: " + raw.replace(b",", b"\ndata: ") + b"\n\n"]),
        "error-400": Reply(400, body=raw),
        "error-503": Reply(503, body=raw),
    }


@pytest.fixture
async def loopback_client(server: LoopbackServer) -> AsyncIterator[ChatClient]:
    async with ChatClient(server.url, KEY, max_retries=0, idle_timeout=5) as c:
        yield c


@pytest.mark.parametrize("body", HOSTILE_BODIES, ids=[f"body{i}" for i in range(len(HOSTILE_BODIES))])
async def test_no_body_raises_anything_but_a_service_error(
        server: LoopbackServer, loopback_client: ChatClient, body: str) -> None:
    for name, reply in hostile_replies(body).items():
        for call in ("stream", "complete", "models"):
            server.script("/chat/completions" if call != "models" else "/models", reply)
            try:
                if call == "stream":
                    await stream(loopback_client)
                elif call == "complete":
                    await loopback_client.complete(HI, "m")
                else:
                    await loopback_client.list_models()
            except ServiceError as error:
                assert error.message and "\n" not in error.message and len(error.message) < 400, (name, call)


async def test_json_of_too_many_values_is_refused(server: LoopbackServer, loopback_client: ChatClient) -> None:
    """``[{},{},…]`` grows twenty-fold as Python objects: past two million values it is refused."""
    body = "[" + ",".join(["{}"] * 2_100_000) + "]"
    server.script("/chat/completions", Reply(body=body), Reply(body=body))
    server.script("/models", Reply(body=body))
    with pytest.raises(ServiceError, match="not an event stream or JSON"):
        await stream(loopback_client)
    with pytest.raises(ServiceError, match="not a chat completion"):
        await loopback_client.complete(HI, "m")
    with pytest.raises(ServiceError, match="not a model list"):
        await loopback_client.list_models()


async def test_invalid_utf8_is_replaced_not_raised(server: LoopbackServer, loopback_client: ChatClient) -> None:
    server.script("/chat/completions", stream_reply([b'data: {"choices": [{"delta": {"content": "a\xff\xfeb"}}]}\n\n',
                                                     *sse(chunk(finish="stop"))]))
    events = await stream(loopback_client)
    assert ContentDelta("a\ufffd\ufffdb") in events


@pytest.mark.parametrize(("url", "shown"), [
    ("https://api.token502.com/v1", "api.token502.com"),
    ("http://127.0.0.1:8080/v1", "127.0.0.1:8080"),
    ("http://[::1]:8080/v1", "[::1]:8080"),
    ("https://me:s3cret@gw.example.com:8443/v1", "gw.example.com:8443"),  # never the password
    ("http://[::1/v1", "http://[::1/v1"),  # urllib refuses it: the URL as written
    ("not a url", "not a url"),
])
def test_the_host_shown_is_the_address_without_credentials(url: str, shown: str) -> None:
    # Made without httpx, which the first screen (its status line names the host) does not load.
    assert display_host(url) == shown
    if shown != url:
        assert httpx.URL(url).netloc.decode() == shown  # what the client's own messages said


@pytest.mark.parametrize("url", ["http://127.0.0.999/v1", "http://[::1::2]/v1"])
async def test_a_base_url_httpx_refuses_fails_each_request_not_the_app(url: str) -> None:
    # The config refuses these; a client made from anything else must still not raise
    # where it is made (a worker's crash), only where requests are.
    async with ChatClient(url, "k", max_retries=0) as broken:
        assert broken.host == url
        with pytest.raises(ServiceError, match="cannot be used"):
            await broken.list_models()


async def test_a_timeout_changed_on_a_client_holds_from_its_next_request(fault: fs.FaultServer) -> None:
    # Settings (F2) change the reply timeout of the clients already made.
    fault.behaviour = fs.stall_after_headers({"Content-Type": "application/json"})
    async with ChatClient(fault.url, KEY, idle_timeout=30, max_retries=0) as client:
        client.idle_timeout = 0.2
        async with asyncio.timeout(10):  # not the 30 s it was made with
            with pytest.raises(TimedOut, match="sent nothing for 0.2 s"):
                await client.complete(HI, "m")
