"""Choosing files to attach (images, text, code): paths with completion, or a file picker."""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.suggester import Suggester
from textual.widgets import DirectoryTree, Input, Static

from t502_tui.attachments import expand_paths
from t502_tui.ui.screens.dialog import Dialog


class PathSuggester(Suggester):
    """Completes the last part of a path from what is on disk (→ accepts)."""

    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=True)

    async def get_suggestion(self, value: str) -> str | None:
        if not value:
            return None
        head, _, value = value.rpartition(" ")  # several paths: complete the last
        head = head + " " if head else ""
        typed = Path(value).expanduser()
        folder, stem = (typed, "") if value.endswith("/") else (typed.parent, typed.name)
        def matches() -> list[str]:
            return sorted(p.name + ("/" if p.is_dir() else "") for p in folder.iterdir()
                          if p.name.startswith(stem) and not p.name.startswith("."))

        try:
            names = await asyncio.to_thread(matches)  # a slow disk must not stall typing
        except OSError:
            return None
        if not names:
            return None
        return head + value[: len(value) - len(stem)] + names[0]


def _start_folder() -> Path:
    """Where t502 was started (typed paths are relative to it too), else the home folder."""
    try:
        return Path.cwd()
    except OSError:  # the folder was deleted after t502 started
        return Path.home() if Path.home().is_dir() else Path("/")


class _PathField(Input):
    """The path field: Tab completes a path, as in a shell, and leaves only when there is
    nothing to complete."""

    BINDINGS = [Binding("tab", "complete", "Complete", show=False)]

    def action_complete(self) -> None:
        typed = self.value
        if self.cursor_at_end:
            self.action_cursor_right()  # takes the suggestion shown, if any
        if self.value == typed:
            self.screen.focus_next()


class AttachScreen(Dialog[list[Path] | None]):
    """Dismisses with the paths chosen (Enter in the field, or a file picked), or None."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def compose(self) -> ComposeResult:
        with Vertical(id="attach"):
            yield Static(Content.styled("Attach files: images (PNG, JPEG, WebP, GIF), text and code", "bold"))
            yield _PathField(placeholder="~/notes.md src/*.py 'a file with spaces.txt'", suggester=PathSuggester(),
                             id="attach-path")
            yield DirectoryTree(_start_folder(), id="attach-tree")
            yield Static(Content("Tab or → completes · several paths or a pattern (*.py) at once · Enter attaches ·"
                                 " or pick a file below · Esc cancels"), classes="hint")

    @on(Input.Submitted)
    def _typed(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.dismiss(expand_paths(event.value.strip()))

    @on(DirectoryTree.FileSelected)
    def _picked(self, event: DirectoryTree.FileSelected) -> None:
        self.dismiss([event.path])
