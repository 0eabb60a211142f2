"""Making untrusted text (model output, server messages, names) safe to show in a terminal."""

from __future__ import annotations

import re

# C0 controls other than tab and newline, DEL, and C1 controls: any of them could start
# an escape sequence that moves the cursor, changes colours or retitles the window. Also
# the two bidi overrides, which make a terminal that reorders text show "gnp.exe" as
# "exe.png": a reply in Arabic or Hebrew needs none of them.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202d\u202e]")

# In a name, also tab and newline, and the characters that reorder text or take no room:
# bidi embeddings, overrides, isolates and marks, zero-width spaces and joiners, the BOM,
# invisible operators, the soft hyphen and tag characters. With them one model id could
# pass for another ("gpt-4o" and "gpt-4o" + U+200B look alike).
_NAME_HIDDEN = re.compile(
    "[\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff"
    "\U000e0000-\U000e007f]"
)


def _visible(match: re.Match[str]) -> str:
    char = match.group()
    if char == "\r":
        return ""
    code = ord(char)
    if code > 0x9F:
        return f"<U+{code:04X}>"
    return f"^{chr(code + 64)}" if code < 32 else f"\\x{code:02x}"


def defuse(text: str) -> str:
    """``text`` with control characters made visible (``ESC`` becomes ``^[``).

    For model output and messages: newlines, tabs and bidi text stay as they are, since
    a reply in Arabic or Hebrew needs them; the bidi overrides are shown as codes.
    """
    return _CONTROL.sub(_visible, text)


def _visible_in_name(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    if code < 32:
        return f"^{chr(code + 64)}"
    return f"\\x{code:02x}" if code <= 0x9F else f"<U+{code:04X}>"


def visible_name(name: str) -> str:
    """A server-provided or stored name (model id, conversation title) exactly as it is
    spelt: every control, bidi and invisible character shown as a code (``<U+202E>``),
    so what looks alike is alike. Rich markup in it is the caller's to keep literal."""
    return _NAME_HIDDEN.sub(_visible_in_name, name)


def first_up(words: str) -> str:
    """``words`` with a capital first letter and the rest as written (``str.capitalize``
    lowers the rest: "Markdown" became "markdown")."""
    return words[:1].upper() + words[1:]
