"""One image as large as the screen allows (``v`` on a reply's image): the terminal's own
graphics when it has them (see :mod:`t502_tui.ui.graphics`), half-blocks otherwise."""

from __future__ import annotations

import io
import logging
from typing import Any

from rich.segment import Segment
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Static

from t502_tui.attachments import Attachment
from t502_tui.terminal_text import defuse
from t502_tui.thumbnails import FORMATS, MAX_PIXELS, Thumbnail, ThumbnailError, make_thumbnail
from t502_tui.ui.graphics import graphics_widget
from t502_tui.ui.image_preview import half_blocks, preview_size
from t502_tui.ui.screens.dialog import Dialog

log = logging.getLogger("t502.preview")


class HalfBlockPicture(Widget):
    """An image drawn in half-blocks, as large as the widget, centred."""

    def __init__(self, image: Attachment, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.image = image
        self._thumbnail: Thumbnail | str | None = None
        self._lines: list[Strip] = []
        self._drawn_for: tuple[int, int] | None = None
        self._left = self._top = 0

    def on_mount(self) -> None:
        self.run_worker(self._make, thread=True, exit_on_error=False, description="drawing an image")

    def _make(self) -> None:
        try:
            made: Thumbnail | str = make_thumbnail(self.image.data)
        except ThumbnailError as error:
            made = str(error)
        except Exception as error:  # a decoder bug must not leave "drawing…" forever
            log.exception("drawing an image failed")
            made = f"no picture ({type(error).__name__})"
        self.app.call_from_thread(self._made, made)

    def _made(self, made: Thumbnail | str) -> None:
        self._thumbnail = made
        self._drawn_for = None
        self.refresh()

    def render_line(self, y: int) -> Strip:
        width, height = self.size
        thumbnail = self._thumbnail
        if not isinstance(thumbnail, Thumbnail):
            if y:
                return Strip.blank(width, self.rich_style)
            text = "drawing…" if thumbnail is None else thumbnail
            return Strip([Segment(text, self.rich_style)]).crop_extend(0, width, self.rich_style)
        if self._drawn_for != (width, height):
            columns, rows = preview_size(thumbnail.width, thumbnail.height, width, height)
            background = self.rich_style.bgcolor.get_truecolor() if self.rich_style.bgcolor else None
            self._lines = half_blocks(thumbnail, columns, rows, tuple(background or (0, 0, 0)), self.rich_style)
            self._left, self._top = (width - columns) // 2, (height - rows) // 2
            self._drawn_for = (width, height)
        index = y - self._top
        if not 0 <= index < len(self._lines):
            return Strip.blank(width, self.rich_style)
        return Strip.join([Strip.blank(self._left, self.rich_style), self._lines[index]]).extend_cell_length(
            width, self.rich_style)


class ImageScreen(Dialog[None]):
    """The image, its name and size; Esc, q or v closes it."""

    DEFAULT_CSS = """
    ImageScreen { align: center middle; }
    ImageScreen #image-frame { width: 100%; height: 100%; background: $surface; padding: 0 1; }
    ImageScreen #image-caption { height: 1; color: $text-muted; }
    ImageScreen #image { width: 100%; height: 1fr; }
    """
    BINDINGS = [Binding("escape,q,v", "dismiss", "Close")]

    def __init__(self, image: Attachment) -> None:
        super().__init__()
        self.image = image

    def compose(self) -> ComposeResult:
        with Vertical(id="image-frame"):
            yield Static(Content(f"{defuse(self.image.describe())} · Esc closes"), id="image-caption")
            if graphics_widget() is None:
                yield HalfBlockPicture(self.image, id="image")

    def on_mount(self) -> None:
        if graphics_widget() is not None:
            self.run_worker(self._open, thread=True, exit_on_error=False, description="opening an image")

    def _open(self) -> None:
        """Decode the image for the graphics widget (bounded like any preview)."""
        from PIL import Image

        picture: Any = None
        try:
            with Image.open(io.BytesIO(self.image.data), formats=FORMATS) as opened:
                if opened.width * opened.height <= MAX_PIXELS:
                    opened.load()
                    picture = opened.copy()
        except Exception:  # damaged: the half-block picture says so
            picture = None
        self.app.call_from_thread(self._show, picture)

    def _show(self, picture: Any) -> None:
        frame = self.query_one("#image-frame")
        widget = graphics_widget()
        frame.mount(widget(picture, id="image") if picture is not None else HalfBlockPicture(self.image, id="image"))
