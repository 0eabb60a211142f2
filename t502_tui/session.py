"""What every conversation of one run of t502 shares: the settings, the API client and
the history. The full-screen chat and ``t502 ask`` each make one; neither the turn engine
nor the conversations reach past it into the app.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from t502_tui.config import Config
from t502_tui.conversation import Conversation
from t502_tui.debug_log import mask_secret
from t502_tui.history import History
from t502_tui.service import ChatClient
from t502_tui.store import Store, StoreError

if TYPE_CHECKING:
    from t502_tui.turn import Turn

LAST_MODEL = "last_model"
"""The preference that remembers the model the user chose last."""
TURN_END_SECONDS = 5.0
"""How long closing waits for replies to be saved."""


def make_client(config: Config) -> ChatClient:
    """A client for the server and key in ``config``."""
    return ChatClient(
        config.base_url,
        config.api_key,
        idle_timeout=config.timeout,
        connect_timeout=config.connect_timeout,
        max_retries=config.max_retries,
        max_reply_seconds=config.max_reply_seconds,
    )


class ChatSession:
    """The settings, the client and the history, for the turns of one run.

    The history may open after the session starts (``history_later``: the chat opens it in
    the background with :meth:`open_history`); :attr:`history` is None when there is none.
    """

    def __init__(self, config: Config, history: History | None = None, *, history_later: bool = False) -> None:
        self.config = config
        self.client = make_client(config)
        self.history = history
        self.history_ready = asyncio.Event()
        """Set once the history is open, or known to be missing."""
        self.turns: set[Turn] = set()
        """The turns running now."""
        if not history_later:
            self.history_ready.set()

    async def open_history(self, path: Path, on_failure: Callable[[StoreError], None]) -> StoreError | None:
        """Open the store off the event loop; the reason if it cannot be used."""
        try:
            store = await asyncio.to_thread(Store, path)
        except StoreError as error:
            return error
        else:
            self.history = History(store, on_failure)
            return None
        finally:
            self.history_ready.set()

    async def replace_client(self) -> None:
        """Talk to the server, or with the key, now in the config."""
        mask_secret(self.config.api_key)
        old, self.client = self.client, make_client(self.config)
        await old.aclose()

    def request_params(self, conversation: Conversation) -> dict[str, Any]:
        """Parameters for a request of ``conversation``: the defaults, then its own."""
        return {**self.config.params, **conversation.settings}

    def interrupt_all(self) -> None:
        """t502 is ending: replies still streaming will be kept as interrupted."""
        for turn in self.turns:
            turn.interrupt()

    async def aclose(self) -> None:
        """Wait (a little) for running replies to be saved, then close the connections
        and, once its writes are done, the history."""
        if self.turns:
            await asyncio.wait([asyncio.ensure_future(t.ended.wait()) for t in self.turns], timeout=TURN_END_SECONDS)
        await self.client.aclose()
        if self.history is not None:
            await self.history.close()
