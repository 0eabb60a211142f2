"""Theme files: bundled ones load, user ones are picked up, broken ones are reported."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from loopback import LoopbackServer
from t502_tui import paths
from t502_tui.config import load_config
from t502_tui.theme_files import bundled_theme_files, load_theme_specs, parse_theme
from t502_tui.ui.screens.theme_picker import ThemePicker
from t502_tui.ui.widgets.key_hints import KeyHints
from t502_tui.conversation import ChatMessage, Conversation
from textual.color import Color
from textual.geometry import Region
from textual.theme import Theme
from textual.widgets import OptionList
from tui_helpers import choose, make_app, shown, until

ROOT = Path(__file__).resolve().parent.parent


def test_at_least_six_bundled_themes_dark_light_and_high_contrast() -> None:
    specs, warnings = load_theme_specs()
    assert not warnings and len(specs) >= 6
    assert any(s.dark for s in specs) and any(not s.dark for s in specs)
    assert any("contrast" in s.name for s in specs)


REPLY = ("# Heading\n\nSome **bold** text and `code`.\n\n| model | tokens |\n|---|---|\n| gpt-5 | 12 |\n\n"
         "```python\nprint('fenced')\n```\n\nThe end.")


async def test_every_theme_t502_offers_draws_a_whole_reply(server: LoopbackServer) -> None:
    conversation = Conversation(model="m", messages=[
        ChatMessage("user", "show me"),
        ChatMessage("assistant", REPLY, model="m", reasoning="Thinking it through"),
    ])
    app = make_app(server, [conversation])
    async with app.run_test(size=(100, 40)) as pilot:
        reply = conversation.messages[1]
        choose(app, reply)
        await pilot.press("enter")  # the reasoning unfolded, so it is drawn too
        names = app.theme_names()
        assert {"ansi-dark", "ansi-light", "t502-midnight", "textual-light"} <= set(names)
        for name in names:
            assert app.try_theme(name), name
            await pilot.pause()
            text = shown(app, reply)
            assert app.theme == name
            assert all(part in text for part in ("Heading", "bold", "gpt-5", "print('fenced')", "Thinking it through"))


async def test_a_theme_that_cannot_draw_is_not_kept(server: LoopbackServer) -> None:
    app = make_app(server)
    async with app.run_test(size=(100, 30)) as pilot:
        app.register_theme(Theme("broken-one", primary="not a colour"))
        assert not app.try_theme("broken-one")
        await pilot.pause()
        assert app.theme == "t502-midnight"
        assert any("broken-one" in n.message for n in app._notifications)


def test_parse_errors_are_named() -> None:
    with pytest.raises(ValueError, match="'name' is missing"):
        parse_theme('primary = "#fff"', "x")
    with pytest.raises(ValueError, match="unknown key"):
        parse_theme('name = "a"\nprimary = "#fff"\ncolour = "red"', "x")
    with pytest.raises(ValueError, match="not valid TOML"):
        parse_theme("name = ", "x")
    # A name the config could not keep: the theme could be chosen, then silently not saved.
    with pytest.raises(ValueError, match="'name' must be one line without control characters"):
        parse_theme('name = "esc\\u001b[31mname"\nprimary = "#fff"', "x")


async def test_user_theme_picked_up_and_broken_one_reported(server: LoopbackServer) -> None:
    folder = paths.config_dir() / "themes"
    folder.mkdir(parents=True)
    (folder / "mine.toml").write_text('name = "my-theme"\nprimary = "#ff0000"\ndark = false\ncode_theme = "vs"\n')
    (folder / "broken.toml").write_text('name = "broken"\nprimary = "not a colour"\n')
    app = make_app(server)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert "my-theme" in app.available_themes and "broken" not in app.available_themes
        notices = " ".join(n.message for n in app._notifications)
        assert "broken.toml" in notices and "'primary' is not a colour" in notices


async def test_change_theme_previews_and_saves(server: LoopbackServer) -> None:
    app = make_app(server)
    async with app.run_test(size=(100, 30)) as pilot:
        app.change_theme()
        await until(pilot, lambda: isinstance(app.screen, ThemePicker))
        await pilot.press("down")
        previewed = app.theme
        assert previewed != "t502-midnight"
        await pilot.press("enter")
        await until(pilot, lambda: paths.config_file().exists())
        await until(pilot, lambda: any(f"Saved the theme {previewed} in" in str(n.message) for n in app._notifications))
    assert load_config(env={}).theme == previewed


async def test_escape_restores_the_theme(server: LoopbackServer) -> None:
    app = make_app(server)
    async with app.run_test(size=(100, 30)) as pilot:
        app.change_theme()
        await until(pilot, lambda: isinstance(app.screen, ThemePicker))
        await until(pilot, lambda: bool(app.screen.query(OptionList)))
        labels = [str(option.prompt) for option in app.screen.query_one(OptionList).options]
        assert [label for label in labels if "in use" in label] == ["t502-midnight  · in use"]
        await pilot.press("down", "down", "escape")
        assert app.theme == "t502-midnight" and not paths.config_file().exists()


def test_unknown_theme_in_config_falls_back() -> None:
    assert load_config(env={}).theme == "t502-midnight"


def test_wheel_ships_the_themes(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(tmp_path), str(ROOT)], check=True, capture_output=True, timeout=300)
    [wheel] = tmp_path.glob("t502-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    bundled = {f.name for f in bundled_theme_files()}
    assert {f"t502_tui/themes/{n}" for n in bundled} <= set(names)
    assert "t502_tui/ui/app.tcss" in names


async def test_with_no_color_a_theme_of_the_terminals_colours_chosen_later_is_not_black_on_black(
        server: LoopbackServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app(server)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: "Newline" in app.chat.query_one(KeyHints).shown)
        for name, colours_left in (("ansi-dark", False), ("t502-midnight", True)):
            assert app.try_theme(name)
            await pilot.pause()
            footer = app.chat.query_one(KeyHints)
            [line] = footer.render_lines(Region(0, 0, footer.size.width, 1))  # as the screen draws it
            drawn = [segment.style for segment in line if segment.text.strip() and segment.style]
            # the terminal's own colours (none given), or greys of the theme's
            assert any(style.color is not None and not style.color.is_default for style in drawn) == colours_left, name
            assert all(style.color is None or style.color.triplet is None or len(set(style.color.triplet)) == 1
                       for style in drawn), name


def _luminance(colour: str) -> float:
    channels = [value / 255 for value in Color.parse(colour).rgb]
    r, g, b = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def test_the_footer_is_readable_in_every_bundled_theme() -> None:
    # WCAG contrast of the footer's letters on its ground: 4.5 is the bar for text.
    specs, _ = load_theme_specs()
    for spec in specs:
        colours = Theme(spec.name, dark=spec.dark, variables=spec.variables, **spec.colors).to_color_system().generate()
        ground = _luminance(colours["footer-background"])
        for name in ("footer-key-foreground", "footer-description-foreground"):
            letters = _luminance(colours[name])
            contrast = (max(letters, ground) + 0.05) / (min(letters, ground) + 0.05)
            assert contrast >= 4.5, (spec.name, name, round(contrast, 2))
