"""The images and files waiting to go with the next message, as removable chips."""

from __future__ import annotations

from dataclasses import dataclass

from rich.cells import cell_len

from textual import events, on
from textual.binding import Binding
from textual.containers import HorizontalScroll
from textual.content import Content
from textual.message import Message
from textual.widgets import Button

from t502_tui.attachments import Attachment
from t502_tui.terminal_text import defuse, visible_name


CHIP_NAME_CELLS = 30
"""A chip shows a file's name in at most this many cells: a chip fits a 60-column
terminal whole (its ✕ too), and several fit a wider one."""
SHORTEST_CHIP_NAME = 8
"""Names are shortened down to this many cells for the chips to fit side by side; past
that, the bar scrolls."""


def short_name(name: str, cells: int = CHIP_NAME_CELLS) -> str:
    """``name``, or its start and end around an ellipsis (the end says what kind of file it is)."""
    if cell_len(name) <= cells:
        return name
    tail = ""
    for character in reversed(name):
        if cell_len(tail) + cell_len(character) > (cells - 1) // 3:
            break
        tail = character + tail
    head = ""
    for character in name:
        if cell_len(head) + cell_len(character) > cells - 1 - cell_len(tail):
            break
        head += character
    return f"{head}…{tail}"


class AttachmentBar(HorizontalScroll, can_focus=False):
    """One chip per image or file; pressing a chip (click, or Enter on it) removes it.
    Esc on a chip goes back to the composer, and so does a character typed there (it was
    meant for the message)."""

    BINDINGS = [Binding("escape", "leave", "Back")]

    @dataclass
    class Removed(Message):
        """The user took ``index`` off the next message."""

        index: int

    @dataclass
    class Left(Message):
        """The user went back to the composer, typing ``character`` there (or none)."""

        character: str | None = None

    def __init__(self) -> None:
        super().__init__()
        self._images: list[Attachment] = []

    def action_leave(self) -> None:
        self.post_message(self.Left())

    def on_key(self, event: events.Key) -> None:
        if event.is_printable and event.character and event.character != " ":  # Space presses a chip
            event.stop()
            event.prevent_default()
            self.post_message(self.Left(event.character))

    def show(self, images: list[Attachment]) -> None:
        """Redraw the chips (the bar hides itself when there are none)."""
        if not images and not self.children and not self.display:
            return  # nothing shown and nothing to show (every send): no layout of the screen
        self._images = list(images)
        width = self._room()
        self.remove_children()
        self.mount_all(
            # Named, not given ids: the old chips are still being removed when these mount.
            Button(Content(label), name=str(index), classes="chip", compact=True, tooltip=defuse(image.name))
            for index, (image, label) in enumerate(zip(images, _labels(images, width)))
        )
        self.display = bool(images)

    def _room(self) -> int:
        """The cells the chips have: the bar's, or the screen's before it is laid out."""
        return self.size.width or self.app.size.width - 2

    def on_resize(self) -> None:
        """Names as long as the new width lets them be, on the same chips (one may have the focus)."""
        chips = list(self.query(".chip").results(Button))
        if len(chips) == len(self._images):  # not while old chips are still being removed
            for chip, label in zip(chips, _labels(self._images, self._room())):
                if str(chip.label) != label:
                    chip.label = Content(label)
                    chip.refresh(layout=True)  # (a new label alone keeps the chip's old width)

    @on(Button.Pressed, ".chip")
    def _remove(self, event: Button.Pressed) -> None:
        event.stop()
        self.post_message(self.Removed(int(event.button.name or 0)))


def _labels(images: list[Attachment], width: int) -> list[str]:
    """Each chip's words, names shortened as far as SHORTEST_CHIP_NAME for all of them to
    fit side by side in ``width`` cells (two long names at 80 columns)."""

    def label(image: Attachment, cells: int) -> str:
        # A name's line breaks and escapes shown as codes: a chip is one line.
        return f"{image.icon} {defuse(image.describe(short_name(visible_name(image.name), cells)))} ✕"

    for cells in range(CHIP_NAME_CELLS, SHORTEST_CHIP_NAME - 1, -1):
        labels = [label(image, cells) for image in images]
        if sum(cell_len(text) + 3 for text in labels) <= width:  # a margin, and a cell each side
            break
    return labels
