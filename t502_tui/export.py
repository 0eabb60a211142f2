"""Conversations as files: Markdown to read, JSON to keep (and to import again)."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any

from t502_tui.attachments import Attachment
from t502_tui.conversation import ChatMessage, Conversation, ReplyStatus
from t502_tui.prices import format_cost
from t502_tui.service.events import Usage

FORMAT_VERSION = 1


class ImportError_(ValueError):
    """The file is not a t502 conversation export; the message says what is wrong."""


def to_markdown(conversation: Conversation) -> str:
    """A readable transcript with the model and usage of every reply."""
    lines = [f"# {conversation.display_title}", ""]
    lines.append(f"- Started {conversation.created:%Y-%m-%d %H:%M}")
    total = conversation.total_usage()
    if total.total_tokens:
        lines.append(f"- Tokens: {total.describe()}")
    if (cost := conversation.total_cost()) is not None:
        lines.append(f"- Cost: {'' if cost[1] else 'at least '}{format_cost(cost[0])}")
    if conversation.preset:
        lines.append(f"- Preset: {conversation.preset}")
    if conversation.system_prompt:
        lines.append(f"- System prompt: {' '.join(conversation.system_prompt.split())}")
    lines.append("")
    for message in conversation.messages:
        if message.role == "user":
            heading = f"## You · {message.created:%Y-%m-%d %H:%M}"
        else:
            heading = f"## {message.writer if message.model else 'assistant'} · {message.created:%Y-%m-%d %H:%M}"
            if message.usage:
                heading += f" · {message.usage.describe()}"
            if message.cost is not None:
                heading += f" · {format_cost(message.cost)}"
            if message.status not in (ReplyStatus.COMPLETE, ReplyStatus.STREAMING):
                heading += f" · {message.status.value}"
        lines += [heading, ""]
        if message.reasoning:
            lines += ["<details><summary>Thinking</summary>", "", message.reasoning.strip(), "", "</details>", ""]
        for image in message.attachments:
            lines.append(f"- Attached {'file' if image.is_text else 'image'}: {image.describe()}")
        if message.attachments:
            lines.append("")
        if message.content:
            lines += [message.content.rstrip(), ""]
        if message.error:
            lines += [f"> Error: {message.error}", ""]
    return "\n".join(lines)


def _usage_dict(usage: Usage | None) -> dict[str, Any] | None:
    if usage is None:
        return None
    return {"prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens,
            "total_tokens": usage.total_tokens,
            "completion_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
            "prompt_tokens_details": {"cached_tokens": usage.cached_tokens}}


def to_json(conversation: Conversation, every_message: list[ChatMessage] | None = None) -> str:
    """Everything t502 knows about the conversation, re-importable.

    With ``every_message`` (all branches, from the store) the whole tree is written, each
    message with its ``id`` and ``parent``, and ``leaf`` names the branch in view.
    """
    messages = every_message if every_message is not None else conversation.messages
    data: dict[str, Any] = {
        "t502_export": FORMAT_VERSION,
        "conversation": {
            "id": conversation.id, "title": conversation.title,
            "created": conversation.created.isoformat(), "system_prompt": conversation.system_prompt,
            "model": conversation.model, "archived": conversation.archived,
            "provider": conversation.provider, "preset": conversation.preset, "settings": conversation.settings,
            "leaf": conversation.messages[-1].id if conversation.messages else None,
        },
        "messages": [
            {"id": m.id, "parent": m.parent_id if every_message is not None else (messages[i - 1].id if i else None),
             "role": m.role, "content": m.content, "reasoning": m.reasoning, "model": m.model,
             "status": m.status.value, "error": m.error, "finish_reason": m.finish_reason,
             "usage": _usage_dict(m.usage), "created": m.created.isoformat(),
             "cost": m.cost, "provider": m.provider, "in_context": m.in_context,
             "attachments": [{"name": a.name, "mime": a.mime, "width": a.width, "height": a.height, "kind": a.kind,
                              "data": base64.b64encode(a.data).decode("ascii")} for a in m.attachments]}
            for i, m in enumerate(messages)
        ],
    }
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def _attachments(item: dict[str, Any], index: int) -> list[Attachment]:
    images = item.get("attachments") or []
    if not isinstance(images, list):
        raise ImportError_(f"message {index}: 'attachments' must be a list")
    out = []
    for image in images:
        try:
            data = base64.b64decode(image["data"], validate=True)
            out.append(Attachment(str(image["name"]), str(image["mime"]), data,
                                  image.get("width"), image.get("height"),
                                  "text" if image.get("kind") == "text" else "image"))
        except (KeyError, TypeError, ValueError):
            raise ImportError_(f"message {index}: an attachment is damaged") from None
    return out


def _text(item: dict[str, Any], key: str, default: str = "") -> str:
    value = item.get(key, default)
    if value is None:
        return default
    if not isinstance(value, str):
        raise ImportError_(f"'{key}' must be text")
    return value


def _cost(value: Any) -> float | None:
    """A stored cost, if it is one (finite, not negative)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if 0 <= value < 1e9 else None


def _name(value: Any) -> str | None:
    """A provider's or preset's name, if it is one."""
    return value if isinstance(value, str) and 0 < len(value) <= 100 else None


def _when(value: Any) -> datetime:
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else datetime.now()
    except ValueError:
        raise ImportError_(f"{value!r} is not a date and time") from None


def from_json(text: str) -> Conversation:
    """Read a file written by :func:`to_json`."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ImportError_(f"not JSON: {exc}") from None
    if not isinstance(data, dict) or "t502_export" not in data:
        raise ImportError_("not a t502 conversation export (no 't502_export' key)")
    if not isinstance(data["t502_export"], int) or data["t502_export"] > FORMAT_VERSION:
        raise ImportError_("written by a newer t502; upgrade to import it")
    head = data.get("conversation")
    items = data.get("messages")
    if not isinstance(head, dict) or not isinstance(items, list):
        raise ImportError_("'conversation' must be an object and 'messages' a list")
    messages = []
    for index, item in enumerate(items, 1):
        if not isinstance(item, dict):
            raise ImportError_(f"message {index} is not an object")
        role = _text(item, "role")
        if role not in ("user", "assistant"):
            raise ImportError_(f"message {index} has role {role!r}")
        try:
            status = ReplyStatus(item.get("status") or "complete")
        except ValueError:
            raise ImportError_(f"message {index} has an unknown status") from None
        usage = Usage.from_json(item.get("usage"))
        message = ChatMessage(
            role=role, content=_text(item, "content"), reasoning=_text(item, "reasoning"),
            model=item.get("model") if isinstance(item.get("model"), str) else None,
            status=ReplyStatus.INTERRUPTED if status is ReplyStatus.STREAMING else status,
            error=item.get("error") if isinstance(item.get("error"), str) else None,
            finish_reason=item.get("finish_reason") if isinstance(item.get("finish_reason"), str) else None,
            usage=usage, created=_when(item.get("created")), attachments=_attachments(item, index),
            cost=_cost(item.get("cost")), provider=_name(item.get("provider")),
            in_context=item.get("in_context") if isinstance(item.get("in_context"), bool) else None,
        )
        # Ids are the file's own; the store gives new ones (see Store.import_conversation).
        message.id = item.get("id") if isinstance(item.get("id"), int) else None
        message.parent_id = item.get("parent") if isinstance(item.get("parent"), int) else None
        messages.append(message)
    settings = head.get("settings")
    conversation = Conversation(
        model=_text(head, "model"), system_prompt=_text(head, "system_prompt"), title=_text(head, "title"),
        messages=messages, created=_when(head.get("created")), archived=bool(head.get("archived")),
        provider=_name(head.get("provider")) or "", preset=_name(head.get("preset")) or "",
        settings=settings if isinstance(settings, dict) else {},
    )
    if isinstance(head.get("id"), str) and head["id"]:
        conversation.id = head["id"]
    return conversation


def leaf_of(text: str) -> int | None:
    """The file's id of the message ending the branch that was in view (after from_json)."""
    leaf = json.loads(text)["conversation"].get("leaf")
    return leaf if isinstance(leaf, int) else None
