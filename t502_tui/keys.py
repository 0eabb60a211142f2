"""Key bindings: the defaults, and the user's ``[keys]`` table checked against them.

Each action has one or more keys (comma-separated in the config, as Textual writes them).
An unknown action, a key that is not a key, or a key given to two actions is reported
once, and the actions concerned keep their default keys.
"""

from __future__ import annotations

import re
from typing import Any

DEFAULT_KEYS: dict[str, str] = {
    "send": "enter",
    "newline": "ctrl+j,shift+enter,alt+enter",
    "cancel": "escape",
    "switch_model": "ctrl+o",
    "new_conversation": "ctrl+n",
    "retry": "ctrl+r",
    "regenerate": "ctrl+g",
    "attach": "ctrl+t",
    "copy_last_reply": "ctrl+l",
    "search": "ctrl+f",
    "toggle_sidebar": "ctrl+b",
    "settings": "f2",
    "conversation_settings": "f3",
    "help": "f1",
    "command_palette": "ctrl+p",
    "quit": "ctrl+q",
}
"""Action name → keys, in the order the help screen lists them."""

SEND_MODES = {
    "enter": {"send": "enter", "newline": "ctrl+j,shift+enter,alt+enter"},
    "ctrl+j": {"send": "ctrl+j", "newline": "enter,shift+enter,alt+enter"},
}
"""``send_key`` settings: which key sends, and so which keys make a new line."""

_NAMED = (
    r"enter|escape|tab|space|backspace|delete|insert|home|end|pageup|pagedown|up|down|left|right|"
    r"f(?:[1-9]|1[0-9]|2[0-4])|[a-z0-9]|minus|plus|equals_sign|comma|full_stop|slash|backslash|"
    r"semicolon|apostrophe|left_square_bracket|right_square_bracket|grave_accent|question_mark"
)
_KEY = re.compile(rf"^(?:(?:ctrl|alt|shift|super|meta)\+)*(?:{_NAMED})$")


def split_keys(keys: str) -> list[str]:
    """``"ctrl+j, alt+enter"`` → ``["ctrl+j", "alt+enter"]``."""
    return [k.strip().lower() for k in keys.split(",") if k.strip()]


def resolve_keys(table: Any, send_mode: str = "enter") -> tuple[dict[str, list[str]], list[str]]:
    """The keys in force for every action, and one line per problem found."""
    defaults = {**DEFAULT_KEYS, **SEND_MODES.get(send_mode, SEND_MODES["enter"])}
    effective = {action: split_keys(keys) for action, keys in defaults.items()}
    problems: list[str] = []
    if table is None:
        return effective, problems
    if not isinstance(table, dict):
        return effective, ["[keys] must be a table of action = \"key\""]
    wanted: dict[str, list[str]] = {}
    for action, keys in table.items():
        if action not in DEFAULT_KEYS:
            problems.append(f"[keys] {action}: no such action (known: {', '.join(DEFAULT_KEYS)})")
            continue
        if not isinstance(keys, str) or not split_keys(keys):
            problems.append(f"[keys] {action}: give the key as a string, like \"ctrl+k\"")
            continue
        bad = [k for k in split_keys(keys) if not _KEY.match(k)]
        if bad:
            problems.append(f"[keys] {action}: {', '.join(bad)} is not a key name; keeping {defaults[action]}")
            continue
        wanted[action] = split_keys(keys)
    proposed = {**effective, **wanted}
    owners: dict[str, list[str]] = {}
    for action, keys in proposed.items():
        for key in keys:
            owners.setdefault(key, []).append(action)
    clashing = {a for actions in owners.values() if len(actions) > 1 for a in actions}
    for key, actions in owners.items():
        if len(actions) > 1 and any(a in wanted for a in actions):
            problems.append(
                f"[keys] {key} is given to {' and '.join(actions)}; they keep their default keys"
            )
    for action in wanted:
        if action not in clashing:
            effective[action] = wanted[action]
    return effective, problems
