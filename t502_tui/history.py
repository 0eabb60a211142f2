"""The conversation store as the event loop uses it.

Every call runs on the store's own thread, one at a time and in the order made, so the
screen never waits on the disk. The store reads the objects it is given and changes none
of them; what it decides (a new message's id, its versions) is applied here, back on the
loop, to objects the screen may be drawing. A write that fails is reported once through
``on_failure`` (until one succeeds again) and the chat goes on in memory.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any, TypeVar

from t502_tui.conversation import ChatMessage, Conversation
from t502_tui.store import Store, StoreError

T = TypeVar("T")


def _ignore(error: StoreError) -> None:
    """The default failure report: none (the caller checks the result)."""


class History:
    """Runs store calls off the event loop and applies their results on it."""

    def __init__(self, store: Store, on_failure: Callable[[StoreError], None] = _ignore) -> None:
        self.store = store
        self.on_failure = on_failure
        """Told about a failed write, once per run of failures."""
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="t502-store")
        self._failing = False

    @property
    def failing(self) -> bool:
        """The last write failed (and none has succeeded since)."""
        return self._failing

    async def read(self, call: Callable[[Store], T]) -> T:
        """``call(store)`` on the store's thread; raises :class:`StoreError`."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, call, self.store)

    async def write(self, call: Callable[[Store], Any]) -> bool:
        """``call(store)`` on the store's thread; False (and reported) if it failed."""
        try:
            await self.read(call)
        except StoreError as error:
            self._failed(error)
            return False
        self._failing = False
        return True

    def _failed(self, error: StoreError) -> None:
        if not self._failing:
            self._failing = True
            self.on_failure(error)

    async def add_message(self, conversation: Conversation, message: ChatMessage) -> bool:
        """Save a new message (its ``parent_id`` set by the caller); on success it gets its
        id and versions, and the conversation counts as saved."""
        head = replace(conversation, messages=[], settings=dict(conversation.settings))
        snapshot = copy.copy(message)
        try:
            saved = await self.read(lambda store: store.add_message(head, snapshot))
        except StoreError as error:
            self._failed(error)
            return False
        self._failing = False
        message.id, message.alternatives = saved.id, saved.alternatives
        conversation.saved = True
        return True

    async def update_message(self, message: ChatMessage) -> bool:
        """Write the message as it is now (a copy: it may keep changing meanwhile)."""
        snapshot = copy.copy(message)
        return await self.write(lambda store: store.update_message(snapshot))

    async def save_conversation(self, conversation: Conversation) -> bool:
        """Write the conversation's own row (title, model, system prompt, settings)."""
        head = replace(conversation, messages=[], settings=dict(conversation.settings))
        if await self.write(lambda store: store.save_conversation(head)):
            conversation.saved = True
            return True
        return False

    def submit(self, call: Callable[[Store], Any]) -> None:
        """Queue ``call(store)`` at once, without waiting: for the last writes before t502
        closes, which must be queued before the store is closed behind them."""
        def run() -> None:
            try:
                call(self.store)
            except StoreError as error:
                self._failed(error)

        self._executor.submit(run)

    async def close(self) -> None:
        """Finish the queued calls, then close the database."""
        self._executor.submit(self.store.close)
        await asyncio.to_thread(self._executor.shutdown, True)

