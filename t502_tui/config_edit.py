"""Editing the user's TOML file in place: only the keys asked for change.

Comments, order, blank lines and formatting stay as the user wrote them (tomlkit keeps
them); new keys go where a person would put them. Imported only when t502 saves.
"""

from __future__ import annotations

from typing import Any

import tomlkit
import tomlkit.container
import tomlkit.exceptions
import tomlkit.items


class CannotEdit(Exception):
    """The text cannot be edited safely; the message says why."""


def _is_table(item: Any) -> bool:
    return isinstance(item, (tomlkit.items.Table, tomlkit.items.AoT))


def _insert(container: Any, key: str, value: Any) -> None:
    """Add a new ``key = value`` to a document or table where a person would put it.

    After the last plain key (taking over the blank line that followed it), or, when
    there is none, before the comment that heads the first sub-table: tomlkit's own spot
    is after that comment, which parts the comment from its table.
    """
    item = tomlkit.item(value)
    body = container.value if isinstance(container, tomlkit.items.Table) else container
    if not isinstance(body, tomlkit.container.Container):  # inline, dotted or out of order
        container[key] = value
        return
    items = body.body
    first_table = next((i for i, (_, it) in enumerate(items) if _is_table(it)), len(items))
    plain = [i for i, (name, _) in enumerate(items[:first_table]) if name is not None]
    if plain:
        before = items[plain[-1]][1]
        if before.trivia.trail.count("\n") > 1:
            item.trivia.trail, before.trivia.trail = before.trivia.trail, "\n"
        body._insert_after(items[plain[-1]][0], key, item)
    elif first_table < len(items):
        index = first_table
        while index > 0 and isinstance(items[index - 1][1], tomlkit.items.Comment):
            index -= 1
        item.trivia.trail = "\n\n"
        body._insert_at(index, key, item)
    else:
        container[key] = value


def _merge(container: Any, key: str, value: Any) -> None:
    """Set ``container[key]`` to ``value``, changing as little of the text as possible."""
    current = container.get(key)
    if isinstance(value, dict) and isinstance(current, dict):
        for name in [name for name in current if name not in value]:
            del current[name]
        for name, item in value.items():
            if name not in current or current[name] != item:
                _merge(current, name, item)
    elif key in container or isinstance(value, dict):
        container[key] = value
    else:
        _insert(container, key, value)


def edit(text: str, updates: dict[str, Any]) -> str:
    """``text`` with ``updates`` applied (a value of None removes the key), all else kept."""
    try:
        doc = tomlkit.parse(text)
    except tomlkit.exceptions.TOMLKitError as exc:
        raise CannotEdit(str(exc)) from None
    except (RecursionError, ValueError):
        raise CannotEdit("nested too deeply") from None
    for key, value in updates.items():
        if value is None:
            doc.pop(key, None)
        else:
            _merge(doc, key, value)
    return doc.as_string()
