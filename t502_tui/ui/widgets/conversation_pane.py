"""One open conversation: its messages, the composer, and the worker that streams replies.

The reply worker belongs to the pane, so a reply keeps streaming while the user looks at
another conversation. A reply that fails or is stopped keeps its text, marked as such.
Long conversations draw only their newest messages; older ones are drawn (and read from
the store) as the user scrolls up to them.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.widgets import Static
from textual.worker import Worker, WorkerState

from t502_tui.attachments import Attachment, AttachmentError, check_count, load_attachment
from t502_tui.context_fit import Trim, budget, request_tokens, trim_to_fit
from t502_tui.conversation import ChatMessage, Conversation, ReplyStatus
from t502_tui.service import ServiceError
from t502_tui.session import ChatSession
from t502_tui.store import StoreError
from t502_tui.turn import (
    Connection,
    ConnectionChanged,
    PromptSaved,
    ReplyEnded,
    ReplyGrew,
    ReplyStarted,
    RetryWaiting,
    Turn,
    TurnEvent,
)
from t502_tui.ui.widgets.attachment_bar import AttachmentBar
from t502_tui.ui.widgets.composer import Composer
from t502_tui.ui.widgets.message_view import AssistantMessageView, MessageView, UserMessageView

VISIBLE_AT_OPEN = 12
"""Messages drawn when a conversation opens; older ones are drawn on scrolling up."""
PAGE = 20


class ConversationPane(Vertical):
    """Shows a :class:`Conversation` and sends its next turns."""

    @dataclass
    class Changed(Message):
        """Title, usage, model, connection or streaming state of the pane changed."""

        pane: ConversationPane
        saved: bool = False
        """True when the store now holds something new for this conversation."""

    @dataclass
    class WontFit(Message):
        """The message being sent would make the request larger than the model's context
        (it is back in the composer): ask what to do."""

        pane: ConversationPane
        tokens: int
        limit: int

    @dataclass
    class ReplyFinished(Message):
        """A reply ended (any way), and is saved."""

        pane: ConversationPane
        reply: ChatMessage
        error: ServiceError | None

    def __init__(self, conversation: Conversation, session: ChatSession, *,
                 keys: dict[str, list[str]], id: str) -> None:
        super().__init__(id=id, classes="conversation")
        self.conversation = conversation
        self.session = session
        self.keys = keys
        """The keys that send and make a new line (``send`` and ``newline``)."""
        self.connection: Connection | None = None
        """How the server answered this conversation's last turn (None: no turn yet)."""
        self._turn: Turn | None = None
        self._reply_worker: Worker[ChatMessage] | None = None
        self._reply_view: AssistantMessageView | None = None
        self._drawn_from = max(0, len(conversation.messages) - VISIBLE_AT_OPEN)
        """Index of the oldest message that has a view."""
        self._loading_older = False
        self.attachments: list[Attachment] = []
        """Images waiting to go with the next message."""
        self.editing: ChatMessage | None = None
        """The earlier message being edited; sending makes a new branch from it."""
        self.fit_checked = False
        """The next send goes without checking that it fits (the user chose to send it)."""

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="messages"):
            for message in self.conversation.messages[self._drawn_from:]:
                yield self._view_for(message)
        yield Static(classes="edit-banner")
        yield AttachmentBar()
        yield Composer(send_keys=self.keys["send"], newline_keys=self.keys["newline"], id=f"{self.id}-composer")

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
            self.run_worker(self._draw_older(), group="older")

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
        history = self.session.history
        conversation = self.conversation
        first_id = conversation.messages[0].id if conversation.messages else None
        if history is None or not conversation.has_older or first_id is None:
            conversation.has_older = False
            return
        try:
            older, more = await history.read(lambda store: store.older_messages(conversation.id, first_id, limit))
        except StoreError as error:
            self.notify(str(error), title="History", severity="error")
            conversation.has_older = False
            return
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
        checked, self.fit_checked = self.fit_checked, False
        if not checked and self.editing is None and (over := self.over_context(text, self.attachments)):
            event.composer.restore(text)
            self.post_message(self.WontFit(self, *over))
            return
        message = ChatMessage("user", text, attachments=list(self.attachments))
        if self.editing is not None and self.editing in self.conversation.messages:
            # A new branch from the edited message's parent; the old branch is kept.
            message.parent_id = self.editing.parent_id
            await self._cut_from(self.editing)
        self._stop_editing()
        self.attachments.clear()
        self.query_one(AttachmentBar).show([])
        await self.messages.mount(UserMessageView(message))
        self.messages.anchor()
        self.start_reply(message)

    # -- the model's context ------------------------------------------------------------

    def context_limit(self) -> int | None:
        """The tokens a request of this conversation may use, when the model's context is known."""
        session, conversation = self.session, self.conversation
        context = session.context_for(conversation.provider, conversation.model)
        return None if context is None else budget(context, session.request_params(conversation))

    def over_context(self, text: str = "", attachments: list[Attachment] | None = None) -> tuple[int, int] | None:
        """(≈ tokens, limit) when the next request, with ``text`` as the new message, would
        not fit the model's known context; None when it fits or the context is unknown."""
        limit = self.context_limit()
        if limit is None:
            return None
        tokens = request_tokens(self.conversation, text, attachments or [])
        return (tokens, limit) if tokens > limit else None

    async def leave_out_oldest(self, limit: int, text: str = "") -> Trim | None:
        """Mark the oldest turns "not sent" until the request (with ``text`` as the new
        message) fits ``limit`` tokens; they stay in the conversation. None when even the
        new message alone does not fit (nothing is changed then)."""
        if self.conversation.has_older:
            await self.load_older(None)
        trim = trim_to_fit(self.conversation, limit, text, self.attachments)
        if trim is None:
            return None
        history = self.session.history
        for message in trim.leave_out:
            message.in_context = False
            if history is not None and message.id is not None:
                await history.update_message(message)
            if (view := self._view_of(message)) is not None:
                view.refresh_header()  # type: ignore[attr-defined]
        self._changed()
        return trim

    def send_unchecked(self) -> None:
        """Send what is in the composer now, as the user chose, without the context check."""
        self.fit_checked = True
        self.composer.submit()

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
        history = self.session.history
        if self.streaming or history is None or message.id not in message.alternatives:
            return
        target = message.alternatives.index(message.id) + event.step
        if not 0 <= target < len(message.alternatives):
            return
        sibling = message.alternatives[target]
        try:
            branch = await history.read(lambda store: store.branch_from(self.conversation.id, sibling))
        except StoreError as error:
            self.notify(str(error), title="History", severity="error")
            return
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

    async def on_assistant_message_view_context_toggled(self, event: AssistantMessageView.ContextToggled) -> None:
        event.stop()
        message = event.view.message
        message.in_context = not message.sendable
        if self.session.history is not None and message.id is not None:
            await self.session.history.update_message(message)
        if isinstance(event.view, AssistantMessageView):
            event.view.refresh_header()
        self.notify("This reply goes with your next message." if message.in_context
                    else "This reply is left out of what the model sees next.")

    async def delete(self, message: ChatMessage) -> bool:
        """Delete one message (what followed it stays); False while a reply streams."""
        if self.streaming or message not in self.conversation.messages:
            return False
        history = self.session.history
        if history is not None and not await history.write(lambda store: store.delete_message(message)):
            return False
        self.conversation.messages.remove(message)
        if view := self._view_of(message):
            await view.remove()
        self._changed(saved=True)
        return True

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
        if self.session.history is None:
            self.notify("History is off, so the earlier reply is not kept.", severity="warning")
        self.start_reply()
        return True

    # -- attachments ------------------------------------------------------------------------

    async def attach(self, *paths: Path) -> None:
        """Read images and text files off the event loop and put them on the next message;
        each one that cannot be attached is said, the others are attached."""
        config = self.session.config
        problems = []
        for path in paths:
            try:
                found = await asyncio.to_thread(load_attachment, path, int(config.max_image_mb * 1024 * 1024),
                                                config.max_file_kb * 1024)
                texts = sum(a.is_text for a in self.attachments) + found.is_text
                check_count(len(self.attachments) + 1 - texts, config.max_images)
                check_count(texts, config.max_files, "text file")
            except AttachmentError as error:
                problems.append(str(error))
                continue
            self.attachments.append(found)
        if problems:
            more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
            self.notify("\n".join(problems[:3]) + more, title="Not attached", severity="error", markup=False)
        self.query_one(AttachmentBar).show(self.attachments)
        self.composer.focus()

    async def on_composer_files_pasted(self, event: Composer.FilesPasted) -> None:
        event.stop()
        await self.attach(*event.paths)

    def on_attachment_bar_removed(self, event: AttachmentBar.Removed) -> None:
        event.stop()
        if 0 <= event.index < len(self.attachments):
            del self.attachments[event.index]
        self.query_one(AttachmentBar).show(self.attachments)
        self.composer.focus()

    def start_reply(self, prompt: ChatMessage | None = None) -> None:
        """Send ``prompt`` (or ask again for a reply to the conversation as it is)."""
        self._turn = turn = Turn(self.session, self.conversation, self._show)
        self._reply_worker = self.run_worker(
            turn.run(prompt), group="reply", exclusive=True,
            description=f"reply in {self.conversation.id}",
        )
        self._changed()

    def interrupt_reply(self) -> Worker[None] | None:
        """Stop the streaming reply because t502 is ending: kept as interrupted."""
        worker = self._reply_worker
        if not self.streaming or worker is None or self._turn is None:
            return None
        self._turn.interrupt()
        worker.cancel()
        return worker

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
            history = self.session.history
            if not last.content and not last.reasoning and history is not None:
                await history.write(lambda store: store.delete_message(last))
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

    def _show(self, event: TurnEvent) -> None:
        """Draw what the turn tells: the reply as it grows, its end, the connection."""
        if not self.is_attached:
            return  # t502 is closing: the turn still saves the reply, nothing is drawn
        if isinstance(event, ReplyGrew):
            if self._reply_view is not None:
                if event.reasoning:
                    self._reply_view.append_reasoning(event.reasoning)
                if event.content:
                    self._reply_view.append_content(event.content)
        elif isinstance(event, ReplyStarted):
            self._reply_view = AssistantMessageView(event.reply)
            self.messages.mount(self._reply_view)
        elif isinstance(event, PromptSaved):
            if isinstance(view := self._view_of(event.message), UserMessageView):
                view.refresh_header()
            self._changed(saved=True)
        elif isinstance(event, ConnectionChanged):
            self.connection = event.connection
            self._changed()
        elif isinstance(event, RetryWaiting):
            notice = event.notice
            self.notify(f"{notice.reason}; trying again in {notice.delay:.0f} s", title="Retrying",
                        severity="warning", timeout=max(3.0, notice.delay))
        elif isinstance(event, ReplyEnded):
            view, self._reply_view = self._reply_view, None
            if view is not None:
                self.call_next(view.finish)
            self._changed(saved=True)
            self.post_message(self.ReplyFinished(self, event.reply, event.error))
