"""Writing a reply ahead while it streams: the disk never holds the stream up."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from t502_tui.conversation import ChatMessage, Conversation, ReplyStatus
from t502_tui.recording import FLUSH_CHARS, ReplyRecorder
from t502_tui.store import Store, StoreError, StoreRunner

T = TypeVar("T")


class HeldRunner(StoreRunner):
    """A store whose rewrites of a reply wait until the test lets them through."""

    def __init__(self, store: Store) -> None:
        super().__init__(store)
        self.gate = threading.Event()
        self.rewrites_started = threading.Event()

    async def run(self, call: Callable[..., T], *args: Any) -> T:
        if call == self.store.update_message:
            def held() -> T:
                self.rewrites_started.set()
                self.gate.wait(10)
                return call(*args)
            return await super().run(held)
        return await super().run(call, *args)


def failed(error: StoreError) -> None:
    raise AssertionError(f"store failed: {error}")


async def test_a_slow_disk_does_not_hold_the_stream_up(tmp_path: Path) -> None:
    store = Store(tmp_path / "t502.db")
    runner = HeldRunner(store)
    conversation = Conversation(model="m")
    question = ChatMessage("user", "q")
    conversation.messages.append(question)
    store.add_message(conversation, question)
    reply = ChatMessage("assistant", model="m", status=ReplyStatus.STREAMING)
    conversation.messages.append(reply)
    recorder = ReplyRecorder(conversation, reply, runner, failed)
    await recorder.add_content("first ")  # creates the row
    assert reply.id is not None
    piece = "x" * 1000
    for _ in range(FLUSH_CHARS // len(piece) + 1):
        await recorder.add_content(piece)
    await asyncio.to_thread(runner.rewrites_started.wait, 10)
    # The rewrite is stuck on the disk; more text is still taken in at once.
    for _ in range(50):
        await asyncio.wait_for(recorder.add_content(piece), 1)
    runner.gate.set()
    await recorder.finish(ReplyStatus.COMPLETE)
    runner.close()
    saved = Store(tmp_path / "t502.db").load_conversation(conversation.id).messages[-1]
    expected = "first " + piece * (FLUSH_CHARS // len(piece) + 51)
    assert saved.content == expected and saved.status is ReplyStatus.COMPLETE


async def test_without_a_store_the_reply_is_kept_in_memory() -> None:
    conversation = Conversation(model="m")
    reply = ChatMessage("assistant", model="m", status=ReplyStatus.STREAMING)
    recorder = ReplyRecorder(conversation, reply, None, failed)
    for i in range(20000):
        await recorder.add_content(f"{i} ")
    await recorder.finish(ReplyStatus.STOPPED)
    assert reply.content == "".join(f"{i} " for i in range(20000))
    assert reply.status is ReplyStatus.STOPPED
