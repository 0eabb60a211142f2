"""Saving a reply while it streams, so a crash or a kill loses at most a second of it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from t502_tui.conversation import ChatMessage, Conversation, ReplyStatus
from t502_tui.service.events import Usage
from t502_tui.store import StoreError, StoreRunner

FLUSH_SECONDS = 1.0
FLUSH_CHARS = 64 * 1024


class ReplyRecorder:
    """Collects a reply's text and writes it ahead to the store as it grows.

    The reply's row is created with its first token, its text rewritten at least every
    :data:`FLUSH_SECONDS` (or :data:`FLUSH_CHARS`), and its final state written by
    :meth:`finish`. A store that fails is reported once through ``on_error``; the reply
    goes on in memory.
    """

    def __init__(
        self,
        conversation: Conversation,
        message: ChatMessage,
        runner: StoreRunner | None,
        on_error: Callable[[StoreError], None],
    ) -> None:
        self.conversation = conversation
        self.message = message
        self.runner = runner
        self.on_error = on_error
        self._content: list[str] = []
        self._reasoning: list[str] = []
        self._unsaved = 0
        self._last_flush = 0.0
        self._writing: asyncio.Future[None] | None = None
        """The write in progress, if any."""

    def _sync(self) -> None:
        self.message.content = "".join(self._content)
        self.message.reasoning = "".join(self._reasoning)
        self._content = [self.message.content] if self.message.content else []
        self._reasoning = [self.message.reasoning] if self.message.reasoning else []

    async def add_content(self, text: str) -> None:
        """Record answer text."""
        self._content.append(text)
        await self._grew(len(text))

    async def add_reasoning(self, text: str) -> None:
        """Record reasoning text."""
        self._reasoning.append(text)
        await self._grew(len(text))

    def set_usage(self, usage: Usage) -> None:
        """Record the server's token counts."""
        self.message.usage = usage

    async def _grew(self, size: int) -> None:
        self._unsaved += size
        if self.runner is None:
            return  # kept in memory; written (if at all) by finish()
        if self.message.id is None:
            await self._flush(add=True)  # the row must exist before it is rewritten
        elif (self._unsaved >= FLUSH_CHARS or time.monotonic() - self._last_flush >= FLUSH_SECONDS) and (
            self._writing is None or self._writing.done()
        ):
            # In the background, one write at a time: a reply pouring in is not held up
            # by the disk, and the store's thread keeps the writes in order.
            self._writing = asyncio.ensure_future(self._flush(add=False))

    async def _flush(self, add: bool) -> None:
        self._sync()
        self._last_flush = time.monotonic()
        self._unsaved = 0
        await self._save(add)

    async def finish(self, status: ReplyStatus, error: str | None = None) -> None:
        """Write the reply's final text and how it ended."""
        if self._writing is not None:
            await self._writing
        self._sync()
        self.message.status = status
        self.message.error = error
        await self._save(add=self.message.id is None)

    async def _save(self, add: bool) -> None:
        if self.runner is None:
            return
        try:
            if add:
                await self.runner.run(self.runner.store.add_message, self.conversation, self.message)
            else:
                await self.runner.run(self.runner.store.update_message, self.message)
        except StoreError as error:
            self.runner = None
            self.on_error(error)
