"""Containers that only hold other widgets and draw nothing of their own.

Each frame, Textual renders in full every widget whose clip overlaps what changed, the
containers around a streaming reply included, line by line through its styles. A ``BLANK``
widget is one repeated strip of its background instead. Only for containers without a
border (it would not be drawn) whose children cover them.
"""

from __future__ import annotations

from textual.containers import Horizontal, Vertical
from textual.widgets import ContentSwitcher


class Row(Horizontal):
    """Children side by side; nothing of its own to draw."""

    BLANK = True


class Column(Vertical):
    """Children one above the other; nothing of its own to draw."""

    BLANK = True


class Panes(ContentSwitcher):
    """One child shown at a time; nothing of its own to draw."""

    BLANK = True
