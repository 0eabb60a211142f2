"""Conversations and their messages as plain data, apart from how they are shown or stored.

A reply records the model that wrote it, its usage and how it ended, so switching models
mid-conversation keeps an honest history and every reply's cost stays visible.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from t502_tui.attachments import Attachment
from t502_tui.media import MediaState, text_for_model
from t502_tui.service.events import Usage
from t502_tui.text_files import fenced

MAX_IMAGES_SENT_BACK = 4
"""Generated images that go back to the model with the next request: the newest few (an
edit refers to the last ones; every image of a long session would be megabytes a turn)."""

TITLE_CHARS = 40
"""An untitled conversation is named by this much of its first message, cut at a word."""

_FENCE = re.compile(r"^(```|~~~)[^\n]*\n(.*?)^\1", re.M | re.S)


class ReplyStatus(StrEnum):
    """How a message ended up."""

    COMPLETE = "complete"
    STREAMING = "streaming"
    STOPPED = "stopped"
    """Cancelled by the user; the text so far is kept."""
    ERROR = "error"
    """The request failed; any text that arrived is kept."""
    INTERRUPTED = "interrupted"
    """The app ended (crash, kill, signal, power cut) while the reply streamed."""

    @property
    def cut_off(self) -> bool:
        """The reply ended before the server finished it, and not because the user said so."""
        return self in (ReplyStatus.ERROR, ReplyStatus.INTERRUPTED)


UNREADABLE = "t502-unreadable"
"""Not a server's: the finish reason t502 gives a reply whose stream ended as it should but
had events it could not read (skipped), so its text may have gaps."""
_FINISH_NOTES = {
    "length": "cut off at the token limit",
    "content_filter": "stopped by the provider's content filter",
    # t502 offers no tools; a relay may add some of its own to the request.
    "tool_calls": "the model asked for a tool, which t502 does not run",
    "function_call": "the model asked for a tool, which t502 does not run",
    UNREADABLE: "parts of the stream could not be read: some text may be missing",
}


@dataclass
class ChatMessage:
    """One user or assistant message."""

    role: str
    content: str = ""
    model: str | None = None
    reasoning: str = ""
    usage: Usage | None = None
    status: ReplyStatus = ReplyStatus.COMPLETE
    error: str | None = None
    finish_reason: str | None = None
    created: datetime = field(default_factory=datetime.now)
    id: int | None = None
    """The store's row id, once saved."""
    parent_id: int | None = None
    """The message this one answers or follows (the conversation is a tree)."""
    attachments: list[Attachment] = field(default_factory=list)
    """Images and text files sent with a user message, or images the model made for a
    reply (its text refers to them as ``![alt](attachment:N)``, N from 1; see t502_tui.media)."""
    alternatives: list[int] = field(default_factory=list)
    """Ids of this message and its siblings (other replies, or edited versions), oldest first."""
    in_context: bool | None = None
    """Whether the message goes with the next request: None decides by its status (a reply
    cut off by an error is left out), True or False is the user's own choice."""
    cost: float | None = None
    """What the reply cost in US$, as known when it arrived (None: unknown)."""
    provider: str | None = None
    """The provider (server) that wrote the reply; None for the default provider."""
    media: dict[str, MediaState] = field(default_factory=dict)
    """What t502 is doing with the reply's links and images in this run, by URL or
    ``attachment:N`` (downloads, files written); not stored."""

    @property
    def writer(self) -> str:
        """Who wrote a reply, as the user names models: ``gpt-5``, or ``local/llama3`` for
        one from a provider other than the default."""
        return writer_name(self.provider, self.model or "model")

    @property
    def alternative_label(self) -> str:
        """``2/3`` when there are other versions of this message, else empty."""
        if len(self.alternatives) < 2 or self.id not in self.alternatives:
            return ""
        return f"{self.alternatives.index(self.id) + 1}/{len(self.alternatives)}"

    def api_content(self) -> str | list[dict[str, Any]]:
        """The content as the API takes it: text (text files first, each a fenced block
        headed by its name, then what the user wrote), or text and image parts."""
        if not self.attachments:
            return self.content
        files = [fenced(a.name, a.text) for a in self.attachments if a.is_text]
        text = "\n\n".join(files + ([self.content] if self.content else [])) if files else self.content
        images = [a for a in self.attachments if not a.is_text]
        if not images:
            return text
        parts: list[dict[str, Any]] = [{"type": "text", "text": text}]
        parts += [{"type": "image_url", "image_url": {"url": a.data_url()}} for a in images]
        return parts

    @property
    def finish_note(self) -> str | None:
        """Why the server ended the reply, when the model did not end it itself: a reply
        that reads whole may be cut off or held back."""
        return _FINISH_NOTES.get(self.finish_reason or "")

    @property
    def sendable(self) -> bool:
        """Whether this message belongs in the history sent with the next request.

        A reply cut off by an error or by t502 ending is shown and kept, but not sent
        unless the user keeps it: a model continuing from half a sentence it never
        finished misleads it. A reply the user stopped is sent, as they chose to end it.
        """
        if self.in_context is not None:
            return self.in_context and (self.role == "user" or bool(self.content))
        if self.role == "user":
            return True
        return bool(self.content) and self.status is not ReplyStatus.STREAMING and not self.status.cut_off


def writer_name(provider: str | None, model: str) -> str:
    """A model as the user names it in the history: ``gpt-5``, or ``local/llama3`` from a
    provider other than the default (stored as no provider)."""
    return f"{provider}/{model}" if provider and model else model


def _unsent_reply(message: ChatMessage | None) -> bool:
    """``message`` is a reply that has ended and is not sent (see ChatMessage.sendable)."""
    return (message is not None and message.role == "assistant" and message.status is not ReplyStatus.STREAMING
            and not message.sendable)


def _parts(content: str | list[dict[str, Any]]) -> list[dict[str, Any]]:
    return content if isinstance(content, list) else [{"type": "text", "text": content}]


def _alternating(messages: list[dict[str, Any]], start: int) -> list[dict[str, Any]]:
    """``messages`` with each run of one role from ``start`` on joined into one message,
    its texts a paragraph apart (each run joined once: an imported run of 200,000 joined
    one message at a time took minutes)."""
    out = messages[:start]
    run: list[dict[str, Any]] = []
    for message in [*messages[start:], None]:
        if run and (message is None or message["role"] != run[0]["role"]):
            contents = [m["content"] for m in run]
            if len(run) == 1:
                out.append(run[0])
            elif all(isinstance(c, str) for c in contents):
                out.append({"role": run[0]["role"], "content": "\n\n".join(contents)})
            else:
                out.append({"role": run[0]["role"], "content": [part for c in contents for part in _parts(c)]})
            run = []
        if message is not None:
            run.append(message)
    return out


def title_from(text: str) -> str:
    """A title from the start of ``text``: one line, cut at a word's end after TITLE_CHARS."""
    first = " ".join(text.split())
    if len(first) <= TITLE_CHARS:
        return first
    cut = first[:TITLE_CHARS]
    space = cut.rfind(" ")
    return (cut[:space] if space >= TITLE_CHARS * 2 // 3 else cut).rstrip() + "…"


@dataclass(frozen=True)
class Tally:
    """What a conversation's replies spent: tokens, cost, and how many replies counted."""

    usage: Usage = field(default_factory=Usage)
    cost: float = 0.0
    costed: int = 0
    """Replies whose cost is known."""
    priced: int = 0
    """Replies that should have a cost (the server reported their tokens, or a cost)."""
    unreported: int = 0
    """Replies with text whose tokens the server did not report."""

    def add(self, messages: Iterable[ChatMessage]) -> Tally:
        """This tally with ``messages``' replies counted too."""
        usage, cost, costed, priced, unreported = self.usage, self.cost, self.costed, self.priced, self.unreported
        for message in messages:
            if message.usage:
                usage = usage + message.usage
            if message.role != "assistant":
                continue
            if message.usage or message.cost is not None:
                priced += 1
                if message.cost is not None:
                    cost, costed = cost + message.cost, costed + 1
            if not message.usage and message.content and message.status is not ReplyStatus.STREAMING:
                unreported += 1
        return Tally(usage, cost, costed, priced, unreported)


def shown_title(title: str, first_words: str) -> str:
    """What a conversation is called in every list, search and export: its title, else the
    start of its first message (``first_words``), else a placeholder."""
    return " ".join(title.split()) or title_from(first_words) or "New conversation"


@dataclass
class Conversation:
    """A titled list of messages, with the model and system prompt for the next request."""

    model: str
    system_prompt: str = ""
    title: str = ""
    messages: list[ChatMessage] = field(default_factory=list)
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    created: datetime = field(default_factory=datetime.now)
    archived: bool = False
    settings: dict[str, Any] = field(default_factory=dict)
    """Request parameters of this conversation (temperature, top_p, ...), over the defaults."""
    preset: str = ""
    """The preset the conversation started from, if any."""
    provider: str = ""
    """The provider its next reply comes from (empty: the default one)."""
    has_older: bool = False
    """True when older messages are in the store but not loaded yet."""
    older_tally: Tally | None = None
    """What those older messages' replies spent (None: not known), for the totals."""
    saved: bool = False
    """True once the store has a row for this conversation."""
    first_words: str = ""
    """The start of its first message as the store has it (it may not be loaded, or be on
    another branch): what names it when it has no title."""

    def head_text(self) -> str:
        """What the user set in this conversation besides its messages (system prompt,
        parameters, preset, model), as JSON: kept with a new conversation's draft."""
        return json.dumps({"system_prompt": self.system_prompt, "settings": self.settings, "preset": self.preset,
                           "provider": self.provider, "model": self.model})

    def take_head(self, text: str) -> None:
        """Set what :meth:`head_text` kept; what is not of the right kind is left as it is
        (the text comes from a file)."""
        try:
            head = json.loads(text)
        except ValueError:
            return
        if not isinstance(head, dict):
            return
        for name in ("system_prompt", "preset", "provider", "model"):
            if isinstance(value := head.get(name), str) and (value or name != "model"):
                setattr(self, name, value)
        if isinstance(settings := head.get("settings"), dict):
            self.settings = settings

    @property
    def writer(self) -> str:
        """Its model as the user names it: ``gpt-5``, or ``local/llama3`` from a provider
        other than the default."""
        return writer_name(self.provider, self.model)

    @property
    def display_title(self) -> str:
        """The title, or the start of the first user message, or a placeholder."""
        first = self.first_words or next((message.content for message in self.messages if message.role == "user"), "")
        return shown_title(self.title, first)

    def request_messages(self, system_role: str = "system") -> list[dict[str, Any]]:
        """The history as the API takes it: system prompt first, then every sendable turn.

        A reply goes as text (its images as ``[image N]``, its links as written): many
        OpenAI-compatible servers refuse image parts in an assistant message. The images
        the model made inline (not links: those it wrote itself, as text) go back at the
        start of the user message after it, as image parts, so "make it blue" shows the
        model the image it made; only the newest :data:`MAX_IMAGES_SENT_BACK`.

        A question goes with its reply: when the reply is not sent (it failed, or was cut
        off and not kept), neither is the question, so a message the server refused is not
        sent again with every later one. Messages of one role in a row (a reply deleted)
        go as one: the chat templates of many models served by vLLM or llama.cpp refuse a
        history whose roles do not alternate.
        """
        out: list[dict[str, Any]] = []
        if self.system_prompt.strip():
            out.append({"role": system_role, "content": self.system_prompt})
        first_turn = len(out)
        turns = [m for m, after in zip(self.messages, [*self.messages[1:], None])
                 if m.sendable and not (m.role == "user" and m.in_context is None and _unsent_reply(after))]
        made = [(m, a) for m in turns if m.role == "assistant" for a in m.attachments if a.source is None]
        sent_back = {id(a) for _, a in made[-MAX_IMAGES_SENT_BACK:]}
        carried: list[Attachment] = []
        for message in turns:
            if message.role == "assistant":
                out.append({"role": "assistant", "content": text_for_model(message.content)})
                carried += [a for a in message.attachments if id(a) in sent_back]
                continue
            content = message.api_content()
            if carried:
                parts: list[dict[str, Any]] = [{"type": "text", "text": "(The images of your previous reply.)"}]
                parts += [{"type": "image_url", "image_url": {"url": a.data_url()}} for a in carried]
                content = parts + (content if isinstance(content, list) else [{"type": "text", "text": content}])
                carried = []
            out.append({"role": message.role, "content": content})
        return _alternating(out, first_turn)

    def code_blocks(self) -> list[str]:
        """The code of the fenced blocks in the replies, newest first, each different one
        once (a block repeated in later replies would be listed twice, alike)."""
        blocks = [match.group(2) for message in self.messages if message.role == "assistant"
                  for match in _FENCE.finditer(message.content)]
        return list(dict.fromkeys(reversed(blocks)))

    def _tally(self) -> Tally:
        older = self.older_tally if self.has_older and self.older_tally is not None else Tally()
        return older.add(self.messages)

    def total_cost(self) -> tuple[float, bool] | None:
        """What the replies cost (US$) and whether that is all of them: False when some
        reply's cost is unknown, or older messages are not loaded and not counted; None
        when no cost is known."""
        tally = self._tally()
        if not tally.costed:
            return None
        return tally.cost, tally.costed == tally.priced and not (self.has_older and self.older_tally is None)

    def total_usage(self) -> Usage:
        """Tokens spent on every reply of this conversation (older ones not loaded too,
        when counted)."""
        return self._tally().usage

    def unreported_replies(self) -> int:
        """Replies with text whose tokens the server did not report (one stopped early, or
        a server that never tells): the total leaves them out."""
        return self._tally().unreported
