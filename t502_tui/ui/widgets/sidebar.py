"""The conversation list on the left."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from t502_tui.conversation import Conversation


class ConversationList(OptionList):
    """One row per open conversation; a dot marks one that is streaming."""

    def show(self, conversations: list[tuple[Conversation, bool]], active_id: str | None) -> None:
        """Redraw the rows, keeping the active one highlighted."""
        options = []
        for conversation, streaming in conversations:
            label = Content.assemble(
                ("● " if streaming else "  ", "$accent"), conversation.display_title
            )
            options.append(Option(label, id=conversation.id))
        self.set_options(options)
        for index, (conversation, _) in enumerate(conversations):
            if conversation.id == active_id:
                self.highlighted = index
