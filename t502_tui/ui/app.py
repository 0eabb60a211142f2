"""The Textual application (placeholder until the chat screen lands)."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import Footer, Header, Static

from t502_tui.config import Config


class T502App(App[None]):
    """t502's full-screen app."""

    TITLE = "t502"

    def __init__(self, config: Config) -> None:
        super().__init__()
        self.config = config

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(f"t502 — {self.config.base_url} — the chat screen is coming. Ctrl+Q quits.")
        yield Footer()
