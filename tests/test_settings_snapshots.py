"""Snapshots of the Settings screen (F2) at the common small sizes; update with --snapshot-update."""

from __future__ import annotations

import pytest

from loopback import DEFAULT_MODELS
from t502_tui.model_catalog import save_cached_models
from tui_helpers import make_app

DEAD_URL = "http://127.0.0.1:9/v1"


@pytest.fixture(autouse=True)
def fixed_config(monkeypatch: pytest.MonkeyPatch) -> None:
    # The screen names its file: one path for every run.
    monkeypatch.setenv("T502_CONFIG", "/nonexistent/t502/config.toml")
    save_cached_models(DEAD_URL, DEFAULT_MODELS)


@pytest.mark.parametrize("size", [(80, 24), (60, 20)], ids=["80x24", "60x20"])
def test_settings_screen(snap_compare, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(make_app(None, T502_BASE_URL=DEAD_URL), press=["f2"], terminal_size=size)


def test_settings_screen_says_what_is_wrong(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(make_app(None, T502_BASE_URL=DEAD_URL),
                        press=["f2", *"x", "tab", "tab", "ctrl+u"], terminal_size=(80, 24))


def test_settings_screen_scrolled_to_the_choices(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(make_app(None, T502_BASE_URL=DEAD_URL),
                        press=["f2", "tab", "tab", "tab", "tab", "tab"], terminal_size=(60, 20))
