"""A multi-line text field that survives a frame Textual draws at the wrong moment."""

from __future__ import annotations

from textual.geometry import Region
from textual.strip import Strip
from textual.widgets import TextArea


class TextBox(TextArea):
    """Textual's ``TextArea``, except that a frame drawn while the field has no styles
    (just removed from the screen, or not styled yet: Textual issue #6528) leaves its
    lines blank instead of stopping t502 with a KeyError. The next frame draws it."""

    def render_lines(self, crop: Region) -> list[Strip]:
        try:
            return super().render_lines(crop)
        except KeyError:
            if self.is_attached:
                self.refresh()
            return [Strip.blank(crop.width)] * crop.height
