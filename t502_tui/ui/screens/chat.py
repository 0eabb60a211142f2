"""The main screen: conversation list, the open conversations, status line and footer."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, cast

from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.actions import SkipAction
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import ContentSwitcher, Static

from t502_tui.context_fit import request_tokens
from t502_tui.conversation import ChatMessage, Conversation
from t502_tui.export import to_markdown
from t502_tui.keys import ACTIONS, key_label
from t502_tui.media import MediaState
from t502_tui.presets import Preset, presets_of
from t502_tui.reply_media import downloads_dir, media_items, unique_path, write_image
from t502_tui.request_params import settings_summary
from t502_tui.service import ServiceError
from t502_tui.service.addresses import display_host
from t502_tui.session import ChatSession
from t502_tui.store import ConversationSummary, StoreError
from t502_tui.terminal_text import defuse, visible_name
from t502_tui.ui.clipboard import copy
from t502_tui.ui.screens.attach import AttachScreen
from t502_tui.ui.screens.conversation_settings import ConversationSettings, ConversationSettingsScreen
from t502_tui.ui.screens.dialogs import Confirm, ask_for_file, pick
from t502_tui.ui.screens.fit_offer import offer_after_refusal, offer_before_sending
from t502_tui.ui.screens.image_view import ImageScreen
from t502_tui.ui.screens.preset_picker import PresetPicker
from t502_tui.ui.screens.saved_conversations import SavedConversations
from t502_tui.ui.screens.system_prompt import SystemPromptEditor
from t502_tui.ui.widgets.composer import Composer
from t502_tui.ui.widgets.conversation_pane import VISIBLE_AT_OPEN, ConversationPane
from t502_tui.ui.widgets.conversation_view import ConversationView
from t502_tui.ui.widgets.frames import Column, Panes, Row
from t502_tui.ui.widgets.key_hints import KeyHints
from t502_tui.ui.widgets.sidebar import ConversationList
from t502_tui.ui.widgets.status_line import StatusFacts, StatusLine

if TYPE_CHECKING:
    from t502_tui.ui.app import T502App

NARROW_BELOW = 100
"""Terminals narrower than this (columns) hide the conversation list until Ctrl+B."""
APP_ACTIONS = {"send", "newline", "command_palette", "quit"}
"""Actions bound elsewhere: the composer sends and makes new lines, the app the rest."""
METER_DELAY = 0.3
"""The context meter follows typing, redrawn this long after the last key."""


class ChatScreen(SavedConversations, Screen[None]):
    """Orchestrates the panes and the history list; each pane does its own streaming."""

    BLANK = True
    """The screen draws nothing of its own: its widgets cover it (see :mod:`frames`)."""

    AUTO_FOCUS = ""
    """Nothing is focused for the user: the composer is, once its pane is shown (Textual's
    default would focus the list for a moment at start, and type-ahead would land there)."""

    # Priority: a key the user rebinds here wins over the composer's own editing keys.
    BINDINGS = [
        Binding(action.keys.split(",")[0], action.name, action.label, show=action.footer, id=action.name,
                priority=True)
        for action in ACTIONS if action.name not in APP_ACTIONS
    ] + [
        # The cancel key's other meaning, with its own words in the footer (``[keys]``
        # rebinds both: they share the id).
        Binding("escape", "cancel_edit", "Cancel edit", id="cancel", priority=True),
        # The retry key with nothing to retry: not offered in the footer, but it says why.
        Binding("ctrl+r", "retry_unavailable", "Retry", show=False, id="retry", priority=True),
        Binding("ctrl+c,super+c", "copy_selection", "Copy", show=False),
    ]

    def __init__(self, session: ChatSession) -> None:
        super().__init__()
        self.session = session
        self.saved: list[ConversationSummary] = []
        """The loaded part of the history, newest first."""
        self._history_complete = False
        self._history_error: str | None = None
        """The last failure to read the history list that was shown."""
        self._key_states: tuple[bool | None, ...] = ()
        """Whether cancel and retry were enabled when the footer was last drawn."""
        self._meter_timer: Timer | None = None
        self._narrow: bool | None = None
        """The terminal was narrower than NARROW_BELOW when last measured."""
        self._list_hidden_by_user = False
        """Ctrl+B hid the list in a wide terminal: it stays hidden, whatever the width."""

    @property
    def t502(self) -> T502App:
        return cast("T502App", self.app)

    def compose(self) -> ComposeResult:
        with Row(id="body"):
            with Vertical(id="sidebar"):
                yield Static("Conversations", id="sidebar-title")
                yield ConversationList(id="conversation-list")
            with Column(id="main"):
                yield Panes(id="panes")
                yield StatusLine(id="status")
        yield KeyHints(first=("leave", "cancel", "cancel_edit", "help"))  # Esc's ways out, then F1

    async def on_mount(self) -> None:
        try:
            for conversation in self.t502.initial_conversations:
                await self.open_conversation(conversation)
            if not self.panes:
                await self.new_conversation()
        except NoMatches:  # t502 was closed while it started: its widgets are gone
            pass

    # -- panes -----------------------------------------------------------------------------

    @property
    def panes(self) -> list[ConversationPane]:
        return list(self.query(ConversationPane))

    @property
    def active_pane(self) -> ConversationPane | None:
        switcher = self.query_one(ContentSwitcher)
        if switcher.current is None:
            return None
        try:
            return switcher.get_child_by_id(switcher.current, ConversationPane)
        except NoMatches:  # it is being closed: the footer may ask meanwhile
            return None

    def pane_for(self, conversation_id: str) -> ConversationPane | None:
        """The open pane of a conversation, if it is open."""
        return next((p for p in self.panes if p.conversation.id == conversation_id), None)

    async def new_conversation(self, preset: Preset | None = None, *, front: bool = True) -> ConversationPane:
        """Open an empty conversation with the current model, default system prompt and
        settings, or with what ``preset`` holds instead (behind the one in front, unless
        ``front``)."""
        config = self.t502.config
        provider, model = self.session.split(preset.model if preset and preset.model else self.t502.default_model)
        conversation = Conversation(model=model, provider=provider, system_prompt=config.system_prompt)
        if preset is not None:
            if preset.system_prompt is not None:
                conversation.system_prompt = preset.system_prompt
            conversation.settings = dict(preset.params)
            conversation.preset = preset.name
        return await self.open_conversation(conversation, front=front)

    async def _blank_conversation(self) -> None:
        """A new blank conversation in front, in place of any open one with nothing in it
        (no message, draft, attachment, preset or setting of its own): blanks do not pile
        up, and the new one has the model and settings in force now."""
        blanks = [p for p in self.panes if self._blank(p)]
        await self.new_conversation()
        for pane in blanks:
            await pane.remove()
        self.refresh_state()

    def _blank(self, pane: ConversationPane) -> bool:
        """Nothing in it: no message, draft, attachment, preset or setting of its own."""
        conversation = pane.conversation
        return (not conversation.messages and not conversation.preset and not conversation.settings
                and conversation.system_prompt == self.t502.config.system_prompt
                and not pane.composer.text.strip() and not pane.attachments)

    async def open_conversation(self, conversation: Conversation, *, front: bool = True) -> ConversationPane:
        """Show ``conversation`` in a pane of its own and bring it to the front (with
        ``front``; else it is only listed)."""
        pane = ConversationPane(conversation, self.session, keys=self.t502.keys, id=f"c-{conversation.id}")
        pane.display = front  # the switcher hides only what is there when it mounts or switches
        await self.query_one(ContentSwitcher).mount(pane)
        if front:
            self.show_pane(pane)
        else:
            self.refresh_state()
        return pane

    async def open_saved(self, conversation_id: str, message_id: int | None = None,
                         words: Sequence[str] = ()) -> None:
        """Bring a saved conversation to the front, reading it from the store if needed.

        With ``message_id`` (a search hit), the branch holding that message is shown, and
        the view scrolls to it (to where it holds ``words``, the search's).
        """
        left = self.active_pane
        pane = self.pane_for(conversation_id)
        history = self.session.history
        shown = pane is not None and (
            message_id is None or any(m.id == message_id for m in pane.conversation.messages)
        )
        if pane is not None and (shown or pane.streaming):
            self.show_pane(pane)
            if not shown:  # the hit is on another branch, which would end the reply
                self.notify("That message is on another branch of this conversation, which is streaming a"
                            " reply: search again once it ends (or Esc stops it).", severity="warning")
        elif history is not None:
            try:
                conversation = await history.read(
                    lambda store: store.load_conversation(conversation_id, VISIBLE_AT_OPEN, message_id))
            except StoreError as error:
                self.notify(str(error), severity="error")
                return
            if pane is not None:
                await pane.remove()  # it showed another branch
            pane = await self.open_conversation(conversation)
            try:
                draft = await history.read(lambda store: store.take_draft(conversation_id))
            except StoreError:
                draft = ""
            if draft:
                pane.composer.restore(draft)
        if pane is not None and message_id is not None:
            await pane.show_message(message_id, words)
        if left is not None and left is not self.active_pane and self._blank(left):
            await left.remove()  # a blank left for a saved one is not kept listed
            self.refresh_state()

    async def reopen_drafts(self, drafts: list[tuple[str, str]], heads: dict[str, str] | None = None) -> None:
        """Bring back text typed in new conversations when t502 last closed, each in its
        own pane (the empty one open now takes the newest), with what else was set in it
        (``heads``: system prompt, parameters, model). Someone already typing in the pane
        in front (they read a moment after start) keeps it in front: their keys do not
        land after a draft brought in under the cursor."""
        front = self.active_pane
        typing = front is not None and bool(front.composer.text.strip())
        taken: set[ConversationPane] = set()
        for ident, text in reversed(drafts):
            pane = self.active_pane
            if typing or pane is None or pane in taken or pane.conversation.messages or pane.composer.text:
                pane = await self.new_conversation(front=not typing)
            taken.add(pane)
            if heads and ident in heads:
                pane.conversation.take_head(heads[ident])
            if text:  # (one kept for its head alone has no words)
                pane.composer.restore(text, at_start=True)
        self.refresh_state()
        if typing:
            self._drafts_listed(len(drafts))
        if drafts and self.session.history is not None:
            await self.session.history.write(lambda store: store.save_drafts({i: "" for i, _ in drafts}))

    async def on_composer_draft_displaced(self, event: Composer.DraftDisplaced) -> None:
        """Keys typed before a draft came back stay where they were typed; the draft
        moves to a conversation of its own, listed."""
        pane = await self.new_conversation(front=False)
        pane.composer.restore(event.draft)
        self._drafts_listed(1)

    def _drafts_listed(self, count: int) -> None:
        if count:
            many = f"{count} drafts" if count > 1 else "A draft"
            keys = key_label(self.t502.keys.get("toggle_sidebar", [])[:1])
            self.notify(f"{many} from last time reopened in the conversation list{f' ({keys})' if keys else ''}.",
                        title="Drafts")

    def show_pane(self, pane: ConversationPane) -> None:
        """Bring ``pane`` to the front and put the cursor in its composer."""
        self.query_one(ContentSwitcher).current = pane.id
        pane.composer.focus()
        self.refresh_state()
        if self.t502.started:
            self.t502.refresh_balance(pane.conversation.provider, first_time=True)

    def refresh_state(self) -> None:
        """Redraw the sidebar, the status line and the footer's key hints."""
        try:
            listing, status = self.query_one(ConversationList), self.query_one(StatusLine)
        except NoMatches:
            return  # t502 is closing: a read that finished late has nothing left to show
        active = self.active_pane
        saved_ids = {s.id for s in self.saved}
        panes = self.panes
        listing.show(
            [(p.conversation, p.streaming, p.composer.text) for p in reversed(panes)
             if p.conversation.id not in saved_ids],
            self.saved,
            {p.conversation.id for p in panes if p.streaming},
            active.conversation.id if active else None,
        )
        if active:
            status.show(self._status_facts(active))
        self._refresh_keys()

    def _refresh_keys(self) -> None:
        """Show the keys that come and go (Esc's meaning, Retry) as they are now."""
        key_states = tuple(self.check_action(action, ()) for action in ("cancel", "cancel_edit", "retry",
                                                                        "copy_last_reply"))
        if key_states != self._key_states:
            self._key_states = key_states
            self.refresh_bindings()

    def _status_facts(self, pane: ConversationPane) -> StatusFacts:
        """What the status line shows for ``pane``'s conversation."""
        session, conversation = self.session, pane.conversation
        name = session.provider_of(conversation)
        try:
            facts = session.facts(name)
            host = display_host(session.provider(name).base_url)
        except ServiceError:
            facts, host = None, f"no provider {name}"
        limit = pane.context_limit()
        context = None
        if limit is not None:
            length = session.context_for(conversation.provider, conversation.model) or limit
            context = (request_tokens(conversation, pane.composer.text, pane.attachments), length, limit)
        balance = facts.balance.left if facts is not None and facts.balance is not None else None
        return StatusFacts(
            session.ref(conversation.provider, conversation.model), conversation.total_usage(),
            pane.connection or self.t502.connection_of(name), host, conversation.preset,
            settings_summary(conversation.settings, session.config.params, conversation.model),
            conversation.total_cost(), context, balance, session.config.low_balance,
            conversation.unreported_replies(), session.history is not None and session.history.failing,
        )

    def on_text_area_changed(self, event: Composer.Changed) -> None:
        if isinstance(event.text_area, Composer):
            if self._meter_timer is not None:
                self._meter_timer.stop()
            self._meter_timer = self.set_timer(METER_DELAY, self._meter_due)

    def _meter_due(self) -> None:
        self._meter_timer = None
        if (pane := self.active_pane) is not None and pane.context_limit() is not None:
            self.query_one(StatusLine).show(self._status_facts(pane))

    def on_conversation_pane_changed(self, event: ConversationPane.Changed) -> None:
        if event.saved:
            self.reload_history()
        else:
            self.refresh_state()

    # -- actions ------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        pane = self.active_pane
        if action in ("cancel", "cancel_edit"):
            # On a chosen message or in the list, Esc first goes back to the composer.
            if pane is None or self.focused is pane.view or isinstance(self.focused, ConversationList):
                return False
            return pane.streaming if action == "cancel" else pane.editing is not None and not pane.streaming
        if action in ("retry", "retry_unavailable"):
            return bool(pane and pane.can_retry) == (action == "retry")
        if action in ("copy_last_reply", "scroll_bottom"):  # not offered in an empty conversation
            return pane is not None and bool(pane.conversation.messages)
        return True

    def action_cancel(self) -> None:
        """Stop the reply streaming in the visible conversation."""
        pane = self.active_pane
        if pane is not None and pane.cancel_reply():
            self.notify("Reply stopped; what arrived is kept." if pane.received else "Reply stopped before any text came.")
        else:  # asked from the command palette (Esc is a stop only while a reply streams)
            self.notify("No reply is streaming here.")

    def action_cancel_edit(self) -> None:
        """Leave edit mode (what was typed before it comes back; the message stays as it was)."""
        pane = self.active_pane
        if pane is not None and pane.cancel_edit():
            self._refresh_keys()

    async def action_regenerate(self) -> None:
        """Ask again for the last reply; the old one stays as another version."""
        pane = self.active_pane
        if pane and not await pane.regenerate():
            self._nothing_to_regenerate(pane)

    def _nothing_to_regenerate(self, pane: ConversationPane) -> None:
        self.notify("Nothing to regenerate: the last message is not a finished reply." if pane.conversation.messages
                    else "Nothing to regenerate yet: there is no reply in this conversation.", severity="warning")

    def action_regenerate_with(self) -> None:
        """Choose a model, then ask again for the last reply with it."""
        pane = self.active_pane
        if pane is None:
            return
        messages = pane.conversation.messages
        if not messages or messages[-1].role != "assistant":  # said before a model is picked for nothing
            self._nothing_to_regenerate(pane)
            return

        async def chosen(ref: str | None) -> None:
            if ref:
                await self.use_model(pane, ref)
                if not await pane.regenerate():
                    self._nothing_to_regenerate(pane)

        self.t502.pick_model(self.ref(pane), chosen, "Regenerate the last reply with")

    def action_edit_last(self) -> None:
        """Edit your last message and send it again as a new branch."""
        pane = self.active_pane
        users = [m for m in pane.conversation.messages if m.role == "user"] if pane else []
        if pane and users:
            pane.edit(users[-1])
        elif pane:
            self.notify("Nothing to edit yet: you have sent no message here.", severity="warning")

    def action_attach(self) -> None:
        """Choose an image for the next message."""
        pane = self.active_pane
        if pane is None:
            return

        async def chosen(paths: list[Path] | None) -> None:
            if paths:
                await pane.attach(*paths)

        self.app.push_screen(AttachScreen(), chosen)

    def action_copy_conversation(self) -> None:
        """Copy the visible conversation as Markdown."""
        if (pane := self.active_pane) and not pane.conversation.messages:
            self.notify("Nothing to copy yet: this conversation has no messages.", severity="warning")
        elif pane:
            copy(self.app, to_markdown(pane.conversation), "the conversation as Markdown")

    async def action_retry(self) -> None:
        """Send the last message again."""
        pane = self.active_pane
        if pane and not await pane.retry():
            self.action_retry_unavailable()

    def action_retry_unavailable(self) -> None:
        """Say why there is nothing to retry (the key is off: it would do nothing silently)."""
        pane = self.active_pane
        if pane is not None and pane.streaming:
            self.notify("A reply is still streaming: Esc stops it.", severity="warning")
        elif pane is None or not pane.conversation.messages:
            self.notify("Nothing to retry yet: send a message first.")
        else:
            self.notify("Nothing to retry: the last reply is complete.")

    async def action_new_conversation(self) -> None:
        """Start a new conversation: blank, or from a preset when the config has some."""
        presets = presets_of(self.t502.config)
        if not presets:
            self.t502.hold_keys()
            try:
                await self._blank_conversation()
            finally:
                if self.focused is None and (pane := self.active_pane) is not None:
                    pane.composer.focus()
                self.t502.release_keys()
            return

        async def chosen(choice: Preset | str | None) -> None:
            if isinstance(choice, Preset):
                await self.new_conversation(choice)
            elif choice is not None:
                await self._blank_conversation()

        self.app.push_screen(PresetPicker(presets, self.t502.config.params), chosen)

    async def action_close_conversation(self) -> None:
        """Close the visible conversation (stopping its reply)."""
        pane = self.active_pane
        if pane is not None:
            await self._close(pane)

    async def _close(self, pane: ConversationPane, keep_draft: bool = True) -> None:
        """Close ``pane``; what was typed in a saved conversation is kept with it (opened
        again, it is there), unless the conversation is being deleted."""
        history, text, ident = self.session.history, pane.draft, pane.conversation.id
        if keep_draft and pane.conversation.saved and text.strip() and history is not None:
            await history.write(lambda store: store.save_drafts({ident: text}))
        pane.cancel_reply()
        others = [p for p in self.panes if p is not pane]
        if pane is self.active_pane:  # (closing one in the background leaves the one read in front)
            if others:
                self.show_pane(others[-1])
            else:
                await self.new_conversation()
        await pane.remove()  # after another is in front: one always is
        self.refresh_state()

    def action_toggle_sidebar(self) -> None:
        """Show and focus the conversation list; hide it when it has the focus."""
        listing = self.query_one(ConversationList)
        if self.query_one("#sidebar").display and listing.has_focus:
            self._show_list(False)
            self._list_hidden_by_user = not self._narrow
        else:
            self._show_list(True)
            self._list_hidden_by_user = False
            listing.focus()
            self.reload_history()  # `t502 ask` may have saved some meanwhile

    def on_conversation_list_left(self, event: ConversationList.Left) -> None:
        """Esc in the list: back to the composer; a narrow terminal has no room to keep it."""
        if self._narrow:
            self._show_list(False)
        elif pane := self.active_pane:
            pane.composer.focus()

    def _show_list(self, show: bool) -> None:
        """Show or hide the conversation list; the composer gets the focus it had."""
        sidebar = self.query_one("#sidebar")
        if not show and sidebar.has_focus_within and (pane := self.active_pane):
            pane.composer.focus()
        sidebar.display = show

    def on_resize(self, event: events.Resize) -> None:
        self._fit_list()

    def on_screen_resume(self) -> None:
        self._fit_list()  # the terminal may have changed size under a dialog

    def _fit_list(self) -> None:
        """Below NARROW_BELOW columns the list hides; wide again, it comes back (unless
        the user hid it there). Only a crossing changes it: Ctrl+B's choice holds."""
        narrow = self.app.size.width < NARROW_BELOW
        if narrow != self._narrow:
            self._narrow = narrow
            self._show_list(not narrow and not self._list_hidden_by_user)

    def action_switch_model(self) -> None:
        """Choose the model for the next message of the visible conversation."""
        pane = self.active_pane
        if pane is None:
            return

        async def chosen(ref: str | None) -> None:
            if ref and await self.use_model(pane, ref):
                self.notify(f"Next replies come from {visible_name(self.ref(pane))}")

        self.t502.pick_model(self.ref(pane), chosen)

    def ref(self, pane: ConversationPane) -> str:
        """The pane's model as the user names it (``PROVIDER/MODEL`` off the default provider)."""
        return self.session.ref(pane.conversation.provider, pane.conversation.model)

    async def use_model(self, pane: ConversationPane, ref: str) -> bool:
        """Make ``ref`` (a bare model is of the conversation's provider) the model of the
        pane's next replies; False when it already is. The whole history goes to it."""
        conversation = pane.conversation
        provider, model = self.session.split(ref, conversation.provider)
        if (provider, model) == (conversation.provider, conversation.model):
            return False
        conversation.provider, conversation.model = provider, model
        self.t502.note_model_used(self.session.ref(provider, model))
        if conversation.saved and self.session.history is not None:
            await self.session.history.save_conversation(conversation)
        self.refresh_state()
        self.t502.refresh_balance(provider, first_time=True)
        return True

    def action_conversation_settings(self) -> None:
        """Set this conversation's system prompt, temperature, top_p, max tokens and
        reasoning effort."""
        pane = self.active_pane
        if pane is None:
            return
        conversation = pane.conversation

        async def done(result: ConversationSettings | None) -> None:
            if result is None:
                return
            conversation.system_prompt, conversation.settings = result.system_prompt, result.settings
            if conversation.saved and self.session.history is not None:
                await self.session.history.save_conversation(conversation)
            self.refresh_state()
            shown = settings_summary(conversation.settings, self.session.config.params, conversation.model)
            prompt = "its system prompt" if conversation.system_prompt.strip() else "no system prompt"
            self.notify(f"This conversation now uses {prompt} and "
                        + (", ".join(shown) if shown else "the default parameters"), markup=False)

        self.app.push_screen(ConversationSettingsScreen(
            conversation.system_prompt, conversation.settings, self.session.config.params,
            self.ref(pane), conversation.preset), done)

    def action_refresh_balance(self) -> None:
        """Ask the visible conversation's provider what is left on the key."""
        pane = self.active_pane
        self.t502.refresh_balance(pane.conversation.provider if pane else "", asked=True)

    # -- the model's context ------------------------------------------------------------

    def on_conversation_pane_wont_fit(self, event: ConversationPane.WontFit) -> None:
        event.stop()
        offer_before_sending(self, event.pane, event.tokens, event.limit)

    def on_conversation_pane_reply_finished(self, event: ConversationPane.ReplyFinished) -> None:
        event.stop()
        self.t502.refresh_balance(event.pane.conversation.provider)
        offer_after_refusal(self, event.pane, event.reply, event.error)

    def action_edit_system_prompt(self) -> None:
        """Edit the visible conversation's system prompt."""
        pane = self.active_pane
        if pane is None:
            return

        async def done(prompt: str | None) -> None:
            if prompt is None:
                return
            pane.conversation.system_prompt = prompt
            if pane.conversation.saved and self.session.history is not None:
                await self.session.history.save_conversation(pane.conversation)
            self.notify("System prompt set" if prompt else "System prompt removed")

        self.app.push_screen(SystemPromptEditor(pane.conversation.system_prompt, self.session.config.system_role), done)

    def action_copy_code_block(self) -> None:
        """Pick one of the code blocks of the visible conversation to copy."""
        pane = self.active_pane
        blocks = pane.conversation.code_blocks() if pane else []
        if not blocks:
            self.notify("No code blocks in this conversation.", severity="warning")
            return

        def copier(code: str) -> None:
            copy(self.app, code, "the code block")

        self.app.search_commands(
            [pick(" ".join(code.split())[:60] or "(empty)", lambda code=code: copier(code),
                  f"{len(code.splitlines())} lines") for code in blocks],
            placeholder="Copy which code block?",
        )

    def on_conversation_view_action_requested(self, event: ConversationView.ActionRequested) -> None:
        """Delete a message of the visible conversation, after asking; save or view one
        of its images."""
        pane, message = self.active_pane, event.message
        if event.action == "save" and pane is not None:
            event.stop()
            self.save_media(pane, message, event.item)
        elif event.action == "view" and pane is not None:
            event.stop()
            item = pane.media_item(message, event.item)
            if item is not None and item.image is not None:
                self.app.push_screen(ImageScreen(item.image))
            elif item is not None:
                self.notify("Only images are shown here; o opens a video.", severity="warning")
        if event.action != "delete":
            return
        event.stop()
        if pane is None:
            return
        if pane.streaming:
            self.notify("Wait for the reply to finish (or stop it with Esc) first.", severity="warning")
            return

        async def confirmed(yes: bool | None) -> None:
            if yes and not await pane.delete(message):
                self.notify("Nothing was deleted: that message is no longer shown.", severity="warning")

        what = "your message" if message.role == "user" else f"this reply from {visible_name(message.writer)}"
        messages = pane.conversation.messages
        after = len(messages) - 1 - messages.index(message) if message in messages else 0
        if message.alternative_label:
            following = f" and the {after} message{'s' if after != 1 else ''} after it" if after else ""
            question = f"Delete this version of {what}{following}? Its other versions stay."
        else:
            question = f"Delete {what}?" + (" What followed it stays." if after else "")
        self.app.push_screen(Confirm(question, "Delete", read_first=True), confirmed)

    def act_on_media(self, action: str) -> None:
        """``action`` (open, save, copy_path, view, download) on the image or link chosen
        in the visible conversation, or on the newest reply's (from the palette)."""
        pane = self.active_pane
        if pane is None:
            return
        view = pane.view
        chosen = view.chosen_message
        if chosen is None or not media_items(chosen):
            chosen = next((m for m in reversed(pane.conversation.messages) if media_items(m)), None)
        if chosen is None:
            self.notify("No reply here has images or media links.", severity="warning")
            return
        view.post_message(ConversationView.ActionRequested(chosen, action, view.chosen_item_of(chosen)))

    @work(group="dialog")
    async def save_media(self, pane: ConversationPane, message: ChatMessage, index: int) -> None:
        """Save one of a reply's images (or fetch its video) to a path the user types,
        the downloads folder by default; a file already there is replaced only if the
        user says so."""
        item = pane.media_item(message, index)
        if item is None:
            return
        if item.image is None and (item.link is None or item.link.kind != "video"):
            self.notify("That image is not downloaded yet: r downloads it.", severity="warning")
            return
        folder = downloads_dir()
        default = await asyncio.to_thread(unique_path, folder, item.name)
        what = "image" if item.image is not None else "video"
        target = await ask_for_file(self.app, f"Save the {what} as", str(default))
        if target is None:
            return
        parent = target.parent
        if parent != folder and not await asyncio.to_thread(parent.exists) and not await self.app.push_screen_wait(
                Confirm(f"There is no folder {defuse(str(parent))}. Make it?", "Make it")):
            self.notify(f"The {what} was not saved.")  # a typo in a path should not leave folders behind
            return
        if item.image is None:
            assert item.link is not None
            pane.download_video(message, item.link, target)
            return
        try:
            path = await asyncio.to_thread(write_image, item.image, target)
        except OSError as error:
            if error.filename and Path(error.filename) != target:  # on the way: a folder to make
                self.notify(f"Could not make the folder {defuse(str(error.filename))}: {error.strerror or error}",
                            severity="error")
            else:
                self.notify(f"Could not write {defuse(str(target))}: {error.strerror or error}", severity="error")
            return
        except ValueError as error:  # a NUL in the path
            self.notify(f"Could not write {defuse(str(target))}: {error}", severity="error")
            return
        message.media.setdefault(item.key, MediaState()).path = path
        pane.media_changed(message)
        self.notify(f"Saved the image as {path}")

    def action_copy_last_reply(self) -> None:
        """Copy the newest reply of the visible conversation."""
        pane = self.active_pane
        reply = pane.last_reply() if pane else None
        if reply is None:
            self.notify("There is no reply to copy yet.", severity="warning")
            return
        copy(self.app, reply.content, "the reply")

    def action_copy_selection(self) -> None:
        """Copy the text selected with the mouse (Ctrl+C); other keys' Ctrl+C otherwise."""
        text = self.get_selected_text()
        if not text:
            raise SkipAction()
        copy(self.app, text, "the selected text")

    def action_scroll_up(self) -> None:
        """The conversation up a page (the composer keeps the cursor)."""
        if pane := self.active_pane:
            pane.view.page(-1)

    def action_scroll_down(self) -> None:
        """The conversation down a page."""
        if pane := self.active_pane:
            pane.view.page(1)

    def action_scroll_top(self) -> None:
        """The top of the conversation (older messages come as it gets there)."""
        if pane := self.active_pane:
            pane.view.action_top()

    def action_scroll_bottom(self) -> None:
        """The newest text, followed from now on."""
        if pane := self.active_pane:
            pane.view.follow()

    def action_help(self) -> None:
        """Show the keys."""
        self.t502.show_help()

    def action_settings(self) -> None:
        """Open the settings."""
        self.t502.open_settings()
