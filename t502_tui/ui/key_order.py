"""Keys applied in the order they were typed, even when they come in a burst.

The app acts on its own keys (Ctrl+S, Esc, Ctrl+N…) as soon as they come, ahead of keys
still waiting in the focused widget's queue; and it runs a widget's own bindings only once
the key has come back up from it, after the keys typed behind it have reached it. Keys in
a burst (a fast typist over a slow link, a paste) were acted on out of order: a field saved
without its last letters, "abc", Ctrl+U, "xyz" leaving "z".
"""

from __future__ import annotations

import asyncio

from textual.message_pump import MessagePump
from textual.widget import Widget

CATCH_UP_SECONDS = 1.0
"""The longest a key waits for the keys before it (a stuck handler must not stop typing)."""


async def caught_up(*nodes: MessagePump | None) -> None:
    """Return once each of ``nodes``, in turn, has handled what was sent to it so far."""
    for node in nodes:
        done = asyncio.Event()
        if node is not None and node.call_later(done.set):
            try:
                await asyncio.wait_for(done.wait(), CATCH_UP_SECONDS)
            except TimeoutError:
                return


async def run_binding_now(widget: Widget, key: str, *, own: bool = False) -> bool:
    """Run now the binding the app would run for ``key`` once it came back up from
    ``widget`` (with ``own``, only one of ``widget``'s own), so that it keeps its place
    among the keys typed around it. False if no binding took it."""
    active = widget.screen.active_bindings.get(key)
    if active is None or active.binding.priority or not active.enabled or (own and active.node is not widget):
        return False  # priority bindings have run already, before the key came here
    return await widget.app.run_action(active.binding.action, active.node)
