"""One open conversation: its messages, the composer, and the worker that runs its turns.

The reply worker belongs to the pane, so a reply keeps streaming while the user looks at
another conversation. Turns are run by the turn engine (:mod:`t502_tui.turn`); the pane
only draws what it is told and reports its state upward. Long conversations show only
their newest messages; older ones are shown (and read from the store) as the user scrolls
up to them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from textual import events
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Static
from textual.worker import Worker, WorkerState

from t502_tui.attachments import Attachment, AttachmentError, check_count, load_attachment
from t502_tui.context_fit import Trim, budget, request_tokens, trim_to_fit
from t502_tui.conversation import ChatMessage, Conversation, ReplyStatus, Tally
from t502_tui.keys import key_label
from t502_tui.media import MediaLink
from t502_tui.reply_media import (
    MediaItem,
    cached_file,
    download_video,
    downloads_dir,
    keep_linked_images,
    media_items,
    pending_images,
)
from t502_tui.service import ServiceError
from t502_tui.session import ChatSession
from t502_tui.store import Store, StoreError
from t502_tui.system_open import open_path
from t502_tui.turn import (
    NOT_SENT,
    Connection,
    ConnectionChanged,
    LinkState,
    PromptSaved,
    ReplyEnded,
    ReplyGrew,
    ReplyMediaChanged,
    ReplyStarted,
    Turn,
    TurnEvent,
)
from t502_tui.ui.clipboard import copy
from t502_tui.ui.widgets.attachment_bar import AttachmentBar
from t502_tui.ui.widgets.composer import Composer
from t502_tui.ui.widgets.conversation_view import ConversationView

VISIBLE_AT_OPEN = 12
"""Messages shown when a conversation opens; older ones are shown on scrolling up."""
PAGE = 20
FIRST_WORDS_SECONDS = 3
"""A reply with no words yet after this long says how long it has waited, each second
(a model that thinks without showing it, a relay that sends only keep-alives)."""


class ConversationPane(Vertical):
    """Shows a :class:`Conversation` and sends its next turns."""

    BLANK = True
    """Its widgets cover it: nothing of its own to draw (see :mod:`frames`)."""

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
        self._countdown: Timer | None = None
        """Says a retry's wait again each second while there is one."""
        self._turn: Turn | None = None
        self._reply: ChatMessage | None = None
        """The reply streaming now."""
        self.received = False
        """Some of the streaming reply's text (or thinking) has come."""
        self._waited: Timer | None = None
        """Says how long the streaming reply has waited for its first words."""
        self._reply_worker: Worker[ChatMessage] | None = None
        self._shown_from = max(0, len(conversation.messages) - VISIBLE_AT_OPEN)
        """Index of the oldest message shown."""
        self._loading_older = False
        self.attachments: list[Attachment] = []
        """Images waiting to go with the next message."""
        self.editing: ChatMessage | None = None
        """The earlier message being edited; sending makes a new branch from it."""
        self._set_aside: tuple[str, list[Attachment]] | None = None
        """What was in the composer when an edit began: back once the edit is sent or cancelled."""
        self.fit_checked = False
        """The next send goes without checking that it fits (the user chose to send it)."""
        self._view = ConversationView(classes="messages")
        self._composer = Composer(send_keys=keys["send"], newline_keys=keys["newline"],
                                  recall=self.recall_previous, id=f"{id}-composer")

    def compose(self) -> ComposeResult:
        yield self._view
        yield Static(classes="new-text")
        yield Static(classes="edit-banner")
        yield AttachmentBar()
        yield self._composer

    def on_mount(self) -> None:
        self.view.show(self.conversation.messages[self._shown_from:])
        self.composer.set_recallable(bool(self.conversation.messages))

    @property
    def view(self) -> ConversationView:
        return self._view

    @property
    def composer(self) -> Composer:
        return self._composer

    @property
    def streaming(self) -> bool:
        """True while a reply is being received."""
        return self._reply_worker is not None and self._reply_worker.state in (
            WorkerState.PENDING,
            WorkerState.RUNNING,
        )

    def _changed(self, saved: bool = False) -> None:
        self.composer.set_recallable(bool(self.conversation.messages))
        self.post_message(self.Changed(self, saved))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker is self._reply_worker:
            self._changed()

    # -- the view ----------------------------------------------------------------------------

    def on_conversation_view_follow_changed(self, event: ConversationView.FollowChanged) -> None:
        event.stop()
        indicator = self.query_one(".new-text", Static)
        indicator.display = not event.following and event.unseen
        if indicator.display:
            follow = key_label(self.keys.get("scroll_bottom", [])[:1])
            indicator.update(Content(f"↓ new text below · End{f' or {follow}' if follow else ''} follows it"))

    def set_keys(self, keys: dict[str, list[str]]) -> None:
        """The user's keys changed (Settings): the composer's and the ones this pane names."""
        self.keys = keys
        self.composer.set_keys(keys["send"], keys["newline"])

    def on_composer_follow_asked(self, event: Composer.FollowAsked) -> None:
        event.stop()
        self.view.follow()

    def on_conversation_view_left(self, event: ConversationView.Left) -> None:
        event.stop()
        self.composer.focus()

    def on_attachment_bar_left(self, event: AttachmentBar.Left) -> None:
        event.stop()
        self.composer.focus()
        if event.character:
            self.composer.insert(event.character)

    def on_conversation_view_typed_away(self, event: ConversationView.TypedAway) -> None:
        event.stop()
        self.composer.focus()
        if event.character and event.character.isprintable():
            self.composer.insert(event.character)
        else:  # Enter, Backspace...: as if pressed in the composer, after what was typed
            self.composer.post_message(events.Key(event.key, event.character))

    async def on_conversation_view_action_requested(self, event: ConversationView.ActionRequested) -> None:
        message, action = event.message, event.action
        if action in ("delete", "save", "view"):
            return  # the screen asks first (a path, a confirmation) or shows a screen
        event.stop()
        if action in ("open", "copy_path", "reveal", "download"):
            await self.media_action(message, action, event.item)
            return
        if action == "edit":
            if message.role == "user":
                self.edit(message)
            else:
                self.notify(f"Only your own messages can be edited; {self._regenerate_key()} asks again for a reply.")
        elif action in ("previous_version", "next_version"):
            await self._flip(message, -1 if action == "previous_version" else 1)
        elif action == "context" and message.role != "assistant":
            self.notify("Your own messages are always sent; k leaves a reply out of what the model sees.")
        elif action == "context":
            message.in_context = not message.sendable
            if self.session.history is not None and message.id is not None:
                await self.session.history.update_message(message)
            self.view.changed(message)
            self._changed()  # what the next request holds changed: the status line's ctx figure
            self.notify("This reply goes with your next message." if message.in_context
                        else "This reply is left out of what the model sees next.")

    # -- images and media links ------------------------------------------------------------

    def media_item(self, message: ChatMessage, item: int) -> MediaItem | None:
        """The ``item``-th image or link of ``message`` (said when there is none)."""
        items = media_items(message)
        if not items:
            self.notify("This message has no images or media links.", severity="warning")
            return None
        return items[min(item, len(items) - 1)]

    def media_changed(self, message: ChatMessage) -> None:
        """Draw the message's images and links again (a state changed)."""
        if self.is_attached:
            self.view.changed(message)

    def keep_linked_images(self, reply: ChatMessage, everything: bool = False) -> None:
        """Download the images ``reply`` shows by link (with ``everything``, which the user
        asked for, its bare image links too, from any host) in the background, and keep them."""
        if pending_images(reply, everything):
            own_url, own_key = self.session.server_of(reply.provider or "")
            self.run_worker(
                keep_linked_images(reply, self.session.history, lambda: self.media_changed(reply),
                                   everything=everything, own_url=own_url, own_key=own_key),
                group="media", exit_on_error=False, description="downloading a reply's images")

    def download_video(self, message: ChatMessage, link: MediaLink, target: Path, then_open: bool = False) -> None:
        """Fetch a video to ``target`` (a file, or a folder for a new file) with progress
        shown under the reply; then open it if asked."""
        state = message.media.get(link.url)
        if state is not None and state.downloading:
            self.notify("That video is still downloading.")
            return

        async def fetch() -> None:
            own_url, own_key = self.session.server_of(message.provider or "")
            path = await download_video(message, link, target, lambda: self.media_changed(message),
                                        own_url=own_url, own_key=own_key)
            if path is None:
                error = message.media[link.url].error
                self.notify(f"The video was not downloaded: {error}", title="Video", severity="error")
                return
            self.notify(f"Saved the video as {path}", title="Video")
            if then_open:
                self._open(path)

        self.run_worker(fetch(), group="media", exit_on_error=False, description="downloading a video")

    def _open(self, path: Path) -> None:
        if (problem := open_path(path)) is not None:
            self.notify(problem, severity="error")

    async def _file_of(self, message: ChatMessage, item: MediaItem) -> Path | None:
        """The file holding the item: where it was saved, or (an image) a copy in the cache."""
        state = message.media.get(item.key)
        if state is not None and state.path is not None and state.path.exists():
            return state.path
        if item.image is None:
            return None
        try:  # not kept as where it was saved: the user saved nothing
            return await asyncio.to_thread(cached_file, item.image)
        except OSError as error:
            self.notify(f"Could not write the image to a file: {error.strerror or error}", severity="error")
            return None

    async def media_action(self, message: ChatMessage, action: str, index: int) -> None:
        """Open an image or video, copy its path, show its folder, or download again."""
        item = self.media_item(message, index)
        if item is None:
            return
        link = item.link
        if action == "download" or (link is not None and link.kind == "image" and action == "open"):
            if link is None:
                self.notify("This image is kept with the reply: there is nothing to download.")
            elif link.kind != "image":
                self.notify("Only image links are downloaded again here; o downloads a video.")
            else:
                self.keep_linked_images(message, everything=True)
            return
        path = await self._file_of(message, item)
        if path is None and link is not None:  # a video not downloaded yet
            if action == "open":
                folder = downloads_dir()
                try:
                    await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
                except OSError as error:
                    self.notify(f"Cannot use {folder}: {error.strerror or error}", severity="error")
                    return
                self.download_video(message, link, folder, then_open=True)
            elif link.kind == "image":
                self.notify("This image is not downloaded: r downloads it.")
            else:
                self.notify("Download the video first: o downloads and opens it, s saves it where you say.")
            return
        if path is None:
            return
        if action == "open":
            self._open(path)
        elif action == "reveal":
            self._open(path.parent)
        elif action == "copy_path":
            copy(self.app, str(path), "the file's path")
        self.media_changed(message)

    # -- older messages ---------------------------------------------------------------------

    def on_conversation_view_older_wanted(self, event: ConversationView.OlderWanted) -> None:
        event.stop()
        if not self._loading_older and (self._shown_from or self.conversation.has_older):
            self._loading_older = True
            self.run_worker(self._show_older(everything=event.everything), group="older")

    async def _show_older(self, until_id: int | None = None, everything: bool = False) -> None:
        """Show a page of older messages (reading them from the store if needed), all of
        them up to the one with id ``until_id``, or (``everything``) all of them, the view
        then at the very top."""
        try:
            conversation = self.conversation
            if everything:
                await self.load_older(None)
                start = 0
            elif until_id is None:
                if self._shown_from == 0:
                    await self.load_older(PAGE)
                start = max(0, self._shown_from - PAGE)
            else:
                while conversation.has_older and all(m.id != until_id for m in conversation.messages):
                    await self.load_older(PAGE)
                index = next((i for i, m in enumerate(conversation.messages) if m.id == until_id), 0)
                start = min(index, self._shown_from)
            older = conversation.messages[start:self._shown_from]
            self._shown_from = start
            self.view.prepend(older)
            if everything:
                self.view.top_reached()
        finally:
            self._loading_older = False

    async def load_older(self, limit: int | None) -> None:
        """Read older messages from the store into the conversation (not shown)."""
        history = self.session.history
        conversation = self.conversation
        first_id = conversation.messages[0].id if conversation.messages else None
        if history is None or not conversation.has_older or first_id is None:
            conversation.has_older = False
            return
        def read(store: Store) -> tuple[list[ChatMessage], bool, Tally | None]:
            older, more = store.older_messages(conversation.id, first_id, limit)
            return older, more, store.tally_above(older[0]) if more and older else None

        try:
            older, more, tally = await history.read(read)
        except StoreError as error:
            self.notify(str(error), title="History", severity="error")
            conversation.has_older = False
            return
        conversation.messages[:0] = older
        conversation.has_older, conversation.older_tally = more, tally
        self._shown_from += len(older)

    async def show_message(self, message_id: int, words: Sequence[str] = ()) -> None:
        """Scroll to the message with this store id (to its line holding ``words``, a
        search's), showing older messages if needed."""
        await self._show_older(until_id=message_id)
        for message in self.view.messages:
            if message.id == message_id:
                self.view.scroll_to_message(message, words)
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
        # Sent without what ends it blank (a paste's last line break); put back as typed.
        message = ChatMessage("user", text.rstrip(), attachments=list(self.attachments))
        if self.editing is not None and self.editing in self.conversation.messages:
            # A new branch from the edited message's parent; the old branch is kept.
            message.parent_id = self.editing.parent_id
            self._cut_from(self.editing)
        self.attachments = []
        if self.editing is not None:
            self._stop_editing()
        else:
            self.query_one(AttachmentBar).show([])
        self.view.add(message)
        self.view.follow()
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
            self.view.changed(message)
        self._changed()
        return trim

    def send_unchecked(self) -> None:
        """Send what is in the composer now, as the user chose, without the context check."""
        self.fit_checked = True
        self.composer.submit()

    # -- versions, edits, deletions ------------------------------------------------------

    def _cut_from(self, message: ChatMessage) -> None:
        """Drop ``message`` and everything after it from the screen (not the store)."""
        index = self.conversation.messages.index(message)
        del self.conversation.messages[index:]
        self.view.remove_from(message)

    async def _flip(self, message: ChatMessage, step: int) -> None:
        """Show another version of ``message`` (a sibling ``step`` away)."""
        history = self.session.history
        if _position(self.conversation.messages, message) is None:
            # Keys pressed at once (a held <) all name the version shown then; the first
            # put another in its place: flip on from that one.
            message = next((m for m in self.conversation.messages if message.id in m.alternatives), message)
        if self.streaming or history is None:
            return
        if len(message.alternatives) < 2 or message.id not in message.alternatives:
            self.notify(f"This message has one version: e on one of yours edits it into another,"
                        f" {self._regenerate_key()} asks again for the last reply.")
            return
        target = message.alternatives.index(message.id) + step
        if not 0 <= target < len(message.alternatives):
            return  # at either end: its ‹1/2› says so
        await self._show_branch(message, message.alternatives[target])

    def _regenerate_key(self) -> str:
        return key_label(self.keys.get("regenerate", [])[:1]) or "the palette's Regenerate"

    async def _show_branch(self, message: ChatMessage, sibling: int) -> bool:
        """Show the branch from version ``sibling`` in place of ``message`` and what
        follows it (the store's current branch becomes that one); False if it could not be read."""
        history = self.session.history
        if history is None:
            return False
        try:
            branch = await history.read(lambda store: store.branch_from(self.conversation.id, sibling))
        except StoreError as error:
            self.notify(str(error), title="History", severity="error")
            return False
        if _position(self.conversation.messages, message) is None:
            return False  # deleted while the store was read
        self._cut_from(message)
        self.conversation.messages.extend(branch)
        for shown in branch:
            self.view.add(shown)
        if branch:
            self.view.scroll_to_message(branch[0])
        self._changed(saved=True)
        return True

    def edit(self, message: ChatMessage) -> None:
        """Put an earlier message in the composer; sending it starts a new branch there."""
        if self.streaming:
            self.notify("A reply is still streaming: Esc stops it.", severity="warning")
            return
        if self.editing is None and (self.composer.text.strip() or self.attachments):
            self._set_aside = (self.composer.text, self.attachments)
        self.editing = message
        self.attachments = list(message.attachments)
        self.query_one(AttachmentBar).show(self.attachments)
        banner = self.query_one(".edit-banner", Static)
        send = key_label(self.keys["send"][:1])
        # Sentences, not parts joined by " · ": wrapped, no "·" is left at a line's end.
        banner.update(Content(f"Editing an earlier message: {send} sends it as a new branch "
                              "(the old one is kept; < > on a message flips). Esc cancels."))
        banner.add_class("-shown")
        self.composer.show_recalled(message.content)
        self.composer.focus()
        self._changed()  # the footer shows Esc as "Cancel edit"

    def _stop_editing(self) -> None:
        """Leave edit mode; what was typed before the edit began is back in the composer."""
        self.editing = None
        self.composer.recalled = False
        self.query_one(".edit-banner", Static).remove_class("-shown")
        text, attachments = self._set_aside or ("", [])
        self._set_aside = None
        self.composer.load_text(text)
        self.composer.move_cursor(self.composer.document.end)
        self.attachments = list(attachments)
        self.query_one(AttachmentBar).show(self.attachments)

    def cancel_edit(self) -> bool:
        """Leave edit mode, dropping the edit; False if not editing."""
        if self.editing is None:
            return False
        self._stop_editing()
        return True

    @property
    def draft(self) -> str:
        """What to keep as this conversation's draft: the composer's text, after what was
        typed before an edit began; an edit not changed yet adds nothing (the message is kept)."""
        typed = self.composer.text
        if self.editing is not None and typed == self.editing.content:
            typed = ""
        aside = self._set_aside[0] if self._set_aside is not None else ""
        return "\n\n".join(part for part in (aside, typed) if part.strip())

    def recall_previous(self) -> None:
        """Edit the user message before the one being edited (the last one at first)."""
        users = [m for m in self.conversation.messages if m.role == "user"]
        if self.editing in users:
            users = users[: users.index(self.editing)]
        if users:
            self.edit(users[-1])

    async def delete(self, message: ChatMessage) -> bool:
        """Delete a message: one alone (what followed it stays), or one version of several
        with what followed it on its branch (the version before it takes its place).
        False while a reply streams, or when the message is no longer shown."""
        if self.streaming or self._shown_as(message) is None:
            return False
        history = self.session.history
        versions = bool(message.alternative_label)
        if history is not None and not await history.write(lambda store: store.delete_message(message, versions)):
            return False
        shown = self._shown_as(message)
        if shown is None:
            return True
        if versions and history is not None:
            others = [ident for ident in shown.alternatives if ident != shown.id]
            if await self._show_branch(shown, others[max(0, shown.alternatives.index(shown.id) - 1)]):
                return True
        self.conversation.messages[:] = [m for m in self.conversation.messages if m is not shown]
        self.view.remove(shown)
        self._changed(saved=True)
        return True

    def _shown_as(self, message: ChatMessage) -> ChatMessage | None:
        """``message`` as the conversation holds it now: itself, or the same message read
        again from the store (a flip away and back while a delete was being confirmed)."""
        return next((m for m in self.conversation.messages
                     if m is message or (message.id is not None and m.id == message.id)), None)

    async def regenerate(self, model: str | None = None) -> bool:
        """Ask again for the last reply (with ``model`` if given); the old one is kept as
        another version of it."""
        messages = self.conversation.messages
        if self.streaming or not messages or messages[-1].role != "assistant":
            return False
        if model:
            self.conversation.model = model
        last = messages.pop()
        self.view.remove(last)
        if self.session.history is None and self.session.history_ready.is_set():  # off, not still opening
            self.notify("History is off, so the earlier reply is not kept.", severity="warning")
        self.start_reply()
        return True

    # -- attachments ------------------------------------------------------------------------

    async def attach(self, *paths: Path) -> None:
        """Read images and text files off the event loop and put them on the next message;
        each one that cannot be attached is said, the others are attached."""
        config = self.session.config
        problems: dict[str, int] = {}  # each said once, with how many files it kept out
        for path in paths:
            try:
                found = await asyncio.to_thread(load_attachment, path, int(config.max_image_mb * 1024 * 1024),
                                                config.max_file_kb * 1024)
                texts = sum(a.is_text for a in self.attachments) + found.is_text
                check_count(len(self.attachments) + 1 - texts, config.max_images)
                check_count(texts, config.max_files, "text file")
            except AttachmentError as error:
                problems[str(error)] = problems.get(str(error), 0) + 1
                continue
            if found in self.attachments:  # the same file again (a second paste of its path)
                problems[f"{found.name} is attached already"] = 1
                continue
            self.attachments.append(found)
        if problems:
            said = [f"{problem} ({count} files left out)" if count > 1 else problem
                    for problem, count in problems.items()]
            more = f" (and {len(said) - 3} more)" if len(said) > 3 else ""
            self.notify("\n".join(said[:3]) + more, title="Not attached", severity="error")
        self.query_one(AttachmentBar).show(self.attachments)
        self.composer.focus()
        self._changed()  # the status line's ctx figure counts the files

    async def on_composer_files_pasted(self, event: Composer.FilesPasted) -> None:
        event.stop()
        await self.attach(*event.paths)

    def on_attachment_bar_removed(self, event: AttachmentBar.Removed) -> None:
        event.stop()
        if 0 <= event.index < len(self.attachments):
            del self.attachments[event.index]
        self.query_one(AttachmentBar).show(self.attachments)
        self.composer.focus()
        self._changed()

    # -- turns --------------------------------------------------------------------------------

    def start_reply(self, prompt: ChatMessage | None = None) -> None:
        """Send ``prompt`` (or ask again for a reply to the conversation as it is)."""
        self._turn = turn = Turn(self.session, self.conversation, self._show)
        self._reply_worker = self.run_worker(
            turn.run(prompt), group="reply", exclusive=True,
            description=f"reply in {self.conversation.id}",
        )
        self._changed()

    def interrupt_reply(self) -> Worker[ChatMessage] | None:
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
        """True when the last turn has no complete reply and nothing is streaming, unless
        it was never sent for a reason that still holds (a failed key command, a provider
        gone from the config): only another model, or a restart, changes that."""
        messages = self.conversation.messages
        if not messages or self.streaming:
            return False
        last, conversation = messages[-1], self.conversation
        if last.role == "assistant" and (last.error or "").startswith(NOT_SENT):
            return (last.provider or "", last.model) != (conversation.provider or "", conversation.model)
        return last.role == "user" or last.status is not ReplyStatus.COMPLETE

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
            self.view.remove(last)
        self.start_reply()
        return True

    def last_reply(self) -> ChatMessage | None:
        """The newest assistant message with some text."""
        for message in reversed(self.conversation.messages):
            if message.role == "assistant" and message.content:
                return message
        return None

    def _show_connection(self, connection: Connection) -> None:
        """The status line and a waiting reply's header say how the connection stands."""
        self.connection = connection
        if self._reply is not None:
            retrying = connection.state is LinkState.RETRYING
            self.view.waiting(self._reply, connection.brief if retrying else None)
        self._changed()

    def _count_down(self) -> None:
        """A retry's wait, said again each second: "retrying in 30 s" for half a minute
        read as stuck."""
        connection = self.connection
        if connection is None or connection.retry_at is None or connection.state is not LinkState.RETRYING:
            if self._countdown is not None:
                self._countdown.stop()
                self._countdown = None
            return
        self._show_connection(connection.counted_down(time.monotonic()))

    def _say_waited(self, reply: ChatMessage, seconds: float) -> None:
        """In the reply's header, the time it has waited for its first words (a retry's
        countdown is said instead while there is one)."""
        retrying = self.connection is not None and self.connection.state is LinkState.RETRYING
        if seconds >= FIRST_WORDS_SECONDS and not retrying:
            self.view.waiting(reply, f"no words yet, {int(seconds)} s")

    def _stop_waiting(self) -> None:
        if self._waited is not None:
            self._waited.stop()
            self._waited = None
            if self._reply is not None and not (self.connection and self.connection.state is LinkState.RETRYING):
                self.view.waiting(self._reply, None)

    def _show(self, event: TurnEvent) -> None:
        """Draw what the turn tells: the reply as it grows, its end, the connection."""
        if not self.is_attached:
            return  # t502 is closing: the turn still saves the reply, nothing is drawn
        if isinstance(event, ReplyGrew):
            if self._reply is not None:
                if not self.received:
                    self.received = True
                    self._stop_waiting()
                self.view.grow(self._reply, event.content, event.reasoning)
        elif isinstance(event, ReplyStarted):
            self._reply, self.received = event.reply, False
            started = time.monotonic()
            self._stop_waiting()
            self._waited = self.set_interval(1, lambda: self._say_waited(event.reply, time.monotonic() - started))
            self.view.add(event.reply, streaming=True)
        elif isinstance(event, PromptSaved):
            self.view.changed(event.message)
            self._changed(saved=True)
            if event.saved_again:
                self.notify("This conversation had been deleted (by another t502, or t502 history delete):"
                            " it is saved again, as shown here.", title="History", timeout=10)
        elif isinstance(event, ConnectionChanged):
            self._show_connection(event.connection)
            if event.connection.retry_at is not None and self._countdown is None:
                self._countdown = self.set_interval(1, self._count_down)
        elif isinstance(event, ReplyMediaChanged):
            self.view.changed(event.reply)
        elif isinstance(event, ReplyEnded):
            self._stop_waiting()
            self._reply = None
            self.view.finish(event.reply)
            self._changed(saved=True)
            self.post_message(self.ReplyFinished(self, event.reply, event.error))
            if self.session.config.download_images:
                self.keep_linked_images(event.reply)


def _position(messages: list[ChatMessage], message: ChatMessage) -> int | None:
    """Where ``message`` itself (not an equal one) is in ``messages``, or None."""
    return next((index for index, shown in enumerate(messages) if shown is message), None)
