"""The base of t502's dialogs: a screen over the chat with key hints of its own."""

from __future__ import annotations

from typing import TypeVar

from textual.screen import ModalScreen

from t502_tui.ui.widgets.key_hints import KeyHints

Result = TypeVar("Result")

HINTS_FROM_ROWS = 18
"""In a shorter terminal the dialog keeps the footer's row (at 15 rows Settings lost the
last line of its buttons to it); its own hint line still names its keys."""


class Dialog(ModalScreen[Result]):
    """A modal screen whose own keys are named in a footer of its own: the chat's footer,
    under the dialog's dimmed backdrop, named keys that did nothing there, faintly, and
    could not be clicked."""

    def on_mount(self) -> None:
        hints = KeyHints()
        hints.display = self.app.size.height >= HINTS_FROM_ROWS
        self.mount(hints)

    def on_resize(self) -> None:
        self.query(KeyHints).set(display=self.app.size.height >= HINTS_FROM_ROWS)
        if (focused := self.focused) is not None:  # a smaller terminal: the field typed in stays in sight
            self.call_after_refresh(focused.scroll_visible, animate=False)
