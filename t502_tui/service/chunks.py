"""Turning decoded chat-completion JSON (streamed chunks or one whole body) into events.

Servers differ: the role may come alone or inside the first content chunk, deltas may be
empty, ``finish_reason`` may be missing, usage may come in a chunk of its own (with no
choices or one empty choice), inside the finish chunk, repeatedly, or never. An ``error``
object or string can arrive in place of a chunk.
"""

from __future__ import annotations

from typing import Any

from t502_tui.service.errors import APIError, error_fields, lines_joined, unwrap_error
from t502_tui.service.events import (
    MAX_NAME,
    Completion,
    ContentDelta,
    Finished,
    ImageDelta,
    ReasoningDelta,
    Source,
    SourcesFound,
    StreamEvent,
    Usage,
    UsageReport,
)
from t502_tui.service.server_json import dumps, loads

MAX_FINISH_REASON = 64
"""A ``finish_reason`` is a word (``stop``, ``length``); a longer one is cut to this."""

MAX_SOURCES = 100
"""The most sources read from one chunk (deep research cites dozens); more are counted."""

MAX_SOURCE_URL = 2048
MAX_SOURCE_TITLE = 200

MAX_PAYLOAD_LINES = 100_000
"""The most lines of one payload tried one by one (a few tenths of a second of parsing);
past that it is not a quirky server's run of events but junk."""


def _text(value: Any) -> str:
    """Content as text: a string, or the text parts of a list of content parts."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "".join(
            part.get("text", "") for part in value
            if isinstance(part, dict) and isinstance(part.get("text"), str)
        )
    return ""


def image_url(part: Any) -> str | None:
    """The image in one content part or ``images`` entry, as sent (data URL, link or bare
    base64): ``{"type": "image_url", "image_url": {"url": ...}}``, with the URL also
    accepted as a plain string, or ``{"b64_json": ...}``; None for anything else."""
    if not isinstance(part, dict):
        return None
    value = part.get("image_url")
    if isinstance(value, dict):
        value = value.get("url")
    if not isinstance(value, str):
        value = part.get("b64_json")
    return value if isinstance(value, str) and value else None


def _content_events(content: Any) -> list[StreamEvent]:
    """Content as events: text, or the text, image and thinking parts of a list, in order
    (Mistral's reasoning models send their thinking as a part: ``{"type": "thinking",
    "thinking": [{"type": "text", "text": ...}]}``)."""
    if isinstance(content, str):
        return [ContentDelta(content)] if content else []
    events: list[StreamEvent] = []
    if isinstance(content, list):
        for part in content:
            if not isinstance(part, dict):
                continue
            if isinstance(text := part.get("text"), str):
                if text:
                    events.append(ContentDelta(text))
            elif part.get("type") == "thinking":
                if thought := _text(part.get("thinking")):
                    events.append(ReasoningDelta(thought))
            elif url := image_url(part):
                events.append(ImageDelta(url))
    return events


def _images(message: dict[str, Any]) -> list[str]:
    """The ``images`` array of a delta or message (OpenRouter's way of sending them)."""
    images = message.get("images")
    if not isinstance(images, list):
        return []
    return [url for item in images if (url := image_url(item))]


def _source(url: Any, title: Any = "", number: int | None = None) -> Source | None:
    """A source whose address is a web link of one piece (no spaces or control
    characters: it is shown and may be opened), its title on one line."""
    if not (isinstance(url, str) and url[:8].lower().startswith(("https://", "http://"))
            and len(url) <= MAX_SOURCE_URL and url.isprintable() and not any(c.isspace() for c in url)):
        return None
    # On one line; an escape sequence in it is shown as codes, as in any reply's text.
    title = " ".join(title.split())[:MAX_SOURCE_TITLE] if isinstance(title, str) else ""
    return Source(url, title, number)


def _sources(chunk: dict[str, Any], message: dict[str, Any]) -> SourcesFound | None:
    """The sources a chunk or whole body lists: ``url_citation`` annotations of its
    message or delta, or Perplexity's ``search_results`` (with titles) or ``citations``,
    numbered by their place in its list (an entry t502 cannot use keeps its number)."""
    found: list[Source | None] = []
    listed = 0
    annotations = message.get("annotations")
    if isinstance(annotations, list):
        listed = len(annotations)
        for note in annotations[:MAX_SOURCES]:
            cited = note.get("url_citation") if isinstance(note, dict) else None
            if isinstance(cited, dict):
                found.append(_source(cited.get("url"), cited.get("title")))
    results = chunk.get("search_results")
    if isinstance(results, list) and results:
        listed = max(listed, len(results))
        found += [_source(r.get("url"), r.get("title"), n) for n, r in enumerate(results[:MAX_SOURCES], 1)
                  if isinstance(r, dict)]
    elif isinstance(citations := chunk.get("citations"), list):
        listed = max(listed, len(citations))
        found += [_source(url, "", n) for n, url in enumerate(citations[:MAX_SOURCES], 1)]
    sources = tuple(source for source in found if source is not None)
    return SourcesFound(sources, max(0, listed - MAX_SOURCES)) if sources else None


def _reasoning(message: dict[str, Any]) -> str:
    for key in ("reasoning_content", "reasoning"):
        value = message.get(key)
        if isinstance(value, str) and value:
            return value
    return ""


def stream_error(data: dict[str, Any] | list[Any] | str, partial: bool) -> APIError:
    """The error for an ``error`` event in a stream."""
    data = unwrap_error(data)
    fields = error_fields(data) if isinstance(data, dict) else (str(data), None, None)
    message, kind, code = fields or ("unknown error", None, None)
    status = code if isinstance(code, int) and 400 <= code < 600 else None
    return APIError(
        f"the server reported an error: {lines_joined(message) or 'no details'}",
        status=status,
        type=kind,
        code=code,
        detail=dumps(data) if not isinstance(data, str) else data,
        partial=partial,
    )


def decode_payload(payload: str) -> list[Any]:
    """JSON values in one ``data`` payload.

    Normally one; a server that forgets the blank lines between events makes several
    ``data:`` lines join into one payload, so each line is tried on its own too.
    Undecodable text is returned as the string itself for the caller to judge.
    """
    try:
        return [loads(payload)]
    except ValueError:
        pass
    if "\n" in payload and payload.count("\n") < MAX_PAYLOAD_LINES:
        values: list[Any] = []
        for line in payload.split("\n"):
            if line.strip():
                try:
                    values.append(loads(line))
                except ValueError:
                    values.append(line)
        return values
    return [payload]


def is_error(data: Any) -> bool:
    """An error in place of a completion: OpenAI's ``error`` key, or vLLM's ``object: error``."""
    data = unwrap_error(data)
    return isinstance(data, dict) and bool(data.get("error") or data.get("object") == "error")


def _choice_of(choices: Any, index: object) -> dict[str, Any] | None:
    """The choice with ``index`` (usually the only one)."""
    if not isinstance(choices, list):
        return None
    return next((c for c in choices if isinstance(c, dict) and c.get("index", 0) == index), None)


def choice_index(chunk: dict[str, Any]) -> object | None:
    """The index of a chunk's first choice (None when it has none): the reply a stream
    follows, which is not always 0 (a single choice numbered 1, or "0" as a string)."""
    choices = chunk.get("choices")
    if type(choices) is list and choices and type(choices[0]) is dict:
        return choices[0].get("index", 0)
    return None


def events_from_chunk(chunk: dict[str, Any], partial: bool, index: object = 0) -> list[StreamEvent]:
    """Events in one ``chat.completion.chunk``, of its choice ``index``; raises
    :class:`APIError` for an error chunk."""
    if chunk.get("error") or chunk.get("object") == "error":
        raise stream_error(chunk, partial)
    events: list[StreamEvent] = []
    choices = chunk.get("choices")
    # The common case, one choice, without a call: a hot path.
    one = choices[0] if type(choices) is list and len(choices) == 1 else None
    choice = one if type(one) is dict and one.get("index", 0) == index else _choice_of(choices, index)
    if choice is not None:
        delta = choice.get("delta")
        if not isinstance(delta, dict):
            delta = choice.get("message") if isinstance(choice.get("message"), dict) else {}
        if delta:
            if ("reasoning_content" in delta or "reasoning" in delta) and (reasoning := _reasoning(delta)):
                events.append(ReasoningDelta(reasoning))
            content = delta.get("content")
            if type(content) is str:
                if content:
                    events.append(ContentDelta(content))
            elif content:
                events += _content_events(content)
            if type(refusal := delta.get("refusal")) is str and refusal:  # OpenAI's, in place of content
                events.append(ContentDelta(refusal))
            if "images" in delta:
                events += [ImageDelta(url) for url in _images(delta)]
            if "annotations" in delta and (sources := _sources({}, delta)):
                events.append(sources)
        reason = choice.get("finish_reason")
        if reason and isinstance(reason, str):
            events.append(Finished(reason[:MAX_FINISH_REASON]))
    if ("citations" in chunk or "search_results" in chunk) and (sources := _sources(chunk, {})):
        events.append(sources)
    usage = chunk.get("usage")
    if not usage and "x_groq" in chunk:  # Groq's own place for it, in the last chunk
        usage = chunk["x_groq"].get("usage") if isinstance(chunk["x_groq"], dict) else None
    if usage and (report := Usage.from_json(usage)) is not None:
        events.append(UsageReport(report))
    return events


def completion_from_body(data: Any) -> Completion | None:
    """A whole ``chat.completion`` body, or None if ``data`` is not one."""
    if not isinstance(data, dict) or not isinstance(data.get("choices"), list):
        return None
    choices = data["choices"]
    choice = choices[0] if choices and isinstance(choices[0], dict) else {}
    message = choice.get("message")
    if not isinstance(message, dict):
        message = choice.get("delta") if isinstance(choice.get("delta"), dict) else {}
    if not message and isinstance(choice.get("text"), str):
        message = {"content": choice["text"]}
    reason = choice.get("finish_reason")
    model = data.get("model")
    content = message.get("content")
    parts = _content_events(content) if isinstance(content, list) else []
    images = [e.url for e in parts if isinstance(e, ImageDelta)]
    refusal = message.get("refusal")
    return Completion(
        content=_text(content) or (refusal if isinstance(refusal, str) else ""),
        reasoning=_reasoning(message) or "".join(e.text for e in parts if isinstance(e, ReasoningDelta)),
        finish_reason=reason[:MAX_FINISH_REASON] if isinstance(reason, str) else None,
        usage=Usage.from_json(data.get("usage")),
        model=model if isinstance(model, str) and len(model) <= MAX_NAME else None,
        images=tuple(images + _images(message)),
        sources=_sources(data, message),
    )


def events_from_completion(completion: Completion) -> list[StreamEvent]:
    """A whole reply replayed as stream events (for servers that ignore ``stream``)."""
    events: list[StreamEvent] = []
    if completion.reasoning:
        events.append(ReasoningDelta(completion.reasoning))
    if completion.content:
        events.append(ContentDelta(completion.content))
    events += [ImageDelta(url) for url in completion.images]
    if completion.sources:
        events.append(completion.sources)
    if completion.usage:
        events.append(UsageReport(completion.usage))
    events.append(Finished(completion.finish_reason or "stop"))
    return events
