"""One turn of a conversation, the same in the full-screen chat and in ``t502 ask``.

A :class:`Turn` saves the prompt, builds the request (history, system prompt, parameters,
images), streams the reply, records it write-ahead, and ends it with exactly one status:
COMPLETE only when the stream ended normally; ERROR with its message for any failure,
expected or not; STOPPED when the user stopped it; INTERRUPTED when t502 is being ended.
What happens is told to a listener as :data:`TurnEvent` values, which the chat draws and
the shell prints. Text is merged before it reaches the listener and the recorder, at most
one piece per frame, however many pieces the server sends.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from t502_tui.conversation import UNREADABLE, ChatMessage, Conversation, ReplyStatus
from t502_tui.history import History
from t502_tui.media import (
    MAX_IMAGES,
    MediaError,
    MediaExtractor,
    RawImage,
    decode_image,
    raw_image,
    reference,
)
from t502_tui.providers import Provider
from t502_tui.recording import ReplyRecorder
from t502_tui.markdown_fences import closing_fence
from t502_tui.reply_sources import ReplySources
from t502_tui.service import (
    APIError,
    ConnectionFailed,
    ContentDelta,
    Finished,
    ImageDelta,
    ReasoningDelta,
    RetryNotice,
    ServiceError,
    SourcesFound,
    StreamEvent,
    TimedOut,
    TLSFailed,
    TooLarge,
    Unreadable,
    UsageReport,
)
from t502_tui.service.chunks import events_from_completion
from t502_tui.session import ChatSession
from t502_tui.store import StoreError
from t502_tui.think_tags import ThinkTags

log = logging.getLogger("t502.turn")

MAX_REPLY_TEXT = 4_000_000
"""Characters of text (answer and reasoning, images lifted out) one reply may bring: about
a million tokens, eight times the longest replies models write. Each character is held
several times over (the reply, the pieces being recorded, what is saved), so the stream's
byte limit alone let a compressed reply take 2 GB (about 230 MB at 10 million)."""
MERGE_SECONDS = 1 / 30
"""Text reaches the listener at most this often; pieces arriving between are joined."""
NOT_SENT = "not sent: "
"""How the error of a reply that was never asked for begins: trying again cannot help."""
YIELD_SECONDS = 0.004
"""While a reply pours in, the event loop is handed back at least this often: reading
from a socket that always has data never waits, so it would never let keys in. A key
needs a few turns of the loop to be echoed, each of them up to this long."""


class LinkState(StrEnum):
    """How the server answered last."""

    CONNECTING = "connecting"
    READY = "ready"
    STREAMING = "streaming"
    RETRYING = "retrying"
    """A try failed for a reason that may pass (a busy server, a rate limit); another is due."""
    OFFLINE = "offline"
    """No connection: refused, unreachable, timed out before any reply."""
    REJECTED = "rejected"
    """The server refused the key (401, 403)."""
    NO_KEY = "no API key"


@dataclass(frozen=True)
class Connection:
    """The connection's state, and the reason for a bad one."""

    state: LinkState
    reason: str = ""
    brief: str = ""
    """The state in a few words for a narrow line, when its name alone says too little."""
    retry_at: float | None = None
    """Retrying: when the next try goes (``time.monotonic()``), to count down to."""
    cause: str = ""
    """Retrying: why the last try failed."""

    @classmethod
    def retrying(cls, cause: str, retry_at: float, now: float) -> Connection:
        """Waiting to try again at ``retry_at``, said as the seconds left from ``now``."""
        again = f"in {max(0.0, retry_at - now):.0f} s"
        return cls(LinkState.RETRYING, f"{cause}; trying again {again}", f"retrying {again}", retry_at, cause)

    def counted_down(self, now: float) -> Connection:
        """The same wait, said from ``now`` (itself when it is not a wait)."""
        if self.state is not LinkState.RETRYING or self.retry_at is None:
            return self
        return Connection.retrying(self.cause, self.retry_at, now)

    @classmethod
    def gone(cls, provider: str) -> Connection:
        """How a provider stands that the config no longer has (a conversation outlived it)."""
        return cls(LinkState.OFFLINE, f"no provider {provider!r} in the config")

    @classmethod
    def after(cls, error: ServiceError) -> Connection:
        """The state a failed request leaves: offline, key rejected, or still ready."""
        if isinstance(error, NotSent):
            return error.connection
        unanswered = isinstance(error, (ConnectionFailed, TLSFailed)) or (
            isinstance(error, TimedOut) and not error.answered)
        if unanswered and not error.partial:
            return cls(LinkState.OFFLINE, error.message)
        if isinstance(error, APIError) and error.key_refused:
            return cls(LinkState.REJECTED, error.message)
        return cls(LinkState.READY)


class NotSent(ServiceError):
    """The request was never made, for a reason that holds until t502 starts again or
    another provider is chosen; ``connection`` is how that provider stands meanwhile."""

    def __init__(self, reason: str, connection: Connection) -> None:
        super().__init__(f"{NOT_SENT}{reason}")
        self.connection = connection


@dataclass(frozen=True)
class PromptSaved:
    """The user's message is in the conversation (and in the store, if there is one)."""

    message: ChatMessage
    saved_again: bool = False
    """The conversation had been deleted from the store while open (by another t502, or
    ``t502 history delete``): it was saved again whole, as it is shown."""


@dataclass(frozen=True)
class ReplyStarted:
    """The reply's message exists (empty, streaming); text follows."""

    reply: ChatMessage


@dataclass(frozen=True)
class ReplyGrew:
    """Text that arrived since the last event, answer and reasoning apart."""

    content: str
    reasoning: str


@dataclass(frozen=True)
class ReplyMediaChanged:
    """The reply gained an image (its reference follows in the text), or the state of one
    of its images or links changed (a download started, progressed, failed)."""

    reply: ChatMessage


@dataclass(frozen=True)
class RetryWaiting:
    """The request failed in a way that may pass; it is sent again after a wait."""

    notice: RetryNotice


@dataclass(frozen=True)
class ConnectionChanged:
    """The turn learned something about the connection."""

    connection: Connection


@dataclass(frozen=True)
class ReplyEnded:
    """The reply has its final status, text and usage, and is saved."""

    reply: ChatMessage
    error: ServiceError | None


class _ListenerFailed(Exception):
    """The listener raised: stop reading (the reply is kept as stopped)."""


TurnEvent = (PromptSaved | ReplyStarted | ReplyGrew | ReplyMediaChanged | RetryWaiting | ConnectionChanged
             | ReplyEnded)
Listener = Callable[[TurnEvent], None]


def error_text(error: ServiceError, has_key: bool, provider: Provider | None = None,
               default: bool = True) -> str:
    """The line kept with a failed reply: the server's reason, and the likely fix."""
    status = getattr(error, "status", None)
    if status == 401 and not has_key:
        if provider is not None and (provider.problem or not default):
            return f"{error.message} (no API key for {provider.name}: {provider.key_hint})"
        return (f"{error.message} (no API key is set: Settings (F2) in the chat takes one, as do"
                " T502_API_KEY and api_key in the config file)")
    if status == 404:
        models = "`t502 models` and Ctrl+O list the ones this key may use"
        if "model" in error.message.lower():
            return f"{error.message} (is the model name right? {models})"
        # No word of a model: an HTML page or a bare "404 page not found" is a path the
        # server does not have, more likely a wrong base URL.
        return f"{error.message} (is the base URL right? It is the address before /chat/completions," \
               f" often ending in /v1. If it is, is the model name right? {models})"
    return error.message


class Turn:
    """Asks the conversation's model for its next reply."""

    def __init__(self, session: ChatSession, conversation: Conversation, listener: Listener,
                 *, stream: bool = True) -> None:
        self.session = session
        self.conversation = conversation
        self.listener = listener
        self.stream = stream
        self.connection = Connection(LinkState.CONNECTING)
        self._interrupted = False
        self._content: list[str] = []
        self._reasoning: list[str] = []
        self._last_merge = 0.0
        self._merge_timer: asyncio.TimerHandle | None = None
        self._recorder: ReplyRecorder | None = None
        self._received = False
        """Some of the reply's text has arrived."""
        self.ended = asyncio.Event()
        """Set once the reply has its final status and is saved."""
        self._listener_error: Exception | None = None
        """What the listener raised while the reply streamed, if anything."""
        self._think_tags = ThinkTags()
        """Sets apart thinking written into the answer between <think> tags."""
        self._media = MediaExtractor()
        """Lifts images out of the text before it is kept (see t502_tui.media)."""
        self._tail = ""
        """The last two characters of the reply's text so far."""
        self._images = 0
        """Images of the reply so far (lifted out of its text or sent apart), kept or not."""
        self._dropped = 0
        """Of those, the ones past MAX_IMAGES: not even tried, told in one note at the end."""
        self._text_length = 0
        """Characters of text taken in so far (see MAX_REPLY_TEXT)."""
        self._saved_again = False
        """The conversation was deleted from the store while open and saved again whole."""
        self._sources = ReplySources()
        """The web pages the reply cites, listed after its text once it ends."""

    def interrupt(self) -> None:
        """Mark the turn as ended by t502 closing (a signal); the caller then cancels it."""
        self._interrupted = True

    def _append(self, message: ChatMessage) -> None:
        """Add a message after the last one; it answers (or follows) that one."""
        messages = self.conversation.messages
        if message.parent_id is None and messages:
            message.parent_id = messages[-1].id
        messages.append(message)

    async def run(self, prompt: ChatMessage | None = None) -> ChatMessage:
        """Send ``prompt`` (or, with None, ask again for a reply to the conversation as
        it is) and return the reply, whatever way it ended."""
        self.session.turns.add(self)
        try:
            return await self._run(prompt)
        finally:
            self.session.turns.discard(self)
            self.ended.set()

    async def _run(self, prompt: ChatMessage | None) -> ChatMessage:
        session, conversation = self.session, self.conversation
        if prompt is not None:
            self._append(prompt)
        await session.history_ready.wait()  # a message sent in the first instant is saved too
        history = session.history
        if history is not None and await self._catch_up(history) and prompt is not None:
            # The model, system prompt and settings this prompt was sent with.
            await history.save_conversation(conversation)
        if prompt is not None:
            self.listener(PromptSaved(prompt, self._saved_again))
        reply = ChatMessage("assistant", model=conversation.model, status=ReplyStatus.STREAMING,
                            provider=conversation.provider or None)
        self._append(reply)
        self._recorder = ReplyRecorder(conversation, reply, history)
        self.listener(ReplyStarted(reply))
        self._set_connection(Connection(LinkState.STREAMING))
        status, error = ReplyStatus.ERROR, None
        try:
            await self._read(reply, await self._request())
            await self._take_pieces(reply, self._media.finish(complete=True))
            if reply.usage is None or reply.usage.cost is None:  # (a per-request price needs no usage)
                await session.facts(conversation.provider).pricing_ready()
            status = ReplyStatus.COMPLETE
            self._set_connection(Connection(LinkState.READY))
        except asyncio.CancelledError:
            status = ReplyStatus.INTERRUPTED if self._interrupted else ReplyStatus.STOPPED
            self._set_connection(Connection(LinkState.READY))
            raise
        except _ListenerFailed:
            status = ReplyStatus.STOPPED  # whoever showed the reply stopped taking it (a closed pipe)
        except ServiceError as failure:
            error = failure
            self._set_connection(Connection.after(failure))
        except Exception as failure:  # a bug or a server t502 did not foresee: never "complete"
            log.exception("reading the reply failed")
            error = ServiceError(f"t502 could not read the reply ({type(failure).__name__}: {failure})"[:300],
                                 partial=self._received)
            self._set_connection(Connection(LinkState.READY))
        finally:
            self._end_media()
            if sources := self._sources.markdown():
                if fence := closing_fence(self._recorder.content + "".join(self._content)):  # cut off in code
                    self._add_text(("" if self._tail.endswith("\n") else "\n") + fence + "\n")
                self._add_text(self._paragraph(sources))
            self._merge()
            reply.cost = session.reply_cost(conversation.provider, reply.model or "", reply.usage,
                                            status is ReplyStatus.COMPLETE)
            reply.status = status
            reply.error = self._error_text(error) if error else None
            await asyncio.shield(self._recorder.finish(status, reply.error))
            if self._listener_error is None:
                self.listener(ReplyEnded(reply, error))
        if self._listener_error is not None:
            raise self._listener_error
        return reply

    async def _catch_up(self, history: History) -> bool:
        """Save the conversation's messages the store does not have yet, in order: the
        prompt, and any an earlier turn could not save (a store locked by another
        program). Each goes under the one before it; saved alone, what follows would start
        a new branch as if it were a first message. False if one still cannot be saved."""
        conversation = self.conversation
        if any(m.id is not None for m in conversation.messages) and not await self._still_stored(history):
            # Deleted elsewhere while open: the user goes on with it, so it is kept whole
            # rather than started again from the newest message, under parents long gone.
            for message in conversation.messages:
                message.id = message.parent_id = None
                message.alternatives = []
            conversation.has_older = False  # those went with it
            self._saved_again = True
        previous: ChatMessage | None = None
        for message in conversation.messages:
            if message.id is None and message.status is not ReplyStatus.STREAMING:
                message.parent_id = previous.id if previous is not None else None
                if not await history.add_message(self.conversation, message):
                    return False
            previous = message
        return True

    async def _still_stored(self, history: History) -> bool:
        try:
            return await history.read(lambda store: store.has_conversation(self.conversation.id))
        except StoreError:
            return True  # cannot tell: save as before (a failing store is reported there)

    def _error_text(self, error: ServiceError) -> str:
        name = self.session.provider_of(self.conversation)
        try:
            provider = self.session.provider(name)
        except ServiceError:
            return error.message
        return error_text(error, bool(provider.api_key), provider, name == self.session.default_provider)

    async def _request(self) -> list[dict[str, Any]]:
        """The messages to send: the whole branch, older messages read from the store."""
        conversation = self.conversation
        history = self.session.history
        older: list[ChatMessage] = []
        if conversation.has_older and history is not None and conversation.messages:
            first = conversation.messages[0].id
            if first is not None:
                try:
                    older, _ = await history.read(lambda store: store.older_messages(conversation.id, first, None))
                except StoreError as error:
                    # Sending half the conversation as if it were all of it would mislead.
                    raise ServiceError(f"the conversation's earlier messages could not be read: {error}") from None
        full = Conversation(model=conversation.model, system_prompt=conversation.system_prompt,
                            messages=older + conversation.messages)
        return full.request_messages(self.session.config.system_role)

    async def _events(self, request: list[dict[str, Any]], model: str) -> AsyncIterator[StreamEvent]:
        name = self.session.provider_of(self.conversation)
        try:
            provider = self.session.provider(name)
        except ServiceError as gone:  # the config no longer has it
            raise NotSent(gone.message, Connection.gone(name)) from None
        if problem := provider.problem:
            # The config asks for a key it could not get: without it the request would at
            # best be refused, and t502 reads keys only when it starts.
            raise NotSent(f"{problem}. t502 runs key commands when it starts: put it right, then start t502 again",
                          Connection(LinkState.NO_KEY, problem))
        client = self.session.client_for(name)
        params = self.session.request_params(self.conversation, model)
        on_retry = self._retrying
        if self.stream:
            async for event in client.stream_chat(request, model, on_retry=on_retry, **params):
                yield event
        else:
            completion = await client.complete(request, model, on_retry=on_retry, **params)
            for event in events_from_completion(completion):
                yield event

    async def _read(self, reply: ChatMessage, request: list[dict[str, Any]]) -> None:
        handed_back = time.monotonic()
        async for event in self._events(request, reply.model or ""):
            if self.connection.state is LinkState.RETRYING:  # the try after a failed one is answered
                self._set_connection(Connection(LinkState.STREAMING))
            if isinstance(event, ContentDelta):
                thought, text = self._think_tags.feed(event.text)
                if thought:
                    await self._take_reasoning(thought)
                if text:
                    await self._take_pieces(reply, self._media.feed(text))
            elif isinstance(event, ReasoningDelta):
                await self._take_reasoning(event.text)
            elif isinstance(event, ImageDelta):
                await self._take_image(reply, event.url)
            elif isinstance(event, UsageReport):
                reply.usage = event.usage
            elif isinstance(event, Finished):
                reply.finish_reason = event.finish_reason
            elif isinstance(event, SourcesFound):
                self._sources.add(event)
            elif isinstance(event, Unreadable) and reply.finish_reason in (None, "stop"):
                reply.finish_reason = UNREADABLE  # said in its header, not in its text (sent back)
            if self._listener_error is not None:
                raise _ListenerFailed()
            if time.monotonic() - handed_back > YIELD_SECONDS:
                await asyncio.sleep(0)
                handed_back = time.monotonic()

    async def _take_reasoning(self, text: str) -> None:
        self._count_text(len(text))
        self._reasoning.append(text)
        await self._took_text()

    async def _took_text(self) -> None:
        if not self._content and not self._reasoning:
            return
        if self._received:
            self._merge_soon()
        else:  # the first words: in the store before they are shown
            self._received = True
            await self._merge_first()

    def _count_text(self, length: int) -> None:
        self._text_length += length
        if self._text_length > MAX_REPLY_TEXT:
            raise TooLarge(f"the reply is longer than {MAX_REPLY_TEXT:,} characters; t502 stopped reading it")

    def _add_text(self, text: str) -> None:
        if text:
            self._content.append(text)
            self._tail = (self._tail + text)[-2:]

    async def _take_pieces(self, reply: ChatMessage, pieces: list[str | RawImage]) -> None:
        """Text and the images lifted out of it, in order."""
        for piece in pieces:
            if type(piece) is str:
                self._count_text(len(piece))
                self._add_text(piece)
            elif self._counted():
                self._add_text(await self._keep(reply, piece))  # type: ignore[arg-type]
        await self._took_text()

    def _counted(self) -> bool:
        """Count one more image of the reply; False past MAX_IMAGES (it is dropped)."""
        self._images += 1
        if self._images > MAX_IMAGES:
            self._dropped += 1
            return False
        return True

    def _paragraph(self, text: str) -> str:
        """``text`` as a paragraph of its own after the text so far."""
        tail = self._tail
        return ("" if not tail or tail == "\n\n" else "\n" if tail[-1] == "\n" else "\n\n") + text + "\n\n"

    async def _take_image(self, reply: ChatMessage, url: str) -> None:
        """An image outside the text: kept, with its reference (or its link, to download
        once the reply is in) on a paragraph of its own."""
        if not self._counted():
            return
        raw = raw_image(url)
        if raw is None:
            link = url.strip()
            if len(link) > 4096 or any(c.isspace() or c in "()<>" for c in link):
                text = "*[the server sent an image link t502 cannot use]*"
            else:
                text = f"![image]({link})"
        else:
            text = await self._keep(reply, raw)
        self._add_text(self._paragraph(text))
        await self._took_text()

    async def _keep(self, reply: ChatMessage, raw: RawImage) -> str:
        """Make ``raw`` an attachment of the reply; the text that stands for it."""
        index = len(reply.attachments) + 1
        try:
            if raw.cut_off or raw.too_large:
                image = decode_image(raw, "")  # refused at once: nothing to decode
            else:
                image = await asyncio.to_thread(decode_image, raw, f"image-{index}")
        except MediaError as error:
            return f"*[an image could not be kept: {error}]*"
        reply.attachments = [*reply.attachments, image]  # a new list: the recorder's snapshots keep theirs
        self._tell(ReplyMediaChanged(reply))
        return reference(raw.alt, index)

    def _end_media(self) -> None:
        """The reply ended (early, if anything is left): what was held back is text again,
        an image being read is noted as cut off, images past MAX_IMAGES are counted;
        what was held back as maybe part of a think tag is thinking or text again."""
        thought, text = self._think_tags.finish()
        if thought:
            self._reasoning.append(thought)
        self._add_text(text)
        for piece in self._media.finish(complete=False):
            if type(piece) is str:
                self._add_text(piece)
            elif self._counted():
                self._add_text("*[an image could not be kept: the reply ended in the middle of it]*")
        dropped = self._dropped + self._media.dropped
        if dropped:
            images = "image" if dropped == 1 else "images"
            self._add_text(self._paragraph(f"*[{dropped} more {images} dropped: t502 keeps at most {MAX_IMAGES}"
                                           " of one reply]*"))

    def _merge_soon(self) -> None:
        """Hand the text over now if a frame has passed since the last time, else at the
        end of this frame (so the last words of a pause are never held back)."""
        wait = MERGE_SECONDS - (time.monotonic() - self._last_merge)
        if wait <= 0:
            self._merge()
        elif self._merge_timer is None:
            self._merge_timer = asyncio.get_running_loop().call_later(wait, self._merge)

    def _take(self) -> ReplyGrew | None:
        """The text taken in since the last merge, recorded; None if there is none."""
        if self._merge_timer is not None:
            self._merge_timer.cancel()
            self._merge_timer = None
        self._last_merge = time.monotonic()
        if not self._content and not self._reasoning:
            return None
        grew = ReplyGrew("".join(self._content), "".join(self._reasoning))
        self._content.clear()
        self._reasoning.clear()
        if self._recorder is not None:
            self._recorder.add(grew.content, grew.reasoning)  # recorded before shown
        return grew

    def _tell(self, event: TurnEvent) -> None:
        """Tell the listener; if it fails (a closed pipe), the turn stops at the next event
        and the failure is raised once the reply is saved."""
        try:
            self.listener(event)
        except Exception as error:
            self._listener_error = self._listener_error or error

    def _merge(self) -> None:
        """Record the text taken in since the last merge, then show it."""
        if grew := self._take():
            self._tell(grew)

    async def _merge_first(self) -> None:
        """The first words: shown once the store has them, so that even a kill -9 right
        after they appear leaves them in the history."""
        if grew := self._take():
            if self._recorder is not None:
                await self._recorder.first_written()
            self._tell(grew)

    def _retrying(self, notice: RetryNotice) -> None:
        now = time.monotonic()
        self._set_connection(Connection.retrying(notice.reason, now + notice.delay, now))
        self._tell(RetryWaiting(notice))

    def _set_connection(self, connection: Connection) -> None:
        if connection != self.connection:
            self.connection = connection
            self.listener(ConnectionChanged(connection))
