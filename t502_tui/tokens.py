"""Token counts as people read them, and the estimate used where the server has not counted.

Four characters to a token is the usual rule of thumb for English and code; it is rough
for other scripts, so every estimate is shown with "≈".
"""

from __future__ import annotations

CHARS_PER_TOKEN = 4


def estimate_tokens(text: str) -> int:
    """About how many tokens ``text`` is (never 0 for some text)."""
    return (len(text) + CHARS_PER_TOKEN - 1) // CHARS_PER_TOKEN


def short_count(count: int) -> str:
    """``950``, ``12.4k``, ``128k``, ``1.05M``."""
    if count < 1000:
        return str(count)
    if count < 1_000_000:
        value = count / 1000
        return f"{value:.1f}k".replace(".0k", "k") if value < 100 else f"{value:.0f}k"
    return f"{count / 1_000_000:.3g}M"
