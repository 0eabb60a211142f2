"""Keys shared by t502's forms (settings, conversation settings, setup, add a provider)."""

from __future__ import annotations

from textual.binding import Binding

TAB_IN_ORDER = [
    Binding("tab", "app.focus_next", "Next field", show=False, priority=True),
    Binding("shift+tab", "app.focus_previous", "Previous field", show=False, priority=True),
]
"""Tab and Shift+Tab move the focus before the keys typed after them are handed out: a
burst ("local", Tab, a URL) from a paste-fast terminal or a slow SSH link fills each field
in turn. Without priority, the field the Tab leaves would get the text typed after it."""

REVEAL_KEY, REVEAL_LABEL = "ctrl+r", "Ctrl+R"
"""Shows or hides a key being typed in a masked field (Settings, the first-run screen)."""


def toggle(key: str, action: str, turn_on: str, turn_off: str, *, priority: bool = False) -> list[Binding]:
    """One key that turns something on and off, named in the footer for what it does
    now: ``action(True)`` labelled ``turn_on`` and ``action(False)`` labelled
    ``turn_off``. The screen's ``check_action`` offers the one that applies (a single
    label read "Show key" while the key was shown)."""
    return [Binding(key, f"{action}(True)", turn_on, priority=priority),
            Binding(key, f"{action}(False)", turn_off, priority=priority)]
