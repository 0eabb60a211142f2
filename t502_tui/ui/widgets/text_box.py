"""Multi-line text fields: one that survives a frame Textual draws at the wrong moment, and
the kind dialogs use, whose Ctrl+Home and Ctrl+End go to the ends of the text."""

from __future__ import annotations

from textual import events
from textual.binding import Binding
from textual.geometry import Region
from textual.strip import Strip
from textual.widgets import TextArea


class TextBox(TextArea):
    """Textual's ``TextArea``, except that a frame drawn while the field has no styles
    (just removed from the screen, or not styled yet: Textual issue #6528) leaves its
    lines blank instead of stopping t502 with a KeyError (the next frame draws it), and
    that a field with no room for a character shows no placeholder (wrapped to no width,
    it stopped t502 with a ValueError in a pane a few columns wide)."""

    def render_lines(self, crop: Region) -> list[Strip]:
        if self.content_size.width < 1 and not self.text:
            return [Strip.blank(crop.width)] * crop.height
        try:
            return super().render_lines(crop)
        except KeyError:
            if self.is_attached:
                self.refresh()
            return [Strip.blank(crop.width)] * crop.height


class TextField(TextBox):
    """A dialog's multi-line field: focused first, its cursor is at the end (what is there
    is added to, as in a one-line field); Ctrl+Home and Ctrl+End (with Shift, selecting) go to
    the start and the end of the text, as in any editor. (In the chat those keys move the
    conversation, so the composer is a plain :class:`TextBox`.)"""

    BINDINGS = [
        Binding("ctrl+home", "cursor_text_start", show=False),
        Binding("ctrl+end", "cursor_text_end", show=False),
        Binding("ctrl+shift+home", "cursor_text_start(True)", show=False),
        Binding("ctrl+shift+end", "cursor_text_end(True)", show=False),
    ]

    _placed = False
    """The cursor was put after the text, at the first focus (later ones keep its place:
    back from a question the form asked, the user goes on where they were)."""

    def _on_focus(self, event: events.Focus) -> None:
        super()._on_focus(event)
        if not self._placed:
            self._placed = True
            self.move_cursor(self.document.end)

    def action_cursor_text_start(self, select: bool = False) -> None:
        self.move_cursor((0, 0), select=select)

    def action_cursor_text_end(self, select: bool = False) -> None:
        self.move_cursor(self.document.end, select=select)
