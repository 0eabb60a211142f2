"""The chat screen's dealings with saved conversations: the history list, read a page at
a time as it is scrolled, and renaming, archiving, deleting, exporting and searching.

A part of :class:`~t502_tui.ui.screens.chat.ChatScreen` kept in a module of its own (the
screen inherits it); it works through the screen's panes and session. Its handlers are
named ``on_...`` methods: Textual's ``@on`` is only read from the screen class itself.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from textual import events, work
from textual.widgets import OptionList

from t502_tui.conversation import title_from
from t502_tui.export import to_json, write_markdown
from t502_tui.paths import new_dirs, write_private
from t502_tui.terminal_text import defuse
from t502_tui.store import ConversationSummary, Store, StoreError
from t502_tui.ui.screens.dialogs import Confirm, TextPrompt, ask_for_file, pick
from t502_tui.ui.screens.search import SearchChoice, SearchScreen
from t502_tui.ui.widgets.composer import Composer
from t502_tui.ui.widgets.conversation_pane import ConversationPane
from t502_tui.ui.widgets.sidebar import ConversationList

if TYPE_CHECKING:
    from t502_tui.ui.screens.chat import ChatScreen

    _Base = ChatScreen
else:
    _Base = object

HISTORY_PAGE = 100


class SavedConversations(_Base):
    """The history list and what can be done to saved conversations."""

    saved: list[ConversationSummary]
    """The loaded part of the history, newest first."""
    _history_complete: bool
    _history_error: str | None
    _typed_search: SearchScreen | None = None
    """The search a letter typed in the list opened: the letters after it go there too."""
    _typed_ahead: list[str] | None = None
    """Letters typed while a search hit's conversation opens (None: none is opening)."""

    async def _write(self, call: Callable[[Store], object]) -> bool:
        """A change to the history; False (the failure is shown) if it did not happen."""
        history = self.session.history
        if history is None:
            self._no_history("nothing can be changed in it")
            return False
        return await history.write(call)

    def _no_history(self, so: str) -> None:
        """Say why the history cannot be used: it is off, or (the first moments after
        start) not open yet."""
        if self.t502.history_off:
            self.notify(f"History is off, so {so}.", severity="warning")
        else:
            self.notify("The history is still being opened: try again in a moment.")

    @work(group="history", exclusive=True)
    async def reload_history(self) -> None:
        """Read the loaded part of the history list again (after a change)."""
        history = self.session.history
        if history is None:
            return
        size = max(HISTORY_PAGE, len(self.saved))
        try:
            rows = await history.read(lambda store: store.list_conversations(0, size))
        except StoreError as error:
            if str(error) != self._history_error:  # said once, not at every change
                self._history_error = str(error)
                self.notify(str(error), title="History", severity="error", timeout=15)
            return
        self._history_error = None
        self.saved = rows
        self._history_complete = len(rows) < size
        self.refresh_state()

    def on_conversation_list_more_wanted(self) -> None:
        self._more_history()

    @work(group="history-more", exclusive=True)
    async def _more_history(self) -> None:
        history = self.session.history
        if history is None or self._history_complete:
            return
        try:
            rows = await history.read(lambda store: store.list_conversations(len(self.saved), HISTORY_PAGE))
        except StoreError as error:
            self.notify(str(error), severity="error")
            return
        known = {s.id for s in self.saved}
        self.saved += [r for r in rows if r.id not in known]
        self._history_complete = len(rows) < HISTORY_PAGE
        self.refresh_state()

    async def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option_list.id == "conversation-list" and event.option.id:
            await self.open_saved(event.option.id)
            if self._narrow:
                self._show_list(False)  # shown only to choose: the conversation needs the room

    async def on_conversation_list_command_requested(self, event: ConversationList.CommandRequested) -> None:
        if event.command == "rename":
            self.action_rename(event.conversation_id)
        elif event.command == "archive":
            await self.action_archive(event.conversation_id)
        elif event.command == "delete":
            self.action_delete(event.conversation_id)

    def _target(self, conversation_id: str | None) -> tuple[str, str] | None:
        """(id, title) of the given conversation (by default the visible one) if it is
        saved. One that is not (a blank one, or a draft: its words are only in the
        composer) has nothing to rename, archive or delete, and is left as it is."""
        pane = self.active_pane if conversation_id is None else self.pane_for(conversation_id)
        if pane is not None:
            if pane.conversation.saved:
                return pane.conversation.id, pane.conversation.display_title
        elif conversation_id is not None:
            summary = next((s for s in self.saved if s.id == conversation_id), None)
            return conversation_id, summary.title if summary else conversation_id
        self.notify("This conversation has not been saved yet: send a message first.", severity="warning")
        return None

    async def _close_if_open(self, ident: str, keep_list_focus: bool, keep_draft: bool = True) -> None:
        """Close the conversation's pane if it is open. A command given in the list keeps
        the focus there (Esc goes back to the composer)."""
        if pane := self.pane_for(ident):
            await self._close(pane, keep_draft)
            if keep_list_focus and self.query_one("#sidebar").display:
                self.query_one(ConversationList).focus()

    @work(group="dialog")
    async def action_rename(self, conversation_id: str | None = None) -> None:
        """Give a conversation a title."""
        if (target := self._target(conversation_id)) is None:
            return
        ident, title = target
        new = await self.app.push_screen_wait(TextPrompt("Rename conversation", title))
        if not new:
            return
        if await self._write(lambda store: store.rename(ident, new)):
            if pane := self.pane_for(ident):
                pane.conversation.title = new
            self.reload_history()

    async def action_archive(self, conversation_id: str | None = None) -> None:
        """Hide a conversation from the list; undone with "Unarchive a conversation"."""
        if (target := self._target(conversation_id)) is None:
            return
        ident, title = target
        if await self._write(lambda store: store.set_archived(ident, True)):
            stopped = ""
            if pane := self.pane_for(ident):
                pane.conversation.archived = True
                stopped = " Its reply was stopped; what arrived is kept." if pane.streaming else ""
            await self._close_if_open(ident, keep_list_focus=conversation_id is not None)
            self.notify(f"Archived “{title}”.{stopped} Ctrl+P → Unarchive a conversation brings it back.")
            self.reload_history()

    async def action_unarchive(self) -> None:
        """Choose an archived conversation to bring back."""
        history = self.session.history
        if history is None:
            return
        try:
            rows = await history.read(lambda store: store.list_conversations(0, 500, True))
        except StoreError as error:
            self.notify(str(error), severity="error")
            return
        if not rows:
            self.notify("No archived conversations.")
            return
        async def restore(ident: str) -> None:
            if await self._write(lambda store: store.set_archived(ident, False)):
                self.reload_history()
                await self.open_saved(ident)

        self.app.search_commands(
            [pick(r.title, lambda ident=r.id: restore(ident),
                  f"{r.model} · {r.updated:%Y-%m-%d %H:%M} · {r.message_count} msgs") for r in rows],
            placeholder="Unarchive which conversation?",
        )

    @work(group="dialog")
    async def action_delete(self, conversation_id: str | None = None) -> None:
        """Delete a conversation for good, after asking; one never sent (a draft) is
        discarded, after asking if anything was typed in it."""
        pane = self.active_pane if conversation_id is None else self.pane_for(conversation_id)
        if pane is not None and not pane.conversation.saved:
            words = pane.composer.text.strip()
            if (words or pane.attachments) and not await self.app.push_screen_wait(
                    Confirm(f"Discard the draft “{title_from(words) or 'attachments'}”?", "Discard")):
                return
            await self._close_if_open(pane.conversation.id, keep_list_focus=conversation_id is not None,
                                      keep_draft=False)
            self.notify("Draft discarded." if words or pane.attachments else "Closed the blank conversation.")
            return
        if (target := self._target(conversation_id)) is None:
            return
        ident, title = target
        if not await self.app.push_screen_wait(Confirm(f"Delete “{title}” and all its messages for good?", "Delete", read_first=True)):
            return
        if await self._write(lambda store: store.delete(ident)):
            await self._close_if_open(ident, keep_list_focus=conversation_id is not None, keep_draft=False)
            self.notify(f"Deleted “{title}”.")
            self.reload_history()

    @work(group="dialog")
    async def action_export(self, kind: str) -> None:
        """Write the visible conversation to a file."""
        pane = self.active_pane
        if pane is None or not pane.conversation.messages:
            self.notify("Nothing to export yet.", severity="warning")
            return
        if pane.conversation.has_older:
            await pane.load_older(None)
        stem = _file_stem(pane.conversation.display_title)
        path, problem = str(Path.cwd() / f"{stem}.{kind}"), ""
        while True:  # a path that cannot be written is asked again, as typed, with why
            target = await ask_for_file(self.app, f"Export as {'Markdown' if kind == 'md' else 'JSON'} to",
                                        path, problem)
            if target is None:
                return
            path = str(target)
            try:
                if not await asyncio.to_thread(target.parent.exists):  # asked first, as saving an image does
                    if not await self.app.push_screen_wait(
                            Confirm(f"There is no folder {defuse(str(target.parent))}. Make it?", "Make it")):
                        problem = "Not written: choose a folder that exists, or let t502 make it"
                        continue
                    await asyncio.to_thread(new_dirs, target.parent)
                done = await self._export(pane, kind, target)
            except OSError as error:
                problem = f"Could not write {target}: {error.strerror or error}. Enter tries again · Esc cancels"
                continue
            self.notify(done)
            return

    async def _export(self, pane: ConversationPane, kind: str, target: Path) -> str:
        """Write ``pane``'s conversation to ``target``; what was written, in words."""
        if kind == "md":
            images = await asyncio.to_thread(write_markdown, pane.conversation, target)
            return f"Wrote {target}" + (f" and {images} image{'s' if images != 1 else ''} beside it" if images else "")
        # Complete, like `t502 history export`: every branch, not just the one in view.
        history = self.session.history
        tree = None
        if history is not None and pane.conversation.saved:
            ident = pane.conversation.id
            try:
                tree = await history.read(lambda store: store.all_messages(ident))
            except StoreError as error:
                self.notify(f"Exported the branch in view only: {error}", severity="warning")
        await asyncio.to_thread(write_private, target, to_json(pane.conversation, tree))
        return f"Wrote {target}"

    def on_key(self, event: events.Key) -> None:
        # A letter that came while nothing had the focus: while a search hit opens, kept
        # for its composer; once the composer has the focus (the letter was on its way),
        # typed into it. A letter a list or a view leaves is theirs: their keys act on it.
        if not (event.is_printable and event.character):
            return
        if self._typed_ahead is not None:
            event.stop()
            self._typed_ahead.append(event.character)
        elif (self.focused is None or isinstance(self.focused, Composer)) and (pane := self.active_pane):
            event.stop()
            pane.composer.focus()
            pane.composer.insert(event.character)

    def on_conversation_list_search_typed(self, event: ConversationList.SearchTyped) -> None:
        event.stop()
        screen = self._typed_search
        if screen is not None and (not screen.is_mounted or screen.is_active):  # the burst goes on
            screen.type(event.character)
        else:
            self._typed_search = self.action_search(event.character)

    def action_search(self, typed: str = "") -> SearchScreen | None:
        """Search every saved message (starting from ``typed``, a letter typed in the list);
        the search screen, if one opened."""
        history = self.session.history
        if history is None:
            self._no_history("there is nothing to search")
            return None

        async def chosen(choice: SearchChoice | None) -> None:
            self.query_one(ConversationList).end_burst()
            try:
                if choice is not None:
                    await self.open_saved(choice.conversation_id, choice.message_id, choice.words)
            finally:
                ahead = "".join((choice.typed_after if choice else []) + (self._typed_ahead or []))
                self._typed_ahead = None
            pane = self.active_pane
            if pane is not None and ahead:
                pane.composer.focus()
                pane.composer.insert(ahead)
            elif choice is None and before is not None and before.is_attached:
                before.focus()  # where the user was
            elif pane is not None:
                # The composer, not the messages: a word typed just after the hit opened
                # ran their one-letter keys (d Delete, k leave out). Shift+Tab chooses the hit.
                pane.composer.focus()

        # Nothing here has the focus while the search is up and, after it, until what it
        # chose is open: a word typed meanwhile is kept (on_key) for the composer, not
        # taken as message keys on the hit or left in the composer of the one left.
        before, self._typed_ahead = self.focused, []
        self.set_focus(None)
        screen = SearchScreen(history, typed)
        self.app.push_screen(screen, chosen)
        return screen



def _file_stem(title: str, longest: int = 40) -> str:
    """A file name's stem made from a title: its words joined by ``-``, as many whole ones
    as fit in ``longest`` characters (a long first word is cut)."""
    words = [w for w in re.split(r"[^\w]+", title) if w]
    stem = ""
    for word in words:
        joined = f"{stem}-{word}" if stem else word
        if len(joined) > longest:
            break
        stem = joined
    return stem or (words[0][:longest] if words else "conversation")
