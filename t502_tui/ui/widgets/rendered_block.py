"""A Rich renderable drawn once per width and theme, then served line by line.

Layout asks every block its height on each reflow; answering from a cache keeps a long
reply as cheap to lay out as a short one. Blocks that are off screen can wait: until
drawn they give layout an estimate, and their owner draws them when it has time.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from rich.console import RenderableType
from rich.segment import Segment
from rich.theme import Theme as RichTheme
from textual.geometry import Size
from textual.strip import Strip
from textual.widget import Widget

Build = Callable[[str], RenderableType]
"""Makes a block's renderable for a Pygments style name."""


class RenderedBlock(Widget):
    """A Rich renderable drawn once per width and theme, then served from its lines.

    Layout asks every block its height on each reflow; answering from a cache keeps a
    long reply as cheap to lay out as a short one.
    """

    DEFAULT_CSS = "RenderedBlock { height: auto; }"

    def __init__(
        self, build: Build | None = None, *, code_theme: Callable[[], str], trim: bool = True,
        source: str = "", draw_later: Callable[[RenderedBlock], None] | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(classes=classes)
        self._build = build
        self.trim = trim
        """Drop blank lines at the top and bottom (text, not code with its padding)."""
        self.display = build is not None
        self._code_theme = code_theme
        self._source = source
        self._draw_later = draw_later
        """Set for settled blocks: until drawn, layout gets an estimate and drawing waits."""
        self._asked_width = 0
        self._estimated = (0, 0)
        self.draw_seconds = 0.0
        """How long the last drawing took."""
        self._lines: list[Strip] = []
        self._drawn_for: tuple[object, ...] = ()
        """What the cached lines were drawn for: width, theme and code style."""

    def update(self, build: Build | None, trim: bool = True) -> None:
        """Show something else; the screen is laid out again only if the height changed.

        A streaming tail of prose grows a line every few tokens: most frames only repaint
        it. Off screen (a conversation streaming in the background) nothing is drawn.
        """
        height = len(self._lines) if self._drawn_for and self.display else None
        self._build = build
        self.trim = trim
        self.display = build is not None
        self._drawn_for = ()
        width = self.content_size.width
        if (build is not None and height is not None and width > 0 and self.is_on_screen
                and len(self._lines_for(width)) == height):
            self.refresh()
        else:
            self.refresh(layout=True)

    def redraw(self) -> None:
        """Draw again at the next refresh (the code style changed)."""
        self._drawn_for = ()
        self.refresh(layout=True)

    def _rich_theme(self) -> RichTheme:
        """Markdown styles taken from the app's theme, so every theme reads well."""
        theme = self.app.current_theme
        accent = theme.accent or theme.primary
        return RichTheme({
            "markdown.code": f"bold {accent}",
            "markdown.link": f"underline {theme.primary}",
            "markdown.link_url": theme.primary,
            "markdown.block_quote": f"italic {theme.secondary or theme.primary}",
            "markdown.h1.border": theme.primary,
        })

    def _lines_for(self, width: int) -> list[Strip]:
        # Keyed on what changes the drawing, not on style notices: mounting sends those
        # too, and drawing again for each would cost as much as the reply itself.
        key = (width, self.app.theme)
        if key != self._drawn_for:
            started = time.perf_counter()
            lines: list[list[Segment]] = []
            if self._build is not None:
                console = self.app.console
                options = console.options.update(width=width, min_width=width, max_width=width, height=None)
                with console.use_theme(self._rich_theme()):
                    lines = console.render_lines(self._build(self._code_theme()), options, style=self.rich_style, pad=True)
                if self.trim:
                    # Rich puts blank lines around some blocks; spacing comes from CSS instead.
                    blank = [not "".join(s.text for s in line).strip() for line in lines]
                    start = blank.index(False) if False in blank else len(lines)
                    end = len(lines) - (blank[::-1].index(False) if False in blank else 0)
                    lines = lines[start:end]
            self._lines = [Strip(line, width) for line in lines]
            self._drawn_for = key
            self.draw_seconds = time.perf_counter() - started
        return self._lines

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        if width <= 0:
            return 0
        self._asked_width = width
        if self._draw_later is not None and (width, self.app.theme) != self._drawn_for:
            # Off-screen blocks of a long reply need only a height now; drawing them all
            # at once would keep the last tokens off the screen for seconds.
            self._draw_later(self)
            return self._estimate(width)
        return len(self._lines_for(width))

    def _estimate(self, width: int) -> int:
        if self._estimated[0] != width:
            lines = self._source.strip("\n").split("\n")
            self._estimated = (width, sum(max(1, -(-len(line) // max(1, width - 4))) for line in lines))
        return self._estimated[1]

    def draw_pending(self) -> None:
        """Draw for the width layout asked about; lay out again if the estimate was off."""
        width = self._asked_width
        if width <= 0 or (width, self.app.theme) == self._drawn_for:
            return
        estimate = self._estimate(width)
        if len(self._lines_for(width)) != estimate:
            self.refresh(layout=True)

    def render_line(self, y: int) -> Strip:
        width = self.content_size.width
        lines = self._lines_for(width)
        if y < len(lines):
            return lines[y]
        return Strip([Segment(" " * width, self.rich_style)], width)
