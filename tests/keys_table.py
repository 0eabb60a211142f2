"""The README's table of keys, made from :mod:`t502_tui.keys` (which F1 and the footer use).

``python tests/keys_table.py`` rewrites the table in README.md; a test fails while the
README and the keys disagree.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from readme_tables import rewrite, section  # noqa: E402
from t502_tui.keys import ACTIONS, PLACES, key_label  # noqa: E402

START = "<!-- keys table: `python tests/keys_table.py` makes it from t502_tui/keys.py -->"
END = "<!-- end of keys table -->"


def render() -> str:
    """The table, between its markers."""
    rows = [START, "", "| key | does | `[keys]` action |", "| --- | --- | --- |"]
    rows += [f"| {key_label(action.keys)} | {action.help} | `{action.name}` |" for action in ACTIONS]
    rows += [f"| {keys} | {what} | |" for keys, what in PLACES]
    return "\n".join([*rows, "", END])


def readme_table(text: str) -> str:
    """The table as the README has it now."""
    return section(text, START, END)


def main() -> None:
    rewrite(START, END, render())


if __name__ == "__main__":
    main()
