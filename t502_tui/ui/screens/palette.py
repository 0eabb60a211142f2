"""The command palette (Ctrl+P), waiting for its search before Enter picks a command."""

from __future__ import annotations

from textual.command import CommandPalette
from textual.widgets import Input
from textual.worker import Worker, WorkerState


class Palette(CommandPalette):
    """Textual's palette, except that Enter typed before the search for what was typed
    has finished waits for it. In a burst (a paste, a fast typist, keys sent through tmux
    or SSH) the list still shows the hits of the text before, and Enter would run one of
    them: "theme" then Enter ran "Add a provider"."""

    def __init__(self, id: str | None = None) -> None:  # noqa: A002 (Textual's name)
        super().__init__(id=id)
        self._searches: dict[Worker[None], str] = {}
        """The search of each gathering still running, by its worker."""
        self._found_for: str | None = None
        """The text whose search finished last: the list shows its hits."""
        self._enter_waiting = False

    def _gather_commands(self, search_value: str) -> Worker[None]:  # type: ignore[override]
        worker: Worker[None] = super()._gather_commands(search_value)  # type: ignore[assignment]
        self._searches[worker] = search_value
        return worker

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter, once the field has taken every key typed before it: held back (from
        Textual's own handler, after this one) while the list is not yet of its text."""
        if self._found_for != event.value.strip():
            event.prevent_default()
            event.stop()
            self._enter_waiting = True

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker not in self._searches or not event.worker.is_finished:
            return
        search = self._searches.pop(event.worker)
        if event.state is WorkerState.SUCCESS:
            self._found_for = search
            if self._enter_waiting and search == self.query_one(Input).value.strip():
                self._enter_waiting = False
                self._select_or_command()
