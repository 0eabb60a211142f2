"""One open conversation: its messages, the composer, and the worker that streams replies.

The reply worker belongs to the pane, so a reply keeps streaming while the user looks at
another conversation. A reply that fails or is stopped keeps its text, marked as such.
Long conversations draw only their newest messages; older ones are drawn (and read from
the store) as the user scrolls up to them.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, cast

from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.widgets import Static
from textual.worker import Worker, WorkerState

from t502_tui.attachments import Attachment, AttachmentError, check_count, load_image

from t502_tui.conversation import ChatMessage, Conversation, ReplyStatus
from t502_tui.recording import ReplyRecorder
from t502_tui.service import (
    ConnectionFailed,
    ContentDelta,
    Finished,
    ReasoningDelta,
    ServiceError,
    TimedOut,
    UsageReport,
)
from t502_tui.ui.screens.dialogs import Confirm
from t502_tui.ui.widgets.attachment_bar import AttachmentBar
from t502_tui.ui.widgets.composer import Composer
from t502_tui.ui.widgets.message_view import AssistantMessageView, MessageView, UserMessageView

if TYPE_CHECKING:
    from t502_tui.ui.app import T502App

VISIBLE_AT_OPEN = 12
"""Messages drawn when a conversation opens; older ones are drawn on scrolling up."""
PAGE = 20
YIELD_SECONDS = 0.01
"""During a flood the reply worker hands the event loop back at least this often."""


def _error_hint(error: ServiceError, has_key: bool) -> str:
    status = getattr(error, "status", None)
    if status == 401 and not has_key:
        return " (no API key is set: set T502_API_KEY or api_key in the config file)"
    if status == 404:
        return " (is the model right? ctrl+o picks another)"
    return ""


class ConversationPane(Vertical):
    """Shows a :class:`Conversation` and sends its next turns."""

    @dataclass
    class Changed(Message):
        """Title, usage, model or streaming state of the pane changed."""

        pane: ConversationPane
        saved: bool = False
        """True when the store now holds something new for this conversation."""

    def __init__(self, conversation: Conversation, *, id: str) -> None:
        super().__init__(id=id, classes="conversation")
        self.conversation = conversation
        self._reply_worker: Worker[None] | None = None
        self._drawn_from = max(0, len(conversation.messages) - VISIBLE_AT_OPEN)
        """Index of the oldest message that has a view."""
        self._loading_older = False
        self.attachments: list[Attachment] = []
        """Images waiting to go with the next message."""
        self.editing: ChatMessage | None = None
        """The earlier message being edited; sending makes a new branch from it."""

    @property
    def t502(self) -> T502App:
        return cast("T502App", self.app)

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="messages"):
            for message in self.conversation.messages[self._drawn_from:]:
                yield self._view_for(message)
        yield Static(classes="edit-banner")
        yield AttachmentBar()
        keys = self.t502.keys
        yield Composer(send_keys=keys["send"], newline_keys=keys["newline"], id=f"{self.id}-composer")

    def on_mount(self) -> None:
        scroller = self.messages
        scroller.anchor()
        self.watch(scroller, "scroll_y", self._scrolled, init=False)

    @staticmethod
    def _view_for(message: ChatMessage) -> MessageView:
        return UserMessageView(message) if message.role == "user" else AssistantMessageView(message)

    @property
    def messages(self) -> VerticalScroll:
        return self.query_one(".messages", VerticalScroll)

    @property
    def composer(self) -> Composer:
        return self.query_one(Composer)

    @property
    def streaming(self) -> bool:
        """True while a reply is being received."""
        return self._reply_worker is not None and self._reply_worker.state in (
            WorkerState.PENDING,
            WorkerState.RUNNING,
        )

    def _changed(self, saved: bool = False) -> None:
        self.post_message(self.Changed(self, saved))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker is self._reply_worker:
            self._changed()

    # -- older messages ---------------------------------------------------------------------

    def _scrolled(self, scroll_y: float) -> None:
        if scroll_y < 3 and not self._loading_older and (self._drawn_from or self.conversation.has_older):
            self._loading_older = True
            self.run_worker(self._draw_older(), group="older", exit_on_error=False)

    async def _draw_older(self, until_id: int | None = None) -> None:
        """Draw a page of older messages (reading them from the store if needed), or all
        of them up to the one with id ``until_id``."""
        try:
            conversation = self.conversation
            if until_id is None:
                if self._drawn_from == 0:
                    await self.load_older(PAGE)
                start = max(0, self._drawn_from - PAGE)
            else:
                while conversation.has_older and all(m.id != until_id for m in conversation.messages):
                    await self.load_older(PAGE)
                index = next((i for i, m in enumerate(conversation.messages) if m.id == until_id), 0)
                start = min(index, self._drawn_from)
            views = [self._view_for(m) for m in conversation.messages[start:self._drawn_from]]
            if views:
                scroller = self.messages
                before = scroller.virtual_size.height
                await scroller.mount_all(views, before=0)
                self._drawn_from = start
                if until_id is None:
                    scroller.call_after_refresh(
                        lambda: scroller.scroll_to(y=scroller.scroll_y + scroller.virtual_size.height - before, animate=False)
                    )
        finally:
            self._loading_older = False

    async def load_older(self, limit: int | None) -> None:
        """Read older messages from the store into the conversation (not drawn)."""
        runner = self.t502.store_runner
        conversation = self.conversation
        if runner is None or not conversation.has_older or not conversation.messages:
            conversation.has_older = False
            return
        first_id = conversation.messages[0].id
        older, more = await runner.run(runner.store.older_messages, conversation.id, first_id, limit)
        conversation.messages[:0] = older
        conversation.has_older = more
        self._drawn_from += len(older)

    async def show_message(self, message_id: int) -> None:
        """Scroll to the message with this store id, drawing older messages if needed."""
        await self._draw_older(until_id=message_id)
        for view in self.query(MessageView):
            if view.message.id == message_id:
                self.messages.release_anchor()
                self.messages.scroll_to_widget(view, top=True, animate=False)
                view.focus()
                return

    # -- sending ------------------------------------------------------------------------------

    async def on_composer_submitted(self, event: Composer.Submitted) -> None:
        event.stop()
        text = event.text
        if self.streaming:
            event.composer.restore(text)
            self.notify("A reply is still streaming: Esc stops it.", severity="warning")
            return
        message = ChatMessage("user", text, attachments=list(self.attachments))
        if self.editing is not None and self.editing in self.conversation.messages:
            # A new branch from the edited message's parent; the old branch is kept.
            message.parent_id = self.editing.parent_id
            await self._cut_from(self.editing)
        self._stop_editing()
        self.attachments.clear()
        self.query_one(AttachmentBar).show([])
        self.conversation.messages.append(message)
        await self.messages.mount(UserMessageView(message))
        self.messages.anchor()
        self.start_reply(save_first=message)

    # -- versions, edits, deletions ------------------------------------------------------

    def _view_of(self, message: ChatMessage) -> MessageView | None:
        return next((v for v in self.query(MessageView) if v.message is message), None)

    async def _cut_from(self, message: ChatMessage) -> None:
        """Drop ``message`` and everything after it from the screen (not the store)."""
        index = self.conversation.messages.index(message)
        del self.conversation.messages[index:]
        views = list(self.query(MessageView))
        first = next((i for i, v in enumerate(views) if v.message is message), len(views))
        for view in views[first:]:
            await view.remove()

    async def on_message_view_flip_requested(self, event: MessageView.FlipRequested) -> None:
        event.stop()
        message = event.view.message
        runner = self.t502.store_runner
        if self.streaming or runner is None or message.id not in message.alternatives:
            return
        target = message.alternatives.index(message.id) + event.step
        if not 0 <= target < len(message.alternatives):
            return
        branch = await runner.run(runner.store.branch_from, self.conversation.id, message.alternatives[target])
        await self._cut_from(message)
        self.conversation.messages.extend(branch)
        await self.messages.mount_all([self._view_for(m) for m in branch])
        views = self.query(MessageView)
        if views:
            next(v for v in views if v.message is branch[0]).focus()
        self._changed()

    def on_message_view_edit_requested(self, event: MessageView.EditRequested) -> None:
        event.stop()
        self.edit(event.view.message)

    def edit(self, message: ChatMessage) -> None:
        """Put an earlier message in the composer; sending it starts a new branch there."""
        if self.streaming:
            self.notify("A reply is still streaming: Esc stops it.", severity="warning")
            return
        self.editing = message
        self.attachments = list(message.attachments)
        self.query_one(AttachmentBar).show(self.attachments)
        banner = self.query_one(".edit-banner", Static)
        banner.update(Content("Editing an earlier message: Enter sends it as a new branch "
                              "(the old one is kept, < > on a message flips) · Esc cancels"))
        banner.add_class("-shown")
        self.composer.show_recalled(message.content)
        self.composer.focus()

    def _stop_editing(self) -> None:
        self.editing = None
        self.composer.recalled = False
        self.query_one(".edit-banner", Static).remove_class("-shown")

    def cancel_edit(self) -> bool:
        """Leave edit mode, emptying the composer; False if not editing."""
        if self.editing is None:
            return False
        self._stop_editing()
        self.composer.clear()
        self.attachments.clear()
        self.query_one(AttachmentBar).show([])
        return True

    def on_composer_recall_requested(self, event: Composer.RecallRequested) -> None:
        event.stop()
        users = [m for m in self.conversation.messages if m.role == "user"]
        if self.editing in users:
            users = users[: users.index(self.editing)]
        if users:
            self.edit(users[-1])

    async def on_message_view_delete_requested(self, event: MessageView.DeleteRequested) -> None:
        event.stop()
        message = event.view.message
        if self.streaming:
            self.notify("Wait for the reply to finish (or stop it with Esc) first.", severity="warning")
            return

        async def confirmed(yes: bool | None) -> None:
            if not yes or message not in self.conversation.messages:
                return
            await self.t502.save(lambda store: store.delete_message(message))
            self.conversation.messages.remove(message)
            if view := self._view_of(message):
                await view.remove()
            self._changed(saved=True)

        what = "your message" if message.role == "user" else f"this reply from {message.model}"
        self.app.push_screen(Confirm(f"Delete {what}? What followed it stays.", "Delete"), confirmed)

    async def regenerate(self, model: str | None = None) -> bool:
        """Ask again for the last reply (with ``model`` if given); the old one is kept as
        another version of it."""
        messages = self.conversation.messages
        if self.streaming or not messages or messages[-1].role != "assistant":
            return False
        if model:
            self.conversation.model = model
        last = messages.pop()
        if view := self._view_of(last):
            await view.remove()
        if self.t502.store_runner is None:
            self.notify("History is off, so the earlier reply is not kept.", severity="warning")
        self.start_reply()
        return True

    # -- images -------------------------------------------------------------------------------

    async def attach(self, path: Path) -> None:
        """Read an image off the event loop and put it on the next message."""
        config = self.t502.config
        try:
            check_count(len(self.attachments) + 1, config.max_images)
            image = await asyncio.to_thread(load_image, path, int(config.max_image_mb * 1024 * 1024))
        except AttachmentError as error:
            self.notify(str(error), title="Not attached", severity="error")
            return
        self.attachments.append(image)
        self.query_one(AttachmentBar).show(self.attachments)
        self.composer.focus()

    async def on_composer_image_pasted(self, event: Composer.ImagePasted) -> None:
        event.stop()
        await self.attach(event.path)

    def on_attachment_bar_removed(self, event: AttachmentBar.Removed) -> None:
        event.stop()
        if 0 <= event.index < len(self.attachments):
            del self.attachments[event.index]
        self.query_one(AttachmentBar).show(self.attachments)
        self.composer.focus()

    def start_reply(self, save_first: ChatMessage | None = None) -> None:
        """Ask the current model to answer the conversation so far."""
        self._reply_worker = self.run_worker(
            self._stream_reply(save_first), group="reply", exclusive=True, exit_on_error=False,
            description=f"reply in {self.conversation.id}",
        )
        self._changed()

    def cancel_reply(self) -> bool:
        """Stop the streaming reply, keeping its text; False if nothing was streaming."""
        if not self.streaming or self._reply_worker is None:
            return False
        self._reply_worker.cancel()
        return True

    @property
    def can_retry(self) -> bool:
        """True when the last turn has no complete reply and nothing is streaming."""
        messages = self.conversation.messages
        return bool(messages) and not self.streaming and (
            messages[-1].role == "user" or messages[-1].status is not ReplyStatus.COMPLETE
        )

    async def retry(self) -> bool:
        """Resend the last turn. A failed reply with no text is dropped; one with some
        text is kept as another version of the reply (never lose words)."""
        if not self.can_retry:
            return False
        last = self.conversation.messages[-1]
        if last.role == "assistant":
            self.conversation.messages.pop()
            if not last.content and not last.reasoning:
                await self.t502.save(lambda store: store.delete_message(last))
            if view := self._view_of(last):
                await view.remove()
        self.start_reply()
        return True

    def last_reply(self) -> ChatMessage | None:
        """The newest assistant message with some text."""
        for message in reversed(self.conversation.messages):
            if message.role == "assistant" and message.content:
                return message
        return None

    async def _stream_reply(self, save_first: ChatMessage | None) -> None:
        conversation = self.conversation
        app = self.t502
        await app.store_ready.wait()  # a message sent in the first instant is saved too
        if save_first is not None:
            await app.save(lambda store: store.add_message(conversation, save_first))
            if isinstance(view := self._view_of(save_first), UserMessageView):
                view.refresh_header()
            self._changed(saved=True)
        if conversation.has_older:
            await self.load_older(None)
        history = conversation.request_messages(app.config.system_role)
        message = ChatMessage("assistant", model=conversation.model, status=ReplyStatus.STREAMING)
        conversation.messages.append(message)
        view = AssistantMessageView(message)
        await self.messages.mount(view)
        recorder = ReplyRecorder(conversation, message, app.store_runner, app.store_failed)
        app.set_connection("streaming")
        status, error_text = ReplyStatus.COMPLETE, None
        try:
            turn_started = time.monotonic()
            async for event in app.stream_reply(history, message.model or ""):
                if time.monotonic() - turn_started > YIELD_SECONDS:
                    # Reading from a full socket never waits, so it never lets keys in:
                    # hand the event loop back now and then during a flood.
                    await asyncio.sleep(0)
                    turn_started = time.monotonic()
                if isinstance(event, ContentDelta):
                    view.append_content(event.text)
                    await recorder.add_content(event.text)
                elif isinstance(event, ReasoningDelta):
                    view.append_reasoning(event.text)
                    await recorder.add_reasoning(event.text)
                elif isinstance(event, UsageReport):
                    recorder.set_usage(event.usage)
                elif isinstance(event, Finished):
                    message.finish_reason = event.finish_reason
        except asyncio.CancelledError:
            status = ReplyStatus.STOPPED
            app.set_connection("ready")
            raise
        except ServiceError as error:
            status = ReplyStatus.ERROR
            error_text = error.message + _error_hint(error, bool(app.config.api_key))
            offline = isinstance(error, (ConnectionFailed, TimedOut)) and not error.partial
            rejected = getattr(error, "status", None) in (401, 403)
            app.set_connection(
                f"offline: {error.message}" if offline else f"error: {error.message}" if rejected else "ready"
            )
        else:
            app.set_connection("ready")
        finally:
            message.status, message.error = status, error_text
            await view.finish()  # the whole reply on screen first, then its final save
            await asyncio.shield(recorder.finish(status, error_text))
            view.refresh_header()
            self._changed(saved=True)
