"""Full-text search over every saved message, with matches shown as you type."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from t502_tui.history import History
from t502_tui.store import HIT_END, HIT_START, SearchHit, StoreError
from t502_tui.terminal_text import defuse, visible_name
from t502_tui.ui.screens.dialog import Dialog


@dataclass(frozen=True)
class SearchChoice:
    """Where to go: a conversation and the message to show."""

    conversation_id: str
    message_id: int
    words: tuple[str, ...] = ()
    """What was searched for: the view goes to where the message holds it."""
    typed_after: list[str] = field(default_factory=list)
    """Letters typed after Enter, before the search had closed: the start of a message."""


_MARKUP = re.compile(r"\*\*|__|`+|^#{1,6} ", re.MULTILINE)
"""Markdown's emphasis, code and heading marks, which a snippet shows as plain text."""


def snippet_content(snippet: str) -> Content:
    """A search snippet with its matched words highlighted, the rest literal."""
    parts: list[str | tuple[str, str]] = []
    bold = False
    for piece in re.split(f"([{HIT_START}{HIT_END}])", snippet):
        if piece == HIT_START:
            bold = True
        elif piece == HIT_END:
            bold = False
        elif piece:
            text = " ".join(_MARKUP.sub("", defuse(piece)).split("\n"))
            parts.append((text, "bold $accent") if bold else text)
    return Content.assemble(*parts)


class SearchScreen(Dialog[SearchChoice | None]):
    """Dismisses with the chosen hit, or None."""

    BINDINGS = [
        Binding("escape", "dismiss(None)", "Close"),
        Binding("down", "move(1)", show=False),
        Binding("up", "move(-1)", show=False),
    ]

    def __init__(self, history: History, typed: str = "") -> None:
        """``typed``: what the user had begun to type (in the conversation list)."""
        super().__init__()
        self.history = history
        self.typed = typed
        self._choice: SearchChoice | None = None
        self._searched: str | None = None
        """The text whose hits are shown (None before the first search comes back)."""
        self._enter_waits = False
        """Enter came before the hits for what was typed: the first is opened when they come."""
        self._typed_after: list[str] = []
        """Letters typed after Enter: the start of the user's next message."""
        self.hits: list[SearchHit] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="search"):
            yield Static(Content.styled("Search conversations", "bold"))
            # Not selected on focus: what was typed in the list goes on, not replaced.
            yield Input(self.typed, placeholder="Words to find (the last one may be a prefix)", id="search-input",
                        select_on_focus=False)
            yield OptionList(id="search-results")
            yield Static(Content("Enter opens the conversation at that message · Esc closes"), id="search-note")

    def on_mount(self) -> None:
        if self.typed:  # with the letters of a burst that came after the field was made
            field = self.query_one("#search-input", Input)
            field.value, field.cursor_position = self.typed, len(self.typed)
            self._search(self.typed)  # (a field given its text at the start says no Changed)

    def on_key(self, event: events.Key) -> None:
        # A letter the field did not take came while it had no focus: before it had any
        # (a burst typed in the list as the screen opened), a letter of the search; after a
        # hit was chosen, one of the message the user goes on to write.
        if event.is_printable and event.character:
            event.stop()
            if self._choice is not None or self._enter_waits:
                self._typed_after.append(event.character)
            else:
                self.type(event.character)

    def type(self, character: str) -> None:
        """One more letter typed in the list before this screen had the focus."""
        if self.is_mounted:
            self.query_one("#search-input", Input).insert_text_at_cursor(character)
        else:
            self.typed += character

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        self._search(event.value)

    @work(exclusive=True, group="search")
    async def _search(self, text: str) -> None:
        note = self.query_one("#search-note", Static)
        try:
            hits = await self.history.read(lambda store: store.search(text))
        except StoreError as error:
            note.update(Content(str(error)))
            return
        self.hits, self._searched = hits, text
        options = []
        for index, hit in enumerate(hits):
            label = Content.assemble(
                (visible_name(hit.title), "bold"), (f"  {hit.created:%Y-%m-%d %H:%M} · {visible_name(hit.writer)}", "dim"),
                "\n",
                snippet_content(hit.snippet),
            )
            options.append(Option(label, id=str(index)))
        results = self.query_one(OptionList)
        results.set_options(options)
        if options:
            results.highlighted = 0
        note.update(Content(
            f"{len(hits)} match{'es' if len(hits) != 1 else ''} · Enter opens · Esc closes" if text.strip()
            else "Enter opens the conversation at that message · Esc closes"
        ))
        if self._enter_waits and text == self.query_one("#search-input", Input).value:
            self._enter_waits = False
            if hits:
                self._choose(0)
            else:  # nothing to open: what was typed after Enter goes on in the field
                field = self.query_one("#search-input", Input)
                field.focus()
                field.insert_text_at_cursor("".join(self._typed_after))
                self._typed_after.clear()

    def action_move(self, step: int) -> None:
        results = self.query_one(OptionList)
        if results.option_count:
            current = results.highlighted or 0
            results.highlighted = min(max(current + step, 0), results.option_count - 1)

    @on(Input.Submitted)
    def _enter(self, event: Input.Submitted) -> None:
        if event.value.strip() and event.value != self._searched:  # typed and entered at once: its hits are on their way
            self._enter_waits = True
            self.set_focus(None)  # what is typed meanwhile goes to on_key
            return
        results = self.query_one(OptionList)
        if results.highlighted is not None and self.hits:
            self._choose(results.highlighted)

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self._choose(event.option_index)

    def _choose(self, index: int) -> None:
        hit = self.hits[index]
        words = tuple(self.query_one("#search-input", Input).value.split())
        self._choice = SearchChoice(hit.conversation_id, hit.message_id, words, self._typed_after)
        self.set_focus(None)  # what is typed until the screen has closed goes to on_key
        self.dismiss(self._choice)
