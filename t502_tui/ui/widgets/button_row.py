"""A dialog's row of buttons, stacked one under another when the row is too narrow for
them (two long answers at 60 columns would otherwise be cut: "Switch mod")."""

from __future__ import annotations

from textual import events
from textual.containers import Horizontal
from textual.geometry import Size
from textual.widgets import Button


class ButtonRow(Horizontal):
    """Side by side while they fit; a column of buttons when they do not."""

    DEFAULT_CSS = """
    ButtonRow { height: auto; }
    ButtonRow.stacked { layout: vertical; }
    """

    def on_resize(self, event: events.Resize) -> None:
        self.set_class(self._natural_width() > event.size.width, "stacked")

    def _natural_width(self) -> int:
        """How wide the buttons are side by side, margins included."""
        viewport = self.app.size
        total = 0
        for button in self.query_children(Button):
            styles = button.styles
            width = button.get_content_width(Size(viewport.width, 1), viewport) + styles.gutter.width
            if styles.min_width is not None:
                width = max(width, int(styles.min_width.resolve(viewport, viewport, viewport)))
            total += width + styles.margin.width
        return total
