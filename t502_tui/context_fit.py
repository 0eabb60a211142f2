"""Whether the next request fits the model's context, and which older turns to leave out
when it does not.

The size of the next request is the last reply's ``prompt_tokens`` (the server's own
count of everything before it) plus an estimate (characters / 4) of what came since;
without such a reply, or once the user has changed which messages are sent, it is the
estimate of the whole request. Either way it is shown as "≈". The meter, the check before
sending and the trim all count it this one way (:class:`RequestSize`), so a trim always
ends where the meter then says the request fits.

Older turns left out are marked ``in_context = False``, the flag ``k`` on a reply sets:
they stay in the conversation, marked "not sent".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from t502_tui.attachments import Attachment
from t502_tui.conversation import ChatMessage, Conversation
from t502_tui.service import APIError, ServiceError
from t502_tui.tokens import estimate_tokens, short_count

MESSAGE_OVERHEAD = 4
"""Tokens each message costs beyond its text (role and separators), as OpenAI counts."""

_CONTEXT_ERROR = re.compile(
    r"context[_ ]length|maximum context|context window|prompt is too long|input is too long|"
    r"too many (?:input )?tokens|reduce the length of the (?:messages|prompt)|exceeds? the (?:model'?s? )?"
    r"(?:maximum|max)(?:imum)? (?:context|input|number of tokens)",
    re.I,
)
_LIMIT = re.compile(
    r"(?:maximum context length|context length|context window|limit)(?: of| is)?\D{0,20}?(\d[\d,]{2,})"
    r"|(\d[\d,]{2,}) (?:tokens? )?maximum", re.I)


def message_tokens(message: ChatMessage) -> int:
    """About how many tokens ``message`` adds to a request (its text files included)."""
    return estimate_tokens(message.content) + sum(a.tokens for a in message.attachments) + MESSAGE_OVERHEAD


def _estimated(conversation: Conversation) -> int:
    """The estimate of everything sent now: the system prompt and the sendable messages."""
    total = estimate_tokens(conversation.system_prompt) + MESSAGE_OVERHEAD if conversation.system_prompt.strip() else 0
    return total + sum(message_tokens(m) for m in conversation.messages if m.sendable)


def _counted_base(conversation: Conversation) -> int | None:
    """The server's count of the request up to the newest reply, plus that reply, when it
    still describes what will be sent (no message before it was left out or taken back)."""
    messages = conversation.messages
    for index in range(len(messages) - 1, -1, -1):
        reply = messages[index]
        if reply.role != "assistant" or reply.usage is None or not reply.usage.prompt_tokens:
            continue
        if not reply.sendable or any(m.in_context is not None for m in messages[:index]):
            return None
        after = sum(message_tokens(m) for m in messages[index + 1:] if m.sendable)
        return reply.usage.prompt_tokens + message_tokens(reply) + after
    return None


@dataclass(frozen=True)
class RequestSize:
    """The next request's size, the one way the meter, the check and the trim count it."""

    counted: int | None
    """The server's count of what is sent now (see :func:`_counted_base`), when it applies."""
    estimated: int
    """The estimate of what is sent now."""
    new: int
    """The estimate of the new message (0 for none)."""

    def tokens(self, left_out: int = 0) -> int:
        """About how many tokens the request is, with messages worth ``left_out`` estimated
        tokens marked "not sent". The server's count no longer describes a request with
        messages left out: it is then the estimate, as the meter shows once they are marked."""
        if self.counted is not None and not left_out:
            return self.counted + self.new
        return self.estimated - left_out + self.new


def request_size(conversation: Conversation, draft: str = "", attachments: Sequence[Attachment] = ()) -> RequestSize:
    """The next request's size, with ``draft`` (and its files) as the new message."""
    new = estimate_tokens(draft) + sum(a.tokens for a in attachments) + MESSAGE_OVERHEAD if (draft or attachments) else 0
    return RequestSize(_counted_base(conversation), _estimated(conversation), new)


def request_tokens(conversation: Conversation, draft: str = "", attachments: Sequence[Attachment] = ()) -> int:
    """About how many tokens the next request will be, with ``draft`` (and its files) as
    the new message."""
    return request_size(conversation, draft, attachments).tokens()


def budget(context_length: int, params: dict[str, Any]) -> int:
    """The tokens a request may use: the context less the room asked for the reply."""
    room = params.get("max_tokens")
    return context_length - room if isinstance(room, int) and 0 < room < context_length else context_length


def limit_text(context_length: int, limit: int) -> str:
    """``limit`` (a :func:`budget`) as said to the user: ``200 of its 300 (100 are kept for
    the reply, max_tokens)``, or ``300`` with no room asked for."""
    if limit >= context_length:
        return short_count(limit)
    return (f"{short_count(limit)} of its {short_count(context_length)}"
            f" ({short_count(context_length - limit)} are kept for the reply, max_tokens)")


@dataclass(frozen=True)
class Trim:
    """What leaving out the oldest turns would do."""

    leave_out: list[ChatMessage]
    """Messages to mark "not sent", oldest first."""
    tokens: int
    """About how many tokens the request is then."""


def _turns(messages: list[ChatMessage]) -> list[list[ChatMessage]]:
    """Sendable messages in turns: a user message and the replies that follow it."""
    turns: list[list[ChatMessage]] = []
    for message in messages:
        if not message.sendable:
            continue
        if message.role == "user" or not turns:
            turns.append([])
        turns[-1].append(message)
    return turns


def trim_to_fit(conversation: Conversation, limit: int, draft: str = "",
                attachments: Sequence[Attachment] = ()) -> Trim | None:
    """The oldest whole turns to leave out so the request fits ``limit`` tokens, counted as
    :func:`request_tokens` counts it once they are marked (the newest are kept); None when
    no such trim fits (the new message alone, or the turn a retry answers, is too large)."""
    size = request_size(conversation, draft, attachments)
    tokens, left_out = size.tokens(), 0
    leave_out: list[ChatMessage] = []
    turns = _turns(conversation.messages)
    keep_last = 0 if (draft or attachments) else 1  # a retry keeps the message it answers
    for turn in turns[: len(turns) - keep_last]:
        if tokens <= limit:
            break
        leave_out += turn
        left_out += sum(message_tokens(m) for m in turn)
        tokens = size.tokens(left_out)
    if tokens > limit:
        return None
    return Trim(leave_out, tokens)


def context_error(error: ServiceError | None) -> int | None:
    """For a server's "the conversation is too long" error: the context length it names
    (0 when it names none); None for any other error."""
    if error is None:
        return None
    status = getattr(error, "status", None)
    if isinstance(error, APIError) and status not in (None, 400, 413, 422):
        return None
    text = f"{error.message} {error.detail}"
    code = getattr(error, "code", None)
    if code != "context_length_exceeded" and not _CONTEXT_ERROR.search(text):
        return None
    match = _LIMIT.search(text)
    return int((match.group(1) or match.group(2)).replace(",", "")) if match else 0
