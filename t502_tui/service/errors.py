"""Errors the service layer raises, each with one human line built from what the server said.

``message`` is what the user sees (one line, cut to a sensible length); ``detail`` keeps
the server's full text for the debug log only.
"""

from __future__ import annotations

import html
import logging
import math
import re
import ssl
import time
from collections.abc import Mapping
from typing import Any

from t502_tui.service.server_json import dumps, loads
from t502_tui.terminal_text import defuse

log = logging.getLogger("t502.service")

MAX_MESSAGE = 200

MAX_DETAIL = 64 * 1024
"""How much of a server's text an error keeps for the debug log."""

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504, 520, 521, 522, 523, 524, 529})
"""Statuses that say "not now" rather than "not this": rate limits, failing or overloaded
upstreams, and the gateway errors of proxies such as Cloudflare (52x) and Anthropic (529)."""

HOPELESS_CODES = frozenset({
    "model_not_found", "invalid_api_key", "context_length_exceeded", "invalid_request_error",
    "insufficient_quota", "insufficient_user_quota", "string_above_max_length",
    "invalid_value", "invalid_type", "missing_required_parameter", "unsupported_model",
    "model_not_supported", "content_policy_violation", "billing_hard_limit_reached",
    "account_deactivated", "authentication_error", "permission_error", "not_found_error",
    "request_too_large",
})
"""Error codes and types that name the request, key or account as wrong (OpenAI's, new-api's,
Anthropic's): asking again cannot succeed, whatever the status."""

NO_CHANNEL_PHRASES = ("无可用渠道", "no available channel")
"""What new-api and one-api say when no upstream serves the model (with a 503)."""

QUOTA_TOO_LOW = ("the key's quota is used up, or less than this request's estimated cost,"
                 " which the relay reserves before sending it")
"""new-api's refusal before a request: a balance the status line shows as positive can
still be less than the cost it reserves (from the prompt, and from the reply's length
limit when one is set)."""

NO_CHANNEL = "the relay has no channel serving this model for the key's group: pick another model"

_CODE_TEXT = {
    "insufficient_user_quota": QUOTA_TOO_LOW,
    "pre_consume_token_quota_failed": QUOTA_TOO_LOW,
    "token_exhausted": QUOTA_TOO_LOW,
    "token_expired": "the API key has expired: renew it in the relay's console",
    "access_denied": "the relay does not let this key make this request"
                     " (a key may be limited to some IP addresses)",
    "sensitive_words_detected": "the relay's content filter refused the prompt",
    "prompt_blocked": "the relay's content filter refused the prompt",
    "insufficient_quota": "the account is out of credit: check its plan and billing",
}
"""What error codes of new-api, one-api and OpenAI mean for the user, in place of the
status's own words (a quota error comes as 403 "access denied", or as 429 "rate limited")."""

KEY_REJECTED = "the API key was rejected"
"""How every refusal of the key begins (a 401, a 403, Google's 400)."""

_PHRASE_TEXT = (
    ("额度已用尽", QUOTA_TOO_LOW),  # "quota used up"
    ("额度不足", QUOTA_TOO_LOW),  # "quota not enough"
    ("预扣费", QUOTA_TOO_LOW),  # "pre-consumption (of quota)"
    ("令牌已过期", _CODE_TEXT["token_expired"]),  # "the token has expired"
    ("无效的令牌", "the relay does not accept this API key: it may be mistyped, disabled, expired or used up"),
    ("令牌无权访问", "this key may not use this model: the relay's console sets the models a key may use"),
    ("API key not valid", f"{KEY_REJECTED}: it may be mistyped, or a key for another service"),  # Google's
)
"""new-api's and one-api's messages that come without a code (a key's checks, with a 401
or 403), and Google's for a wrong key (with a 400), by the words that name them."""

_STATUS_TEXT = {
    400: "the server refused the request",
    401: KEY_REJECTED,
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
        message = defuse(message)  # it may quote the server: no escape sequence may reach a terminal
        super().__init__(message)
        self.message = message
        """One line for the user, control characters shown (``ESC`` as ``^[``)."""
        detail = detail or message
        if len(detail) > MAX_DETAIL:
            detail = f"{detail[:MAX_DETAIL]}… ({len(detail) - MAX_DETAIL:,} more characters)"
        self.detail = detail
        """What is known, for the debug log (a server's text cut to :data:`MAX_DETAIL`)."""
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
        final: bool = False,
    ) -> None:
        super().__init__(message, detail=detail, partial=partial)
        self.status = status
        self.type = type
        self.code = code
        self.retry_after = retry_after
        self.final = final
        """Asking again cannot help, whatever the status says (a Cloudflare challenge)."""

    @property
    def key_refused(self) -> bool:
        """The server refused the key (or what the key may do): another request with it
        will not do better."""
        return self.status in (401, 403) or self.message.startswith(KEY_REJECTED)

    @property
    def retryable(self) -> bool:
        """Rate limits and passing server failures may succeed on a second try; a request,
        key or model the server named as wrong will not, whatever the status."""
        if self.final or self.status not in RETRYABLE_STATUSES:
            return False
        if self.code in HOPELESS_CODES or self.type in HOPELESS_CODES:
            return False
        text = self.detail.lower()
        return not any(phrase in text for phrase in NO_CHANNEL_PHRASES)


class ConnectionFailed(ServiceError):
    """No connection to the server, or it was lost."""


class TLSFailed(ServiceError):
    """The https connection could not be made secure (an untrusted certificate, no TLS on
    that port): the server is out of reach until that changes, and trying again cannot help."""


class TimedOut(ServiceError):
    """The server took too long to connect or to send the next piece of a reply."""

    def __init__(self, message: str, *, answered: bool = False) -> None:
        super().__init__(message)
        self.answered = answered
        """The server had begun its answer: it is there, only slow or stuck."""


class IncompleteReply(ServiceError):
    """The stream ended before the server said the reply was finished."""


class TooLarge(ServiceError):
    """The server sent more than t502 takes in: an endless line, a gzip bomb, a huge body."""


def describe_size(size: int) -> str:
    """A byte count for people: ``64 MiB``, ``256 KiB``, ``900 bytes``."""
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale:
            return f"{size / scale:.3g} {unit}"
    return f"{size} bytes"


def one_line(text: str, limit: int = MAX_MESSAGE) -> str:
    """The first non-blank line of ``text`` (looked for near its start), cut to ``limit``
    characters."""
    for line in text[:64 * 1024].splitlines():
        line = " ".join(line.split())
        if line:
            return _cut(line, limit)
    return ""


def lines_joined(text: str, limit: int = MAX_MESSAGE) -> str:
    """``text``'s lines on one line, joined by " · ", cut to ``limit`` characters: a
    server's message whose first line alone says little ("1 validation error for
    ChatCompletionRequest", then the field and why on the next lines)."""
    lines = (" ".join(line.split()) for line in text[:64 * 1024].splitlines())
    return _cut(" · ".join(line for line in lines if line), limit)


def _cut(line: str, limit: int) -> str:
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


_MESSAGE_FIELD = re.compile(r'"message"\s*:\s*("(?:[^"\\]|\\.)*)(")?')
"""A JSON ``"message": "..."`` field with its string, whole or cut off with the body (each
character matches one way: linear time on any body)."""

MAX_CUT_MESSAGE = 1000
"""Of a message cut off with its body, the characters kept."""


def _message_of_cut_json(text: str) -> str:
    """The first message field of a JSON body cut short (longer than what is read), or ""."""
    if not text.startswith("{") or (found := _MESSAGE_FIELD.search(text)) is None:
        return ""
    cut = found.group(2) is None  # the message itself runs past what was read: its start, marked
    quoted = found.group(1)[:MAX_CUT_MESSAGE] if cut else found.group(1)
    for end in range(len(quoted), max(0, len(quoted) - 7), -1):  # (cut in an escape: before it)
        try:
            message = loads(quoted[:end] + '"')
        except ValueError:
            if not cut:
                return ""
            continue
        return (message + "…" if cut else message) if isinstance(message, str) else ""
    return ""


def _looks_like_html(text: str) -> bool:
    head = text.lstrip()[:500].lower()
    return head.startswith("<!doctype html") or "<html" in head or head.startswith("<head")


def _strip_tags(text: str) -> str:
    out = []
    while (start := text.find("<")) >= 0:
        out.append(text[:start])
        end = text.find(">", start)
        text = "" if end < 0 else text[end + 1:]
        out.append(" ")
    out.append(text)
    return "".join(out)


def _html_summary(text: str) -> str:
    """The page's title or first heading: enough to name the page, never the markup.

    Found with plain searches, each once: a regular expression here is quadratic on a
    page of many unclosed tags.
    """
    lower = text.encode("ascii", "replace").lower()  # one byte per character, as in text
    for tag in (b"title", b"h1", b"h2"):
        start = lower.find(b"<" + tag)
        opened = lower.find(b">", start) if start >= 0 else -1
        closed = lower.find(b"</" + tag, opened) if opened >= 0 else -1
        if closed < 0:
            continue
        inner = html.unescape(_strip_tags(text[opened + 1:min(closed, opened + 1 + 4 * MAX_MESSAGE)]))
        if line := one_line(inner):
            return line
    return ""


def _code(value: Any) -> str | int | None:
    """An error ``code``: a string, or a number in the range APIs use (an int32)."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        if -(1 << 31) <= value < 1 << 31:
            return value
        log.debug("dropped an error code out of range: %.40s", str(value))
    return None


def unwrap_error(data: Any) -> Any:
    """``data``, or the error object in it when it comes in a list (as Google's
    OpenAI-compatible API sends its errors: ``[{"error": {...}}]``)."""
    if type(data) is list and data and isinstance(data[0], dict) and "error" in data[0]:
        return data[0]
    return data


def error_fields(data: Any) -> tuple[str, str | None, str | int | None] | None:
    """(message, type, code) from a decoded JSON error body, or None if it is not one."""
    data = unwrap_error(data)
    if not isinstance(data, dict):
        return None
    error = data.get("error")
    if isinstance(error, dict):
        message = error.get("message") or error.get("msg") or error.get("error") or ""
        if not isinstance(message, str):
            message = dumps(message)
        kind = next((value for value in (error.get("type"), error.get("status")) if isinstance(value, str)), None)
        code = _code(error.get("code"))
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
                loc = item.get("loc")
                parts = loc if isinstance(loc, list) else []
                where = ".".join(str(p) for p in parts if isinstance(p, (str, int)) and p != "body")
                msg = item.get("msg")
                msg = msg if isinstance(msg, str) else ""
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
        fields = error_fields(loads(text))
    except ValueError:
        fields = None
    if fields:
        return _joined(fields)
    if text.startswith(("data:", "event:", ":")):
        for line in text.splitlines():
            if line.startswith("data:"):
                try:
                    fields = error_fields(loads(line[5:]))
                except ValueError:
                    continue
                if fields:
                    return _joined(fields)
    if message := _message_of_cut_json(text).strip():
        return lines_joined(message), None, None
    if _looks_like_html(text):
        title = _html_summary(text)
        return (f"the server sent an HTML page: {title}" if title else "the server sent an HTML page"), None, None
    return text, None, None


def _joined(fields: tuple[str, str | None, str | int | None]) -> tuple[str, str | None, str | int | None]:
    """A JSON error's message on one line: its lines all count (a validation error names
    the field and why on the lines after its first); a text body's first line is kept."""
    return lines_joined(fields[0]), fields[1], fields[2]


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    from email.utils import parsedate_to_datetime  # rare, and a hundredth of start-up

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _duration(seconds: float) -> str:
    """``seconds`` as a person reads a wait: "7 s", "45 min", "12 days"."""
    for unit, size in (("days", 86_400), ("h", 3_600), ("min", 60)):
        if seconds >= 2 * size:
            return f"{seconds / size:,.0f} {unit}"
    return f"{seconds:.0f} s"


CHALLENGE_TITLES = ("just a moment", "attention required! | cloudflare")
"""How Cloudflare's challenge pages are titled, for those sent before its ``cf-mitigated``
header (2023)."""


def _is_challenge(headers: Mapping[str, str], body: str) -> bool:
    """Whether the answer is Cloudflare's check for bots: a page a browser runs to prove it
    is one, which an API client never passes. ``headers`` are looked up in lower case."""
    if headers.get("cf-mitigated", "").strip().lower() == "challenge":
        return True
    return (headers.get("server", "").strip().lower() == "cloudflare" and _looks_like_html(body)
            and _html_summary(body).lower().startswith(CHALLENGE_TITLES))


def challenge_error(status: int, headers: Mapping[str, str], body: str, detail: str) -> APIError | None:
    """The error for Cloudflare's check for bots, if that is what the answer is (some
    relays send it with HTTP 200): never asked again."""
    if not _is_challenge(headers, body):
        return None
    return APIError(
        f"Cloudflare's bot check blocked the request (a challenge page meant for browsers, HTTP {status}):"
        " the relay's address may be wrong, or it blocks API clients from this network",
        status=status, final=True, detail=detail)


def _relay_text(status: int, kind: str | None, code: str | int | None, message: str) -> str:
    """What a relay's error code or message means for the user, or "" if t502 does not know it.

    OpenAI's ``model_not_found`` comes with a 404 (no such model); new-api's with a 503 and
    a message that no channel serves the model.
    """
    if any(phrase in message.lower() for phrase in NO_CHANNEL_PHRASES) or (
            code == "model_not_found" and status != 404):
        return NO_CHANNEL
    for name in (code, kind):
        if isinstance(name, str) and name in _CODE_TEXT:
            return _CODE_TEXT[name]
    return next((text for phrase, text in _PHRASE_TEXT if phrase in message), "")


def error_from_response(
    status: int, reason: str, body: str, retry_after: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> APIError:
    """Build the error for an HTTP error status from its body (and headers, in lower case
    or looked up regardless of case, as httpx's are)."""
    detail = f"HTTP {status} {reason}\n{body}"
    if headers is not None and (challenge := challenge_error(status, headers, body, detail)):
        return challenge
    server_message, kind, code = summarize_body(body)
    reason = one_line(reason, 60)
    if explained := _relay_text(status, kind, code, server_message):
        what = f"{explained} (HTTP {status})"
    elif status in _STATUS_TEXT:
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
        message += f" (retry after {_duration(wait)})"
    return APIError(
        message,
        status=status,
        type=kind,
        code=code,
        retry_after=wait,
        detail=detail,
    )


class DownloadError(Exception):
    """A download failed; the message says why in a few words (``HTTP 404``, ``no data
    for 30 s``)."""


def tls_problem(exc: BaseException, host: str) -> str | None:
    """What went wrong with TLS (https) in an exception chain, said as such, or None. An
    ``ssl.SSLError`` is an OSError whose errno (1) reads "Operation not permitted"."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            why = one_line(str(seen.verify_message or seen.reason or "not trusted"), 120)
            if "expired" in why or "mismatch" in why:  # no trust given makes these right
                return f"{host}'s TLS certificate is not valid ({why})"
            return (f"{host}'s TLS certificate is not trusted ({why}); for a server of your own,"
                    " set SSL_CERT_FILE to the certificate it uses")
        if isinstance(seen, ssl.SSLError):
            if seen.reason == "WRONG_VERSION_NUMBER":
                return f"{host} does not answer in TLS (https) on that port: should its address start with http://?"
            return f"the TLS (https) connection to {host} failed: {one_line(str(seen.reason or seen), 120)}"
        seen = seen.__cause__ or seen.__context__
    return None
