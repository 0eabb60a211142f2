"""Small terminals (80×24 over SSH, 60×20): the conversation list makes room, nothing is cut."""

from __future__ import annotations

from rich.cells import cell_len

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Button, OptionList, Static

from loopback import LoopbackServer
from t502_tui.conversation import Conversation
from t502_tui.store import ConversationSummary
from t502_tui.ui import app as t502_app
from t502_tui.ui.app import T502App
from t502_tui.presets import Preset
from t502_tui.ui.screens.add_provider import AddProviderScreen
from t502_tui.ui.screens.attach import AttachScreen
from t502_tui.ui.screens.conversation_settings import ConversationSettingsScreen
from t502_tui.ui.screens.dialogs import Choice, Confirm, TextPrompt
from t502_tui.ui.screens.help import HelpScreen
from t502_tui.ui.screens.model_picker import ModelPicker, PickerGroup, PickerRow
from t502_tui.ui.screens.preset_picker import PresetPicker
from t502_tui.ui.screens.search import SearchScreen
from t502_tui.ui.screens.settings import SettingsScreen
from t502_tui.ui.screens.setup import SetupScreen
from t502_tui.ui.screens.system_prompt import SystemPromptEditor
from t502_tui.ui.screens.theme_picker import ThemePicker
from t502_tui.ui.widgets.attachment_bar import AttachmentBar
from t502_tui.ui.widgets.composer import Composer
from t502_tui.ui.widgets.key_hints import KeyHints
from t502_tui.ui.widgets.sidebar import ConversationList
from tui_helpers import make_app, pane, send, settle, until



async def test_the_list_hides_below_100_columns_and_ctrl_b_brings_it(server: LoopbackServer) -> None:
    app = make_app(server)
    async with app.run_test(size=(80, 24)) as pilot:
        sidebar = app.chat.query_one("#sidebar")
        listing = app.chat.query_one(ConversationList)
        await pilot.pause()
        assert not sidebar.display
        await pilot.press("ctrl+b")
        assert sidebar.display and listing.has_focus
        await pilot.press("ctrl+b")
        assert not sidebar.display and app.focused is app.chat.active_pane.composer  # type: ignore[union-attr]
        await pilot.resize_terminal(120, 30)
        await until(pilot, lambda: sidebar.display)
        await pilot.press("ctrl+b", "ctrl+b")  # hidden by the user in a wide terminal
        assert not sidebar.display
        await pilot.resize_terminal(80, 24)
        await pilot.resize_terminal(130, 30)
        await until(pilot, lambda: app.chat.size.width == 130)
        await pilot.pause()
        assert not sidebar.display
        await pilot.press("ctrl+b")
        assert sidebar.display
        await pilot.resize_terminal(80, 24)
        await until(pilot, lambda: not sidebar.display)
        await pilot.press("ctrl+b", "enter")  # shown in a narrow terminal to choose a conversation
        await until(pilot, lambda: not sidebar.display)


def cut_hints(app: T502App) -> list[str]:
    """The footer's key hints that are shown but not whole on its line."""
    footer = app.chat.query_one(KeyHints)
    line = footer.render_line(0).text
    return [description for description in footer.shown if f"{description} " not in line]


def shown_hints(app: T502App) -> list[str]:
    return app.chat.query_one(KeyHints).shown


async def test_a_key_hint_that_does_not_fit_whole_is_left_out(server: LoopbackServer) -> None:
    app = make_app(server)
    async with app.run_test(size=(60, 20)) as pilot:
        await until(pilot, lambda: "New" in shown_hints(app))
        await pilot.pause()
        assert not cut_hints(app) and "Search" not in shown_hints(app)  # "^f Se" was shown
        await pilot.press("ctrl+b")  # other keys: measured again
        await until(pilot, lambda: "Rename" in shown_hints(app))
        await pilot.pause()
        assert not cut_hints(app) and "Conversations" not in shown_hints(app)
        await pilot.resize_terminal(140, 30)
        await until(pilot, lambda: "Conversations" in shown_hints(app))
        assert not cut_hints(app)
        await pilot.resize_terminal(80, 24)
        await pilot.press("escape", "f1")  # a dialog over it
        await until(pilot, lambda: len(app.screen_stack) > 1)
        await pilot.pause()
        await until(pilot, lambda: app.screen.query_one(KeyHints).shown == ["Close"])  # the dialog's own keys
        await pilot.click(KeyHints, offset=(2, 0))  # full strength over the backdrop, and they work
        await until(pilot, lambda: not isinstance(app.screen, HelpScreen) and "Newline" in shown_hints(app))


async def test_a_key_hint_clicked_does_what_its_key_does_and_is_lit_when_pointed_at(
        server: LoopbackServer) -> None:
    app = make_app(server)
    async with app.run_test(size=(80, 24)) as pilot:
        footer = app.chat.query_one(KeyHints)
        await until(pilot, lambda: "Conversations" in footer.shown)
        x = footer.render_line(0).text.index("^b Conversations")
        assert not app.chat.query_one("#sidebar").display
        def lit(column: int) -> bool:
            cell = next(iter(footer.render_line(0).crop(column, column + 1)))
            return bool(cell.style and cell.style.reverse)

        assert not lit(x + 1)
        await pilot.hover(KeyHints, offset=(x + 1, 0))
        await until(pilot, lambda: lit(x + 1))  # the hint under the pointer
        await pilot.click(KeyHints, offset=(x + 1, 0))
        await until(pilot, lambda: app.chat.query_one("#sidebar").display)


async def test_the_way_out_and_the_help_are_the_last_hints_to_go(server: LoopbackServer) -> None:
    app = make_app(server)
    async with app.run_test(size=(40, 15)) as pilot:
        await send(pilot, "hello")
        await until(pilot, lambda: not pane(app).streaming)
        await pilot.press("up")  # editing: Esc is the way out
        await until(pilot, lambda: shown_hints(app)[:1] == ["Cancel edit"])
        assert "Newline" not in shown_hints(app)  # the room went to the way out first
        await pilot.press("escape")
        await until(pilot, lambda: shown_hints(app)[:1] == ["Help"])


async def test_a_key_that_turns_something_on_and_off_is_named_for_what_it_does_now(server: LoopbackServer) -> None:
    app = make_app(server)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: isinstance(app.focused, Composer))
        await pilot.press("f2")
        await until(pilot, lambda: isinstance(app.screen, SettingsScreen) and app.screen.query(KeyHints))
        hints = app.screen.query_one(KeyHints)
        await until(pilot, lambda: "Show key" in hints.shown)
        await pilot.press("ctrl+r")
        await until(pilot, lambda: "Hide key" in hints.shown and "Show key" not in hints.shown)
        assert not app.screen.query_one("#api_key").password  # type: ignore[attr-defined]
        await pilot.press("ctrl+r")
        await until(pilot, lambda: "Show key" in hints.shown)
        assert app.screen.query_one("#api_key").password  # type: ignore[attr-defined]
        await pilot.press("escape", "ctrl+o")
        await until(pilot, lambda: isinstance(app.screen, ModelPicker) and app.screen.query(KeyHints))
        hints = app.screen.query_one(KeyHints)
        await until(pilot, lambda: {"Show all kinds", "Sort by price"} <= set(hints.shown))
        await pilot.press("ctrl+a", "ctrl+s")
        await until(pilot, lambda: {"Chat models only", "Servers' order"} <= set(hints.shown))
        assert app.screen.show_all and app.screen.by_price  # type: ignore[attr-defined]


@pytest.mark.parametrize("size", [(40, 15), (140, 45)])
async def test_the_model_picker_fits_the_terminal_and_stays_readable(server: LoopbackServer,
                                                                     size: tuple[int, int]) -> None:
    app = make_app(server)
    async with app.run_test(size=size) as pilot:
        await until(pilot, lambda: isinstance(app.focused, Composer))
        await pilot.press("ctrl+o")
        await until(pilot, lambda: isinstance(app.screen, ModelPicker))
        await pilot.pause()
        box = app.screen.query_one("#picker").region
        assert box.x >= 0 and box.right <= size[0] and box.width <= 100  # its right border shown


async def test_in_a_very_short_terminal_a_dialog_keeps_the_footers_row(server: LoopbackServer) -> None:
    app = make_app(server)
    async with app.run_test(size=(40, 15)) as pilot:
        await until(pilot, lambda: isinstance(app.focused, Composer))
        await pilot.press("f2")
        await until(pilot, lambda: isinstance(app.screen, SettingsScreen) and app.screen.query(KeyHints))
        assert not app.screen.query_one(KeyHints).display  # the buttons' last line needs the row
        await pilot.resize_terminal(60, 20)
        await until(pilot, lambda: app.screen.query_one(KeyHints).display)


@pytest.mark.parametrize("width", [140, 80, 60, 40])
async def test_the_composers_hint_is_shown_whole(server: LoopbackServer, width: int) -> None:
    app = make_app(server)
    async with app.run_test(size=(width, 20)) as pilot:
        await pilot.pause()
        composer = app.chat.active_pane.composer  # type: ignore[union-attr]
        assert "↑" not in composer.placeholder  # nothing to edit yet
        await send(pilot, "hello")
        await settle(app)
        assert composer.placeholder.startswith("Message") and composer.placeholder.count("(") == composer.placeholder.count(")")
        assert len(composer.placeholder) < composer.content_size.width
        assert (width >= 80) == ("↑ edits the last" in composer.placeholder)


async def test_sidebar_rows_do_not_wrap() -> None:
    class SidebarApp(App[None]):
        CSS_PATH = "../t502_tui/ui/app.tcss"

        def compose(self) -> ComposeResult:
            yield ConversationList(id="conversation-list")

    app = SidebarApp()
    async with app.run_test(size=(30, 10)) as pilot:
        sidebar = app.query_one(ConversationList)
        model = "claude-sonnet-4-5-20250929-thinking"
        title = "東京の天気について詳しく教えてください"
        when = datetime.now()
        saved = ConversationSummary("c1", title, when, model, 12, False)
        sidebar.show([(Conversation(model=model), False, "")], [saved], set(), None)
        await pilot.pause()
        drawn = [sidebar.render_line(y).text.rstrip() for y in range(4)]
        assert drawn[0].strip() == "New conversation" and drawn[1].strip().endswith("…")
        assert drawn[2].strip().startswith("東京") and drawn[2].endswith("…")
        assert drawn[3].strip().startswith(f"{when:%H:%M} · 12 msgs · claude-") and drawn[3].endswith("…")


def every_dialog(app: T502App) -> list[Screen[object]]:
    """Each window t502 opens over the chat, with long texts where a text can be long."""
    assert app.session.history is not None
    return [
        HelpScreen(app.keys),
        ModelPicker([PickerGroup("token502", [PickerRow(f"token502/{m}", m, chat=m != "dall-e-3")
                                              for m in ("gpt-5", "claude-sonnet-4", "dall-e-3")])],
                    "token502/gpt-5", ["token502/claude-sonnet-4"]),
        SearchScreen(app.session.history),
        AttachScreen(),
        ThemePicker(app.theme_names(), app.theme, lambda name: True),
        TextPrompt("Rename conversation", "A rather long title " * 8),
        Confirm(f"Delete “{'a long title ' * 12}” and all its messages for good?", "Delete"),
        SystemPromptEditor("Be brief. " * 60, "system"),
        SetupScreen("https://api.token502.com/v1", "~/.config/t502/config.toml"),
        AddProviderScreen(["token502"]),
        ConversationSettingsScreen("Be brief. " * 20, {"temperature": 0.3}, {}, "gpt-5", "a preset"),
        PresetPicker([Preset(f"preset{i}", "Be brief.", "local/qwen3:8b", "a few words " * 6) for i in range(8)], {}),
        Choice("This message makes the request ≈379 tokens, and tiny-context takes 300. " * 2,
               [("trim", "Send only the newest turns that fit", "t"), ("switch", "Switch model…", "m")]),
    ]


async def test_every_dialog_fits_60x20_and_its_hints_and_buttons_can_be_reached(server: LoopbackServer) -> None:
    app = make_app(server)
    async with app.run_test(size=(60, 20)) as pilot:
        await until(pilot, lambda: app.session.history is not None)
        for dialog in every_dialog(app):
            await app.push_screen(dialog)
            await pilot.pause()
            frame = dialog.children[0]
            assert dialog.region.contains_region(frame.region), f"{type(dialog).__name__} is cut off"
            for part in [*dialog.query(".hint"), *dialog.query(Button)]:
                if not frame.region.contains_region(part.region):
                    part.scroll_visible(animate=False)
                    await pilot.pause()
                assert frame.region.contains_region(part.region), f"{type(dialog).__name__}: {part} out of reach"
            app.pop_screen()


@pytest.mark.parametrize(("size", "dialog", "first_line", "field"), [
    ((80, 24), lambda: AddProviderScreen(["token502"]), "Add a provider", "provider-name"),
    ((60, 20), lambda: SetupScreen("https://api.token502.com/v1", "/tmp/t502/config.toml"),
     "Welcome to t502", "setup-key"),
])
async def test_a_dialog_taller_than_the_terminal_opens_at_its_title_with_its_field_in_sight(
        server: LoopbackServer, size: tuple[int, int], dialog: Callable[[], Screen[object]], first_line: str,
        field: str) -> None:
    app = make_app(server)
    async with app.run_test(size=size) as pilot:
        screen = dialog()
        await app.push_screen(screen)
        await pilot.pause()
        await pilot.wait_for_scheduled_animations()  # Textual's scroll to the focused field, if one started
        frame = screen.children[0]
        assert screen.focused is not None and screen.focused.id == field
        assert frame.scroll_y == 0 and frame.max_scroll_y > 0
        assert first_line in str(screen.query(Static).first().render())
        assert frame.region.contains_region(screen.focused.region)


async def test_help_leaves_room_between_each_key_and_what_it_does(server: LoopbackServer) -> None:
    app = make_app(server)
    async with app.run_test(size=(60, 20)) as pilot:
        await pilot.press("f1")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        rows = list(app.screen.query(".help-row"))
        assert len(rows) > 20
        for row in rows:
            key, what = row.children
            assert what.region.x - key.content_region.right >= 2, f"{key.render()} runs into {what.render()}"


async def test_arrows_move_between_a_confirmations_buttons(server: LoopbackServer) -> None:
    app = make_app(server)
    answers: list[bool] = []
    async with app.run_test(size=(60, 20)) as pilot:
        await app.push_screen(Confirm("Delete it for good?", "Delete"), answers.append)
        await pilot.pause()
        assert app.focused is not None and app.focused.id == "confirm-no"
        await pilot.press("left")
        assert app.focused.id == "confirm-yes"
        await pilot.press("right")
        assert app.focused.id == "confirm-no"
        await pilot.press("enter")
        await until(pilot, lambda: answers == [False])


async def test_the_settings_title_shows_where_they_are_saved_at_60_columns(server: LoopbackServer) -> None:
    app = make_app(server)
    async with app.run_test(size=(60, 20)) as pilot:
        await until(pilot, lambda: app.session.history is not None)
        await pilot.press("f2")
        await until(pilot, lambda: isinstance(app.screen, SettingsScreen))
        await pilot.pause()
        title = app.screen.query_one("#settings-title", Static)
        shown = "".join(title.render_line(y).text for y in range(title.size.height)).replace(" ", "")
        assert "config.toml" in shown  # the path wraps onto a second line, it is not cut


def option_lines(widget: OptionList) -> str:
    return "\n".join(widget.render_line(y).text.rstrip() for y in range(widget.size.height))


async def test_the_pickers_prices_line_up_at_60_columns_when_it_opens() -> None:
    rows = [PickerRow(f"token502/{m}", m, price=price, context=context) for m, price, context in
            (("gpt-5", "$1.25/$10", "400k"), ("claude-sonnet-4", "$3/$15", "200k"),
             ("deepseek-r1", "$0.55/$2.2", "64k"), ("gemini-2.5-pro", "$0.04/request", "1.05M"))]
    app: App[None] = App(css_path=Path(t502_app.__file__).with_name("app.tcss"))  # the picker's real size
    async with app.run_test(size=(60, 20)) as pilot:
        app.push_screen(ModelPicker([PickerGroup("token502", rows)], current="token502/gpt-5", recent=[]))
        await until(pilot, lambda: bool(app.screen.query(OptionList))
                    and "$3/$15" in option_lines(app.screen.query_one(OptionList)))
        await pilot.pause()
        columns = {line.index("$") for line in option_lines(app.screen.query_one(OptionList)).splitlines() if "$" in line}
        assert len(columns) == 1, option_lines(app.screen.query_one(OptionList))
        await pilot.press(*"lb2/")  # a provider's name and nothing after it is no model to use
        await until(pilot, lambda: "as typed" not in option_lines(app.screen.query_one(OptionList)))
        await pilot.press("x")
        await until(pilot, lambda: "Use lb2/x as typed" in option_lines(app.screen.query_one(OptionList)))


async def test_a_recent_model_the_list_lacks_comes_before_using_the_typed_text() -> None:
    rows = [PickerRow("token502/gpt-5", "gpt-5")]
    recent = "token502/vendor-x/super-long-model-name"
    app: App[None] = App(css_path=Path(t502_app.__file__).with_name("app.tcss"))
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(ModelPicker([PickerGroup("token502", rows)], current="token502/gpt-5", recent=[recent]))
        await until(pilot, lambda: bool(app.screen.query(OptionList)))
        await pilot.press(*"super-long")
        option_list = app.screen.query_one(OptionList)
        await until(pilot, lambda: "as typed" in option_lines(option_list))
        assert option_list.get_option_at_index(option_list.highlighted).id == f"m:{recent}"  # Enter takes it


async def test_the_heading_of_a_broken_provider_last_in_the_picker_can_be_reached() -> None:
    rows = [PickerRow(f"token502/model-{i}", f"model-{i}") for i in range(30)]
    groups = [PickerGroup("token502", rows), PickerGroup("relay", None, "cannot connect to 127.0.0.1:9")]
    app: App[None] = App(css_path=Path(t502_app.__file__).with_name("app.tcss"))  # the picker's real size
    async with app.run_test(size=(60, 20)) as pilot:
        app.push_screen(ModelPicker(groups, current="token502/model-0", recent=[]))
        await pilot.pause()
        option_list = app.screen.query_one(OptionList)
        await pilot.press("pagedown", "pagedown", "pagedown", "pagedown")
        await pilot.pause()
        assert str(option_list.get_option_at_index(option_list.highlighted).prompt) == "model-29"
        assert "relay · cannot connect to 127.0.0.1:9" in option_lines(option_list)  # at 60x20 too
        await pilot.press("pageup", "pageup", "pageup", "pageup")
        await pilot.pause()
        assert "token502 · 30 models" in option_lines(option_list)


async def chips_for(pilot: Pilot[None], app: T502App, *files: Path) -> AttachmentBar:
    """Attach ``files`` to the message in front; its bar, once it shows a chip for each."""
    await pane(app).attach(*files)
    bar = pane(app).query_one(AttachmentBar)
    await until(pilot, lambda: len(bar.children) == len(files))
    return bar


async def test_attachments_wider_than_the_terminal_can_be_scrolled_to(server: LoopbackServer, tmp_path: Path) -> None:
    """A chip past the right edge was simply not there: the bar scrolls, and says so."""
    files = []
    for index in range(4):
        files.append(tmp_path / f"some-longer-file-name-{index}.txt")
        files[-1].write_text("hello " * 50)
    app = make_app(server)
    async with app.run_test(size=(60, 20)) as pilot:
        bar = await chips_for(pilot, app, *files)
        await until(pilot, lambda: bar.max_scroll_x > 0)
        assert bar.show_horizontal_scrollbar
        bar.children[-1].focus()
        await until(pilot, lambda: bar.scroll_x > 0)  # brought into view


async def test_a_chip_of_a_long_file_name_fits_a_small_terminal_whole(server: LoopbackServer, tmp_path: Path) -> None:
    long = tmp_path / ("a-rather-long-file-name-for-the-chip-in-a-narrow-terminal-" * 2 + "notes.txt")
    long.write_text("hello")
    app = make_app(server)
    async with app.run_test(size=(60, 20)) as pilot:
        bar = await chips_for(pilot, app, long)
        await pilot.pause()
        chip = bar.children[0]
        assert chip.region.right <= bar.region.right and bar.max_scroll_x == 0
        label = str(chip.render())
        assert label.startswith("📄 a-rather-long-file-n…") and "notes.txt · ≈" in label
        assert label.endswith("✕") and chip.tooltip == long.name


async def test_esc_or_a_letter_on_an_attachment_chip_goes_back_to_the_composer(
        server: LoopbackServer, tmp_path: Path) -> None:
    note = tmp_path / "note.txt"
    note.write_text("hello")
    app = make_app(server)
    async with app.run_test(size=(80, 24)) as pilot:
        bar = await chips_for(pilot, app, note)
        bar.children[0].focus()
        await until(pilot, lambda: app.focused is bar.children[0])
        assert "Back" in app.screen.query_one(KeyHints).shown
        await pilot.press("x")
        await until(pilot, lambda: app.focused is pane(app).composer and pane(app).composer.text == "x")
        bar.children[0].focus()
        await until(pilot, lambda: app.focused is bar.children[0])
        await pilot.press("escape")
        await until(pilot, lambda: app.focused is pane(app).composer)
        assert len(pane(app).attachments) == 1


async def test_the_field_typed_in_stays_in_sight_when_the_terminal_shrinks() -> None:
    from textual.widgets import Select

    app = make_app(None)
    async with app.run_test(size=(100, 40)) as pilot:
        form = ConversationSettingsScreen("Be brief.", {}, {}, "gpt-5")
        app.push_screen(form)
        await until(pilot, lambda: app.screen is form and bool(form.query(Select)))
        choice = form.query_one("#conv-effort", Select)
        choice.focus()
        await pilot.resize_terminal(60, 20)
        await until(pilot, lambda: app.size.height == 20)
        form_area = form.query_one("#conv-form")
        await until(pilot, lambda: form_area.region.contains_region(choice.region))


async def test_two_long_file_names_are_shortened_to_fit_side_by_side(server: LoopbackServer, tmp_path: Path) -> None:
    files = [tmp_path / f"{stem}_a_rather_long_file_name_for_the_chip_at_eighty_columns.md" for stem in ("one", "two")]
    for file in files:
        file.write_text("hello")
    app = make_app(server)
    async with app.run_test(size=(80, 24)) as pilot:
        bar = await chips_for(pilot, app, *files)
        await pilot.pause()
        assert bar.max_scroll_x == 0 and bar.children[-1].region.right <= bar.region.right
        assert [str(chip.render())[:12] for chip in bar.children] == ["📄 one_a_rath", "📄 two_a_rath"]
        await pilot.resize_terminal(140, 45)  # room again: names as long as a chip shows them
        await until(pilot, lambda: str(bar.children[0].render()).startswith("📄 one_a_rather_long_fi"))
        await pilot.pause()
        for chip in bar.children:  # each chip as wide as its new words, and in sight
            assert chip.region.width >= cell_len(str(chip.render())) and chip.region.right <= bar.region.right
        await pilot.resize_terminal(60, 20)  # still side by side, the names down to their ends
        await until(pilot, lambda: bar.children[-1].region.right <= bar.region.right
                    and all(chip.region.width >= cell_len(str(chip.render())) for chip in bar.children))
        await pilot.resize_terminal(80, 24)
        await until(pilot, lambda: all(chip.region.width >= cell_len(str(chip.render())) for chip in bar.children))
        assert bar.max_scroll_x == 0 and bar.scroll_x == 0


async def test_a_long_name_in_the_picker_drops_its_context_rather_than_wrap_it() -> None:
    rows = [PickerRow("open/gemini-2.5-pro", "open/gemini-2.5-pro", price="$0.04/request", context="1.05M"),
            PickerRow("open/gpt-5", "open/gpt-5", price="$1.25/$10", context="400k")]
    app: App[None] = App(css_path=Path(t502_app.__file__).with_name("app.tcss"))
    async with app.run_test(size=(60, 20)) as pilot:
        app.push_screen(ModelPicker([PickerGroup("open", rows)], current="open/gemini-2.5-pro",
                                    recent=["open/gpt-5"]))
        await until(pilot, lambda: bool(app.screen.query(OptionList))
                    and "$1.25/$10" in option_lines(app.screen.query_one(OptionList)))
        await pilot.pause()
        shown = option_lines(app.screen.query_one(OptionList))
        assert "ctx" not in [line.strip() for line in shown.splitlines()] and "$0.04/request" in shown
        assert all(not line.strip().startswith(("1.05M", "ctx")) for line in shown.splitlines()), shown


async def test_a_terminal_a_few_columns_wide_with_nothing_typed_is_no_crash(server: LoopbackServer) -> None:
    app = make_app(server)
    async with app.run_test(size=(40, 10)) as pilot:
        await settle(app)
        for width in (4, 3, 1, 40):  # a pane split off beside another, then given back
            await pilot.resize_terminal(width, 10)
            await pilot.pause()
        assert app.is_running and pane(app).composer.text == ""


async def test_files_past_the_limit_are_said_once_with_how_many(server: LoopbackServer, tmp_path: Path) -> None:
    files = []
    for index in range(25):  # max_files is 20
        files.append(tmp_path / f"note-{index}.txt")
        files[-1].write_text("hello")
    app = make_app(server)
    async with app.run_test(size=(80, 24)) as pilot:
        await chips_for(pilot, app, *files[:20])
        await pane(app).attach(*files[20:])
        await until(pilot, lambda: any(n.title == "Not attached" for n in app._notifications))
        [said] = [n.message for n in app._notifications if n.title == "Not attached"]
        assert said == "at most 20 text files can go with one message (5 files left out)"


async def test_once_the_picker_is_sorted_by_price_its_note_offers_the_way_back() -> None:
    rows = [PickerRow("token502/pricey", "pricey", price="$3/$15", sort_key=18.0),
            PickerRow("token502/cheap", "cheap", price="$0.1/$0.4", sort_key=0.5)]
    app: App[None] = App(css_path=Path(t502_app.__file__).with_name("app.tcss"))
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(ModelPicker([PickerGroup("token502", rows)], current="token502/pricey", recent=[]))
        await until(pilot, lambda: bool(app.screen.query(OptionList)))
        note = app.screen.query_one("#picker-note")
        assert "Ctrl+S sorts by price" in str(note.render())
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "Ctrl+S lists them as the servers do" in str(note.render()))


async def test_a_provider_whose_models_are_all_listed_above_gets_no_heading_over_nothing() -> None:
    groups = [PickerGroup("token502", [PickerRow("token502/gpt-5", "gpt-5"), PickerRow("token502/o3", "o3")]),
              PickerGroup("thinker", [PickerRow("thinker/r1", "thinker/r1")]),
              PickerGroup("empty", [])]
    app: App[None] = App(css_path=Path(t502_app.__file__).with_name("app.tcss"))
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(ModelPicker(groups, current="token502/gpt-5", recent=["thinker/r1"]))
        await until(pilot, lambda: bool(app.screen.query(OptionList)) and "o3" in option_lines(app.screen.query_one(OptionList)))
        shown = option_lines(app.screen.query_one(OptionList))
        assert "thinker/r1  recent" in shown and "thinker · 1 model" not in shown
        assert "empty · 0 models" in shown  # no models at all is worth saying
