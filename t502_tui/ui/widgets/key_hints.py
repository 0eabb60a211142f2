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
        """Each hint and where it ends, measured with all of them shown."""

    async def recompose(self) -> None:
        """New hints are laid out in full first, then measured (a frame later)."""
        await super().recompose()
        self._edges = []
        self.call_after_refresh(self._measure)

    def _measure(self) -> None:
        hints = [key for key in self.query_children("FooterKey") if not key.has_class("-command-palette")]
        if not hints or any(not key.display for key in hints):
            return
        left = self.content_region.x
        self._edges = [(key, key.region.right + key.styles.margin.right - left) for key in hints]
        self._fit()

    def on_resize(self, event: events.Resize) -> None:
        self._fit()

    def _fit(self) -> None:
        palette = [key for key in self.query_children("FooterKey") if key.has_class("-command-palette")]
        room = self.content_region.width - sum(key.outer_size.width for key in palette)
        fits = True
        for key, edge in self._edges:
            fits = fits and edge <= room
            if key.is_attached and key.display != fits:
                key.display = fits
