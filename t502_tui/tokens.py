"""Token counts as people read them, and the estimate used where the server has not counted.

Four characters to a token is the usual rule of thumb for English and code; it is rough
for other scripts, so every estimate is shown with "≈".
"""

from __future__ import annotations

CHARS_PER_TOKEN = 4
IMAGE_TILE_TOKENS, IMAGE_BASE_TOKENS = 170, 85
"""OpenAI's price of an image in detail: 170 a 512-pixel tile plus 85. Claude (about
width × height / 750) and Gemini (258 and up) count in the same range."""


def estimate_tokens(text: str) -> int:
    """About how many tokens ``text`` is (never 0 for some text)."""
    return (len(text) + CHARS_PER_TOKEN - 1) // CHARS_PER_TOKEN


def estimate_image_tokens(width: int | None, height: int | None) -> int:
    """About how many tokens an image costs a request: scaled to fit 2048 pixels, then its
    short side to 768, as OpenAI does, and counted in 512-pixel tiles; four tiles (765) when
    its size is unknown."""
    if not width or not height or width <= 0 or height <= 0:
        return IMAGE_BASE_TOKENS + 4 * IMAGE_TILE_TOKENS
    scale = min(1.0, 2048 / max(width, height))
    scale *= min(1.0, 768 / (min(width, height) * scale))
    tiles = -(-int(width * scale) // 512) * -(-int(height * scale) // 512)
    return IMAGE_BASE_TOKENS + max(1, tiles) * IMAGE_TILE_TOKENS


def short_count(count: int) -> str:
    """``950``, ``12.4k``, ``128k``, ``1.05M``."""
    if count < 1000:
        return str(count)
    if count < 1_000_000:
        value = count / 1000
        return f"{value:.1f}k".replace(".0k", "k") if value < 100 else f"{value:.0f}k"
    return f"{count / 1_000_000:.3g}M"
