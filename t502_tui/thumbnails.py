"""Small pictures of images, for previews drawn with characters.

Decoding a generated image takes tens of milliseconds (a 2048² PNG) and its bytes come
from a server, so this runs off the event loop and refuses what could hang or exhaust
memory: more than :data:`MAX_PIXELS` pixels (a decompression bomb says it is huge in its
header, which is read first), a truncated or damaged file, and any format but the four an
image of a message may be (Pillow reads dozens, some through Ghostscript).
A thumbnail is made once per image and scaled from there to any number of cells.
Pillow is imported with the first image, not with t502 (a fiftieth of its start-up).
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

MAX_PIXELS = 40_000_000
"""The most pixels decoded for a preview (an 8K image is 33 million)."""
FORMATS = ("PNG", "JPEG", "GIF", "WEBP")
"""The formats Pillow is let decode: those of :func:`t502_tui.attachments.sniff`."""
THUMBNAIL_SIZE = (480, 160)
"""The thumbnail fits in this many pixels: more than any preview needs (a preview cell is
one pixel wide and two high)."""


class ThumbnailError(ValueError):
    """No preview can be made; the message says why in a few words."""


@dataclass(frozen=True)
class Thumbnail:
    """An image made small: RGBA pixels, row by row."""

    width: int
    height: int
    rgba: bytes

    def pixels(self, columns: int, rows: int, background: tuple[int, int, int]) -> bytes:
        """RGB pixels scaled to ``columns`` × ``rows``, transparency over ``background``."""
        from PIL import Image

        image = Image.frombytes("RGBA", (self.width, self.height), self.rgba)
        image = image.resize((max(1, columns), max(1, rows)), Image.Resampling.BOX)
        canvas = Image.new("RGBA", image.size, (*background, 255))
        canvas.alpha_composite(image)
        return canvas.convert("RGB").tobytes()


def make_thumbnail(data: bytes) -> Thumbnail:
    """A thumbnail of an image file's bytes (its first frame); raises :class:`ThumbnailError`."""
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=FORMATS) as image:
                width, height = image.size
                if width <= 0 or height <= 0 or width * height > MAX_PIXELS:
                    raise ThumbnailError(f"too large to preview ({width}×{height})")
                image.draft("RGB", THUMBNAIL_SIZE)  # JPEG: decode at a fraction of the size
                image.thumbnail(THUMBNAIL_SIZE, Image.Resampling.BOX, reducing_gap=2.0)
                small = image.convert("RGBA")
    except ThumbnailError:
        raise
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise ThumbnailError("too large to preview") from None
    except (OSError, ValueError, SyntaxError, EOFError, MemoryError, IndexError, TypeError) as error:
        # Pillow reports damage in all of these ways; "truncated" is the usual one.
        reason = "it is truncated" if "truncated" in str(error) else "it cannot be read"
        raise ThumbnailError(f"no preview: {reason}") from None
    return Thumbnail(small.width, small.height, small.tobytes())
