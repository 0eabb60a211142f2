"""The small dialogs at the sizes people run t502 in."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual import events
from textual.app import App
from textual.widgets import Button

from t502_tui.ui import app as t502_app
from t502_tui.ui.screens.dialog import Dialog
from t502_tui.ui.screens.dialogs import Choice, Confirm
from t502_tui.ui.widgets.button_row import ButtonRow
from t502_tui.ui.widgets.key_hints import KeyHints
from tui_helpers import make_app, until

class DialogApp(App[None]):
    CSS_PATH = Path(t502_app.__file__).with_name("app.tcss")


ANSWERS = [("trim", "Send only the newest turns that fit", "t"), ("switch", "Switch model…", "m")]


@pytest.mark.parametrize(("size", "stacked"), [((60, 20), True), ((140, 45), False)])
async def test_a_choice_shows_every_answer_whole_stacking_them_when_narrow(
        size: tuple[int, int], stacked: bool) -> None:
    app = DialogApp()
    async with app.run_test(size=size) as pilot:
        app.push_screen(Choice("The conversation no longer fits the model.", ANSWERS))
        await pilot.pause()
        await pilot.pause()
        assert app.screen.query_one(ButtonRow).has_class("stacked") is stacked
        for button in app.screen.query(Button):
            label = str(button.label)
            assert button.region.width >= len(label) and button.region.right <= size[0], label


async def test_model_lists_that_come_as_the_picker_closes_are_let_go() -> None:
    from t502_tui.ui.screens.model_picker import ModelPicker, PickerGroup, PickerRow

    app = DialogApp()
    async with app.run_test(size=(80, 24)) as pilot:
        picker = ModelPicker([PickerGroup("token502", [PickerRow("token502/gpt-5", "gpt-5")])], "token502/gpt-5", [])
        app.push_screen(picker)
        await pilot.pause()
        picker.dismiss(None)
        await pilot.pause()
        assert not isinstance(app.screen, ModelPicker)
        picker.set_groups([PickerGroup("token502", None, "loading")])  # its widgets are gone: no NoMatches


async def test_an_attached_files_name_is_shown_literally_on_its_chip() -> None:
    from t502_tui.attachments import Attachment
    from t502_tui.ui.widgets.attachment_bar import AttachmentBar

    app = DialogApp()
    async with app.run_test(size=(160, 24)) as pilot:  # room for every name whole
        bar = AttachmentBar()
        await app.screen.mount(bar)
        bar.show([Attachment("notes[/].md", "text/plain", b"hello", kind="text"),
                  Attachment("[red]x[/red].py", "text/plain", b"x = 1", kind="text"),
                  Attachment("new\nline\x1b[31m.txt", "text/plain", b"x", kind="text")])
        await pilot.pause()
        labels = [str(button.label) for button in bar.query(Button)]
        assert "notes[/].md" in labels[0] and "[red]x[/red].py" in labels[1]
        assert "new^Jline^[[31m.txt" in labels[2]  # a chip is one line


async def test_a_y_typed_before_a_confirmation_appeared_does_not_answer_it() -> None:
    answers: list[bool] = []
    app: App[None] = App()
    async with app.run_test(size=(80, 24)) as pilot:
        early = events.Key("y", "y")  # read from the terminal before the question was drawn
        app.push_screen(Confirm("Delete your message?", "Delete"), answers.append)
        await pilot.pause()
        app.post_message(early)
        await pilot.pause()
        assert answers == [] and isinstance(app.screen, Confirm)
        assert not app._notifications  # a word being typed: nothing to say
        await pilot.press("y")  # read after it
        assert answers == [True]


async def test_a_question_to_read_first_takes_a_y_typed_with_the_key_that_asked_it_as_typing() -> None:
    answers: list[bool] = []
    app: App[None] = App()
    async with app.run_test(size=(80, 24)) as pilot:
        question = Confirm("Delete this reply?", "Delete", read_first=True)
        app.push_screen(question, answers.append)
        await pilot.pause()

        def y_after(seconds: float) -> events.Key:
            key = events.Key("y", "y")
            key.time = question._asked_at + seconds
            return key

        app.post_message(y_after(0.15))  # "dynamic" typed on a message at 0.15 s a key
        await pilot.pause()
        assert answers == [] and isinstance(app.screen, Confirm)
        assert [n.message for n in app._notifications] == ["That y came before the question could be read: y again confirms."]
        app.post_message(y_after(Confirm.READ_SECONDS + 0.1))  # read, then answered
        await until(pilot, lambda: answers == [True])


async def test_ctrl_end_and_ctrl_home_go_to_the_ends_of_a_multi_line_field() -> None:
    from t502_tui.ui.screens.system_prompt import SystemPromptEditor

    app = make_app(None)
    async with app.run_test(size=(80, 24)) as pilot:
        edited: list[str | None] = []
        app.push_screen(SystemPromptEditor("You are terse.\nSecond line.", "system"), edited.append)
        await until(pilot, lambda: isinstance(app.screen, SystemPromptEditor))
        await pilot.press("ctrl+end", "!", "ctrl+home", "#", "ctrl+s")
        await until(pilot, lambda: bool(edited))
        assert edited == ["#You are terse.\nSecond line.!"]


@pytest.mark.parametrize("kind", ["system prompt", "conversation settings"])
async def test_esc_asks_before_a_changed_form_is_thrown_away(kind: str) -> None:
    from t502_tui.ui.screens.conversation_settings import ConversationSettingsScreen
    from t502_tui.ui.screens.system_prompt import SystemPromptEditor
    from t502_tui.ui.widgets.text_box import TextField

    def form() -> Dialog:  # type: ignore[type-arg]
        if kind == "system prompt":
            return SystemPromptEditor("Be brief.", "system")
        return ConversationSettingsScreen("Be brief.", {}, {}, "gpt-5")

    app = make_app(None)
    async with app.run_test(size=(80, 30)) as pilot:
        results: list[object] = []
        app.push_screen(form(), results.append)
        await until(pilot, lambda: bool(app.screen.query(TextField)))
        await pilot.press("escape")  # nothing changed: closed at once
        await until(pilot, lambda: results == [None])
        screen = form()
        app.push_screen(screen, results.append)
        await until(pilot, lambda: app.screen is screen and bool(screen.query(TextField)))
        screen.query_one(TextField).load_text("A prompt written for minutes.")
        screen.query_one(TextField).move_cursor((0, 2))  # the user is at work in it
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, Confirm))
        assert "Keep editing (n)" in [str(b.label) for b in app.screen.query(Button)]
        await pilot.press("n")
        await until(pilot, lambda: app.screen is screen and app.focused is screen.query_one(TextField))
        await pilot.press("tab", "shift+tab")  # away and back
        await until(pilot, lambda: app.focused is screen.query_one(TextField))
        await pilot.press("X")  # where they were, not at the end
        assert screen.query_one(TextField).text == "A Xprompt written for minutes."
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, Confirm))
        await pilot.press("y")
        await until(pilot, lambda: results == [None, None])


@pytest.mark.parametrize("kind", ["system prompt", "conversation settings"])
async def test_esc_before_a_form_has_its_fields_closes_it(kind: str) -> None:
    """An Esc that comes right behind the form, before its fields exist: nothing was
    changed, so nothing is asked (asking the fields would fail)."""
    from t502_tui.ui.screens.conversation_settings import ConversationSettingsScreen
    from t502_tui.ui.screens.system_prompt import SystemPromptEditor

    app = make_app(None)
    async with app.run_test(size=(80, 30)) as pilot:
        results: list[object] = []
        form = (SystemPromptEditor("Be brief.", "system") if kind == "system prompt"
                else ConversationSettingsScreen("Be brief.", {}, {}, "gpt-5"))
        app.push_screen(form, results.append)
        await pilot.press("escape")
        await until(pilot, lambda: results == [None])


async def test_a_choice_in_a_form_lines_up_with_the_fields_around_it() -> None:
    from textual.widgets import Input, Select
    from textual.widgets._select import SelectCurrent, SelectOverlay

    from t502_tui.ui.screens.conversation_settings import ConversationSettingsScreen
    from t502_tui.ui.screens.settings import SettingsScreen

    app = make_app(None)
    async with app.run_test(size=(100, 40)) as pilot:
        for form, longest in ((ConversationSettingsScreen("", {}, {}, "gpt-5"), "#conv-effort"),
                              (SettingsScreen(app.config, app.theme_names()), "#theme")):
            app.push_screen(form)
            await until(pilot, lambda: app.screen is form and bool(form.query(Select)))
            await pilot.pause()
            field, select = form.query(Input).first(), form.query_one(longest, Select)
            assert select.query_one(SelectCurrent).content_region.x == field.content_region.x
            select.expanded = True  # its list covers the field's border too, not beside a strip of what is under it
            await pilot.pause()
            assert select.query_one(SelectOverlay).region.x == select.region.x
            assert select.query_one(SelectOverlay).region.right == select.region.right
            assert select.query_one(SelectOverlay).region.height <= 8  # framed, and short enough for 60x20
            app.pop_screen()


async def test_a_questions_footer_names_its_keys_as_its_buttons_do() -> None:
    app = make_app(None)
    async with app.run_test(size=(80, 24)) as pilot:
        question = Confirm("Close without saving?", "Discard", back="Keep editing")
        app.push_screen(question)
        await until(pilot, lambda: app.screen is question)
        await pilot.pause()
        assert question.query_one(KeyHints).shown[:2] == ["Keep editing", "Discard"]
        await pilot.press("n")
        await until(pilot, lambda: app.screen is not question)


@pytest.mark.parametrize("kind", ["system prompt", "conversation settings"])
async def test_a_multi_line_field_opens_with_its_cursor_after_its_text(kind: str) -> None:
    from t502_tui.ui.screens.conversation_settings import ConversationSettingsScreen
    from t502_tui.ui.screens.system_prompt import SystemPromptEditor
    from t502_tui.ui.widgets.text_box import TextField

    app = make_app(None)
    async with app.run_test(size=(80, 30)) as pilot:
        app.push_screen(SystemPromptEditor("Be brief.\nVery.", "system") if kind == "system prompt"
                        else ConversationSettingsScreen("Be brief.\nVery.", {}, {}, "gpt-5"))
        await until(pilot, lambda: isinstance(app.focused, TextField))
        await pilot.press(*" Thanks")
        assert app.focused.text == "Be brief.\nVery. Thanks"  # type: ignore[union-attr]


async def test_the_reasoning_effort_note_says_what_is_sent_for_the_choice() -> None:
    from textual.widgets import Select, Static

    from t502_tui.ui.screens.conversation_settings import ConversationSettingsScreen

    app = make_app(None)
    async with app.run_test(size=(100, 40)) as pilot:
        screen = ConversationSettingsScreen("", {"reasoning_effort": "minimal"}, {}, "gemini-2.5-pro")
        app.push_screen(screen)
        await until(pilot, lambda: bool(screen.query("#conv-effort-note")))
        note = lambda: str(screen.query_one("#conv-effort-note", Static).render())  # noqa: E731
        assert note() == "Sent to gemini-2.5-pro as low: only GPT-5 takes minimal."
        screen.query_one("#conv-effort", Select).value = "high"
        await until(pilot, lambda: note() == "Sent to gemini-2.5-pro.")
        screen.query_one("#conv-effort", Select).value = ""
        await until(pilot, lambda: note() == "Not sent: gemini-2.5-pro thinks as much as it does by default.")
