"""The conversation list on the left: open new ones first, then the saved history."""

from __future__ import annotations

import time

from dataclasses import dataclass
from datetime import datetime

from textual import events
from textual.binding import Binding
from textual.content import Content
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option, OptionDoesNotExist

from t502_tui.conversation import Conversation, title_from
from t502_tui.store import ConversationSummary
from t502_tui.terminal_text import visible_name


def _one_line(title: str) -> str:
    """The title on one line; the stylesheet cuts it (with …) to the list's width."""
    return visible_name(" ".join(title.split()))


def _when(moment: datetime) -> str:
    return f"{moment:%H:%M}" if moment.date() == datetime.now().date() else f"{moment:%d %b}"


BURST_GAP = 0.3
"""Seconds between keys typed in one burst (a fast typist's are 0.05 to 0.15 apart)."""


class ConversationList(OptionList):
    """One row per conversation (title, then time, size and model, each cut to one line);
    a dot marks one that is streaming.

    Asks for the next page of history (:class:`MoreWanted`) when the cursor nears the end.
    """

    BINDINGS = [
        Binding("escape", "leave", "Back"),  # first in the footer: the way out
        Binding("r", "command('rename')", "Rename"),
        Binding("a", "command('archive')", "Archive"),
        Binding("d,delete", "command('delete')", "Delete"),
        Binding("d,delete", "command('discard')", "Discard"),  # delete, as a draft row calls it
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._drafts: set[str] = set()
        """Rows that are drafts: their words are only in a composer, so d discards them."""
        self._on_draft = False
        """The footer names d for a draft (the row under the cursor is one)."""
        self._burst_until = 0.0
        """A letter typed here began a search: what follows it until then (a burst typed
        before the search has the focus) goes to it, list keys too."""
        self._shown_active: str | None = None
        """The open conversation when the rows were last drawn."""

    def action_cursor_down(self) -> None:
        self._step(1)

    def action_cursor_up(self) -> None:
        self._step(-1)

    def _step(self, direction: int) -> None:
        """The next row that can be chosen, stopping at either end: Textual's list goes
        round from the last row to the first, and Down held to the end of the history
        came back to its top (and opened the wrong conversation)."""
        if self.highlighted is None:  # nothing chosen yet: the first (or last) row
            if direction > 0:
                super().action_cursor_down()
            else:
                super().action_cursor_up()
            return
        index = self.highlighted + direction
        while 0 <= index < self.option_count:
            if not self.get_option_at_index(index).disabled:
                self.highlighted = index
                return
            index += direction

    @dataclass
    class Left(Message):
        """The user is done with the list (Esc): back to the composer."""

    @dataclass
    class MoreWanted(Message):
        """The user scrolled near the end of the loaded history."""

    @dataclass
    class SearchTyped(Message):
        """A letter typed in the list, where none is a key: the start of a search."""

        character: str

    @dataclass
    class CommandRequested(Message):
        """A key asked for ``command`` on the highlighted conversation."""

        command: str
        conversation_id: str

    def show(
        self,
        unsaved: list[tuple[Conversation, bool, str]],
        saved: list[ConversationSummary],
        streaming_ids: set[str],
        active_id: str | None,
    ) -> None:
        """Redraw the rows, keeping the active one highlighted. ``unsaved``: the open
        conversations not yet in the store, each with whether it streams and its draft
        (a new conversation with words typed is named by them)."""
        options = []
        self._drafts.clear()
        for conversation, streaming, draft in unsaved:
            drafted = not conversation.messages and bool(draft.strip())
            if drafted:
                self._drafts.add(conversation.id)
            title = title_from(draft) if drafted else conversation.display_title
            options.append(Option(Content.assemble(
                ("● " if streaming else "  ", "$accent"), _one_line(title), "\n",
                (f"  {'draft · ' if drafted else ''}{visible_name(conversation.writer)}", "dim"),
            ), id=conversation.id))
        for summary in saved:
            dot = "● " if summary.id in streaming_ids else "  "
            options.append(Option(Content.assemble(
                (dot, "$accent"), _one_line(summary.title), "\n",
                # The model last: a long id is what the cut takes, not the time and size.
                (f"  {'draft · ' if summary.drafted else ''}{_when(summary.updated)}"
                 f" · {summary.message_count} msg{'s' if summary.message_count != 1 else ''}"
                 f" · {visible_name(summary.writer or '-')}",
                 "dim"),
            ), id=summary.id))
        keep = self.highlighted
        opened, self._shown_active = active_id != self._shown_active, active_id
        if self.has_focus and not opened and keep is not None and keep < self.option_count:
            # The user is moving through the list: stay on their row, not the open one
            # (unless another conversation was opened meanwhile: its row is the one to act on).
            active_id = self.get_option_at_index(keep).id
        self.set_options(options)
        if active_id is not None:
            try:
                self.highlighted = self.get_option_index(active_id)
            except OptionDoesNotExist:  # the row is gone (archived, deleted)
                self.highlighted = min(keep, len(options) - 1) if keep is not None and options else None
        self._name_d()  # the row under the cursor may have become a draft, or stopped being one

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option_list is self:
            self._name_d()
            if event.option_index >= self.option_count - 5:
                self.post_message(self.MoreWanted())

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The footer says Discard for d on a draft, Delete elsewhere: of the two
        bindings of d, only the one that names it is active. A draft (not saved yet) is
        not offered Rename and Archive. Amid a burst typed for a search, a letter is no
        command: it goes on to :meth:`on_key`."""
        if action == "command" and time.monotonic() < self._burst_until:
            return False
        if action == "command" and parameters in (("delete",), ("discard",)):
            return (parameters == ("discard",)) == self._on_draft
        if action == "command" and parameters in (("rename",), ("archive",)):
            return not self._on_draft
        return True

    def end_burst(self) -> None:
        """The search a burst went to has closed: letters are list keys again."""
        self._burst_until = 0.0

    def on_key(self, event: events.Key) -> None:
        # A burst ("sourdough") is one search: its letters reach the list before the search
        # has the focus, and an "r" or "a" in it is no command.
        now = time.monotonic()
        if event.is_printable and event.character and (now < self._burst_until or (
                not event.character.isspace() and event.key not in self._bindings.key_to_bindings)):
            self._burst_until = now + BURST_GAP
            event.stop()
            event.prevent_default()
            self.post_message(self.SearchTyped(event.character))
        elif self._on_draft and event.key in ("r", "a"):  # not offered there, but pressed: it says why
            event.stop()
            self.action_command("rename" if event.key == "r" else "archive")

    def _name_d(self) -> None:
        """Delete or Discard in the footer, as the row under the cursor is. Only when that
        changes: each refresh of the bindings redraws the footer, and the list is shown
        again every time a streaming reply is saved."""
        on_draft = self.highlighted is not None and self.get_option_at_index(self.highlighted).id in self._drafts
        if on_draft != self._on_draft:
            self._on_draft = on_draft
            self.refresh_bindings()

    def action_leave(self) -> None:
        self.post_message(self.Left())

    def action_command(self, command: str) -> None:
        """Ask for a command on the highlighted row (discarding a draft is deleting it)."""
        if self.highlighted is not None:
            option = self.get_option_at_index(self.highlighted)
            if option.id:
                self.post_message(self.CommandRequested("delete" if command == "discard" else command, option.id))
