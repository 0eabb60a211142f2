"""Replies read in the helper process: the same events, errors and cancels as in-process."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from loopback import Gate, LoopbackServer, Reply, chunk, sse, stream_reply, text_stream
from t502_tui.service import (
    APIError,
    ContentDelta,
    Finished,
    IncompleteReply,
    ReasoningDelta,
    ServiceError,
    UsageReport,
)
from t502_tui.service.reader_process import ClientSettings, ReaderProcess

KEY = "sk-helper-secret-key-987654"
CHAT = "/chat/completions"
HI = [{"role": "user", "content": "hi"}]


@pytest.fixture
async def reader() -> AsyncIterator[ReaderProcess]:
    helper = ReaderProcess()
    assert await helper.start()
    yield helper
    await helper.aclose()


def settings(server: LoopbackServer) -> ClientSettings:
    return ClientSettings(server.url, KEY, idle_timeout=5, max_retries=0)


async def collect(reader: ReaderProcess, server: LoopbackServer) -> list[Any]:
    return [event async for event in reader.stream_chat(settings(server), HI, "m", temperature=0.5)]


async def test_a_reply_arrives_whole_with_text_merged(server: LoopbackServer, reader: ReaderProcess) -> None:
    words = [f"w{i} " for i in range(2000)]
    server.script(CHAT, stream_reply(sse(chunk(reasoning="hmm "), chunk(reasoning="ok"),
                                         *(chunk(w) for w in words), chunk(finish="stop"),
                                         {"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 2000}})))
    events = await collect(reader, server)
    assert "".join(e.text for e in events if isinstance(e, ContentDelta)) == "".join(words)
    assert "".join(e.text for e in events if isinstance(e, ReasoningDelta)) == "hmm ok"
    assert len(events) < 100  # handed over in batches, not one event per chunk
    assert Finished("stop") in events
    assert [e for e in events if isinstance(e, UsageReport)][-1].usage.completion_tokens == 2000
    request = server.chat_requests()[0]
    assert request.json["temperature"] == 0.5 and request.headers["authorization"] == f"Bearer {KEY}"


async def test_errors_come_back_typed(server: LoopbackServer, reader: ReaderProcess) -> None:
    server.script(CHAT, stream_reply(sse(chunk("half"), done=False), drop=True))
    with pytest.raises(IncompleteReply) as lost:
        await collect(reader, server)
    assert lost.value.partial
    server.script(CHAT, Reply(401, body='{"error": {"message": "bad key"}}'))
    with pytest.raises(APIError) as rejected:
        await collect(reader, server)
    assert rejected.value.status == 401 and "bad key" in rejected.value.message


async def test_stopping_a_reply_closes_its_connection(server: LoopbackServer, reader: ReaderProcess) -> None:
    gate = Gate()
    server.script(CHAT, stream_reply([*sse(chunk("first"), done=False), gate]))
    started = asyncio.Event()

    async def consume() -> None:
        async for _ in reader.stream_chat(settings(server), HI, "m"):
            started.set()

    task = asyncio.create_task(consume())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await asyncio.to_thread(server.disconnected.wait, 5)
    gate.open()
    server.script(CHAT, text_stream("still works"))
    assert "still works" in "".join(e.text for e in await collect(reader, server) if isinstance(e, ContentDelta))


async def test_a_helper_that_dies_mid_reply_keeps_the_partial_flag(server: LoopbackServer,
                                                                   reader: ReaderProcess) -> None:
    gate = Gate()
    server.script(CHAT, stream_reply([*sse(chunk("some words"), done=False), gate]))
    got: list[str] = []
    with pytest.raises(ServiceError, match="stopped unexpectedly") as lost:
        async for event in reader.stream_chat(settings(server), HI, "m"):
            got.append(event.text)
            assert reader._process is not None
            os.kill(reader._process.pid, signal.SIGKILL)
    gate.open()
    assert got == ["some words"] and lost.value.partial
    await asyncio.sleep(0)
    assert not reader.running


async def test_the_key_is_not_in_the_helpers_arguments_or_environment(
    server: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("T502_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_API_KEY", f"  {KEY}\n")
    monkeypatch.setenv("T502_SOMETHING_ELSE", "kept")
    helper = ReaderProcess()
    assert await helper.start(secrets=[KEY])
    try:
        server.script(CHAT, text_stream("ok"))
        assert [e async for e in helper.stream_chat(settings(server), HI, "m")]
        assert helper._process is not None
        proc = Path(f"/proc/{helper._process.pid}")
        if not proc.exists():
            pytest.skip("no /proc here")
        assert KEY.encode() not in (proc / "cmdline").read_bytes()
        environ = (proc / "environ").read_bytes()
        assert KEY.encode() not in environ and b"T502_SOMETHING_ELSE=kept" in environ
    finally:
        await helper.aclose()


async def test_a_helper_that_cannot_start_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "executable", "/nonexistent/python")
    helper = ReaderProcess()
    assert not await helper.start()
    assert not helper.running
    await helper.aclose()
