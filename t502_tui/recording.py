"""Saving a reply while it streams, so a crash or a kill loses at most a second of it."""

from __future__ import annotations

import asyncio
import logging
import time

from t502_tui.conversation import ChatMessage, Conversation, ReplyStatus
from t502_tui.history import History

log = logging.getLogger("t502.recording")

FLUSH_SECONDS = 1.0
FLUSH_CHARS = 64 * 1024


class ReplyRecorder:
    """Collects a reply's text and writes it ahead to the store as it grows.

    Taking text in never waits for the disk: the row is created in the background with
    the first text, rewritten at least every :data:`FLUSH_SECONDS` (sooner after
    :data:`FLUSH_CHARS`), one write at a time, and the final state is written by
    :meth:`finish`. After a failed write the reply goes on in memory (the failure was
    reported by the history).

    Images the reply gains (``message.attachments``, replaced by a longer list, never
    changed in place) are written with the next write of its text.
    """

    def __init__(self, conversation: Conversation, message: ChatMessage, history: History | None) -> None:
        self.conversation = conversation
        self.message = message
        self.history = history
        self._content: list[str] = []
        self._reasoning: list[str] = []
        self._unsaved = 0
        self._grown = asyncio.Event()
        self._large = asyncio.Event()
        self._writer: asyncio.Task[None] | None = None
        self._finishing = False
        self._first_write = asyncio.Event()
        self._saved_images = len(message.attachments)
        """How many of the message's images the store has."""

    def add(self, content: str = "", reasoning: str = "") -> None:
        """Record answer and reasoning text."""
        if content:
            self._content.append(content)
        if reasoning:
            self._reasoning.append(reasoning)
        if self.history is None:
            return  # kept in memory; joined by finish()
        self._unsaved += len(content) + len(reasoning)
        if self._unsaved >= FLUSH_CHARS:
            self._large.set()
        self._grown.set()
        if self._writer is None:
            self._writer = asyncio.create_task(self._write_ahead())

    @property
    def content(self) -> str:
        """The answer's text recorded so far."""
        return "".join(self._content)

    async def first_written(self) -> None:
        """Wait until the reply's row holds its first text (or saving has failed): the
        first words are in the history before anyone sees them."""
        if self.history is not None and self._writer is not None:
            await self._first_write.wait()

    def _sync(self) -> None:
        """Put the text taken in so far on the message."""
        self.message.content = "".join(self._content)
        self.message.reasoning = "".join(self._reasoning)
        self._content = [self.message.content] if self.message.content else []
        self._reasoning = [self.message.reasoning] if self.message.reasoning else []
        self._unsaved = 0

    async def _write_ahead(self) -> None:
        """The row at the first text, then a rewrite when a second has passed or much
        text has come; never a write cut short (that could leave a row without its id)."""
        last = 0.0
        while not self._finishing:
            await self._grown.wait()
            wait = FLUSH_SECONDS - (time.monotonic() - last)
            if self.message.id is not None and wait > 0 and not self._large.is_set():
                try:
                    await asyncio.wait_for(self._large.wait(), wait)
                except TimeoutError:
                    pass
            if self._finishing:
                return
            self._grown.clear()
            self._large.clear()
            self._sync()
            last = time.monotonic()
            try:
                saved = await self._save()
            except Exception:  # not a StoreError (told by the history): a bug; the reply goes on
                log.exception("writing the reply ahead failed")
                self.history, saved = None, False
            finally:
                self._first_write.set()  # whoever waits for the first words is never left waiting
            if not saved:
                return

    async def _save(self) -> bool:
        if self.history is None:
            return False
        images = self.message.attachments
        if self.message.id is None:
            saved = await self.history.add_message(self.conversation, self.message)
        else:
            saved = await self.history.update_message(self.message)
            if saved and len(images) > self._saved_images and self.message.id is not None:
                ident, new = self.message.id, images[self._saved_images:]
                saved = await self.history.write(lambda store: store.add_attachments(ident, new))
        if saved:
            self._saved_images = len(images)
        if not saved:
            self.history = None
        return saved

    async def finish(self, status: ReplyStatus, error: str | None = None) -> None:
        """Write the reply's final text and how it ended."""
        self._finishing = True
        self._grown.set()
        self._large.set()
        if self._writer is not None:
            await self._writer
        self._sync()
        self.message.status = status
        self.message.error = error
        await self._save()
