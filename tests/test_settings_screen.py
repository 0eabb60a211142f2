"""The Settings screen (F2): focus, cursor, the masked key, Enter, small terminals, saving."""

from __future__ import annotations

import pytest
from textual.widgets import Button, Input, Select, TextArea

from loopback import LoopbackServer
from t502_tui import paths
from t502_tui.config import load_config
from t502_tui.ui.app import T502App
from t502_tui.ui.screens.settings import SettingsScreen
from tui_helpers import make_app, until


async def open_settings(pilot) -> SettingsScreen:  # type: ignore[no-untyped-def]
    await pilot.press("f2")
    await until(pilot, lambda: isinstance(pilot.app.screen, SettingsScreen))
    await pilot.pause()
    return pilot.app.screen  # type: ignore[no-any-return]


async def test_the_first_field_is_focused_and_tab_selects_nothing(server: LoopbackServer) -> None:
    app = make_app(server)
    async with app.run_test(size=(100, 40)) as pilot:
        screen = await open_settings(pilot)
        url = screen.query_one("#base_url", Input)
        assert app.focused is url
        assert url.selection.is_empty and url.cursor_position == len(server.url)
        await pilot.press("x", "tab", "tab", "shift+tab", "shift+tab")
        assert app.focused is url and url.selection.is_empty
        await pilot.press("z")
        assert url.value == server.url + "xz"
        await pilot.press("tab", "tab")
        model = screen.query_one("#model", Input)
        assert app.focused is model
        await pilot.press("-", "2")
        assert model.value == app.config.model + "-2"
        await pilot.press("tab")
        prompt = screen.query_one("#system_prompt", TextArea)
        assert app.focused is prompt and prompt.cursor_location == prompt.document.end


async def test_the_key_is_masked_and_ctrl_r_shows_it(server: LoopbackServer) -> None:
    app = make_app(server)
    async with app.run_test(size=(100, 40)) as pilot:
        screen = await open_settings(pilot)
        await pilot.press("tab", *"sk-typed")
        key = screen.query_one("#api_key", Input)
        assert app.focused is key and key.value == "sk-typed" and key.password
        assert app.config.api_key not in key.value
        note = screen.query_one("#api_key-note")
        assert "Ctrl+R shows" in str(note.render())
        await pilot.press("ctrl+r")
        assert not key.password and "Ctrl+R hides" in str(note.render())
        await pilot.press("ctrl+r")
        assert key.password


async def test_a_value_an_environment_variable_gives_says_so(server: LoopbackServer,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("T502_MODEL", "gpt-5")
    monkeypatch.setenv("T502_API_KEY", "sk-from-env")
    app = make_app(server)
    async with app.run_test(size=(100, 40)) as pilot:
        screen = await open_settings(pilot)
        assert str(screen.query_one("#model-note").render()).startswith(
            "T502_MODEL is set: it gives the value shown, over the config file's, until it is unset")
        # The key's field is empty (a secret is never shown): the variable gives the key in use.
        assert str(screen.query_one("#api_key-note").render()).startswith("T502_API_KEY is set: it gives the key in use")
        assert "T502_" not in str(screen.query_one("#theme-note").render())


async def test_enter_saves_only_what_changed(server: LoopbackServer) -> None:
    path = paths.config_file()
    path.parent.mkdir(parents=True)
    path.write_text('# mine\ntheme = "gone-theme"  # a theme I deleted\n[params]\ntop_p = 0.9\n')
    app = make_app(server)
    async with app.run_test(size=(100, 40)) as pilot:
        screen = await open_settings(pilot)
        assert screen.query_one("#theme", Select).value == "gone-theme"
        await pilot.press("enter")  # nothing changed: nothing to save
        await until(pilot, lambda: not isinstance(app.screen, SettingsScreen))
        screen = await open_settings(pilot)
        screen.query_one("#max_tokens", Input).focus()
        await pilot.press(*"lots", "enter")
        assert isinstance(app.screen, SettingsScreen)
        note = str(screen.query_one("#max_tokens-note").render())
        assert note == "Max tokens per reply must be a whole number from 1 to 10000000."
        await pilot.press("ctrl+u")
        screen.query_one("#temperature", Input).focus()
        await pilot.press(*"0.3", "enter")
        await until(pilot, lambda: not isinstance(app.screen, SettingsScreen))
        await until(pilot, lambda: "temperature" in path.read_text())
    assert path.read_text() == (
        '# mine\ntheme = "gone-theme"  # a theme I deleted\n[params]\ntop_p = 0.9\ntemperature = 0.3\n'
    )


@pytest.mark.parametrize("size", [(80, 24), (60, 20)])
async def test_save_and_cancel_stay_on_screen_while_the_form_scrolls(
    server: LoopbackServer, size: tuple[int, int]
) -> None:
    app = make_app(server)
    async with app.run_test(size=size) as pilot:
        screen = await open_settings(pilot)

        def buttons_shown() -> bool:
            return all(
                screen.get_widget_at(b.region.x + 1, b.region.y + 1)[0] is b
                for b in screen.query("#settings-buttons Button")
            )

        assert buttons_shown()
        screen.query_one("#send_key").focus()
        await pilot.pause()
        assert buttons_shown() and screen.query_one("#settings-form").scroll_y > 0
        box = screen.query_one("#settings").region
        assert box.x >= 0 and box.y >= 0 and box.right <= size[0] and box.bottom <= size[1]


async def test_a_comment_survives_a_save_from_the_app(server: LoopbackServer) -> None:
    path = paths.config_file()
    path.parent.mkdir(parents=True)
    path.write_text('# work relay\nmodel = "gpt-5"  # the usual\n\n# keys\n[keys]\nsearch = "ctrl+k"\n')
    app: T502App = make_app(server)
    async with app.run_test(size=(100, 40)) as pilot:
        screen = await open_settings(pilot)
        model = screen.query_one("#model", Input)
        model.focus()
        await pilot.press(*"-mini", "enter")
        await until(pilot, lambda: "gpt-5-mini" in path.read_text())
    assert path.read_text() == (
        '# work relay\nmodel = "gpt-5-mini"  # the usual\n\n# keys\n[keys]\nsearch = "ctrl+k"\n'
    )


async def test_the_default_providers_table_is_edited_and_a_provider_added(server: LoopbackServer) -> None:
    path = paths.config_file()
    path.parent.mkdir(parents=True)
    path.write_text('[providers.token502]\nbase_url = "https://relay.example/v1"\napi_key_cmd = "echo sk-old"\n')
    app: T502App = make_app(server)
    async with app.run_test(size=(100, 40)) as pilot:
        screen = await open_settings(pilot)
        assert "token502 is the Base URL and API key above" in str(screen.query_one("#settings-providers").render())
        screen.query_one("#settings-add-provider", Button).press()
        await until(pilot, lambda: app.screen.__class__.__name__ == "AddProviderScreen")
        app.screen.query_one("#provider-url", Input).value = server.url
        await pilot.press("enter")  # no name yet
        await until(pilot, lambda: "Type a name for it" in str(app.screen.query_one("#provider-message").render()))
        app.screen.query_one("#provider-name", Input).value = "local"
        await pilot.press("enter")
        await until(pilot, lambda: app.screen is screen and "local:" in str(screen.query_one("#settings-providers").render()))
        await until(pilot, lambda: "local" in app.session.provider_names and app.session.facts("local").models is not None)
        screen.query_one("#base_url", Input).value = "http://127.0.0.1:1/v1"
        screen.query_one("#api_key", Input).value = "sk-typed-in-settings"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "sk-typed" in path.read_text())
    saved = load_config(path, env={})
    assert "base_url" not in path.read_text().split("[providers")[0]  # not at the top as well: it would not load
    assert saved.providers["token502"] == {"base_url": "http://127.0.0.1:1/v1", "api_key": "sk-typed-in-settings"}
    assert saved.providers["local"] == {"base_url": server.url}
    assert (saved.base_url, saved.api_key) == ("http://127.0.0.1:1/v1", "sk-typed-in-settings")


async def test_conversation_settings_keep_a_value_when_tab_lands_on_it(server: LoopbackServer) -> None:
    """Tab onto a field with a value, Backspace, a digit: one character changes (F3 selected
    the whole value on focus, and Backspace emptied it)."""
    from t502_tui.ui.screens.conversation_settings import ConversationSettingsScreen
    from tui_helpers import pane

    app = make_app(server)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.press("f3")
        await until(pilot, lambda: isinstance(app.screen, ConversationSettingsScreen))
        app.screen.query_one("#conv-temperature", Input).value = "0.3"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: pane(app).conversation.settings.get("temperature") == 0.3)
        await pilot.press("f3")
        await until(pilot, lambda: isinstance(app.screen, ConversationSettingsScreen))
        await pilot.pause()
        await pilot.press("tab")
        field = app.screen.query_one("#conv-temperature", Input)
        assert app.focused is field and field.selection.is_empty
        await pilot.press("backspace", "9", "enter")
        await until(pilot, lambda: not isinstance(app.screen, ConversationSettingsScreen))
        assert pane(app).conversation.settings.get("temperature") == 0.9


async def test_a_save_refused_goes_to_the_first_wrong_field(server: LoopbackServer) -> None:
    app = make_app(server)
    async with app.run_test(size=(100, 24)) as pilot:
        screen = await open_settings(pilot)
        screen.query_one("#base_url", Input).value = "not a url"
        screen.query_one("#max_tokens", Input).value = "lots"
        screen.query_one("#max_tokens", Input).focus()  # the user is at the bottom of the form
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        url = screen.query_one("#base_url", Input)
        assert isinstance(app.screen, SettingsScreen) and app.focused is url
        form = screen.query_one("#settings-form")
        assert form.scrollable_content_region.contains_region(url.region)  # in sight
        await pilot.press("x")
        assert url.value == "not a urlx"  # keys go to the field in sight, not one scrolled away


async def test_esc_asks_before_it_throws_changes_away(server: LoopbackServer) -> None:
    from t502_tui.ui.screens.dialogs import Confirm

    app = make_app(server)
    async with app.run_test(size=(100, 40)) as pilot:
        await open_settings(pilot)
        await pilot.press("escape")  # nothing changed: closes at once
        await until(pilot, lambda: not isinstance(app.screen, SettingsScreen))
        screen = await open_settings(pilot)
        screen.query_one("#system_prompt", TextArea).load_text("A prompt written for minutes.")
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, Confirm))
        await pilot.press("escape")  # no: back to the changes
        await until(pilot, lambda: app.screen is screen)
        assert screen.query_one("#system_prompt", TextArea).text == "A prompt written for minutes."
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, Confirm))
        await pilot.press("y")
        await until(pilot, lambda: not isinstance(app.screen, (Confirm, SettingsScreen)))
    assert load_config(env={}).system_prompt != "A prompt written for minutes."
