"""Images drawn with characters: each cell an upper half-block (``▀``) whose foreground is
one pixel and background the pixel below it, so a cell shows two square-ish pixels.

This works in every terminal with colour, tmux included (which passes no graphics
protocol), and fits a line-based view: a preview is lines like any other text. Images
are decoded off the event loop (:mod:`t502_tui.thumbnails`, in one thread of its own),
once; their lines are made once per size and kept.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from rich.color import Color
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from t502_tui.attachments import Attachment
from t502_tui.thumbnails import Thumbnail, ThumbnailError, make_thumbnail

log = logging.getLogger("t502.preview")

MAX_ROWS = 14
"""The tallest preview, in lines: with its caption it fits an 80×24 terminal's view."""
KEPT = 64
"""Thumbnails (and drawn previews) kept; each is at most a few hundred KB."""

_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="t502-preview")


def preview_size(width: int | None, height: int | None, columns: int, rows: int = MAX_ROWS) -> tuple[int, int]:
    """The cells (columns, rows) an image of ``width`` × ``height`` pixels takes at most
    ``columns`` wide and ``rows`` high, its shape kept (a cell is two pixels high)."""
    if not width or not height:
        width = height = 1
    columns, rows = max(1, columns), max(1, rows)
    fit_rows = min(rows, max(1, round(columns * height / width / 2)))
    fit_columns = min(columns, max(1, round(fit_rows * 2 * width / height)))
    return fit_columns, fit_rows


def _key(image: Attachment) -> tuple[int, int]:
    return hash(image.data), len(image.data)  # bytes cache their hash: computed once


def half_blocks(thumbnail: Thumbnail, columns: int, rows: int, background: tuple[int, int, int],
                base: Style) -> list[Strip]:
    """The thumbnail as ``rows`` lines of ``columns`` half-block cells."""
    pixels = thumbnail.pixels(columns, rows * 2, background)
    styles: dict[tuple[bytes, bytes], Style] = {}
    lines = []
    stride = columns * 3
    for row in range(rows):
        top = pixels[2 * row * stride:(2 * row + 1) * stride]
        bottom = pixels[(2 * row + 1) * stride:(2 * row + 2) * stride]
        segments: list[Segment] = []
        run_style: Style | None = None
        run = 0
        for x in range(0, stride, 3):
            pair = (top[x:x + 3], bottom[x:x + 3])
            style = styles.get(pair)
            if style is None:
                style = styles[pair] = base + Style(color=Color.from_rgb(*pair[0]), bgcolor=Color.from_rgb(*pair[1]))
            if style is run_style:
                run += 1
                continue
            if run_style is not None:
                segments.append(Segment("▀" * run, run_style))
            run_style, run = style, 1
        if run_style is not None:
            segments.append(Segment("▀" * run, run_style))
        lines.append(Strip(segments, columns))
    return lines


class PreviewCache:
    """Thumbnails made in a thread and the half-block lines drawn from them.

    :meth:`lines` answers at once: the lines, or None while the thumbnail is being made
    (``on_ready`` is called on the event loop once it is), or the reason there is none.
    """

    def __init__(self, on_ready: Callable[[], None]) -> None:
        self.on_ready = on_ready
        self._thumbnails: OrderedDict[tuple[int, int], Thumbnail | str] = OrderedDict()
        self._pending: set[tuple[int, int]] = set()
        self._drawn: OrderedDict[tuple[object, ...], list[Strip]] = OrderedDict()

    def known(self, image: Attachment) -> Thumbnail | str | None:
        """The image's thumbnail or the reason it has none, if made already (None: not
        made, and nothing is started)."""
        return self._thumbnails.get(_key(image))

    def thumbnail(self, image: Attachment) -> Thumbnail | str | None:
        """The image's thumbnail, the reason it has none, or None while it is made."""
        key = _key(image)
        if key in self._thumbnails:
            self._thumbnails.move_to_end(key)
            return self._thumbnails[key]
        if key not in self._pending:
            self._pending.add(key)
            loop = asyncio.get_running_loop()
            future = _executor.submit(self._make, image.data)
            future.add_done_callback(lambda done: self._hand_back(loop, key, done.result()))
        return None

    def _hand_back(self, loop: asyncio.AbstractEventLoop, key: tuple[int, int], result: Thumbnail | str) -> None:
        try:
            loop.call_soon_threadsafe(self._made, key, result)
        except RuntimeError:
            pass  # t502 closed meanwhile

    @staticmethod
    def _make(data: bytes) -> Thumbnail | str:
        try:
            return make_thumbnail(data)
        except ThumbnailError as error:
            return str(error)
        except Exception as error:  # a decoder bug must not leave the preview pending forever
            log.exception("making a thumbnail failed")
            return f"no preview ({type(error).__name__})"

    def _made(self, key: tuple[int, int], result: Thumbnail | str) -> None:
        self._pending.discard(key)
        self._thumbnails[key] = result
        while len(self._thumbnails) > KEPT:
            self._thumbnails.popitem(last=False)
        self.on_ready()

    def lines(self, image: Attachment, columns: int, rows: int, background: tuple[int, int, int],
              base: Style) -> list[Strip] | str | None:
        """The image drawn in ``columns`` × ``rows`` cells (see the class docstring)."""
        thumbnail = self.thumbnail(image)
        if not isinstance(thumbnail, Thumbnail):
            return thumbnail
        key = (_key(image), columns, rows, background, base)
        drawn = self._drawn.get(key)
        if drawn is None:
            drawn = self._drawn[key] = half_blocks(thumbnail, columns, rows, background, base)
            while len(self._drawn) > KEPT:
                self._drawn.popitem(last=False)
        return drawn
