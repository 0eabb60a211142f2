"""Helpers for driving the app in tests."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from textual.pilot import Pilot
from textual.worker import WorkerState

from loopback import LoopbackServer
from t502_tui.config import load_config
from t502_tui.conversation import ChatMessage, Conversation
from t502_tui.store import Store, default_path
from t502_tui.ui.app import T502App
from t502_tui.ui.screens.chat import ChatScreen
from t502_tui.ui.widgets.conversation_pane import ConversationPane

KEY = "sk-tui-secret-key-424242"


def make_app(server: LoopbackServer | None, conversations: list[Conversation] | None = None,
             **env: str) -> T502App:
    values = {"T502_API_KEY": KEY, "T502_BASE_URL": server.url if server else "http://127.0.0.1:9/v1"}
    values.update(env)
    config = load_config(env=values)
    if server is None:
        config.max_retries = 0  # no server at all: its model list fails at once, not after 3 s of retries
    return T502App(config, conversations)


def _holds(condition: Callable[[], bool]) -> bool:
    try:
        return condition()
    except AssertionError:
        return False  # asked of something not there yet (the pane, while the app starts)


async def until(pilot: Pilot, condition: Callable[[], bool], timeout: float = 10) -> None:
    """Let the app run until ``condition`` holds (an event the test cannot await directly)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not _holds(condition):
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        await pilot.pause(0.01)


def shown(app: T502App, message: ChatMessage | None = None) -> str:
    """What the open conversation shows for ``message`` (the newest one by default)."""
    view = pane(app).view
    target = message or view.messages[-1]
    return view.text_of(target)


def painted(app: T502App) -> str:
    """The screen as the next frame would paint it (each widget's lines as it last drew
    them): a line that was not drawn again after a change shows the old text."""
    strips = app.screen._compositor.render_strips()
    return "\n".join("".join(segment.text for segment in strip) for strip in strips)


def header(app: T502App, message: ChatMessage | None = None) -> str:
    """The first line shown for ``message`` (the newest by default): its header."""
    return shown(app, message).split("\n")[0]


def choose(app: T502App, message: ChatMessage) -> None:
    """Focus the messages with ``message`` chosen (as ↑ and ↓ do)."""
    view = pane(app).view
    view.focus()
    view.chosen = view.messages.index(message)


def pane(app: T502App) -> ConversationPane:
    screen = app.screen if isinstance(app.screen, ChatScreen) else app.chat
    active = screen.active_pane
    assert active is not None
    return active


async def send(pilot: Pilot, text: str) -> None:
    """Type ``text`` into the visible composer and press Enter."""
    composer = pane(pilot.app).composer  # type: ignore[arg-type]
    composer.focus()
    composer.load_text(text)
    await pilot.press("enter")


async def settle(app: T502App) -> None:
    """Wait until no worker is running (cancelled ones, like a superseded reload, are fine)."""
    while pending := [w for w in app.workers if w.state in (WorkerState.PENDING, WorkerState.RUNNING)]:
        await asyncio.gather(*(w.wait() for w in pending), return_exceptions=True)


def only_saved_conversation(every_branch: bool = False) -> list[ChatMessage]:
    """The messages of the one conversation in the store (its current branch, or all)."""
    store = Store(default_path())
    try:
        [summary] = store.list_conversations()
        if every_branch:
            return store.all_messages(summary.id)
        return store.load_conversation(summary.id).messages
    finally:
        store.close()


def picker_ready(app: T502App) -> bool:
    """The model picker is on screen with its list filled (typing into it is then seen)."""
    from textual.widgets import OptionList

    from t502_tui.ui.screens.model_picker import ModelPicker

    screen = app.screen
    if not isinstance(screen, ModelPicker) or not screen.is_mounted:
        return False
    lists = screen.query(OptionList)
    return bool(lists) and lists.first().option_count > 0


def linked_paragraphs(count: int) -> str:
    """Paragraphs whose links take far fewer cells than their source (so their height
    before drawing is only a guess), each followed by a list."""
    return "".join(f"Paragraph {i} names `code_{i}` and [the docs](https://example.com/a/long/path/"
                   f"{'segment/' * 12}{i}) before a list.\n\n- first item {i}\n- second item {i}\n\n"
                   for i in range(count)) + "the very end"
