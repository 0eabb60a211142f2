"""Small dialogs: ask for one line of text, confirm something that cannot be undone,
choose one of a few answers, or pick from a list in the command palette.

Each scrolls inside the terminal when it does not fit (a long title at 60×20)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual import events, on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.command import SimpleCommand
from textual.containers import VerticalScroll
from textual.content import Content
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widget import Widget
from textual.markup import escape
from textual.types import IgnoreReturnCallbackType
from textual.widgets import Button, Input, Static

from t502_tui.terminal_text import defuse, visible_name
from t502_tui.ui.screens.dialog import Dialog
from t502_tui.ui.widgets.button_row import ButtonRow


ARROWS_MOVE = [Binding("left", "app.focus_previous", show=False), Binding("right", "app.focus_next", show=False)]
"""In a row of buttons, ← and → go from one to the next, as Tab does."""


def focus_from_top(screen: Screen[object], field: Widget) -> None:
    """Focus ``field`` of ``screen``'s dialog and show the dialog from its title, scrolled
    only if the field is out of sight there. (Textual scrolls a field as it is focused,
    before the dialog has its final height: in a short terminal that hid the title.)"""
    screen.set_focus(field, scroll_visible=False)

    def in_sight() -> None:
        scroller = screen.query(VerticalScroll).first()
        if field.region.bottom > scroller.scrollable_content_region.bottom:
            scroller.scroll_to_widget(field, animate=False, immediate=True)

    screen.call_after_refresh(in_sight)


async def ask_for_file(app: App[object], title: str, default: str, hint: str = "") -> Path | None:
    """A file path the user types (None: cancelled); a file already there is replaced only
    if they say so. Run from a worker: it waits for the answers."""
    answer = await app.push_screen_wait(TextPrompt(title, default, hint=hint))
    if not answer:
        return None
    target = Path(answer).expanduser()
    if await asyncio.to_thread(target.is_file) and not await app.push_screen_wait(
            Confirm(f"{defuse(str(target))} exists. Replace it?", "Replace")):
        return None
    return target


def pick(name: str, callback: IgnoreReturnCallbackType, help_text: str = "") -> SimpleCommand:
    """One line of a pick list in the palette (``app.search_commands``), shown literally:
    Textual reads a command's name and help as markup, and these hold titles, code and
    model names."""
    return SimpleCommand(escape(visible_name(name)), callback, escape(visible_name(help_text)) or None)


class TextPrompt(Dialog[str | None]):
    """Dismisses with the text entered (Enter) or None (Esc)."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, title: str, value: str = "", hint: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.value = value
        self.hint = hint

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog", can_focus=False):
            yield Static(Content.styled(self.title_text, "bold"))
            yield Input(self.value, id="prompt-input")
            yield Static(Content(self.hint or "Enter confirms · Esc cancels"), classes="hint")

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.dismiss(event.value.strip())
        else:  # Enter on an empty field did nothing, silently
            self.query_one(".hint", Static).update(Content("Nothing typed yet: type it, or Esc cancels"))


class Confirm(Dialog[bool]):
    """Dismisses with True only when the user confirms."""

    BINDINGS = [Binding("escape,n", "dismiss(False)", "Cancel"), Binding("y", "dismiss(True)", "Yes"), *ARROWS_MOVE]

    READ_SECONDS = 0.3
    """With ``read_first``, how long after the question appears y starts to answer it: a
    word typed on (keys a tenth of a second apart) is caught, a quick answer is not."""

    def __init__(self, question: str, action: str, *, read_first: bool = False, back: str = "Cancel") -> None:
        """``read_first``: for a question a single key asks (d on a message), which a word
        typed there can ask too: a y typed with it does not answer. ``back``: the other
        button's word."""
        super().__init__()
        self.question = question
        self.action_label = action
        self.read_first = read_first
        self.back = back
        # The footer names the keys as the buttons do ("y Discard", "esc Keep editing").
        keys = self._bindings.key_to_bindings
        keys["y"] = [Binding("y", "dismiss(True)", action)]
        for key in ("escape", "n"):
            keys[key] = [Binding(key, "dismiss(False)", back)]

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog", can_focus=False):
            yield Static(Content(self.question))
            with ButtonRow(classes="dialog-buttons"):
                yield Button(f"{self.action_label} (y)", variant="error", id="confirm-yes")
                yield Button(f"{self.back} (n)", id="confirm-no")

    def on_mount(self) -> None:
        self._asked_at = time.monotonic()
        self.query_one("#confirm-no", Button).focus()

    def on_key(self, event: events.Key) -> None:
        # A y typed before the question was there (a word typed on a message: "dye") could
        # not have been read, nor, when it must be read first, one typed right after ("dynamic").
        if event.key == "y" and event.time < self._asked_at + (self.READ_SECONDS if self.read_first else 0):
            event.stop()
            event.prevent_default()
            if event.time >= self._asked_at:  # typed at the question: say why nothing happened
                self.notify("That y came before the question could be read: y again confirms.")

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "confirm-yes")


class Choice(Dialog[str | None]):
    """A question with a few answers, each a button with a key; dismisses with the chosen
    answer's id, or None (Esc)."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel"), *ARROWS_MOVE]

    def __init__(self, question: str, answers: list[tuple[str, str, str]], hint: str = "Esc cancels") -> None:
        """``answers``: (id, label, key) each; the first is the one focused."""
        super().__init__()
        self.question = question
        self.answers = answers
        self.hint = hint

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog", can_focus=False):
            yield Static(Content(self.question))
            with ButtonRow(classes="dialog-buttons"):
                for ident, label, key in self.answers:
                    yield Button(f"{label} ({key})", id=f"choice-{ident}", compact=True)
            yield Static(Content(self.hint), classes="hint")

    def on_mount(self) -> None:
        self.query(Button).first().focus()

    def on_key(self, event: events.Key) -> None:
        for ident, _, key in self.answers:
            if event.key == key:
                event.stop()
                self.dismiss(ident)
                return

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss((event.button.id or "")[len("choice-"):] or None)


def close_asking_first(dialog: Dialog[Any], changed: Callable[[], bool], what: str) -> None:
    """Close ``dialog`` with None; when the user ``changed`` something in it, only once
    they say so (a system prompt written for minutes went with one Esc). An Esc in the
    same burst as the key that opened it comes before its fields are there: nothing to ask."""
    try:
        asked = changed()
    except NoMatches:
        asked = False
    if not asked:
        dialog.dismiss(None)
        return

    def answered(discard: bool | None) -> None:
        if discard:
            dialog.dismiss(None)

    dialog.app.push_screen(Confirm(f"Close {what} without saving your changes?", "Discard", back="Keep editing"),
                           answered)
