"""The footer's key hints, each shown whole or not at all."""

from __future__ import annotations

from textual import events
from textual.widget import Widget
from textual.widgets import Footer


class KeyHints(Footer):
    """Textual's footer, but a hint that does not fit whole is left out: at 80 columns the
    last one was cut mid-word ("^b Histo"), which reads as a fault. The palette key stays
    at the right; the palette lists every key."""

    def __init__(self) -> None:
        super().__init__()
        self._edges: list[tuple[Widget, int]] = []
        """Each hint and where it ends, with all of them shown."""

    async def recompose(self) -> None:
        """New hints: measured as they are made, not once laid out (under a dialog the
        footer is not laid out again until the dialog closes)."""
        await super().recompose()
        edge, self._edges = 0, []
        for key in self._hints(palette=False):
            edge += self._width(key)
            self._edges.append((key, edge))
        self._fit()

    def on_resize(self, event: events.Resize) -> None:
        self._fit()

    def _hints(self, palette: bool) -> list[Widget]:
        return [key for key in self.query_children("FooterKey") if key.has_class("-command-palette") == palette]

    def _width(self, key: Widget) -> int:
        """The cells ``key`` takes in the row, margins included."""
        styles = key.styles
        return key.get_content_width(self.size, self.app.size) + styles.gutter.width + styles.margin.width

    def _fit(self) -> None:
        room = self.content_region.width - sum(self._width(key) for key in self._hints(palette=True))
        for key, edge in self._edges:
            key.display = edge <= room
