"""Choosing a theme, previewed live as the cursor moves."""

from __future__ import annotations

from collections.abc import Callable

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from t502_tui.ui.screens.dialog import Dialog


class ThemePicker(Dialog[str | None]):
    """Dismisses with the chosen theme's name, or None after putting the old one back."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, names: list[str], current: str, preview: Callable[[str], bool]) -> None:
        super().__init__()
        self.names = names
        self.original = current
        self.preview = preview
        """Shows a theme; False when it cannot be used (the app said why)."""

    def compose(self) -> ComposeResult:
        with Vertical(id="theme-picker"):
            yield Static(Content.styled("Change theme", "bold"))
            yield OptionList(*[Option(self._label(name), id=name) for name in self.names], id="theme-list")
            yield Static(Content("↑↓ preview · Enter keeps it · Esc goes back"), classes="hint")

    def _label(self, name: str) -> Content:
        """The theme's name, literally (a theme file may name itself anything); the one in
        use says so in words, not only by its colour."""
        if name == self.original:
            return Content.assemble(name, ("  · in use", "dim"))
        return Content(name)

    def on_mount(self) -> None:
        themes = self.query_one(OptionList)
        if self.original in self.names:
            themes.highlighted = self.names.index(self.original)
        themes.focus()

    @on(OptionList.OptionHighlighted)
    def _preview(self, event: OptionList.OptionHighlighted) -> None:
        if event.option.id:
            self.preview(event.option.id)

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.preview(self.original)
        self.dismiss(None)
