"""The base of t502's dialogs: a screen over the chat with key hints of its own."""

from __future__ import annotations

from typing import TypeVar

from textual.screen import ModalScreen

from t502_tui.ui.widgets.key_hints import KeyHints

Result = TypeVar("Result")


class Dialog(ModalScreen[Result]):
    """A modal screen whose own keys are named in a footer of its own: the chat's footer,
    under the dialog's dimmed backdrop, named keys that did nothing there, faintly, and
    could not be clicked."""

    def on_mount(self) -> None:
        self.mount(KeyHints())
