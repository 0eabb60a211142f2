"""The model picker: type to filter the server's models; any typed id can be used as is."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from t502_tui.model_catalog import is_chat_model
from t502_tui.terminal_text import visible_name


class ModelPicker(ModalScreen[str | None]):
    """Dismisses with the chosen model id, or None."""

    BINDINGS = [
        Binding("escape", "dismiss(None)", "Close"),
        Binding("ctrl+a", "toggle_all", "Show all kinds"),
        Binding("ctrl+r", "refresh_list", "Refresh list"),
        Binding("down", "move(1)", show=False),
        Binding("up", "move(-1)", show=False),
        Binding("pagedown", "move(10)", show=False),
        Binding("pageup", "move(-10)", show=False),
    ]

    class RefreshRequested(Message):
        """The user wants the model list fetched again from the server."""

    def __init__(self, models: list[str] | None, current: str, recent: list[str], note: str = "") -> None:
        super().__init__()
        self.models = models or []
        self.current = current
        self.recent = recent
        self.note = note
        self.show_all = False

    def compose(self) -> ComposeResult:
        with Vertical(id="picker"):
            yield Static(Content.assemble(("Switch model", "bold"), f" · now {visible_name(self.current)}"),
                         id="picker-title")
            yield Input(placeholder="Type to filter, or a model id to use as is", id="picker-filter")
            yield OptionList(id="picker-list")
            yield Static(id="picker-note")

    def on_mount(self) -> None:
        self._fill("")

    def set_models(self, models: list[str] | None, note: str = "") -> None:
        """New list from the server (or the reason there is none)."""
        self.models = models or []
        self.note = note
        self._fill(self.query_one(Input).value)

    def _fill(self, query: str) -> None:
        needle = query.strip().lower()
        options: list[Option | None] = []
        seen: set[str] = set()

        def add(model_id: str, label: Content | None = None) -> None:
            # A str label would be read as markup: a model id is shown as spelt.
            if model_id not in seen:
                seen.add(model_id)
                options.append(Option(label or Content(visible_name(model_id)), id=f"m:{model_id}"))

        matches = [m for m in self.models if needle in m.lower()]
        typed = query.strip()
        as_typed = Content.assemble(("Use ", "dim"), visible_name(typed), (" as typed", "dim"))
        if typed and typed not in self.models and not matches:
            add(typed, as_typed)
        top = [self.current, *self.recent]
        for model_id in top:
            if needle in model_id.lower():
                add(model_id, Content.assemble(visible_name(model_id),
                                               ("  current" if model_id == self.current else "  recent", "dim")))
        chat = [m for m in matches if is_chat_model(m)]
        other = [m for m in matches if not is_chat_model(m)]
        if options and chat:
            options.append(None)
        for model_id in chat:
            add(model_id)
        hidden = [m for m in other if m not in seen]
        if hidden and self.show_all:
            options.append(None)
            options.append(Option(Content.styled("Not for chat (images, audio, embeddings, …)", "dim italic"), disabled=True))
            for model_id in hidden:
                add(model_id)
        if typed and typed not in seen:
            options.append(None)
            add(typed, as_typed)
        option_list = self.query_one(OptionList)
        option_list.set_options(options)
        if option_list.option_count:
            option_list.highlighted = 0
        notes = []
        if self.note:
            notes.append(self.note)
        if hidden and not self.show_all:
            notes.append(f"{len(hidden)} image/audio/embedding models hidden (ctrl+a shows them)")
        notes.append("Enter chooses · ctrl+r refreshes the list · Esc closes")
        self.query_one("#picker-note", Static).update(Content(" · ".join(notes)))

    @on(Input.Changed)
    def _filter_changed(self, event: Input.Changed) -> None:
        self._fill(event.value)

    def action_move(self, step: int) -> None:
        option_list = self.query_one(OptionList)
        if not option_list.option_count:
            return
        index = option_list.highlighted or 0
        target = min(max(index + step, 0), option_list.option_count - 1)
        # Skip disabled rows (the "not for chat" heading) in the direction of travel.
        while option_list.get_option_at_index(target).disabled and 0 < target < option_list.option_count - 1:
            target += 1 if step > 0 else -1
        option_list.highlighted = target

    def action_toggle_all(self) -> None:
        self.show_all = not self.show_all
        self._fill(self.query_one(Input).value)

    def action_refresh_list(self) -> None:
        self.query_one("#picker-note", Static).update("Refreshing the model list…")
        self.post_message(self.RefreshRequested())

    @on(Input.Submitted)
    def _typed_enter(self) -> None:
        option_list = self.query_one(OptionList)
        if option_list.highlighted is not None:
            self._choose(option_list.get_option_at_index(option_list.highlighted))
        elif self.query_one(Input).value.strip():
            self.dismiss(self.query_one(Input).value.strip())

    @on(OptionList.OptionSelected)
    def _clicked(self, event: OptionList.OptionSelected) -> None:
        self._choose(event.option)

    def _choose(self, option: Option) -> None:
        if option.id and option.id.startswith("m:"):
            self.dismiss(option.id[2:])
