"""Writing to a store in tests the way the turn engine does: parent set, result applied."""

from __future__ import annotations

from t502_tui.conversation import ChatMessage, Conversation
from t502_tui.store import Store


def append(store: Store, conversation: Conversation, message: ChatMessage) -> ChatMessage:
    """Save ``message`` after the conversation's last message (adding it to the list if it
    is not there yet, in place if it is) and give it the id and versions the store chose."""
    messages = conversation.messages
    if message not in messages:
        messages.append(message)
    index = messages.index(message)
    if message.parent_id is None and index:
        message.parent_id = messages[index - 1].id
    saved = store.add_message(conversation, message)
    message.id, message.alternatives = saved.id, saved.alternatives
    conversation.saved = True
    return message
