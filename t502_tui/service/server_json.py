"""JSON from a server, read so that no text can do worse than fail with :class:`ValueError`.

``json.loads`` raises :class:`RecursionError` on deep nesting (``[[[[…``), and a body of
many tiny values (``[{},{},…]``) grows twenty-fold as Python objects; ``json.dumps`` of a
value parsed near the nesting limit can overflow the stack in turn. Every body, event and
error a server sends goes through :func:`loads`, and back to text through :func:`dumps`.
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_VALUES = 2_000_000
"""The most values (objects, arrays, items) one text may hold: about 150 MB as Python
objects at worst, far above any real reply (a 5 MB image is one value; a model list of
1,000 models is about 10,000)."""

_COUNT_FROM = 1024 * 1024
"""Shorter texts cannot hold enough values to matter, and are not counted."""

_DECODER = json.JSONDecoder()


def loads(text: str) -> Any:
    """Parse ``text`` (surrounding whitespace and a BOM allowed); ValueError if it is not
    one JSON value, is nested too deeply, or holds more than :data:`MAX_VALUES` values."""
    if len(text) > _COUNT_FROM:
        # Each value but the first in a container follows a comma, so this bounds the count.
        if text.count(",") + text.count("[") + text.count("{") > MAX_VALUES:
            raise ValueError(f"more than {MAX_VALUES:,} JSON values")
    try:
        value, end = _DECODER.raw_decode(text)  # json.loads minus its checks: a hot path
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
    except ValueError:
        trimmed = text.strip().removeprefix("\ufeff")
        if trimmed == text:
            raise
        return loads(trimmed)
    if end != len(text) and not text[end:].isspace():
        raise ValueError("extra data after the JSON value")
    if "\\ud" in text or "\\uD" in text:  # maybe half a surrogate pair, which no UTF-8 can hold
        try:
            return _whole_pairs(value)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None
    return value


_HALF_PAIR = re.compile("[\ud800-\udfff]")


def whole_pairs(text: str) -> str:
    """``text`` with each half of a surrogate pair (JSON can spell ``"\\ud800"`` alone) as
    U+FFFD: printed or saved as it is, it raised UnicodeEncodeError."""
    return _HALF_PAIR.sub("\ufffd", text)


def _whole_pairs(value: Any) -> Any:
    """``value`` with :func:`whole_pairs` applied to every text in it."""
    if isinstance(value, str):
        return whole_pairs(value)
    if isinstance(value, list):
        return [_whole_pairs(item) for item in value]
    if isinstance(value, dict):
        return {_whole_pairs(key): _whole_pairs(item) for key, item in value.items()}
    return value


def dumps(value: Any) -> str:
    """``value`` as JSON text for the debug log; a placeholder when it cannot be written."""
    try:
        return json.dumps(value, ensure_ascii=False)
    except (RecursionError, ValueError, TypeError):
        return "(a JSON value too deeply nested to print)"
