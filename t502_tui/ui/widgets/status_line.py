"""The status line: the model and what it is set to, the conversation's tokens and cost,
how full the model's context is, the balance, and the connection.

It is one line: when the terminal is too narrow, parts are shortened (the tokens' in/out
split first, then the host), then the least needed are left out (the model, its settings
and the connection's state never).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from textual import events
from textual.content import Content
from textual.widget import Widget

from t502_tui.prices import format_cost
from t502_tui.service import Usage
from t502_tui.terminal_text import defuse, visible_name
from t502_tui.tokens import short_count
from t502_tui.turn import Connection, LinkState

_LOOK = {
    LinkState.READY: ("●", "$success"),
    LinkState.STREAMING: ("●", "$accent"),
    LinkState.RETRYING: ("●", "$warning"),
    LinkState.OFFLINE: ("●", "$error"),
    LinkState.REJECTED: ("●", "$error"),
}
MODEL_SHORT = 40
"""The most characters of a model's id the line keeps when it is short of room."""
CONTEXT_WARNING = 0.8
"""The context meter turns to the warning colour past this share of the model's context."""


@dataclass(frozen=True)
class StatusFacts:
    """What the status line shows for the conversation in front."""

    model: str
    """As the user names it: ``gpt-5`` or ``local/llama3``."""
    usage: Usage
    connection: Connection
    host: str
    preset: str = ""
    settings: list[str] = field(default_factory=list)
    """The conversation's own parameters that differ from the defaults: ``temp 0.2``."""
    cost: tuple[float, bool] | None = None
    """What its replies cost, and whether that is all of them."""
    context: tuple[int, int, int] | None = None
    """(≈ tokens of the next request, the model's context, what a request may use of it
    once the reply's ``max_tokens`` is set aside), when the context is known."""
    balance: float | None = None
    low_balance: float = 0.0
    unreported: int = 0
    """Replies whose tokens are not in ``usage`` (the server did not report them)."""
    not_saving: bool = False
    """The history's last write failed (a full disk): what comes now is not kept."""


@dataclass
class _Part:
    priority: int
    """Higher is shortened (or left out) first when the line is too long."""
    full: Content
    short: Content | None = None
    kept: bool = False
    """Shortened, never left out."""


class StatusLine(Widget):
    """One line under the composer; redrawn by the chat screen when anything changes.

    Not a ``Static``: updating one lays out the whole screen (a few milliseconds), and
    this line changes several times a reply without ever changing size."""

    DEFAULT_CSS = "StatusLine { height: 1; }"

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._facts: StatusFacts | None = None
        self._line = Content()

    def render(self) -> Content:
        return self._line

    def show(self, facts: StatusFacts) -> None:
        """Draw the current state."""
        self._facts = facts
        self._draw()

    def on_resize(self, event: events.Resize) -> None:
        self._draw()  # fitted to the new width

    def _parts(self, facts: StatusFacts) -> list[_Part]:
        connection = facts.connection
        dot, style = _LOOK.get(connection.state, ("○", "dim"))
        # Ready, the host may go (the green dot says it); any other state keeps its name.
        state = "" if connection.state is LinkState.READY else f" {connection.brief or connection.state.value}"
        if connection.state is LinkState.READY:
            words = facts.host
        elif connection.reason:
            words = f"{connection.state.value}: {defuse(connection.reason)}"
        else:
            words = connection.state.value
        usage = facts.usage
        model = visible_name(facts.model)
        # A long model id is cut rather than push everything after it off the line.
        cut = model if len(model) <= MODEL_SHORT else model[:MODEL_SHORT - 1] + "…"
        parts = [_Part(0, Content.assemble(("model ", "dim"), (model, "bold")), Content.styled(cut, "bold"),
                       kept=True)]
        if facts.not_saving:
            parts.append(_Part(0, Content.styled("⚠ not saving to the history", "$error"),
                               Content.styled("⚠ not saving", "$error"), kept=True))
        if facts.preset:
            parts.append(_Part(3, Content.assemble(("preset ", "dim"), facts.preset), Content(facts.preset), kept=True))
        if facts.settings:
            more = f" +{len(facts.settings) - 1}" if len(facts.settings) > 1 else ""
            parts.append(_Part(3, Content(" · ".join(facts.settings)), Content(f"⚙ {facts.settings[0]}{more}"),
                               kept=True))
        if usage.total_tokens:
            # Some replies not counted: the total is a lower bound, like a cost with "≥".
            more = "≥" if facts.unreported else ""
            parts.append(_Part(6, Content(f"{more}{usage.total_tokens:,} tokens ({usage.prompt_tokens:,} in, "
                                          f"{usage.completion_tokens:,} out)"),
                               Content(f"{more}{short_count(usage.total_tokens)} tokens")))
        elif facts.unreported:
            parts.append(_Part(4, Content("tokens not reported")))
        else:
            parts.append(_Part(4, Content("no tokens yet")))
        if facts.cost is not None:
            total, complete = facts.cost
            shown = format_cost(total)
            # Some replies' cost unknown, or their tokens: a lower bound ("≥<$0.0001" read badly).
            if not complete or facts.unreported:
                shown = "≥" + ("$0" if shown.startswith("<") else shown)
            parts.append(_Part(2, Content(shown)))
        if facts.context is not None:
            used, limit, room = facts.context
            share = used / room if room else 0
            look = "$error" if share > 1 else "$warning" if share > CONTEXT_WARNING else ""
            parts.append(_Part(1, Content.styled(f"ctx ≈{short_count(used)} / {short_count(limit)}", look),
                               Content.styled(f"≈{short_count(used)}/{short_count(limit)}", look)))
        if facts.balance is not None:
            look = "$warning" if facts.balance < facts.low_balance else ""
            parts.append(_Part(1, Content.styled(f"{format_cost(facts.balance)} left", look)))
        parts.append(_Part(5, Content.styled(f"{dot} {words}", style), Content.styled(dot + state, style), kept=True))
        return parts

    def _draw(self) -> None:
        if self._facts is None:
            return
        parts = self._parts(self._facts)
        room = self.content_size.width
        separator = Content.styled("  ·  ", "dim")
        while room > 0:
            width = sum(p.full.cell_length for p in parts) + separator.cell_length * (len(parts) - 1)
            if width <= room:
                break
            if separator.cell_length > 3:
                separator = Content.styled(" · ", "dim")
                continue
            # Every part is shortened before any is left out.
            shorter = [p for p in parts if p.short is not None]
            worst = max(shorter or [p for p in parts if not p.kept], key=lambda p: p.priority, default=None)
            if worst is None:
                break
            if worst.short is not None:
                worst.full, worst.short = worst.short, None
            else:
                parts.remove(worst)
        # Not separator.join(): Textual's join counts the separator's cell length once too
        # often when every part's length is cached, and the line is drawn short.
        pieces: list[Content] = []
        for part in parts:
            pieces += [separator, part.full] if pieces else [part.full]
        self._line = Content.assemble(*pieces)
        self.refresh()
