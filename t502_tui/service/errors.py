"""Errors the service layer raises, each with one human line built from what the server said.

``message`` is what the user sees (one line, cut to a sensible length); ``detail`` keeps
the server's full text for the debug log only.
"""

from __future__ import annotations

import email.utils
import html
import json
import re
import time
from typing import Any

MAX_MESSAGE = 200

_STATUS_TEXT = {
    400: "the server refused the request",
    401: "the API key was rejected",
    402: "payment required: the account is out of credit",
    403: "access denied (the key may not be allowed this model, or is out of quota)",
    404: "not found",
    405: "method not allowed: is the base URL right?",
    408: "the server timed out waiting for the request",
    413: "the request is too large for the server",
    422: "the server could not process the request",
    429: "rate limited",
}


class ServiceError(Exception):
    """Anything that kept a request from producing a whole reply."""

    def __init__(self, message: str, *, detail: str = "", partial: bool = False) -> None:
        super().__init__(message)
        self.message = message
        """One line for the user."""
        self.detail = detail or message
        """Everything known, for the debug log."""
        self.partial = partial
        """True when some of the reply had already arrived."""

    def __str__(self) -> str:
        return self.message


class APIError(ServiceError):
    """The server answered with an error (an HTTP status, or an ``error`` in the stream)."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        type: str | None = None,
        code: str | int | None = None,
        retry_after: float | None = None,
        detail: str = "",
        partial: bool = False,
    ) -> None:
        super().__init__(message, detail=detail, partial=partial)
        self.status = status
        self.type = type
        self.code = code
        self.retry_after = retry_after

    @property
    def retryable(self) -> bool:
        """Rate limits and server failures may pass; nothing else will."""
        return self.status is not None and (self.status == 429 or self.status >= 500)


class ConnectionFailed(ServiceError):
    """No connection to the server, or it was lost."""


class TimedOut(ServiceError):
    """The server took too long to connect or to send the next piece of a reply."""


class IncompleteReply(ServiceError):
    """The stream ended before the server said the reply was finished."""


def one_line(text: str, limit: int = MAX_MESSAGE) -> str:
    """The first non-blank line of ``text``, cut to ``limit`` characters."""
    for line in text.splitlines():
        line = " ".join(line.split())
        if line:
            return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"
    return ""


def _looks_like_html(text: str) -> bool:
    head = text.lstrip()[:500].lower()
    return head.startswith("<!doctype html") or "<html" in head or head.startswith("<head")


def _html_summary(text: str) -> str:
    """The page's title or first heading: enough to name the page, never the markup."""
    for tag in ("title", "h1", "h2"):
        match = re.search(rf"<{tag}[^>]*>(.*?)</{tag}>", text, re.I | re.S)
        if match:
            inner = html.unescape(re.sub(r"<[^>]+>", " ", match.group(1)))
            if line := one_line(inner):
                return line
    return ""


def error_fields(data: Any) -> tuple[str, str | None, str | int | None] | None:
    """(message, type, code) from a decoded JSON error body, or None if it is not one."""
    if not isinstance(data, dict):
        return None
    error = data.get("error")
    if isinstance(error, dict):
        message = error.get("message") or error.get("msg") or error.get("error") or ""
        if not isinstance(message, str):
            message = json.dumps(message, ensure_ascii=False)
        kind = error.get("type") if isinstance(error.get("type"), str) else None
        code = error.get("code")
        code = code if isinstance(code, (str, int)) and not isinstance(code, bool) else None
        if not message:
            message = str(code or kind or "")
        return message, kind, code
    if isinstance(error, str) and error:
        return error, None, None
    detail = data.get("detail")
    if isinstance(detail, str) and detail:
        return detail, None, None
    if isinstance(detail, list) and detail:
        msgs = []
        for item in detail:
            if isinstance(item, dict):
                where = ".".join(str(p) for p in item.get("loc", []) if p != "body")
                msg = str(item.get("msg", ""))
                msgs.append(f"{where}: {msg}" if where else msg)
        if msgs:
            return "; ".join(msgs), None, None
    message = data.get("message")
    if isinstance(message, str) and message:
        return message, None, None
    return None


def summarize_body(body: str) -> tuple[str, str | None, str | int | None]:
    """(message, type, code) from an error body of any shape: JSON, SSE, HTML or text."""
    text = body.strip()
    if not text:
        return "", None, None
    try:
        fields = error_fields(json.loads(text))
    except ValueError:
        fields = None
    if fields:
        return fields
    if text.startswith(("data:", "event:", ":")):
        for line in text.splitlines():
            if line.startswith("data:"):
                try:
                    fields = error_fields(json.loads(line[5:].strip()))
                except ValueError:
                    continue
                if fields:
                    return fields
    if _looks_like_html(text):
        title = _html_summary(text)
        return (f"the server sent an HTML page: {title}" if title else "the server sent an HTML page"), None, None
    return text, None, None


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def error_from_response(
    status: int, reason: str, body: str, retry_after: str | None = None
) -> APIError:
    """Build the error for an HTTP error status from its body."""
    server_message, kind, code = summarize_body(body)
    if status in _STATUS_TEXT:
        what = f"{_STATUS_TEXT[status]} (HTTP {status})"
    elif status >= 500:
        what = f"the server failed (HTTP {status}{' ' + reason if reason else ''})"
    else:
        what = f"HTTP {status}{' ' + reason if reason else ''}"
    wait = parse_retry_after(retry_after)
    message = what
    if line := one_line(server_message):
        message = f"{what}: {line}"
    if status == 429 and wait is not None:
        message += f" (retry after {wait:.0f} s)"
    return APIError(
        message,
        status=status,
        type=kind,
        code=code,
        retry_after=wait,
        detail=f"HTTP {status} {reason}\n{body}",
    )
