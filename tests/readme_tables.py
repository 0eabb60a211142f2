"""Tables in README.md that are made from the code: each sits between two markers, its
script rewrites it, and a test fails while the README and the code disagree."""

from __future__ import annotations

from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def section(text: str, start: str, end: str) -> str:
    """The part of ``text`` from the ``start`` marker to the ``end`` marker, both included."""
    first, last = text.index(start), text.index(end) + len(end)
    return text[first:last]


def rewrite(start: str, end: str, table: str) -> None:
    """Put ``table`` (markers included) in the README where the old one was."""
    text = README.read_text(encoding="utf-8")
    README.write_text(text.replace(section(text, start, end), table), encoding="utf-8")
