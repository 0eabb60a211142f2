"""Key bindings: the defaults, and the user's ``[keys]`` table checked against them.

Each action has one or more keys (comma-separated in the config, as Textual writes them).
An unknown action, a key that is not a key, or a key given to two actions is reported
once, and the actions concerned keep their default keys.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

@dataclass(frozen=True)
class Action:
    """A key action: its default keys, its name in the footer and what F1 and the
    README say it does (one description, so they cannot disagree)."""

    name: str
    keys: str
    label: str
    help: str
    footer: bool = True
    """Shown in the footer (where it fits); the rest are in F1."""


ACTIONS: tuple[Action, ...] = (
    Action("send", "enter", "Send", "send the message", footer=False),
    Action("newline", "ctrl+j,shift+enter,alt+enter", "Newline", "new line in the message"),
    Action("cancel", "escape", "Stop reply", "stop the streaming reply (its text is kept; on a chosen message, "
           "Esc first goes back to the composer); editing a message: cancel the edit"),
    Action("retry", "ctrl+r", "Retry", "retry a failed or stopped reply"),
    Action("regenerate", "ctrl+g", "Regenerate", "ask again for the last reply (the old one is kept: < > flips)",
           footer=False),
    Action("attach", "ctrl+t", "Attach", "attach images, text or code files (or paste or drop their paths)",
           footer=False),
    Action("switch_model", "ctrl+o", "Model", "switch model (type to filter; any id can be used as typed)"),
    Action("new_conversation", "ctrl+n", "New", "new conversation (blank, or from a preset)"),
    Action("toggle_sidebar", "ctrl+b", "Conversations", "go to the conversation list (again: hide it)"),
    Action("search", "ctrl+f", "Search", "search every saved message"),
    Action("copy_last_reply", "ctrl+l", "Copy reply", "copy the last reply"),
    Action("scroll_up", "pageup", "Page up", "scroll the conversation up a page (from the composer too)",
           footer=False),
    Action("scroll_down", "pagedown", "Page down", "scroll the conversation down a page", footer=False),
    Action("scroll_top", "ctrl+home", "Top", "go to the top of the conversation", footer=False),
    Action("scroll_bottom", "ctrl+end", "Follow", "go to the newest text and follow it"),
    Action("command_palette", "ctrl+p", "Palette", "command palette: every command, by name", footer=False),
    Action("settings", "f2", "Settings", "settings", footer=False),
    Action("conversation_settings", "f3", "Chat settings",
           "this conversation's settings: system prompt, temperature, top_p, max tokens, reasoning effort",
           footer=False),
    Action("help", "f1", "Help", "all keys"),
    Action("quit", "ctrl+q", "Quit", "quit (what was typed and any streaming reply are kept)", footer=False),
)
"""Every action that ``[keys]`` can rebind, in the order the help lists them."""

DEFAULT_KEYS: dict[str, str] = {action.name: action.keys for action in ACTIONS}
"""Action name → keys, in the order the help screen lists them."""

PLACES: tuple[tuple[str, str], ...] = (
    ("↑ in an empty composer", "edit your last message (again: the one before); Enter sends it as a new branch,"
     " and what you were typing before comes back"),
    ("End at the end of the composer", "go to the newest text and follow it"),
    ("Shift+Tab in the composer", "go to the messages"),
    ("↑ ↓ Tab Shift+Tab on the messages", "choose a message (Esc goes back to the composer)"),
    ("c / e / d on a message", "copy / edit / delete it"),
    ("< > on a message", "flip between its versions (regenerated replies, edited messages)"),
    ("k on a reply", "send it with your next message, or leave it out (a reply cut off by an error is left out)"),
    ("Enter on a reply", "open or close its thinking"),
    ("o / s / y / v on a reply's image", "open it in the system viewer / save it (the downloads folder by default) "
     "/ copy its file's path / view it whole (Esc closes)"),
    ("i / f / r on a reply's images and links", "choose the next one / show its file in its folder "
     "/ download an image link again"),
    ("o / s on a video link", "download it with progress and open it / download it where you say"),
    ("PageUp PageDown Home End on the messages", "scroll; End follows the newest text again"),
    ("mouse drag, then Ctrl+C", "select text and copy it"),
    ("Enter / r / a / d in the list", "open / rename / archive / delete a conversation; d discards a "
     "draft (Esc goes back to the composer); any other letter starts a search with it"),
)
"""Keys that belong to one place (not rebindable): the keys and where, what they do."""

_NAMES = {"escape": "Esc", "pageup": "PageUp", "pagedown": "PageDown", "ctrl": "Ctrl", "alt": "Alt",
          "shift": "Shift", "super": "Super", "meta": "Meta", "enter": "Enter", "delete": "Del"}


def key_label(keys: str | list[str]) -> str:
    """Keys as people write them: ``ctrl+j,escape`` → ``Ctrl+J, Esc``."""
    names = split_keys(keys) if isinstance(keys, str) else keys
    return ", ".join("+".join(_NAMES.get(part, part.capitalize() if len(part) > 1 else part.upper())
                              for part in key.split("+")) for key in names)

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
