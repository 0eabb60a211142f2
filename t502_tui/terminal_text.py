"""Making untrusted text (model output, server messages) safe to show in a terminal."""

from __future__ import annotations

import re

# C0 controls other than tab and newline, DEL, and C1 controls: any of them could start
# an escape sequence that moves the cursor, changes colours or retitles the window.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _visible(match: re.Match[str]) -> str:
    char = match.group()
    if char == "\r":
        return ""
    code = ord(char)
    return f"^{chr(code + 64)}" if code < 32 else f"\\x{code:02x}"


def defuse(text: str) -> str:
    """``text`` with control characters made visible (``ESC`` becomes ``^[``)."""
    return _CONTROL.sub(_visible, text)
