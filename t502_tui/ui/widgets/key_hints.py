"""The footer's key hints: one line of text, each hint shown whole or not at all."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from rich.style import Style
from rich.text import Text
from textual import events
from textual.screen import Screen
from textual.widget import Widget

EDGE = "▏"
"""Between the hints and the palette's key, at the right."""


@dataclass(frozen=True)
class Hint:
    """One key the screen offers: what to press and what it does."""

    key: str
    shown_key: str
    description: str
    enabled: bool
    tooltip: str


class KeyHints(Widget):
    """The keys the focused widget and its screen offer, drawn as one line of text; Esc's
    first (the way out).

    Textual's Footer makes a widget for each key and makes them all again whenever the
    bindings change (every move of the focus): about a fifth of the test suite's time,
    and work for every Tab. One line of text does the same. A hint that does not fit
    whole is left out (at 80 columns the last one read "^b Histo", which looks broken);
    the palette key stays at the right, and the palette lists every key."""

    ALLOW_SELECT = False
    COMPONENT_CLASSES = {"key-hints--key", "key-hints--description", "key-hints--edge"}
    DEFAULT_CSS = """
    KeyHints {
        dock: bottom;
        height: 1;
        color: $footer-foreground;
        background: $footer-background;
        .key-hints--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
        }
        .key-hints--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
        .key-hints--edge { color: $foreground 20%; }
    }
    """

    def __init__(self, first: Iterable[str] = ()) -> None:
        """``first``: actions whose hints go before the others (Esc's too), in that order,
        and so stay when room runs out (the ways out of what is going on, the help)."""
        super().__init__()
        self.first = tuple(first)
        self._spans: list[tuple[int, int, Hint]] = []
        """Where each hint drawn starts and ends on the line."""
        self._hover: Hint | None = None

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def _bindings_changed(self, screen: Screen[object]) -> None:
        if screen is self.screen:
            self.refresh()

    @property
    def shown(self) -> list[str]:
        """What the hints drawn say, in order (the palette's last)."""
        return [hint.description for _, _, hint in self._spans]

    def hints(self) -> tuple[list[Hint], Hint | None]:
        """The keys to show, in order, and the palette's key, from the screen's bindings."""
        app, hints = self.app, {}
        bindings = self.screen.active_bindings
        for _node, binding, enabled, tooltip in bindings.values():
            if binding.show and binding.action not in hints:  # one hint per action: its first key
                hints[binding.action] = Hint(binding.key, app.get_key_display(binding), binding.description,
                                             enabled, tooltip or binding.tooltip)
        palette = None
        if app.ENABLE_COMMAND_PALETTE and (found := bindings.get(app.COMMAND_PALETTE_BINDING)):
            _node, binding, enabled, tooltip = found
            palette = Hint(binding.key, app.get_key_display(binding), binding.description, enabled,
                           tooltip or binding.tooltip or binding.description)
        first = [hints.pop(action) for action in self.first if action in hints]
        ways_out = [hints.pop(action) for action, hint in list(hints.items()) if hint.key == "escape"]
        return first + ways_out + list(hints.values()), palette

    def render(self) -> Text:
        hints, palette = self.hints()
        width = self.size.width
        key_style = self.get_component_rich_style("key-hints--key")
        description_style = self.get_component_rich_style("key-hints--description")

        def drawn(hint: Hint, before: str, between: str, after: str) -> Text:
            text = Text.assemble((f"{before}{hint.shown_key}{between}", key_style),
                                 (f"{hint.description}{after}", description_style) if hint.description else "")
            if not hint.enabled:
                text.stylize(Style(dim=True))
            if hint == self._hover:  # reversed: plain to see in any theme, the terminal's colours too
                text.stylize(Style(reverse=True))
            return text

        tail = Text()
        if palette is not None:
            tail = Text.assemble((EDGE, self.get_component_rich_style("key-hints--edge")), drawn(palette, "", " ", " "))
            if tail.cell_len > width:
                tail = Text()
        line, self._spans = Text(no_wrap=True, overflow="crop"), []
        room = width - tail.cell_len
        for hint in hints:
            text = drawn(hint, " ", " ", " ")
            if line.cell_len + text.cell_len > room:
                break
            self._spans.append((line.cell_len, line.cell_len + text.cell_len, hint))
            line.append_text(text)
        if palette is not None and tail:
            line.append(" " * (room - line.cell_len))
            self._spans.append((line.cell_len + len(EDGE), width, palette))
            line.append_text(tail)
        return line

    def _hint_at(self, x: int) -> Hint | None:
        return next((hint for start, end, hint in self._spans if start <= x < end), None)

    def on_mouse_move(self, event: events.MouseMove) -> None:
        self._point_at(self._hint_at(event.x))

    def on_leave(self, event: events.Leave) -> None:
        self._point_at(None)

    def _point_at(self, hint: Hint | None) -> None:
        if hint != self._hover:
            self._hover = hint
            self.tooltip = hint.tooltip if hint is not None and hint.tooltip else None
            self.refresh()

    def on_mouse_down(self, event: events.MouseDown) -> None:
        hint = self._hint_at(event.x)
        if hint is None:
            return
        if hint.enabled:
            self.app.simulate_key(hint.key)
        else:
            self.app.bell()
