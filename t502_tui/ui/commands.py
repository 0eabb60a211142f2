"""The command palette's entries (Ctrl+P): every command t502 has, by name.

Listed here, in the order people look for them, apart from the screens that carry them
out; the keys named in the help texts are the defaults (F1 shows the keys in force).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from textual.app import SystemCommand
from textual.screen import Screen

from t502_tui.ui.screens.chat import ChatScreen

if TYPE_CHECKING:
    from t502_tui.ui.app import T502App


def app_commands(app: T502App, screen: Screen) -> Iterator[SystemCommand]:
    """The commands for ``screen``: the app's own, and the chat's when it is in front.
    Of two titles matching what was typed as well, the one listed first comes first:
    "settings" finds Settings before Conversation settings."""
    # The palette matches titles only: the words people look for are in it ("key", "url").
    yield SystemCommand("Settings: server URL, API key, default model…", "Also the system prompt, theme,"
                        " send key, reply length and timeout (F2)", app.open_settings)
    yield SystemCommand("Change theme", "Preview themes as you move; the choice is saved", app.change_theme)
    yield SystemCommand("Add a provider", "Another server (Ollama, vLLM, OpenRouter, a relay), saved to the config",
                        app.add_provider)
    if not isinstance(screen, ChatScreen):
        return
    chat = screen
    yield SystemCommand("Switch model", "Choose the model for the next reply (ctrl+o)", chat.action_switch_model)
    yield SystemCommand("New conversation", "Start a new conversation (ctrl+n)", chat.action_new_conversation)
    yield SystemCommand("Conversation settings", "This conversation's system prompt, temperature, top_p,"
                        " max tokens, reasoning effort (f3)", chat.action_conversation_settings)
    yield SystemCommand("Edit system prompt", "Set this conversation's system prompt", chat.action_edit_system_prompt)
    yield SystemCommand("Copy last reply", "Copy the newest reply (ctrl+l)", chat.action_copy_last_reply)
    yield SystemCommand("Copy code block", "Copy one code block of this conversation", chat.action_copy_code_block)
    yield SystemCommand("Retry", "Send the last message again (ctrl+r)", chat.action_retry)
    yield SystemCommand("Regenerate", "Ask again for the last reply, keeping the old one (ctrl+g)", chat.action_regenerate)
    yield SystemCommand("Regenerate with…", "Pick a model to ask again for the last reply; it answers from then on",
                        chat.action_regenerate_with)
    yield SystemCommand("Edit last message", "Change your last message and send it as a new branch (↑)", chat.action_edit_last)
    yield SystemCommand("Attach files", "Add images, text or code files to the next message (ctrl+t)",
                        chat.action_attach)
    yield SystemCommand("Open image", "Open the chosen (or newest) image the model made in your viewer (o)",
                        lambda: chat.act_on_media("open"))
    yield SystemCommand("Save image or video", "Save the chosen (or newest) image, or fetch a video, to a path (s)",
                        lambda: chat.act_on_media("save"))
    yield SystemCommand("Copy image path", "Copy the file path of the chosen (or newest) image (y)",
                        lambda: chat.act_on_media("copy_path"))
    yield SystemCommand("View image", "Show the chosen (or newest) image as large as the screen allows (v)",
                        lambda: chat.act_on_media("view"))
    yield SystemCommand("Copy conversation as Markdown", "The whole conversation, with models and usage", chat.action_copy_conversation)
    yield SystemCommand("Stop reply", "Stop the streaming reply, keeping its text (Esc)", chat.action_cancel)
    yield SystemCommand("Search conversations", "Full-text search over every saved message (ctrl+f)", chat.action_search)
    yield SystemCommand("Rename conversation", "Give this conversation a title", chat.action_rename)
    yield SystemCommand("Archive conversation", "Hide this conversation from the list (can be undone)", chat.action_archive)
    yield SystemCommand("Unarchive a conversation", "Bring back an archived conversation", chat.action_unarchive)
    yield SystemCommand("Delete conversation", "Delete this conversation for good (asks first)", chat.action_delete)
    yield SystemCommand("Export conversation as Markdown", "Write a readable transcript to a file", lambda: chat.action_export("md"))
    yield SystemCommand("Export conversation as JSON", "Write a complete, re-importable file", lambda: chat.action_export("json"))
    yield SystemCommand("Close conversation", "Close this conversation, stopping its reply", chat.action_close_conversation)
    yield SystemCommand("Toggle sidebar", "Go to, or hide, the conversation list (ctrl+b)", chat.action_toggle_sidebar)
    yield SystemCommand("Refresh model list", "Fetch every provider's model list again", app.refresh_models)
    yield SystemCommand("Refresh balance", "Ask the provider what is left on the key", chat.action_refresh_balance)
    yield SystemCommand("Help", "Keys and commands (F1)", app.show_help)
