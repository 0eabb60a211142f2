"""One open conversation: its messages, the composer, and the worker that streams replies.

The reply worker belongs to the pane, so a reply keeps streaming while the user looks at
another conversation. A reply that fails or is stopped keeps its text, marked as such.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.worker import Worker, WorkerState

from t502_tui.conversation import ChatMessage, Conversation, ReplyStatus
from t502_tui.service import (
    ConnectionFailed,
    ContentDelta,
    Finished,
    ReasoningDelta,
    ServiceError,
    TimedOut,
    UsageReport,
)
from t502_tui.ui.widgets.composer import Composer
from t502_tui.ui.widgets.message_view import AssistantMessageView, MessageView, UserMessageView

if TYPE_CHECKING:
    from t502_tui.ui.app import T502App


def _error_hint(error: ServiceError, has_key: bool) -> str:
    status = getattr(error, "status", None)
    if status == 401 and not has_key:
        return " (no API key is set: open Settings from ctrl+p, or set T502_API_KEY)"
    if status == 404:
        return " (is the model right? ctrl+o picks another)"
    return ""


class ConversationPane(Vertical):
    """Shows a :class:`Conversation` and sends its next turns."""

    @dataclass
    class Changed(Message):
        """Title, usage, model or streaming state of the pane changed."""

        pane: ConversationPane

    def __init__(self, conversation: Conversation, *, id: str) -> None:
        super().__init__(id=id, classes="conversation")
        self.conversation = conversation
        self._reply_worker: Worker[None] | None = None

    @property
    def t502(self) -> T502App:
        return cast("T502App", self.app)

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="messages"):
            for message in self.conversation.messages:
                yield self._view_for(message)
        yield Composer(id=f"{self.id}-composer")

    def on_mount(self) -> None:
        self.query_one(".messages", VerticalScroll).anchor()

    @staticmethod
    def _view_for(message: ChatMessage) -> MessageView:
        return UserMessageView(message) if message.role == "user" else AssistantMessageView(message)

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

    def _changed(self) -> None:
        self.post_message(self.Changed(self))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker is self._reply_worker:
            self._changed()

    async def on_composer_submitted(self, event: Composer.Submitted) -> None:
        event.stop()
        text = event.text
        if self.streaming:
            event.composer.restore(text)
            self.notify("A reply is still streaming: Esc stops it.", severity="warning")
            return
        message = ChatMessage("user", text)
        self.conversation.messages.append(message)
        await self.query_one(".messages", VerticalScroll).mount(UserMessageView(message))
        self.start_reply()

    def start_reply(self) -> None:
        """Ask the current model to answer the conversation so far."""
        self._reply_worker = self.run_worker(
            self._stream_reply(), group="reply", exclusive=True, exit_on_error=False,
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
        """Resend the last turn, dropping a failed or stopped reply to it."""
        if not self.can_retry:
            return False
        last = self.conversation.messages[-1]
        if last.role == "assistant":
            self.conversation.messages.pop()
            views = self.query(AssistantMessageView)
            if views and views.last().message is last:
                await views.last().remove()
        self.start_reply()
        return True

    def last_reply(self) -> ChatMessage | None:
        """The newest assistant message with some text."""
        for message in reversed(self.conversation.messages):
            if message.role == "assistant" and message.content:
                return message
        return None

    async def _stream_reply(self) -> None:
        conversation = self.conversation
        app = self.t502
        history = conversation.request_messages(app.config.system_role)
        message = ChatMessage("assistant", model=conversation.model, status=ReplyStatus.STREAMING)
        conversation.messages.append(message)
        view = AssistantMessageView(message)
        await self.query_one(".messages", VerticalScroll).mount(view)
        content: list[str] = []
        reasoning: list[str] = []
        app.set_connection("streaming")
        try:
            async for event in app.client.stream_chat(history, message.model or "", **app.config.params):
                if isinstance(event, ContentDelta):
                    content.append(event.text)
                    view.append_content(event.text)
                elif isinstance(event, ReasoningDelta):
                    reasoning.append(event.text)
                    view.append_reasoning(event.text)
                elif isinstance(event, UsageReport):
                    message.usage = event.usage
                elif isinstance(event, Finished):
                    message.finish_reason = event.finish_reason
        except asyncio.CancelledError:
            message.status = ReplyStatus.STOPPED
            app.set_connection("ready")
            raise
        except ServiceError as error:
            message.status = ReplyStatus.ERROR
            message.error = error.message + _error_hint(error, bool(app.config.api_key))
            offline = isinstance(error, (ConnectionFailed, TimedOut)) and not error.partial
            app.set_connection(f"offline: {error.message}" if offline else "ready")
        else:
            message.status = ReplyStatus.COMPLETE
            app.set_connection("ready")
        finally:
            message.content = "".join(content)
            message.reasoning = "".join(reasoning)
            await view.finish()
            self._changed()
