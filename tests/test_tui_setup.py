"""First run: no key anywhere opens the setup screen, which checks and saves the key."""

from __future__ import annotations

import stat
import tomllib

from loopback import LoopbackServer, Reply
from t502_tui import paths
from t502_tui.config import load_config
from t502_tui.ui.app import T502App
from t502_tui.ui.screens.setup import SetupScreen
from tui_helpers import make_app, until, settle

NEW_KEY = "sk-brand-new-key-777"


async def test_setup_checks_and_saves_key(server: LoopbackServer) -> None:
    app = make_app(server, T502_API_KEY="")
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, SetupScreen))
        await pilot.press(*NEW_KEY)
        await pilot.press("enter")
        await until(pilot, lambda: not isinstance(app.screen, SetupScreen))
        await settle(app)
        assert app.config.api_key == NEW_KEY and app.models
        assert any(n.message.startswith("Saved the base URL and the key in ") for n in app._notifications)
    assert server.requests[0].headers["authorization"] == f"Bearer {NEW_KEY}"
    path = paths.config_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    saved = tomllib.loads(path.read_text())
    assert saved == {"base_url": server.url, "api_key": NEW_KEY}


async def test_setup_with_no_key_for_a_local_server_says_no_key_was_saved(server: LoopbackServer) -> None:
    app = make_app(server, T502_API_KEY="")
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, SetupScreen))
        await pilot.press("enter")  # a local server that asks for no key
        await until(pilot, lambda: not isinstance(app.screen, SetupScreen))
        await settle(app)
        await until(pilot, lambda: any(n.message.startswith("Saved the base URL and no key (none was given) in ")
                                       for n in app._notifications))


async def test_setup_rejected_key_stays_on_screen(server: LoopbackServer) -> None:
    server.script("/models", Reply(401, body='{"error": {"message": "Invalid token"}}'))
    app = make_app(server, T502_API_KEY="")
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, SetupScreen))
        await pilot.press(*"wrong")
        await pilot.press("enter")
        message = app.screen.query_one("#setup-message")
        await until(pilot, lambda: "Invalid token" in str(message.render()))
        assert isinstance(app.screen, SetupScreen)
        assert app.screen.query_one("#setup-key").value == "wrong"  # type: ignore[attr-defined]
    assert not paths.config_file().exists()


async def test_setup_rejects_bad_url(server: LoopbackServer) -> None:
    app = make_app(server, T502_API_KEY="")
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, SetupScreen))
        app.screen.query_one("#setup-url").value = "localhost:8080"  # type: ignore[attr-defined]
        await pilot.press(*"key")
        await pilot.press("enter")
        await pilot.pause()
        assert "http:// or https://" in str(app.screen.query_one("#setup-message").render())
    assert not server.requests or all(not r.path.endswith("/models") for r in server.requests)


async def test_a_key_that_could_not_be_saved_is_refused_before_the_screen_closes(server: LoopbackServer) -> None:
    app = make_app(server, T502_API_KEY="")
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, SetupScreen))
        app.screen.query_one("#setup-key").value = "sk-test key with spaces"  # type: ignore[attr-defined]
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, SetupScreen)  # it closed, and the key was then not saved
        assert "printable ASCII without spaces" in str(app.screen.query_one("#setup-message").render())
        assert app.screen.query_one("#setup-key").has_focus
    assert not any(r.path.endswith("/models") for r in server.requests)


async def test_key_field_is_masked(server: LoopbackServer) -> None:
    app = make_app(server, T502_API_KEY="")
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, SetupScreen))
        await pilot.press(*NEW_KEY)
        assert app.screen.query_one("#setup-key").password  # type: ignore[attr-defined]
        rendered = "".join(str(app.screen.query_one("#setup-key").render_line(0).text) for _ in [0])
        assert NEW_KEY not in rendered
        await pilot.press("ctrl+r")  # a pasted key can be checked by eye
        assert not app.screen.query_one("#setup-key").password  # type: ignore[attr-defined]
        await pilot.press("ctrl+r")
        assert app.screen.query_one("#setup-key").password  # type: ignore[attr-defined]


async def test_a_key_typed_after_a_tab_lands_in_the_key_field_and_is_never_shown(server: LoopbackServer) -> None:
    server.script("/models", Reply(401, body=f'{{"error": {{"message": "Invalid token {NEW_KEY}"}}}}'))
    app = make_app(server, T502_API_KEY="")
    async with app.run_test(size=(60, 20)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, SetupScreen))
        await pilot.press("tab", *NEW_KEY)
        key = app.screen.query_one("#setup-key")
        assert key.value == NEW_KEY and key.has_focus  # type: ignore[attr-defined]
        await pilot.press("enter")
        message = app.screen.query_one("#setup-message")
        await until(pilot, lambda: "Invalid token" in str(message.render()))
        assert "brand-new" not in app.export_screenshot()


async def test_tab_goes_url_key_buttons_and_enter_in_the_url_moves_on_to_the_key(server: LoopbackServer) -> None:
    app = make_app(server, T502_API_KEY="")
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, SetupScreen))
        order = []
        for _ in range(4):
            await pilot.press("tab")
            order.append(app.focused.id)  # type: ignore[union-attr]
        assert order == ["setup-save", "setup-skip", "setup-url", "setup-key"]
        await pilot.press("shift+tab")
        url = app.screen.query_one("#setup-url")
        assert url.has_focus
        await pilot.press(*"/")  # the cursor is at the end: nothing of the URL is replaced
        assert url.value == server.url + "/"  # type: ignore[attr-defined]
        await pilot.press("enter")
        assert app.screen.query_one("#setup-key").has_focus
        await settle(app)  # a check, had Enter started one, would have reached the server by now
        assert not server.requests or all(not r.path.endswith("/models") for r in server.requests)


async def test_a_server_without_keys_is_set_up_once(server: LoopbackServer) -> None:
    app = make_app(server, T502_API_KEY="")
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, SetupScreen))
        await pilot.press("enter")  # on the empty key: check without one
        await until(pilot, lambda: not isinstance(app.screen, SetupScreen))
        await until(pilot, lambda: paths.config_file().exists())
    assert tomllib.loads(paths.config_file().read_text()) == {"base_url": server.url, "api_key": ""}
    again = T502App(load_config(env={}))
    async with again.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: bool(again.models))
        assert not isinstance(again.screen, SetupScreen)
        assert "no API key" not in again.export_screenshot()
