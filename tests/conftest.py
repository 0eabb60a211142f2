"""Shared fixtures: an isolated home for every test, and the loopback API server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import Input, TextArea

from loopback import LoopbackServer


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """Two test workers a core for ``-n auto``: a UI test spends about a third of its time
    waiting for the app to fall idle, time another worker can use (2 cores: 117 s with two
    workers, 75-85 s with four)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return 2 * cores


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point every XDG folder into the test's own directory; clear t502's variables."""
    for name in ("CONFIG", "DATA", "CACHE", "STATE"):
        monkeypatch.setenv(f"XDG_{name}_HOME", str(tmp_path / name.lower()))
    for name in ("T502_API_KEY", "T502_BASE_URL", "T502_MODEL", "T502_CONFIG", "T502_DEBUG"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


@pytest.fixture(autouse=True)
def still_cursors(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """In snapshot tests, a focused field's cursor stays shown: a picture taken more than
    half a second after focus (a loaded machine) would catch it blinked off, and differ."""
    if "snap_compare" in request.fixturenames:
        monkeypatch.setattr(Input, "_toggle_cursor", lambda self: None)
        monkeypatch.setattr(TextArea, "_toggle_cursor_blink_visible", lambda self: None)


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    """A fresh loopback API server for one test."""
    srv = LoopbackServer().start()
    yield srv
    srv.stop()
