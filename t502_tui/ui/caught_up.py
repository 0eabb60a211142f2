"""Waiting until widgets have handled the keys already sent to them."""

from __future__ import annotations

import asyncio

from textual.message_pump import MessagePump

CATCH_UP_SECONDS = 1.0
"""The longest a key waits for the keys before it (a stuck handler must not stop typing)."""


async def caught_up(*nodes: MessagePump | None) -> None:
    """Return once each of ``nodes``, in turn, has handled what was sent to it so far.

    The app acts on its own keys (Ctrl+S, Esc, Ctrl+N…) as soon as they come, ahead of
    keys still waiting in the focused widget's queue: keys in a burst (a fast typist over
    a slow link, a paste) would otherwise be acted on out of order, and a field saved
    without its last letters."""
    for node in nodes:
        done = asyncio.Event()
        if node is not None and node.call_later(done.set):
            try:
                await asyncio.wait_for(done.wait(), CATCH_UP_SECONDS)
            except TimeoutError:
                return
