"""The model picker: type to filter every provider's models; any typed id can be used as is.

With several providers the models are grouped under their provider's name, each group
with its own loading state or failure. Where known, each model shows its price (US$ per
1M input/output tokens, or per request) and its context length; Ctrl+S sorts by price.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from t502_tui.terminal_text import defuse, first_up, visible_name
from t502_tui.ui.screens.dialog import Dialog
from t502_tui.ui.screens.form_keys import toggle

MAX_NAME_WIDTH = 44
"""Model names are padded to line up the price column, up to this width."""


@dataclass(frozen=True)
class PickerRow:
    """One model as the picker shows it."""

    ref: str
    """``PROVIDER/MODEL``: what choosing the row dismisses with."""
    label: str
    """How the user names it: ``MODEL`` for the default provider, else ``PROVIDER/MODEL``."""
    price: str = ""
    context: str = ""
    sort_key: float | None = None
    """Cheapest first when sorting by price; None (unknown) sorts last."""
    chat: bool = True
    """False for image, audio and embedding models (hidden unless asked for)."""


@dataclass(frozen=True)
class PickerGroup:
    """One provider's models (None until loaded), or why they are missing."""

    name: str
    rows: list[PickerRow] | None
    note: str = ""


def _matches(row: PickerRow, needle: str) -> bool:
    """The filter finds a model by its label, and by ``PROVIDER/MODEL`` once a ``/`` is typed
    (the default provider's rows are labelled without their provider's name)."""
    return needle in row.label.lower() or ("/" in needle and needle in row.ref.lower())


PICKER_MOST_COLUMNS = 100
"""The picker's widest: past it, a model's name and its price are too far apart to read."""


class ModelPicker(Dialog[str | None]):
    """Dismisses with ``PROVIDER/MODEL`` for a listed model, the text as typed for one
    typed in (a bare model is the current provider's), or None."""

    BINDINGS = [
        Binding("escape", "dismiss(None)", "Close"),
        # Before the filter box, whose own ctrl+a goes to the start of the line.
        *toggle("ctrl+a", "show_all", "Show all kinds", "Chat models only", priority=True),
        Binding("ctrl+r", "refresh_list", "Refresh list"),
        *toggle("ctrl+s", "by_price", "Sort by price", "Servers' order"),
        Binding("down", "move(1)", show=False),
        Binding("up", "move(-1)", show=False),
        Binding("pagedown", "move(10)", show=False),
        Binding("pageup", "move(-10)", show=False),
    ]

    class RefreshRequested(Message):
        """The user wants the model lists fetched again from the servers."""

    def __init__(self, groups: list[PickerGroup], current: str, recent: list[str],
                 title: str = "Switch model") -> None:
        super().__init__()
        self.title_text = title
        """What choosing does: switch for the next replies, or regenerate the last one."""
        self.groups = groups
        self.current = current
        self.recent = recent
        self.show_all = False
        self.by_price = False

    @property
    def groups(self) -> list[PickerGroup]:
        return self._groups

    @groups.setter
    def groups(self, groups: list[PickerGroup]) -> None:
        self._groups = groups
        # Every listed model by PROVIDER/MODEL: made once per list, not at each keystroke.
        self._rows = {row.ref: row for group in groups for row in group.rows or []}
        self._per_token = any(row.price and "/request" not in row.price for row in self._rows.values())
        """Some row shows a price per token: the note says its unit."""

    def _label(self, ref: str) -> str:
        row = self._rows.get(ref)
        if row is not None:
            return row.label
        provider, _, model = ref.partition("/")
        return model if len(self.groups) < 2 or provider == self.groups[0].name else ref

    def compose(self) -> ComposeResult:
        with Vertical(id="picker"):
            yield Static(Content.assemble((self.title_text, "bold"), " · now ", visible_name(self._label(self.current))),
                         id="picker-title")
            yield Input(placeholder="Type to filter, or a model id to use as is", id="picker-filter")
            yield OptionList(id="picker-list")
            yield Static(id="picker-note")

    def on_mount(self) -> None:
        self._fill("")

    def on_resize(self) -> None:
        # At most 100 columns, and never wider than the terminal (its least, 56, ran off
        # a 40-column one): CSS takes one unit for the most.
        self.query_one("#picker").styles.max_width = min(PICKER_MOST_COLUMNS, self.app.size.width)
        # The price column lines up for the list's width, known once it is laid out (the
        # first fill guessed it: prices zigzagged at 60 columns until the list was filled again).
        self.call_after_refresh(self._refill)

    def _refill(self) -> None:
        if filters := self.query(Input):
            self._fill(filters.first().value)

    def set_groups(self, groups: list[PickerGroup]) -> None:
        """New lists from the servers (or the reasons there are none)."""
        self.groups = groups
        self._refill()  # not when the lists come as the picker closes (no filter then)

    def _option(self, row: PickerRow, width: int, room: int, tag: str = "") -> Option:
        """``gpt-5  current      $1.25/$10 · 400k ctx``: the name (and its tag), then the
        price and context lined up after the longest name; of those, what fits in
        ``room`` (a long name at 60 columns wrapped "1.05M ctx" onto a line of its own)."""
        parts: list[str | tuple[str, str]] = [visible_name(row.label)]
        if tag:
            parts.append((f"  {tag}", "dim"))
        used = len(row.label) + (len(tag) + 2 if tag else 0)
        gap = max(2, width + len("  current") + 2 - used)
        extra = next((text for text in (self._extra(row), row.price) if used + gap + len(text) <= room), "")
        if extra:
            parts.append((" " * gap + extra, "dim"))
        return Option(Content.assemble(*parts), id=f"m:{row.ref}")

    @staticmethod
    def _extra(row: PickerRow) -> str:
        return " · ".join(part for part in (row.price, row.context and f"{row.context} ctx") if part)

    def _fill(self, query: str) -> None:
        needle = query.strip().lower()
        typed = query.strip()
        options: list[Option | None] = []
        seen: set[str] = set()
        rows = self._rows
        several = len(self.groups) > 1
        known_labels = {row.label for row in rows.values()}
        matching = [r for r in rows.values() if _matches(r, needle)]
        width = min(MAX_NAME_WIDTH, max((len(r.label) for r in matching), default=0))
        # The price column starts after the longest name, but never so far that it wraps.
        room = self.query_one(OptionList).scrollable_content_region.width or int(self.app.size.width * 0.8) - 6
        extra = max((len(self._extra(r)) for r in matching), default=0)
        width = max(0, min(width, room - extra - len("  current") - 4))

        def add(row: PickerRow, tag: str = "") -> None:
            if row.ref not in seen:
                seen.add(row.ref)
                options.append(self._option(row, width, room, tag))

        as_typed = Option(Content.assemble(("Use ", "dim"), visible_name(typed), (" as typed", "dim")), id=f"t:{typed}")
        # Not "lb2/": a provider's name with no model after it.
        offer_typed = bool(typed) and not typed.endswith("/") and typed not in known_labels and typed not in rows
        remembered = [(ref, rows.get(ref) or PickerRow(ref, self._label(ref))) for ref in [self.current, *self.recent]]
        # The conversation's provider first, here and in the groups below: a model id typed
        # alone means its model, so the row Enter chooses is the first of its name.
        provider = self.current.partition("/")[0]
        remembered = sorted(((ref, row) for ref, row in remembered if _matches(row, needle)),
                            key=lambda item: (item[0] != self.current, item[0].partition("/")[0] != provider))
        if offer_typed and not matching and not remembered:  # (a recent model the list lacks is a match)
            options.append(as_typed)
            offer_typed = False
        for ref, row in remembered:
            add(row, "current" if ref == self.current else "recent")
        hidden = 0
        for group in sorted(self.groups, key=lambda group: group.name != provider):
            # Not the rows shown above already (current, recent): a heading over nothing.
            chat = [r for r in group.rows or [] if _matches(r, needle) and r.chat and r.ref not in seen]
            other = [r for r in group.rows or [] if _matches(r, needle) and not r.chat and r.ref not in seen]
            hidden += 0 if self.show_all else len(other)
            if self.by_price:
                chat.sort(key=lambda r: (r.sort_key is None, r.sort_key or 0.0))
            # A heading over rows, or saying why there are none (loading, failed, no models):
            # not over nothing, its models all listed above as current or recent.
            if several and (chat or other or not group.rows):
                options.append(None)
                options.append(self._heading(group))
            elif options and chat:
                options.append(None)
            for row in chat:
                add(row)
            if other and self.show_all:
                options.append(None)
                options.append(Option(Content.styled("Not for chat (images, audio, embeddings, …)", "dim italic"),
                                      disabled=True))
                for row in other:
                    add(row)
        if offer_typed:
            options.append(None)
            options.append(as_typed)
        option_list = self.query_one(OptionList)
        option_list.set_options(options)
        first = next((i for i in range(option_list.option_count)
                      if not option_list.get_option_at_index(i).disabled), None)
        option_list.highlighted = self._exact_index(typed, seen)
        if option_list.highlighted is None:
            option_list.highlighted = first
        self._note(hidden)

    def _exact_index(self, typed: str, shown: set[str]) -> int | None:
        """Where the shown model a typed id names exactly is: the current provider's, then
        the default provider's, then the one whose ``PROVIDER/MODEL`` it is (not a recent
        row of another provider that merely contains it)."""
        if not typed:
            return None
        provider = self.current.partition("/")[0]
        default = self.groups[0].name if self.groups else ""
        labelled = [row.ref for row in self._rows.values() if row.label == typed]
        for ref in (f"{provider}/{typed}", f"{default}/{typed}", typed, *labelled):
            if ref in shown:
                return self.query_one(OptionList).get_option_index(f"m:{ref}")
        return None

    def _heading(self, group: PickerGroup) -> Option:
        if group.rows is None:
            note = group.note or "loading…"
            style = "$error" if not note.startswith("loading") else "dim"
            return Option(Content.assemble((visible_name(group.name), "bold"), (f" · {defuse(note)}", style)),
                          disabled=True)
        count = f" · {len(group.rows)} model{'s' if len(group.rows) != 1 else ''}"
        return Option(Content.assemble((visible_name(group.name), "bold"), (count, "dim")), disabled=True)

    def _note(self, hidden: int) -> None:
        notes = []
        single = self.groups[0] if len(self.groups) == 1 else None
        if single is not None and single.note:
            notes.append(defuse(first_up(single.note)))
        if hidden:
            notes.append(f"{hidden} image/audio/embedding model{'s' if hidden != 1 else ''} hidden (Ctrl+A shows them)")
        elif self.show_all and any(not row.chat for row in self._rows.values()):
            notes.append("Ctrl+A hides image/audio/embedding models")
        if self._per_token:
            notes.append("prices in US$ per 1M tokens in/out")
        sort = "Ctrl+S lists them as the servers do" if self.by_price else "Ctrl+S sorts by price"
        notes.append(f"Enter chooses · {sort} · Ctrl+R refreshes · Esc closes")
        self.query_one("#picker-note", Static).update(Content(" · ".join(notes)))

    @on(Input.Changed)
    def _filter_changed(self, event: Input.Changed) -> None:
        self._fill(event.value)

    def action_move(self, step: int) -> None:
        option_list = self.query_one(OptionList)
        if not option_list.option_count:
            return
        index = option_list.highlighted if option_list.highlighted is not None else -1 if step > 0 else 0
        target = min(max(index + step, 0), option_list.option_count - 1)
        # Skip disabled rows (headings) in the direction of travel, then the other way.
        for direction in (1 if step > 0 else -1, -1 if step > 0 else 1):
            while 0 <= target < option_list.option_count and option_list.get_option_at_index(target).disabled:
                target += direction
            if 0 <= target < option_list.option_count:
                option_list.highlighted = target
                self._show_edge(option_list, target, step > 0)
                return
            target = min(max(index, 0), option_list.option_count - 1)

    @staticmethod
    def _show_edge(option_list: OptionList, index: int, down: bool) -> None:
        """At the last row that can be chosen (the first, going up), also show the
        headings past it: a provider whose list failed is only a heading saying why."""
        beyond = range(index + 1, option_list.option_count) if down else range(index - 1, -1, -1)
        if all(option_list.get_option_at_index(i).disabled for i in beyond):
            scroll = option_list.scroll_end if down else option_list.scroll_home
            option_list.call_after_refresh(scroll, animate=False)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "show_all":
            return parameters[0] != self.show_all
        if action == "by_price":
            return parameters[0] != self.by_price
        return True

    def action_show_all(self, show: bool) -> None:
        self.show_all = show
        self._fill(self.query_one(Input).value)
        self.refresh_bindings()

    def action_by_price(self, by_price: bool) -> None:
        self.by_price = by_price
        self._fill(self.query_one(Input).value)
        self.notify("Sorted by price, cheapest first" if self.by_price else "Sorted as the servers list them")
        self.refresh_bindings()

    def action_refresh_list(self) -> None:
        self.query_one("#picker-note", Static).update("Refreshing the model lists…")
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
        if option.id and option.id[:2] in ("m:", "t:"):
            self.dismiss(option.id[2:])
