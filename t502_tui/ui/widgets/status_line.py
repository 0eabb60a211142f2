"""The status line: current model, this conversation's tokens, connection state."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from t502_tui.service import Usage
from t502_tui.terminal_text import defuse, visible_name
from t502_tui.turn import Connection, LinkState

_LOOK = {
    LinkState.READY: ("●", "$success"),
    LinkState.STREAMING: ("●", "$accent"),
    LinkState.OFFLINE: ("●", "$error"),
    LinkState.REJECTED: ("●", "$error"),
}


class StatusLine(Static):
    """One line under the composer; redrawn by the chat screen when anything changes."""

    def show(self, model: str, usage: Usage, connection: Connection, host: str) -> None:
        """Draw the current state."""
        dot, style = _LOOK.get(connection.state, ("○", "dim"))
        if connection.state is LinkState.READY:
            words = host
        elif connection.reason:
            words = f"{connection.state.value}: {defuse(connection.reason)}"
        else:
            words = connection.state.value
        tokens = (
            f"{usage.total_tokens:,} tokens ({usage.prompt_tokens:,} in, {usage.completion_tokens:,} out)"
            if usage.total_tokens
            else "no tokens yet"
        )
        self.update(Content.assemble(
            ("model ", "dim"), (visible_name(model), "bold"), ("  ·  ", "dim"), tokens, ("  ·  ", "dim"), (f"{dot} {words}", style),
        ))
