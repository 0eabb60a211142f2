"""Snapshots of the main screens (pytest-textual-snapshot); update with --snapshot-update."""

from __future__ import annotations

from datetime import datetime

import pytest

from loopback import DEFAULT_MODELS, DEMO_MODELS, DEMO_PRICING
from t502_tui import paths
from t502_tui.conversation import ChatMessage, Conversation, ReplyStatus
from t502_tui.model_catalog import save_cached_models, save_cached_pricing
from t502_tui.service import ModelInfo, Usage
from t502_tui.service.pricing import context_length, parse_relay_pricing
from tui_helpers import make_app, pane, until

DEAD_URL = "http://127.0.0.1:9/v1"
SIZE = (120, 36)
WHEN = datetime(2026, 11, 26, 9, 30, 5)

REPLY = """Here is a function:

```python
def greet(name: str) -> str:
    return f"Hello, {name}!"
```

- short
- and **bold**
"""


@pytest.fixture(autouse=True)
def cached_models() -> None:
    save_cached_models(DEAD_URL, DEFAULT_MODELS)


def finished_conversation() -> Conversation:
    return Conversation(
        model="claude-sonnet-4",
        id="snapshot",
        saved=True,
        messages=[
            ChatMessage("user", "Write a greeting function", created=WHEN),
            ChatMessage("assistant", REPLY, model="gpt-5", created=WHEN,
                        usage=Usage(18, 42, 60, reasoning_tokens=8, cached_tokens=4)),
            ChatMessage("user", "Now say it shorter", created=WHEN),
            ChatMessage("assistant", "`greet = lambda n: f'Hi {n}'`", model="claude-sonnet-4",
                        created=WHEN, usage=Usage(70, 12, 82)),
        ],
    )


def failed_conversation() -> Conversation:
    return Conversation(
        model="gpt-5",
        id="failed",
        saved=True,
        messages=[
            ChatMessage("user", "Are you there?", created=WHEN),
            ChatMessage("assistant", "", model="gpt-5", created=WHEN, status=ReplyStatus.ERROR,
                        error="the API key was rejected (HTTP 401): Invalid token"),
        ],
    )


def test_main_screen(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(make_app(None, [finished_conversation()], T502_BASE_URL=DEAD_URL),
                        terminal_size=SIZE)


def test_model_picker(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(make_app(None, [finished_conversation()], T502_BASE_URL=DEAD_URL),
                        press=["ctrl+o"], terminal_size=SIZE)


def test_error_state(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(make_app(None, [failed_conversation()], T502_BASE_URL=DEAD_URL),
                        terminal_size=SIZE)


def test_setup_screen(snap_compare, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("T502_CONFIG", "/nonexistent/t502/config.toml")
    assert snap_compare(make_app(None, T502_BASE_URL=DEAD_URL, T502_API_KEY=""), terminal_size=SIZE)


def test_main_screen_light_theme(snap_compare) -> None:  # type: ignore[no-untyped-def]
    app = make_app(None, [finished_conversation()], T502_BASE_URL=DEAD_URL)
    app.config.theme = "t502-dawn"
    assert snap_compare(app, terminal_size=SIZE)


def test_model_picker_with_providers_and_prices(snap_compare) -> None:  # type: ignore[no-untyped-def]
    local, down = "http://127.0.0.1:8/v1", "http://127.0.0.1:7/v1"
    save_cached_models(DEAD_URL, [ModelInfo(m["id"], context_length=context_length(m)) for m in DEMO_MODELS])
    save_cached_pricing(DEAD_URL, parse_relay_pricing(DEMO_PRICING))
    save_cached_models(local, ["llama3", "qwen3:8b"])
    config = paths.config_file()
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(f'[providers.local]\nbase_url = "{local}"\n[providers.down]\nbase_url = "{down}"\n'
                      '[context]\n"local/llama3" = 8192\n[prices."llama3"]\ninput = 0.1\noutput = 0.2\n')
    app = make_app(None, [finished_conversation()], T502_BASE_URL=DEAD_URL)
    app.config.max_retries = 0  # "down" is refused at once, not after two retries

    async def loaded(pilot) -> None:  # type: ignore[no-untyped-def]
        await until(pilot, lambda: bool(app.session.facts("down").models_note))
        pane(app).composer.cursor_blink = False  # waiting on the servers took a varying time
        await pilot.press("ctrl+o")

    assert snap_compare(app, run_before=loaded, terminal_size=SIZE)


@pytest.mark.parametrize("size", [(80, 24), (60, 20)], ids=["80x24", "60x20"])
def test_main_screen_small(snap_compare, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    """The conversation list makes room; the conversation, status line and footer fit."""
    assert snap_compare(make_app(None, [finished_conversation()], T502_BASE_URL=DEAD_URL), terminal_size=size)


@pytest.mark.parametrize("size", [(80, 24), (60, 20)], ids=["80x24", "60x20"])
def test_help_small(snap_compare, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    """Keys and what they do in two columns that wrap; the frame whole; Esc named."""
    assert snap_compare(make_app(None, [finished_conversation()], T502_BASE_URL=DEAD_URL),
                        press=["f1"], terminal_size=size)
