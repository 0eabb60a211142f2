"""The status line: current model, this conversation's tokens, connection state."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from t502_tui.service import Usage


class StatusLine(Static):
    """One line under the composer; redrawn by the chat screen when anything changes."""

    def show(self, model: str, usage: Usage, connection: str, host: str) -> None:
        """Draw the current state."""
        if connection.startswith(("offline", "error")):
            state = (f"● {connection}", "$error")
        elif connection == "streaming":
            state = ("● streaming", "$accent")
        elif connection == "ready":
            state = (f"● {host}", "$success")
        else:
            state = (f"○ {connection}", "dim")
        tokens = (
            f"{usage.total_tokens:,} tokens ({usage.prompt_tokens:,} in, {usage.completion_tokens:,} out)"
            if usage.total_tokens
            else "no tokens yet"
        )
        self.update(
            Content.assemble(
                ("model ", "dim"), (model, "bold"), ("  ·  ", "dim"), tokens, ("  ·  ", "dim"), state
            )
        )
