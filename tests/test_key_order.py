"""Keys that arrive together (a paste-fast burst over a slow SSH link) apply in order."""

from __future__ import annotations

from pathlib import Path

from textual import events
from textual.command import CommandInput
from textual.pilot import Pilot
from textual.widgets import Input

from loopback import LoopbackServer
from t502_tui.ui.app import T502App
from t502_tui.ui.screens.palette import Palette
from t502_tui.ui.screens.settings import SettingsScreen
from t502_tui.ui.screens.theme_picker import ThemePicker
from t502_tui.ui.widgets.composer import Composer
from test_cli import tiny_png
from tui_helpers import make_app, pane, send, settle, until


NAMES = {" ": "space", "+": "plus", "?": "question_mark", "!": "exclamation_mark"}


def burst(app: T502App, *keys: str | events.Paste) -> None:
    """Post every key to the app at once, as a terminal delivers a burst: no pause between
    them for any handler to catch up. Single characters stand for themselves."""
    for key in keys:
        if isinstance(key, events.Paste):
            app.post_message(key)
        elif len(key) == 1:
            app.post_message(events.Key(NAMES.get(key, key), key))
        else:
            app.post_message(events.Key(key, None))


def typed(text: str) -> list[str]:
    return list(text)


async def until_text(pilot: Pilot, composer: Composer, expected: str) -> None:
    """Wait for the burst to be applied; on a timeout, show what the composer holds."""
    try:
        await until(pilot, lambda: composer.text == expected)
    except AssertionError:
        assert composer.text == expected


async def test_backspaces_after_recall_apply_before_the_text_typed_after_them(server: LoopbackServer) -> None:
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "What is 4+4?")
        await settle(app)
        composer = pane(app).composer
        composer.focus()
        await pilot.press("up")
        assert composer.text == "What is 4+4?"
        burst(app, *["backspace"] * 8, *typed("And 5+5 instead?"))
        await until_text(pilot, composer, "WhatAnd 5+5 instead?")


async def test_a_burst_starting_with_up_lands_in_the_recalled_text_and_escape_waits_its_turn(
        server: LoopbackServer) -> None:
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "What is 4+4?")
        await settle(app)
        composer = pane(app).composer
        composer.focus()
        burst(app, "up", "backspace", "backspace", *typed("5?"), "ctrl+j", *typed("Thanks"))
        await until_text(pilot, composer, "What is 4+5?\nThanks")
        assert pane(app).editing is not None
        # Esc acts (leaves the edit, empties the composer) after the keys before it, even
        # where those start the edit: the app does not act on it ahead of them.
        burst(app, "escape", "up", *typed("x"), "escape", *typed("new"))
        await until_text(pilot, composer, "new")
        assert pane(app).editing is None


async def test_enter_and_a_pasted_image_path_in_a_burst(server: LoopbackServer, tmp_path: Path) -> None:
    image = tmp_path / "dot.png"
    image.write_bytes(tiny_png())
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        composer = pane(app).composer
        composer.focus()
        await pilot.pause()
        burst(app, *typed("hi"), "enter", *typed("see"), events.Paste(str(image)), *typed(" thiss"), "backspace", "!")
        await until_text(pilot, composer, "see this!")
        await until(pilot, lambda: len(pane(app).attachments) == 1)
        await settle(app)
    assert server.chat_requests()[0].json["messages"] == [{"role": "user", "content": "hi"}]


async def test_a_burst_with_tabs_fills_each_field_of_a_form_in_turn(server: LoopbackServer) -> None:
    """"local", Tab, the URL, typed together: each lands in its own field (the text after
    a Tab used to land in the field the Tab left), and a bad name is named as such."""
    from textual.widgets import Input

    from t502_tui.ui.screens.add_provider import AddProviderScreen

    app = make_app(server)
    async with app.run_test(size=(80, 30)) as pilot:
        screen = AddProviderScreen(["token502"])
        await app.push_screen(screen)
        name, url = screen.query_one("#provider-name", Input), screen.query_one("#provider-url", Input)
        await until(pilot, lambda: app.focused is name)
        burst(app, *typed("local"), "tab", *typed("http"), "shift+tab", "x")
        try:
            await until(pilot, lambda: len(name.value) + len(url.value) == 10)
        except AssertionError:
            raise AssertionError((name.value, url.value, app.focused)) from None
        assert (name.value, url.value) == ("localx", "http")
        name.value = "a/b"
        await pilot.press("enter")
        assert str(screen.query_one("#provider-message").render()).startswith("The name “a/b” must use only")


async def test_a_field_typed_and_saved_in_one_burst_is_saved_whole(server: LoopbackServer) -> None:
    """Ctrl+S right behind the letters of a settings field saved the field without them:
    the screen's key acted before the field had taken the letters before it."""
    from t502_tui import paths
    from t502_tui.config import load_config
    from t502_tui.ui.screens.settings import SettingsScreen

    app = make_app(server)
    async with app.run_test(size=(80, 30)) as pilot:
        await pilot.press("f2")
        await until(pilot, lambda: isinstance(app.screen, SettingsScreen))
        await until(pilot, lambda: app.focused is app.screen.query_one("#base_url"))
        burst(app, "tab", *typed("sk-typed-fast"), "ctrl+s")
        await until(pilot, lambda: not isinstance(app.screen, SettingsScreen))
        await until(pilot, lambda: paths.config_file().exists())
    assert load_config(env={}).api_key == "sk-typed-fast"


async def test_a_fields_own_key_in_a_burst_keeps_its_place(server: LoopbackServer) -> None:
    """"abc", Ctrl+U, "xyz" together: Textual ran the field's Ctrl+U only after "xy" had
    reached the field, and left "z"."""
    from textual.widgets import Input

    from t502_tui.ui.screens.search import SearchScreen

    app = make_app(server)
    async with app.run_test(size=(80, 30)) as pilot:
        await until(pilot, lambda: isinstance(app.focused, Composer) and app.session.history is not None)
        await pilot.press("ctrl+f")
        await until(pilot, lambda: isinstance(app.screen, SearchScreen) and isinstance(app.focused, Input))
        field = app.focused
        burst(app, *typed("abc"), "ctrl+u", *typed("xyz"), "left", "ctrl+w", "home", *typed("a "))
        try:
            await until(pilot, lambda: field.value == "a z")  # type: ignore[union-attr]
        except AssertionError:
            raise AssertionError(field.value) from None  # type: ignore[union-attr]


async def test_words_typed_on_a_chosen_message_and_enter_in_one_burst_are_sent(server: LoopbackServer) -> None:
    """Typing on a chosen message goes to the composer; the Enter typed right after the
    words (before the composer had the focus) sends them, rather than act on the message."""
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "first")
        await settle(app)
        await pilot.press("shift+tab")
        await until(pilot, lambda: app.focused is pane(app).view)
        burst(app, *typed("abc"), "enter")
        await until(pilot, lambda: [m.content for m in pane(app).conversation.messages][-2:-1] == ["abc"])
        await settle(app)
        assert pane(app).composer.text == ""


async def test_letters_typed_on_an_empty_conversation_go_to_the_composer(server: LoopbackServer) -> None:
    from t502_tui.ui.widgets.key_hints import KeyHints

    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        pane(app).view.focus()
        await until(pilot, lambda: app.focused is pane(app).view)
        await pilot.pause()
        assert not {"Copy", "Edit", "Delete"} & set(app.screen.query_one(KeyHints).shown)
        burst(app, *typed("code"))
        await until_text(pilot, pane(app).composer, "code")


async def test_a_multi_line_fields_own_keys_in_a_burst_keep_their_place(server: LoopbackServer) -> None:
    """End and "XY" together in the system prompt box gave "XabcdefY" (user run 20)."""
    from t502_tui.ui.screens.system_prompt import SystemPromptEditor
    from t502_tui.ui.widgets.text_box import TextField

    app = make_app(server)
    async with app.run_test(size=(80, 30)) as pilot:
        await until(pilot, lambda: isinstance(app.focused, Composer))
        app.push_screen(SystemPromptEditor("abcdef", "system"))
        await until(pilot, lambda: isinstance(app.focused, TextField))
        field = app.focused
        field.move_cursor((0, 0))  # type: ignore[union-attr]
        burst(app, "end", *typed("XY"), "home", "right", "Q")
        try:
            await until(pilot, lambda: field.text == "aQbcdefXY")  # type: ignore[union-attr]
        except AssertionError:
            raise AssertionError(field.text) from None  # type: ignore[union-attr]


async def test_enter_in_the_palette_waits_for_the_search_of_what_was_typed(server: LoopbackServer) -> None:
    # A burst through tmux: Enter reaches the palette while it still lists every command.
    app = make_app(server)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app)
        await pilot.press("ctrl+p")
        await until(pilot, lambda: isinstance(app.screen, Palette))
        field = app.screen.query_one(CommandInput)
        field.value = "theme"
        field.post_message(Input.Submitted(field, "theme"))
        await until(pilot, lambda: isinstance(app.screen, ThemePicker))


async def test_settings_typed_in_the_palette_opens_settings_not_the_conversations(server: LoopbackServer) -> None:
    app = make_app(server)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app)
        await pilot.press("ctrl+p", *"settings", "enter")
        await until(pilot, lambda: isinstance(app.screen, SettingsScreen))
