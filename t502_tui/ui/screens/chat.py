"""The main screen: conversation list, the open conversations, status line and footer."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import ContentSwitcher, Footer, OptionList, Static

from t502_tui.conversation import Conversation
from t502_tui.ui.widgets.conversation_pane import ConversationPane
from t502_tui.ui.widgets.sidebar import ConversationList
from t502_tui.ui.widgets.status_line import StatusLine

if TYPE_CHECKING:
    from t502_tui.ui.app import T502App


class ChatScreen(Screen[None]):
    """Orchestrates the panes; each pane does its own sending and streaming."""

    BINDINGS = [
        Binding("escape", "cancel", "Stop reply", id="cancel"),
        Binding("ctrl+o", "switch_model", "Model", id="switch_model"),
        Binding("ctrl+n", "new_conversation", "New", id="new_conversation"),
        Binding("ctrl+r", "retry", "Retry", id="retry"),
        Binding("ctrl+l", "copy_last_reply", "Copy reply", id="copy_last_reply"),
        Binding("ctrl+b", "toggle_sidebar", "Sidebar", id="toggle_sidebar"),
        Binding("f1", "help", "Help", id="help"),
    ]

    @property
    def t502(self) -> T502App:
        return cast("T502App", self.app)

    def compose(self) -> ComposeResult:
        with Horizontal(id="body"):
            with Vertical(id="sidebar"):
                yield Static("Conversations", id="sidebar-title")
                yield ConversationList(id="conversation-list")
            with Vertical(id="main"):
                yield ContentSwitcher(id="panes")
                yield StatusLine(id="status")
        yield Footer()

    async def on_mount(self) -> None:
        for conversation in self.t502.initial_conversations:
            await self.open_conversation(conversation)
        if not self.panes:
            await self.new_conversation()

    # -- panes -----------------------------------------------------------------------------

    @property
    def panes(self) -> list[ConversationPane]:
        return list(self.query(ConversationPane))

    @property
    def active_pane(self) -> ConversationPane | None:
        switcher = self.query_one(ContentSwitcher)
        if switcher.current is None:
            return None
        return switcher.get_child_by_id(switcher.current, ConversationPane)

    async def new_conversation(self) -> ConversationPane:
        """Open an empty conversation with the current model and default system prompt."""
        return await self.open_conversation(
            Conversation(model=self.t502.default_model, system_prompt=self.t502.config.system_prompt)
        )

    async def open_conversation(self, conversation: Conversation) -> ConversationPane:
        """Show ``conversation`` in a pane of its own and bring it to the front."""
        pane = ConversationPane(conversation, id=f"c-{conversation.id}")
        await self.query_one(ContentSwitcher).mount(pane)
        self.show_pane(pane)
        return pane

    def show_pane(self, pane: ConversationPane) -> None:
        """Bring ``pane`` to the front and put the cursor in its composer."""
        self.query_one(ContentSwitcher).current = pane.id
        pane.composer.focus()
        self.refresh_state()

    def refresh_state(self) -> None:
        """Redraw the sidebar, the status line and the footer's key hints."""
        active = self.active_pane
        self.query_one(ConversationList).show(
            [(p.conversation, p.streaming) for p in self.panes],
            active.conversation.id if active else None,
        )
        if active:
            self.query_one(StatusLine).show(
                active.conversation.model,
                active.conversation.total_usage(),
                self.t502.connection,
                self.t502.client.host,
            )
        self.refresh_bindings()

    def on_conversation_pane_changed(self, event: ConversationPane.Changed) -> None:
        self.refresh_state()

    @on(OptionList.OptionSelected, "#conversation-list")
    def _conversation_chosen(self, event: OptionList.OptionSelected) -> None:
        pane = self.query_one(ContentSwitcher).get_child_by_id(f"c-{event.option.id}", ConversationPane)
        self.show_pane(pane)

    # -- actions ------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        pane = self.active_pane
        if action == "cancel":
            return bool(pane and pane.streaming)
        if action == "retry":
            return bool(pane and pane.can_retry)
        return True

    def action_cancel(self) -> None:
        """Stop the reply streaming in the visible conversation."""
        if (pane := self.active_pane) and pane.cancel_reply():
            self.notify("Reply stopped; what arrived is kept.")

    async def action_retry(self) -> None:
        """Send the last message again."""
        pane = self.active_pane
        if pane and not await pane.retry():
            self.notify("Nothing to retry: the last reply is complete.")

    async def action_new_conversation(self) -> None:
        """Start a new conversation."""
        await self.new_conversation()

    async def action_close_conversation(self) -> None:
        """Close the visible conversation (stopping its reply)."""
        pane = self.active_pane
        if pane is None:
            return
        pane.cancel_reply()
        others = [p for p in self.panes if p is not pane]
        await pane.remove()
        if others:
            self.show_pane(others[-1])
        else:
            await self.new_conversation()

    def action_toggle_sidebar(self) -> None:
        """Show or hide the conversation list."""
        sidebar = self.query_one("#sidebar")
        sidebar.display = not sidebar.display

    def action_switch_model(self) -> None:
        """Open the model picker for the visible conversation."""
        self.t502.open_model_picker()

    def action_copy_last_reply(self) -> None:
        """Copy the newest reply of the visible conversation."""
        pane = self.active_pane
        reply = pane.last_reply() if pane else None
        if reply is None:
            self.notify("There is no reply to copy yet.", severity="warning")
            return
        self.app.copy_to_clipboard(reply.content)
        self.notify("Reply copied to the clipboard")

    def action_help(self) -> None:
        """Show the keys."""
        self.t502.show_help()
