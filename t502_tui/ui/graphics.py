"""Whether the full-size image view can use the terminal's own graphics (the Kitty
graphics protocol or Sixel), through textual-image (the optional ``graphics`` extra).

textual-image finds out by asking the terminal when it is imported, and that has to
happen before Textual takes the terminal over (afterwards Textual would read the answers
as keys): :func:`probe` runs when the app is made, before it starts. It is skipped when
the output is not a terminal, and inside tmux and screen, which pass neither protocol on
by default, so there it costs nothing; elsewhere a terminal that does not answer costs
textual-image's wait of a tenth of a second.

Previews inside the conversation are always half-blocks: the conversation is drawn as
lines that scroll, and a Sixel picture is painted at the cursor, outside of what Textual
redraws, so it would smear as the view moved.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

log = logging.getLogger("t502.graphics")

_widget: Any = None
_probed = False


def probe() -> None:
    """Ask the terminal, once, whether it shows images (see the module docstring)."""
    global _widget, _probed
    if _probed:
        return
    _probed = True
    term = os.environ.get("TERM", "")
    stdout = sys.__stdout__
    if stdout is None or not stdout.isatty() or os.environ.get("TMUX") or term.startswith(("screen", "tmux")):
        return
    try:
        from textual_image import renderable, widget
    except ImportError:
        return  # the extra is not installed: half-blocks
    except Exception:  # the terminal answered in a way the library did not expect
        log.exception("textual-image could not ask the terminal")
        return
    if renderable.Image not in (renderable.HalfcellImage, renderable.UnicodeImage):
        _widget = widget.Image  # Kitty's protocol or Sixel: the terminal answered


def graphics_widget() -> Any:
    """textual-image's widget for this terminal's graphics protocol, or None."""
    return _widget
