"""The settings screen, config round trips, key rebinding and conflicts."""

from __future__ import annotations

import stat
import tomllib

import pytest
from textual.widgets import Static

from loopback import LoopbackServer
from readme_tables import README
from t502_tui import paths
from t502_tui.config import load_config, save_config
from t502_tui.conversation import ChatMessage
from t502_tui.keys import DEFAULT_KEYS, resolve_keys
from t502_tui.ui.screens.help import HelpScreen
from t502_tui.ui.screens.search import SearchScreen
from t502_tui.ui.screens.settings import SettingsScreen
from tui_helpers import make_app, pane, settle, until


def test_resolve_keys_reports_unknowns_bad_keys_and_conflicts() -> None:
    keys, problems = resolve_keys({"search": "ctrl+k", "retry": "ctrl+o", "nope": "x", "help": "hyper+q"})
    assert keys["search"] == ["ctrl+k"]
    assert keys["retry"] == ["ctrl+r"] and keys["switch_model"] == ["ctrl+o"]
    assert keys["help"] == ["f1"]
    assert len(problems) == 3
    assert any("nope: no such action" in p for p in problems)
    assert any("hyper+q is not a key name" in p for p in problems)
    assert any("ctrl+o is given to retry and switch_model" in p for p in problems)


async def test_start_up_warnings_come_as_one_notice(server: LoopbackServer) -> None:
    # Stacked one by one, they ran off the bottom of an 80x24 screen.
    config = paths.config_file()
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text('colour = "red"\n[keys]\nnope = "x"\nhelp = "hyper+q"\nretry = "ctrl+o"\nsearch = "q+"\n')
    app = make_app(server)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app)
        await pilot.pause()
        [notice] = [n for n in app._notifications if n.title == "Config"]
        lines = notice.message.split("\n")
        assert len(lines) == 5 and all(line.startswith("• ") for line in lines[:4]) and lines[4] == "… and 1 more"
        assert "unknown key 'colour'" in lines[0] and all(len(line) <= 202 for line in lines)


def test_send_mode_swaps_send_and_newline() -> None:
    keys, problems = resolve_keys({}, "ctrl+j")
    assert keys["send"] == ["ctrl+j"] and "enter" in keys["newline"] and not problems
    assert set(resolve_keys(None)[0]) == set(DEFAULT_KEYS)


def test_config_round_trip_keeps_unknown_keys_and_mode() -> None:
    path = paths.config_file()
    path.parent.mkdir(parents=True)
    path.write_text('future_option = 3\n[keys]\nsearch = "ctrl+k"\n[plugins.x]\ny = 1\n')
    save_config(path, {"theme": "t502-dawn", "params": {"temperature": 0.3}})
    data = tomllib.loads(path.read_text())
    assert data["future_option"] == 3 and data["plugins"] == {"x": {"y": 1}}
    assert data["keys"] == {"search": "ctrl+k"} and data["theme"] == "t502-dawn"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not list(path.parent.glob(".config-*"))  # no temporary file left behind


async def test_rebound_key_works_and_problems_are_shown(server: LoopbackServer) -> None:
    path = paths.config_file()
    path.parent.mkdir(parents=True)
    path.write_text('[keys]\nsearch = "ctrl+k"\nretry = "ctrl+o"\n')
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.session.history is not None)
        await pilot.press("ctrl+k")
        await until(pilot, lambda: isinstance(app.screen, SearchScreen))
        await pilot.press("escape")
        notices = [n.message for n in app._notifications]
        assert sum("ctrl+o is given to" in n for n in notices) == 1
        await pilot.press("f1")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        shown = " ".join(str(s.render()) for s in app.screen.query(".help-key"))
        assert "Ctrl+K" in shown and "Ctrl+O" in shown and "Ctrl+R" in shown


async def test_send_key_mode_ctrl_j(server: LoopbackServer) -> None:
    path = paths.config_file()
    path.parent.mkdir(parents=True)
    path.write_text('send_key = "ctrl+j"\n')
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        composer = pane(app).composer
        assert composer.placeholder.startswith("Message (Ctrl+J sends, Enter new line")
        pane(app).edit(ChatMessage("user", "earlier"))
        assert "Ctrl+J sends it as a new branch" in str(pane(app).query_one(".edit-banner", Static).render())
        pane(app).cancel_edit()
        composer.focus()
        await pilot.press("a", "enter", "b")
        assert composer.text == "a\nb" and not server.chat_requests()
        await pilot.press("ctrl+j")
        await settle(app)
        assert server.chat_requests()[0].json["messages"][-1]["content"] == "a\nb"


async def test_settings_are_checked_saved_and_applied(server: LoopbackServer,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    # A key in the environment takes the saved key's place at the next start: said when saving.
    monkeypatch.setenv("T502_API_KEY", "sk-from-the-shell")
    app = make_app(server)
    async with app.run_test(size=(120, 50)) as pilot:
        await pilot.press("f2")
        await until(pilot, lambda: isinstance(app.screen, SettingsScreen))
        await pilot.pause()
        screen = app.screen
        screen.query_one("#base_url").value = "localhost:1234"  # type: ignore[attr-defined]
        screen.query_one("#temperature").value = "7"  # type: ignore[attr-defined]
        await pilot.pause()
        assert "http:// or https://" in str(screen.query_one("#base_url-note").render())
        assert "0 to 2" in str(screen.query_one("#temperature-note").render())
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, SettingsScreen)  # refused
        screen.query_one("#base_url").value = server.url  # type: ignore[attr-defined]
        screen.query_one("#temperature").value = "0.4"  # type: ignore[attr-defined]
        screen.query_one("#model").value = "claude-sonnet-4"  # type: ignore[attr-defined]
        screen.query_one("#api_key").value = "sk-new-key-123456"  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await until(pilot, lambda: not isinstance(app.screen, SettingsScreen))
        await until(pilot, lambda: paths.config_file().exists())
        assert app.config.params == {"temperature": 0.4} and app.default_model == "claude-sonnet-4"
        await until(pilot, lambda: any(str(n.message).startswith("Saved ") for n in app._notifications))
        saved_note = next(str(n.message) for n in app._notifications if str(n.message).startswith("Saved "))
        assert "model" in saved_note and "the key" in saved_note and " in " in saved_note
        assert "sk-new-key" not in saved_note
        [warned] = [n.message for n in app._notifications if n.title == "API key"]
        assert warned.startswith("T502_API_KEY is set where t502 was started, and takes the place of the saved key")
        await pilot.press("ctrl+n")
        await settle(app)
        assert pane(app).conversation.model == "claude-sonnet-4"
    saved = load_config(env={})
    assert saved.api_key == "sk-new-key-123456" and saved.params == {"temperature": 0.4}
    assert saved.model == "claude-sonnet-4"
    assert stat.S_IMODE(paths.config_file().stat().st_mode) == 0o600


async def test_a_reply_timeout_set_in_settings_holds_for_the_next_reply(server: LoopbackServer) -> None:
    app = make_app(server)
    async with app.run_test(size=(120, 50)) as pilot:
        await until(pilot, lambda: app.session.client is not None)
        client = app.session.client
        await pilot.press("f2")
        await until(pilot, lambda: isinstance(app.screen, SettingsScreen))
        field = app.screen.query_one("#timeout")
        assert field.value == "120"  # type: ignore[attr-defined]
        field.value = "600"  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await until(pilot, lambda: paths.config_file().exists())
        assert client.idle_timeout == 600
    assert load_config(env={}).timeout == 600


async def test_settings_masks_the_key(server: LoopbackServer) -> None:
    app = make_app(server)
    async with app.run_test(size=(120, 50)) as pilot:
        app.open_settings()
        await until(pilot, lambda: isinstance(app.screen, SettingsScreen))
        await pilot.pause()
        field = app.screen.query_one("#api_key")
        assert field.value == "" and field.password  # type: ignore[attr-defined]
        assert app.config.api_key not in field.placeholder  # type: ignore[attr-defined]


def test_readme_keys_table_is_made_from_the_keys() -> None:
    import keys_table

    text = README.read_text(encoding="utf-8")
    assert keys_table.readme_table(text) == keys_table.render(), (
        "the README's keys table is out of date: run `python tests/keys_table.py`")
