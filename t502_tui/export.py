"""Conversations as files: Markdown to read, JSON to keep (and to import again)."""

from __future__ import annotations

import base64
import json
import re
import stat
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from t502_tui import paths
from t502_tui.attachments import Attachment, sniff
from t502_tui.conversation import ChatMessage, Conversation, ReplyStatus
from t502_tui.markdown_fences import fenced_lines
from t502_tui.media import REFERENCE, file_name
from t502_tui.prices import format_cost
from t502_tui.service.events import Usage
from t502_tui.settings_schema import BY_NAME, SettingError, validate
from t502_tui.service.server_json import whole_pairs
from t502_tui.terminal_text import defuse, visible_name

_HEADING = re.compile(r"^( {0,3})(#{1,6})(?=[ \t]|$)")
"""A Markdown (ATX) heading's indent and hashes."""

FORMAT_VERSION = 2
"""2: images as data URLs (``url``) with the link they came from (``source``); version 1
files (base64 in ``data``) are still read."""


class ImportError_(ValueError):
    """The file is not a t502 conversation export; the message says what is wrong."""


def _image_text(message: ChatMessage, files: dict[str, bytes] | None, folder: str,
                number: int) -> tuple[str, list[str]]:
    """The message's text with its images as files in ``folder`` (or, with no ``files``
    to fill, as ``[image N]``), and lines for the images its text does not show."""
    names: list[str] = []
    for index, image in enumerate(message.attachments, 1):
        # The name may come from an imported file: nothing in it may lead out of the folder.
        name = f"{folder}/{number}-{index}-{file_name(image.name)}"
        names.append(name)
        if files is not None and not image.is_text:
            files[name] = image.data

    def image(match: re.Match[str]) -> str:
        index = int(match.group(2))
        if files is None or not 1 <= index <= len(names):
            return f"[image {index}]"
        return f"![{match.group(1)}]({names[index - 1]})"

    content = REFERENCE.sub(image, message.content)
    shown = {int(m.group(2)) for m in REFERENCE.finditer(message.content)}
    extra: list[str] = []
    for index, attachment in enumerate(message.attachments, 1):
        if attachment.is_text:
            extra.append(f"- Attached file: {attachment.describe()}")
        elif attachment.source and files is not None:
            content = content.replace(attachment.source, names[index - 1])  # the link expires; the file stays
        elif index not in shown and not attachment.source:
            extra.append(f"![{attachment.name}]({names[index - 1]})" if files is not None
                         else f"- Attached image: {attachment.describe()}")
    return content, extra


def _under_heading(text: str) -> str:
    """``text`` with its own headings two levels down (``## Setup`` as ``#### Setup``, at
    most six), so that they come under the message's ``##`` in the transcript's outline;
    code is left as written."""
    out, before = [], ""
    for line, after in fenced_lines(text):
        if not before and not after and (match := _HEADING.match(line)):
            line = f"{match.group(1)}{'#' * min(6, len(match.group(2)) + 2)}{line[match.end(2):]}"
        out.append(line)
        before = after
    return "\n".join(out)


def _quoted(thinking: str) -> str:
    """A model's thinking (or a system prompt) as a quote, so that whatever it holds stays
    inside its fold: a code fence it never closed ends with the quote, and a ``</details>``
    is text. Its lines end in hard breaks: it is written line by line, as t502 shows it."""
    thinking = re.sub(r"</(details)", r"&lt;/\1", thinking.strip(), flags=re.IGNORECASE)
    return "\n".join(f"> {line}  " if line.strip() else ">" for line in thinking.split("\n"))


def to_markdown(conversation: Conversation, files: dict[str, bytes] | None = None, folder: str = "images") -> str:
    """A readable transcript with the model and usage of every reply.

    Names in headings (the title, models) are shown as spelt (:func:`visible_name`), and
    control characters anywhere as ``^[`` (:func:`defuse`).
    Images are written as links to files in ``folder`` (relative to the transcript) when
    ``files`` is given, which gets their bytes by path; else each is named in the text.
    """
    lines = [f"# {visible_name(conversation.display_title)}", ""]
    lines.append(f"- Started {conversation.created:%Y-%m-%d %H:%M}")
    total = conversation.total_usage()
    if total.total_tokens:
        lines.append(f"- Tokens: {total.describe()}")
    if (cost := conversation.total_cost()) is not None:
        lines.append(f"- Cost: {'' if cost[1] else 'at least '}{format_cost(cost[0])}")
    if conversation.preset:
        lines.append(f"- Preset: {conversation.preset}")
    if "\n" in conversation.system_prompt.strip():  # its lines as written, not run together
        lines += ["- System prompt:", "", _quoted(conversation.system_prompt)]
    elif conversation.system_prompt.strip():
        lines.append(f"- System prompt: {conversation.system_prompt.strip()}")
    lines.append("")
    for number, message in enumerate(conversation.messages, 1):
        if message.role == "user":
            heading = f"## You · {message.created:%Y-%m-%d %H:%M}"
        else:
            heading = f"## {visible_name(message.writer) if message.model else 'assistant'} · {message.created:%Y-%m-%d %H:%M}"
            if message.usage:
                heading += f" · {message.usage.describe()}"
            if message.cost is not None:
                heading += f" · {format_cost(message.cost)}"
            if message.status not in (ReplyStatus.COMPLETE, ReplyStatus.STREAMING):
                heading += f" · {message.status.value}"
            if message.finish_note:
                heading += f" · {message.finish_note}"
        lines += [heading, ""]
        if message.reasoning:
            lines += ["<details><summary>Thinking</summary>", "", _quoted(message.reasoning), "", "</details>", ""]
        content, extra = _image_text(message, files, folder, number)
        if extra:
            lines += [*extra, ""]
        if content:
            lines += [_under_heading(content.rstrip()), ""]
        if message.error:
            lines += [f"> Error: {message.error}", ""]
    return defuse("\n".join(lines))  # a transcript is read with cat too: no escape may act


def write_markdown(conversation: Conversation, path: Path) -> int:
    """Write the transcript to ``path`` and its images as files in a folder beside it
    (``<name>-images/``), all private; the number of images written. Raises OSError.
    The transcript goes first: where it cannot be written, nothing is (not a folder of
    images beside /dev/full, nor folders made on the way to a path that does not exist)."""
    folder = f"{path.stem}-images"
    files: dict[str, bytes] = {}
    text = to_markdown(conversation, files, folder)
    paths.write_private(path, text)
    if files:
        paths.private_dir(path.parent / folder)
        for name, data in files.items():
            paths.write_private(path.parent / name, data)
    return len(files)


def _usage_dict(usage: Usage | None) -> dict[str, Any] | None:
    if usage is None:
        return None
    return {"prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens,
            "total_tokens": usage.total_tokens,
            "completion_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
            "prompt_tokens_details": {"cached_tokens": usage.cached_tokens}}


def to_json(conversation: Conversation, every_message: list[ChatMessage] | None = None,
            updated: datetime | None = None) -> str:
    """Everything t502 knows about the conversation, re-importable.

    With ``every_message`` (all branches, from the store) the whole tree is written, each
    message with its ``id`` and ``parent``, and ``leaf`` names the branch in view.
    ``updated`` (the store's) keeps the conversation's place in the list when imported.
    """
    messages = every_message if every_message is not None else conversation.messages
    data: dict[str, Any] = {
        "t502_export": FORMAT_VERSION,
        "conversation": {
            "id": conversation.id, "title": conversation.title,
            "created": conversation.created.isoformat(), "system_prompt": conversation.system_prompt,
            "model": conversation.model, "archived": conversation.archived,
            "settings": conversation.settings, "preset": conversation.preset, "provider": conversation.provider,
            "leaf": conversation.messages[-1].id if conversation.messages else None,
            **({"updated": updated.isoformat()} if updated else {}),
        },
        "messages": [
            {"id": m.id, "parent": m.parent_id if every_message is not None else (messages[i - 1].id if i else None),
             "role": m.role, "content": m.content, "reasoning": m.reasoning, "model": m.model,
             "status": m.status.value, "error": m.error, "finish_reason": m.finish_reason,
             "usage": _usage_dict(m.usage), "created": m.created.isoformat(),
             "in_context": m.in_context, "cost": m.cost, "provider": m.provider,
             "attachments": [{"name": a.name, "mime": a.mime, "width": a.width, "height": a.height, "kind": a.kind,
                              "url": a.data_url(), "source": a.source} for a in m.attachments]}
            for i, m in enumerate(messages)
        ],
    }
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


_MAX_FILE_BYTES = 256 * 1024 * 1024
_MAX_ID = 2**63 - 1
_MAX_TOKENS = 10**12
_MAX_PIXELS = 10**6
_MAX_COST = 1e9
_MAX_SETTINGS_BYTES = 64 * 1024
_ID = re.compile(r"[0-9a-f]{32}")


@dataclass
class ExportedConversation:
    """A conversation read from an export file, with what the store needs to keep its shape."""

    conversation: Conversation
    """Its messages carry the file's ids and parents (the store gives new ones)."""
    leaf: int | None
    """The file's id of the message ending the branch that was in view."""
    updated: datetime
    """When it last changed (the file's own time, so it keeps its place in the list)."""


def _whole(value: Any, where: str, highest: int) -> int | None:
    """``value`` as a whole number from 0 to ``highest`` (None when absent)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= highest:
        raise ImportError_(f"{where} must be a whole number from 0 to {highest}")
    return value


def _text(item: dict[str, Any], key: str, where: str, default: str = "") -> str:
    value = item.get(key)
    if value is None:
        return default
    if not isinstance(value, str):
        raise ImportError_(f"{where}: '{key}' must be text")
    return whole_pairs(value)  # no UTF-8 store can keep half a surrogate pair


def _optional_text(item: dict[str, Any], key: str, where: str) -> str | None:
    return _text(item, key, where) if item.get(key) is not None else None


def _when(value: Any, where: str) -> datetime:
    """An ISO date and time as local time, one the store can keep and read back."""
    try:
        if not isinstance(value, str):
            raise ValueError
        when = datetime.fromisoformat(value)
        if when.tzinfo is not None:
            when = when.astimezone().replace(tzinfo=None)
        datetime.fromtimestamp(when.timestamp())
    except (ValueError, OverflowError, OSError):
        raise ImportError_(f"{where}: {str(value)[:40]!r} is not a date and time t502 can keep") from None
    return when


def _flag(item: dict[str, Any], key: str, where: str) -> bool | None:
    value = item.get(key)
    if value is not None and not isinstance(value, bool):
        raise ImportError_(f"{where}: '{key}' must be true, false or null")
    return value


def _cost(value: Any, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= _MAX_COST:
        raise ImportError_(f"{where}: 'cost' must be a number from 0 to {_MAX_COST:g}")
    return float(value)


def _settings(value: Any) -> dict[str, Any]:
    """The conversation's own request settings: a JSON object the store can keep as text."""
    if value is None:
        return {}
    try:
        if not isinstance(value, dict) or len(json.dumps(value)) > _MAX_SETTINGS_BYTES:
            raise ValueError
    except (ValueError, RecursionError):
        raise ImportError_(f"conversation: 'settings' must be an object of at most "
                           f"{_MAX_SETTINGS_BYTES // 1024} KB") from None
    try:  # checked as [params] is: they are sent with its every request
        return validate(BY_NAME["params"], value)
    except SettingError as error:
        raise ImportError_(f"conversation: 'settings.{error.key}' {error.reason}" if error.key
                           else f"conversation: 'settings' {error.reason}") from None


def _usage(value: Any, where: str) -> Usage | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ImportError_(f"{where}: 'usage' must be an object")
    figures = [(value, key) for key in ("prompt_tokens", "completion_tokens", "total_tokens",
                                        "input_tokens", "output_tokens")]
    for key in ("completion_tokens_details", "prompt_tokens_details", "output_tokens_details", "input_tokens_details"):
        details = value.get(key)
        if details is not None and not isinstance(details, dict):
            raise ImportError_(f"{where}: '{key}' must be an object")
        figures += [(details or {}, "reasoning_tokens"), (details or {}, "cached_tokens")]
    for holder, key in figures:
        _whole(holder.get(key), f"{where}: usage '{key}'", _MAX_TOKENS)
    return Usage.from_json(value)


def _attachments(item: dict[str, Any], where: str) -> list[Attachment]:
    images = item.get("attachments") or []
    if not isinstance(images, list):
        raise ImportError_(f"{where}: 'attachments' must be a list")
    out = []
    for image in images:
        try:
            if not isinstance(image, dict) or not isinstance(image["mime"], str):
                raise TypeError
            if isinstance(image.get("url"), str):  # version 2: a data URL
                head, _, payload = image["url"].partition(",")
                if not (head.startswith("data:") and head.endswith(";base64")):
                    raise ValueError
                data = _base64(payload)
            elif isinstance(image.get("data"), str):  # version 1: base64
                data = _base64(image["data"])
            else:
                raise TypeError
            source = _optional_text(image, "source", where)
            if source is not None and (not isinstance(source, str) or not source.startswith(("http://", "https://"))):
                raise ValueError
            attachment = Attachment(_text(image, "name", where), image["mime"], data,
                                    _whole(image.get("width"), f"{where}: an image's width", _MAX_PIXELS),
                                    _whole(image.get("height"), f"{where}: an image's height", _MAX_PIXELS),
                                    "text" if image.get("kind") == "text" else "image", source=source)
        except (KeyError, TypeError, ValueError):
            raise ImportError_(f"{where}: an attachment is damaged") from None
        if not attachment.is_text:
            # Its bytes are decoded for previews and its name becomes a file's: both only as
            # an image of a message may be (a TIFF or an EPS is not, nor "../../x.png").
            found = sniff(data)
            if found is None:
                raise ImportError_(f"{where}: an attachment is not a PNG, JPEG, WebP or GIF image")
            attachment = replace(attachment, name=file_name(attachment.name), mime=found[0])
        out.append(attachment)
    return out


def _base64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)



def _message(item: Any, index: int) -> ChatMessage:
    where = f"message {index}"
    if not isinstance(item, dict):
        raise ImportError_(f"{where} is not an object")
    role = _text(item, "role", where)
    if role not in ("user", "assistant"):
        raise ImportError_(f"{where} has role {role[:40]!r}")
    try:
        status = ReplyStatus(item.get("status") or "complete")
    except ValueError:
        raise ImportError_(f"{where} has an unknown status") from None
    message = ChatMessage(
        role=role, content=_text(item, "content", where), reasoning=_text(item, "reasoning", where),
        model=_optional_text(item, "model", where),
        status=ReplyStatus.INTERRUPTED if status is ReplyStatus.STREAMING else status,
        error=_optional_text(item, "error", where), finish_reason=_optional_text(item, "finish_reason", where),
        usage=_usage(item.get("usage"), where),
        created=_when(item["created"], where) if item.get("created") is not None else datetime.now(),
        attachments=_attachments(item, where), in_context=_flag(item, "in_context", where),
        cost=_cost(item.get("cost"), where), provider=_optional_text(item, "provider", where),
    )
    # Ids are the file's own; the store gives new ones (see Store.import_conversation).
    message.id = _whole(item.get("id"), f"{where}: 'id'", _MAX_ID)
    message.parent_id = _whole(item.get("parent"), f"{where}: 'parent'", _MAX_ID)
    return message


def _check_tree(messages: list[ChatMessage]) -> None:
    """Each message's parent is one before it in the file, and no id comes twice, as
    :func:`to_json` writes them: a message its own parent, or parents in a loop, made a
    conversation whose messages vanished from view."""
    seen: set[int] = set()
    for index, message in enumerate(messages, 1):
        if message.parent_id is not None and message.parent_id not in seen:
            raise ImportError_(f"message {index}: its 'parent' ({message.parent_id}) is not a message before it")
        if message.id is not None:
            if message.id in seen:
                raise ImportError_(f"message {index}: the id {message.id} is used twice")
            seen.add(message.id)


def read_export(text: str) -> ExportedConversation:
    """Read a file written by :func:`to_json`; anything else is an :class:`ImportError_`."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportError_(f"not JSON: {exc}") from None
    except ValueError:  # an integer of thousands of digits
        raise ImportError_("not a t502 conversation export (a number in it is too long)") from None
    except RecursionError:
        raise ImportError_("not a t502 conversation export (nested too deeply)") from None
    if not isinstance(data, dict) or "t502_export" not in data:
        raise ImportError_("not a t502 conversation export (no 't502_export' key)")
    version = data["t502_export"]
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ImportError_("not a t502 conversation export ('t502_export' is not a version number)")
    if version > FORMAT_VERSION:
        raise ImportError_("written by a newer t502; upgrade to import it")
    head = data.get("conversation")
    items = data.get("messages")
    if not isinstance(head, dict) or not isinstance(items, list):
        raise ImportError_("'conversation' must be an object and 'messages' a list")
    messages = [_message(item, index) for index, item in enumerate(items, 1)]
    _check_tree(messages)
    archived = head.get("archived", False)
    if not isinstance(archived, bool):
        raise ImportError_("conversation: 'archived' must be true or false")
    times = [m.created for m in messages] or [datetime.now()]
    created = _when(head["created"], "conversation") if head.get("created") is not None else min(times)
    updated = _when(head["updated"], "conversation") if head.get("updated") is not None else max(created, *times)
    conversation = Conversation(
        model=_text(head, "model", "conversation"), system_prompt=_text(head, "system_prompt", "conversation"),
        title=_text(head, "title", "conversation"), messages=messages, created=created, archived=archived,
        settings=_settings(head.get("settings")), preset=_text(head, "preset", "conversation"),
        provider=_text(head, "provider", "conversation"),
    )
    if isinstance(head.get("id"), str) and _ID.fullmatch(head["id"]):
        conversation.id = head["id"]
    return ExportedConversation(conversation, _whole(head.get("leaf"), "conversation: 'leaf'", _MAX_ID), updated)


def read_export_file(path: Path) -> ExportedConversation:
    """Read an export file: a regular file of UTF-8 JSON, at most 256 MB.

    Raises :class:`ImportError_` for a file that is not an export, OSError when it cannot
    be read.
    """
    if not stat.S_ISREG(path.stat().st_mode):
        raise ImportError_("not a regular file")
    with path.open("rb") as file:
        data = file.read(_MAX_FILE_BYTES + 1)
    if len(data) > _MAX_FILE_BYTES:
        raise ImportError_(f"larger than {_MAX_FILE_BYTES // 1024 // 1024} MB")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ImportError_("not UTF-8 text") from None
    return read_export(text)
