"""Ctrl+N with presets in the config: start blank, or from one of them."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from t502_tui.presets import Preset
from t502_tui.ui.screens.dialog import Dialog

BLANK = "blank"


class PresetPicker(Dialog[Preset | str | None]):
    """Dismisses with the chosen preset, :data:`BLANK` for a blank conversation, or None."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Close")]

    def __init__(self, presets: list[Preset], defaults: dict[str, Any]) -> None:
        super().__init__()
        self.presets = presets
        self.defaults = defaults

    def compose(self) -> ComposeResult:
        options = [Option(Content.assemble(("Blank", "bold"), ("  the model picked last, the default prompt and settings", "dim")),
                          id=BLANK)]
        for index, preset in enumerate(self.presets):
            about = " · ".join(part for part in (preset.description, preset.summary(self.defaults)) if part)
            options.append(Option(Content.assemble((preset.name, "bold"), (f"  {about}", "dim")), id=f"p{index}"))
        with Vertical(id="preset-picker"):
            yield Static(Content.styled("New conversation", "bold"))
            yield OptionList(*options, id="preset-list")
            yield Static(Content("Enter starts it · Esc closes"), classes="hint")

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        ident = event.option.id or BLANK
        self.dismiss(BLANK if ident == BLANK else self.presets[int(ident[1:])])
