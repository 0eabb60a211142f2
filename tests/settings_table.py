"""The README's table of settings, made from the schema.

``python tests/settings_table.py`` rewrites the table in README.md; a test fails while
the README and :mod:`t502_tui.settings_schema` disagree.
"""

from __future__ import annotations

import sys
from pathlib import Path

import tomli_w

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from readme_tables import rewrite, section  # noqa: E402
from t502_tui.settings_schema import Setting, allowed, every_setting  # noqa: E402

START = "<!-- settings table: `python tests/settings_table.py` makes it from t502_tui/settings_schema.py -->"
END = "<!-- end of settings table -->"


def _default(setting: Setting) -> str:
    if setting.default is None:
        return "(the server's)" if setting.optional else ""
    if setting.type is dict:
        return ""
    return "`" + tomli_w.dumps({"x": setting.default})[4:].strip() + "`"


def render() -> str:
    """The table, between its markers."""
    rows = [START, "", "| Key | Default | Allowed | In F2 | What it does |", "| --- | --- | --- | --- | --- |"]
    for setting in every_setting():
        name = f"`[{setting.key}]`" if setting.type is dict else f"`{setting.key}`"
        rule = allowed(setting)
        shown = setting.screen.label if setting.screen else ""
        what = setting.help + (f" `{setting.env}` overrides it." if setting.env else "")
        rows.append(f"| {name} | {_default(setting)} | {rule} | {shown} | {what} |")
    return "\n".join([*rows, "", END])


def readme_table(text: str) -> str:
    """The table as the README has it now."""
    return section(text, START, END)


def main() -> None:
    rewrite(START, END, render())


if __name__ == "__main__":
    main()
