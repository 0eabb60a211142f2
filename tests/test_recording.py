"""Writing a reply ahead while it streams: the disk never holds the stream up."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from t502_tui.conversation import ChatMessage, Conversation, ReplyStatus
from t502_tui.history import History
from t502_tui.recording import FLUSH_CHARS, ReplyRecorder
from t502_tui.store import Store, StoreError



class HeldHistory(History):
    """A history whose rewrites of a reply wait until the test lets them through."""

    def __init__(self, store: Store) -> None:
        super().__init__(store, failed)
        self.gate = threading.Event()
        self.rewrites_started = threading.Event()

    async def update_message(self, message: ChatMessage) -> bool:
        def held(store: Store) -> None:
            self.rewrites_started.set()
            self.gate.wait(10)

        await self.read(held)
        return await super().update_message(message)


def failed(error: StoreError) -> None:
    raise AssertionError(f"store failed: {error}")


async def test_a_slow_disk_does_not_hold_the_stream_up(tmp_path: Path) -> None:
    history = HeldHistory(Store(tmp_path / "t502.db"))
    conversation = Conversation(model="m")
    question = ChatMessage("user", "q")
    conversation.messages.append(question)
    await history.add_message(conversation, question)
    reply = ChatMessage("assistant", model="m", status=ReplyStatus.STREAMING, parent_id=question.id)
    conversation.messages.append(reply)
    recorder = ReplyRecorder(conversation, reply, history)
    recorder.add("first ")  # creates the row
    await recorder.first_written()
    assert reply.id is not None
    piece = "x" * 1000
    for _ in range(FLUSH_CHARS // len(piece) + 1):
        recorder.add(piece)
    await asyncio.to_thread(history.rewrites_started.wait, 10)
    # The rewrite is stuck on the disk; more text is still taken in at once.
    for _ in range(50):
        recorder.add(piece)
    history.gate.set()
    await recorder.finish(ReplyStatus.COMPLETE)
    await history.close()
    saved = Store(tmp_path / "t502.db").load_conversation(conversation.id).messages[-1]
    expected = "first " + piece * (FLUSH_CHARS // len(piece) + 51)
    assert saved.content == expected and saved.status is ReplyStatus.COMPLETE


async def test_without_a_store_the_reply_is_kept_in_memory() -> None:
    conversation = Conversation(model="m")
    reply = ChatMessage("assistant", model="m", status=ReplyStatus.STREAMING)
    recorder = ReplyRecorder(conversation, reply, None)
    for i in range(20000):
        recorder.add(f"{i} ")
    await recorder.finish(ReplyStatus.STOPPED)
    assert reply.content == "".join(f"{i} " for i in range(20000))
    assert reply.status is ReplyStatus.STOPPED


async def test_a_failing_store_is_told_once_and_the_reply_goes_on(tmp_path: Path) -> None:
    store = Store(tmp_path / "t502.db")
    told: list[StoreError] = []
    history = History(store, told.append)
    conversation = Conversation(model="m")
    question = ChatMessage("user", "q")
    conversation.messages.append(question)
    await history.add_message(conversation, question)
    store._db.execute("PRAGMA query_only = ON")  # every write fails from now on
    reply = ChatMessage("assistant", model="m", status=ReplyStatus.STREAMING, parent_id=question.id)
    recorder = ReplyRecorder(conversation, reply, history)
    recorder.add("kept in memory")
    await recorder.first_written()
    recorder.add(" still")
    await recorder.finish(ReplyStatus.COMPLETE)
    assert reply.content == "kept in memory still" and reply.id is None
    assert len(told) == 1
    await history.close()


async def test_an_unforeseen_failure_writing_ahead_never_leaves_the_first_words_waiting(tmp_path: Path) -> None:
    class BrokenHistory(History):
        async def add_message(self, conversation: Conversation, message: ChatMessage) -> bool:
            raise UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed")

    history = BrokenHistory(Store(tmp_path / "t502.db"), failed)
    conversation = Conversation(model="m")
    reply = ChatMessage("assistant", model="m", status=ReplyStatus.STREAMING)
    recorder = ReplyRecorder(conversation, reply, history)
    recorder.add("first words")
    await asyncio.wait_for(recorder.first_written(), 10)
    recorder.add(" and more")
    await asyncio.wait_for(recorder.finish(ReplyStatus.COMPLETE), 10)
    await history.close()
    assert reply.content == "first words and more" and reply.status is ReplyStatus.COMPLETE
