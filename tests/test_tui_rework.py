"""Images, regenerate, versions, edits and deletions in the chat screen."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual import events
from textual.strip import Strip
from textual.widgets import Input, Static

from loopback import LoopbackServer, text_stream
from t502_tui.ui.screens.attach import AttachScreen
from t502_tui.ui.screens.dialogs import Confirm
from t502_tui.ui.widgets.attachment_bar import AttachmentBar
from t502_tui.ui.widgets.conversation_view import ConversationView
from t502_tui.ui.widgets.key_hints import KeyHints
from test_cli import tiny_png
from tui_helpers import choose, header, make_app, only_saved_conversation, pane, picker_ready, send, settle, until

CHAT = "/chat/completions"


def contents(app) -> list[str]:  # type: ignore[no-untyped-def]
    return [m.content for m in pane(app).conversation.messages]


async def ask_with_versions(pilot, app, question: str, versions: int) -> None:  # type: ignore[no-untyped-def]
    """Send ``question`` and regenerate its reply until it has ``versions`` versions."""
    await until(pilot, lambda: app.session.history is not None)
    await send(pilot, question)
    await settle(app)
    for _ in range(versions - 1):
        await pilot.press("ctrl+g")
        await settle(app)


async def test_regenerate_keeps_both_replies_and_flips(server: LoopbackServer) -> None:
    server.script(CHAT, text_stream("first reply"), text_stream("second reply"))
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await ask_with_versions(pilot, app, "question", 2)
        await pilot.pause()
        assert contents(app) == ["question", "second reply"]
        assert "‹2/2›" in header(app)
        choose(app, pane(app).conversation.messages[-1])
        await pilot.press("less_than_sign")
        await until(pilot, lambda: contents(app) == ["question", "first reply"])
        await pilot.press("greater_than_sign")
        await until(pilot, lambda: contents(app) == ["question", "second reply"])
    # Both requests carried the same history; the second reply is the one in view after a restart.
    first, second = server.chat_requests()
    assert first.json["messages"] == second.json["messages"]
    assert [m.content for m in only_saved_conversation()] == ["question", "second reply"]


async def test_the_version_keys_are_offered_only_on_a_message_with_versions(server: LoopbackServer) -> None:
    server.script(CHAT, text_stream("first reply"), text_stream("second reply"))
    app = make_app(server)
    async with app.run_test(size=(140, 40)) as pilot:
        await ask_with_versions(pilot, app, "question", 2)
        question, reply = pane(app).conversation.messages
        hints = app.screen.query_one(KeyHints)
        choose(app, question)
        await until(pilot, lambda: "Edit" in hints.shown)
        assert "Prev version" not in hints.shown and "Send/leave out" not in hints.shown  # always sent
        choose(app, reply)  # ‹2/2›: only back
        await until(pilot, lambda: "Prev version" in hints.shown and "Next version" not in hints.shown)
        assert "Edit" not in hints.shown  # only the user's own words are edited
        await pilot.press("e")  # pressed anyway: said why
        await until(pilot, lambda: any("Only your own messages can be edited" in n.message for n in app._notifications))
        await pilot.press("less_than_sign")  # ‹1/2›: only on
        await until(pilot, lambda: "Next version" in hints.shown and "Prev version" not in hints.shown)
        await pilot.press("up")
        await until(pilot, lambda: "Next version" not in hints.shown)


async def test_regenerating_while_the_history_is_still_opening_does_not_call_it_off(server: LoopbackServer) -> None:
    from t502_tui.conversation import ChatMessage, Conversation

    server.script(CHAT, text_stream("second reply"))
    app = make_app(server, [Conversation(model="gpt-5", messages=[ChatMessage("user", "q"),
                                                                 ChatMessage("assistant", "first reply")])])
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.session.history is not None)
        history, app.session.history = app.session.history, None
        app.session.history_ready.clear()  # as in the first moments after start
        assert await pane(app).regenerate()
        await pilot.pause()
        assert not any("History is off" in n.message for n in app._notifications)
        app.session.history = history
        app.session.history_ready.set()
        await until(pilot, lambda: contents(app) == ["q", "second reply"])


async def test_versions_flipped_by_keys_pressed_at_once_step_one_after_the_other(server: LoopbackServer) -> None:
    server.script(CHAT, text_stream("first reply"), text_stream("second reply"), text_stream("third reply"))
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await ask_with_versions(pilot, app, "question", 3)
        view = pane(app).view

        def press_at_once(action: str, times: int) -> None:  # a held key: each names the version shown then
            for _ in range(times):
                view.post_message(ConversationView.ActionRequested(pane(app).conversation.messages[-1], action))

        press_at_once("previous_version", 2)
        await until(pilot, lambda: contents(app) == ["question", "first reply"])
        press_at_once("next_version", 3)
        await until(pilot, lambda: contents(app) == ["question", "third reply"])
        assert "‹3/3›" in header(app)


async def test_regenerate_with_another_model(server: LoopbackServer) -> None:
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.session.history is not None)
        await send(pilot, "compare")
        await settle(app)
        app.chat.action_regenerate_with()
        await until(pilot, lambda: picker_ready(app))
        title = app.screen.query(Static).first()
        assert str(title.render()).startswith("Regenerate the last reply with · now gpt-5")  # not "Switch model"
        await pilot.press(*"deepseek", "enter")
        await until(pilot, lambda: len(server.chat_requests()) == 2)
        await settle(app)
        replies = [m for m in pane(app).conversation.messages if m.role == "assistant"]
        assert [r.model for r in replies] == ["deepseek-r1"] and replies[0].alternative_label == "2/2"
    assert [r.json["model"] for r in server.chat_requests()] == ["gpt-5", "deepseek-r1"]


async def test_message_keys_that_do_not_apply_to_the_chosen_message_say_why(server: LoopbackServer) -> None:
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.session.history is not None)
        await send(pilot, "hello")
        await settle(app)
        question, reply = pane(app).conversation.messages
        choose(app, question)
        for key, said in (("k", "Your own messages are always sent"), ("less_than_sign", "has one version")):
            await pilot.press(key)
            await until(pilot, lambda: any(said in str(n.message) for n in app._notifications))
        choose(app, reply)
        await pilot.press("e")
        await until(pilot, lambda: any("Ctrl+G asks again" in str(n.message) for n in app._notifications))


async def test_edit_makes_a_branch_and_the_old_one_comes_back(server: LoopbackServer) -> None:
    server.script(CHAT, text_stream("about cats"), text_stream("about dogs"))
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.session.history is not None)
        await send(pilot, "tell me about cats")
        await settle(app)
        composer = pane(app).composer
        composer.focus()
        await pilot.press("up")
        assert composer.text == "tell me about cats" and pane(app).editing is not None
        composer.load_text("tell me about dogs")
        await pilot.press("enter")
        await settle(app)
        await pilot.pause()
        assert contents(app) == ["tell me about dogs", "about dogs"]
        question = pane(app).conversation.messages[0]
        assert "‹2/2›" in header(app, question)
        choose(app, question)
        await pilot.press("left_square_bracket")
        await until(pilot, lambda: contents(app) == ["tell me about cats", "about cats"])
    assert server.chat_requests()[1].json["messages"] == [{"role": "user", "content": "tell me about dogs"}]


async def test_escape_leaves_edit_mode(server: LoopbackServer) -> None:
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "hello")
        await settle(app)
        pane(app).composer.focus()
        await pilot.press("up")
        assert pane(app).editing is not None
        await pilot.pause()
        assert "Cancel edit" in {b.binding.description for b in app.screen.active_bindings.values() if b.enabled}
        assert "Stop reply" not in {b.binding.description for b in app.screen.active_bindings.values() if b.enabled}
        await until(pilot, lambda: "Cancel edit" in app.screen.query_one(KeyHints).shown)
        await pilot.press("escape")
        assert pane(app).editing is None and pane(app).composer.text == ""
        await until(pilot, lambda: "Cancel edit" not in app.screen.query_one(KeyHints).shown)
        await pilot.press("up")  # a second edit: the footer says how to leave it again
        await until(pilot, lambda: "Cancel edit" in app.screen.query_one(KeyHints).shown)


async def test_what_was_typed_before_an_edit_comes_back_after_it(server: LoopbackServer, tmp_path: Path) -> None:
    picture = tmp_path / "picture.png"
    picture.write_bytes(tiny_png())
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.session.history is not None)
        await send(pilot, "hello")
        await settle(app)
        current = pane(app)
        await current.attach(picture)
        current.composer.load_text("IMPORTANT DRAFT")
        current.edit(current.conversation.messages[0])
        assert current.composer.text == "hello" and not current.attachments
        await pilot.press("escape")  # cancelled: the draft and its image are back
        assert current.composer.text == "IMPORTANT DRAFT" and [a.name for a in current.attachments] == ["picture.png"]
        current.edit(current.conversation.messages[0])
        current.composer.load_text("hello again")
        await pilot.press("enter")  # sent: the draft is back for later
        await settle(app)
        assert contents(app)[0] == "hello again" and server.chat_requests()[-1].json["messages"][0]["content"] == "hello again"
        assert current.composer.text == "IMPORTANT DRAFT" and len(current.attachments) == 1
        assert len(current.query_one(AttachmentBar).children) == 1
        current.edit(current.conversation.messages[0])
        assert current.draft == "IMPORTANT DRAFT"  # what t502 keeps if it is closed now
        current.composer.load_text("hello, edited")
        assert current.draft == "IMPORTANT DRAFT\n\nhello, edited"  # and the edit's words with it


async def test_e_on_a_reply_says_only_your_messages_are_edited(server: LoopbackServer) -> None:
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "hello")
        await settle(app)
        await pilot.press("shift+tab")  # the newest message: the reply
        await pilot.press("e")
        await pilot.pause()
        assert pane(app).editing is None
        assert list(app._notifications)[-1].message.startswith("Only your own messages can be edited")


async def test_delete_a_message_after_confirming(server: LoopbackServer) -> None:
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.session.history is not None)
        await send(pilot, "one")
        await settle(app)
        choose(app, pane(app).conversation.messages[0])
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, Confirm))
        assert app.screen.question == "Delete your message? What followed it stays."
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, Confirm))
        choose(app, pane(app).conversation.messages[-1])
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, Confirm))
        assert app.screen.question == "Delete this reply from gpt-5?"  # nothing follows it to stay
        await pilot.press("left", "enter")  # Delete, chosen: y typed with d would not do
        await until(pilot, lambda: contents(app) == ["one"])
        assert len(pane(app).view.messages) == 1
    assert [m.content for m in only_saved_conversation()] == ["one"]


async def test_deleting_the_version_shown_shows_the_one_before_it(server: LoopbackServer) -> None:
    server.script(CHAT, text_stream("first reply"), text_stream("second reply"), text_stream("third reply"))
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await ask_with_versions(pilot, app, "question", 3)
        third = pane(app).conversation.messages[-1]
        choose(app, third)
        await pilot.press("less_than_sign")  # the screen reads ‹2/3› from the store ...
        await until(pilot, lambda: contents(app) == ["question", "second reply"])
        await pilot.press("greater_than_sign")  # ... and ‹3/3› again: a new object for the same message
        await until(pilot, lambda: contents(app) == ["question", "third reply"])
        assert await pane(app).delete(third)  # as a d named before the flips lands after them
        await until(pilot, lambda: contents(app) == ["question", "second reply"])
        assert "‹2/2›" in header(app)
    assert [m.content for m in only_saved_conversation()] == ["question", "second reply"]


async def test_deleting_a_version_with_messages_after_it_deletes_that_branch(server: LoopbackServer) -> None:
    server.script(CHAT, *[text_stream(f"reply {n}") for n in (1, 2, 3)], text_stream("to gamma"))
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await ask_with_versions(pilot, app, "beta", 3)
        await send(pilot, "gamma")
        await settle(app)
        choose(app, pane(app).conversation.messages[1])  # reply 3, ‹3/3›, with gamma after it
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, Confirm))
        assert "this version of this reply from gpt-5 and the 2 messages after it? Its other versions stay" in str(
            app.screen.query_one(Static).render())
        await pilot.press("left", "enter")  # Delete, chosen: y typed with d would not do
        await until(pilot, lambda: contents(app) == ["beta", "reply 2"])
        assert "‹2/2›" in header(app)
    assert [m.content for m in only_saved_conversation()] == ["beta", "reply 2"]
    assert sorted(m.content for m in only_saved_conversation(every_branch=True)) == ["beta", "reply 1", "reply 2"]


async def test_a_delete_confirmed_after_its_version_was_flipped_away_says_nothing_was_deleted(
        server: LoopbackServer) -> None:
    server.script(CHAT, text_stream("reply 1"), text_stream("reply 2"))
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await ask_with_versions(pilot, app, "question", 2)
        second = pane(app).conversation.messages[-1]
        choose(app, second)
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, Confirm))
        app.screen.dismiss(False)  # stands for: < landed after d, while the question was up
        await pilot.pause()
        choose(app, second)
        await pilot.press("less_than_sign")
        await until(pilot, lambda: contents(app) == ["question", "reply 1"])
        app.chat.post_message(ConversationView.ActionRequested(second, "delete"))
        await until(pilot, lambda: isinstance(app.screen, Confirm))
        await pilot.press("left", "enter")  # Delete, chosen: y typed with d would not do
        await until(pilot, lambda: any("Nothing was deleted" in n.message for n in app._notifications))
    assert len(only_saved_conversation(every_branch=True)) == 3


async def test_a_word_typed_on_a_chosen_message_goes_to_the_composer(server: LoopbackServer) -> None:
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.session.history is not None)
        await send(pilot, "zeta")
        await settle(app)
        choose(app, pane(app).conversation.messages[-1])
        for character in "today":  # a burst, as a terminal sends it: o opens, d deletes, y confirms
            app.post_message(events.Key(character, character))
        await until(pilot, lambda: pane(app).composer.text == "today")
        assert app.focused is pane(app).composer
        assert not isinstance(app.screen, Confirm) and len(contents(app)) == 2
        assert not any("images" in n.message for n in app._notifications)  # o did not act either


async def test_shift_tab_after_sending_starts_from_the_newest_messages(server: LoopbackServer) -> None:
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.session.history is not None)
        await send(pilot, "first")
        await settle(app)
        choose(app, pane(app).conversation.messages[0])
        await pilot.press("escape")
        await send(pilot, "second")
        await settle(app)
        await pilot.press("shift+tab")
        assert pane(app).view.chosen_message is pane(app).conversation.messages[-1]


async def test_pasted_image_path_attaches_and_is_sent(server: LoopbackServer, tmp_path: Path) -> None:
    image = tmp_path / "red dot.png"
    image.write_bytes(tiny_png(4, 4))
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.session.history is not None)
        pane(app).composer.focus()
        app.post_message(events.Paste(f"'{image}'"))
        await until(pilot, lambda: len(pane(app).attachments) == 1)
        assert pane(app).composer.text == ""
        bar = pane(app).query_one(AttachmentBar)
        assert bar.display and "red dot.png" in str(bar.query_one(".chip").label)
        await send(pilot, "what is it?")
        await settle(app)
        top = header(app, pane(app).conversation.messages[0])
        assert "red dot.png" in top and "4×4" in top
        assert not bar.display
    content = server.chat_requests()[0].json["messages"][0]["content"]
    assert content[1]["image_url"]["url"].startswith("data:image/png;base64,")
    assert only_saved_conversation()[0].attachments[0].name == "red dot.png"


async def test_tab_in_the_attach_field_completes_a_path_then_moves_on(server: LoopbackServer, tmp_path: Path) -> None:
    (tmp_path / "notes-on-rain.txt").write_text("hello")
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("ctrl+t")
        await until(pilot, lambda: isinstance(app.screen, AttachScreen))
        field = app.screen.query_one("#attach-path", Input)
        field.value = f"{tmp_path}/note"
        await pilot.press("s")  # typed: its completion is offered
        await until(pilot, lambda: bool(field._suggestion))  # shown dim after the cursor
        await pilot.press("tab")  # as in a shell
        await until(pilot, lambda: field.value == f"{tmp_path}/notes-on-rain.txt" and field.has_focus)
        await pilot.press("tab")  # nothing more to complete: on to the files below
        await until(pilot, lambda: not field.has_focus)


async def test_attach_screen_takes_several_files_refuses_binary_and_chips_remove(
        server: LoopbackServer, tmp_path: Path) -> None:
    image = tmp_path / "pic.png"
    image.write_bytes(tiny_png())
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "blob.bin").write_bytes(bytes(range(256)) * 4)
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("ctrl+t")
        await until(pilot, lambda: isinstance(app.screen, AttachScreen))
        app.screen.query_one("#attach-path").value = str(tmp_path / "blob.bin")  # type: ignore[attr-defined]
        await pilot.press("enter")
        await until(pilot, lambda: not isinstance(app.screen, AttachScreen))
        await until(pilot, lambda: any("binary" in n.message for n in app._notifications))
        assert not pane(app).attachments
        await pilot.press("ctrl+t")
        await until(pilot, lambda: isinstance(app.screen, AttachScreen))
        app.screen.query_one("#attach-path").value = f"{image} {tmp_path}/*.txt"  # type: ignore[attr-defined]
        await pilot.press("enter")
        await until(pilot, lambda: len(pane(app).attachments) == 2)
        assert [a.kind for a in pane(app).attachments] == ["image", "text"]
        await pilot.click(".chip")
        await until(pilot, lambda: len(pane(app).attachments) == 1)


async def test_retry_keeps_a_partial_reply_as_a_version(server: LoopbackServer) -> None:
    from loopback import chunk, sse, stream_reply

    server.script(CHAT, stream_reply(sse(chunk("half of the an"), done=False), drop=True), text_stream("whole answer"))
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.session.history is not None)
        await send(pilot, "question")
        await settle(app)
        await pilot.press("ctrl+r")
        await settle(app)
        reply = pane(app).conversation.messages[-1]
        assert reply.content == "whole answer" and reply.alternative_label == "2/2"
    kept = [m.content for m in only_saved_conversation(every_branch=True)]
    assert kept == ["question", "half of the an", "whole answer"]


async def cats_then_dogs(pilot, app) -> None:  # type: ignore[no-untyped-def]
    """Ask about cats, then edit the question into one about dogs: two branches."""
    await until(pilot, lambda: app.session.history is not None)
    await send(pilot, "tell me about cats")
    await settle(app)
    pane(app).edit(pane(app).conversation.messages[0])
    pane(app).composer.load_text("tell me about dogs")
    await pilot.press("enter")


async def test_search_hit_on_another_branch_opens_that_branch(server: LoopbackServer) -> None:
    from t502_tui.ui.screens.search import SearchScreen

    server.script(CHAT, text_stream("cats purr"), text_stream("dogs bark"))
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await cats_then_dogs(pilot, app)
        await until(pilot, lambda: contents(app) == ["tell me about dogs", "dogs bark"])
        await settle(app)
        await pilot.press("ctrl+f")
        await until(pilot, lambda: isinstance(app.screen, SearchScreen))
        await pilot.press(*"purr")
        await until(pilot, lambda: len(app.screen.hits) == 1)  # type: ignore[attr-defined]
        await pilot.press("enter")
        await until(pilot, lambda: contents(app) == ["tell me about cats", "cats purr"])
        await until(pilot, lambda: app.focused is pane(app).composer)  # the hit in view, the composer ready


async def test_a_search_hit_on_another_branch_while_a_reply_streams_says_why_it_stays(server: LoopbackServer) -> None:
    from loopback import Gate, chunk, sse, stream_reply

    from t502_tui.ui.screens.search import SearchScreen

    gate = Gate()
    server.script(CHAT, text_stream("cats purr"), stream_reply([*sse(chunk("dogs"), done=False), gate]))
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await cats_then_dogs(pilot, app)
        await until(pilot, lambda: gate.reached.is_set() and pane(app).streaming)
        await pilot.press("ctrl+f")
        await until(pilot, lambda: isinstance(app.screen, SearchScreen))
        await pilot.press(*"purr")
        await until(pilot, lambda: len(app.screen.hits) == 1)  # type: ignore[attr-defined]
        await pilot.press("enter")
        await until(pilot, lambda: any("on another branch" in n.message for n in app._notifications))
        assert pane(app).streaming and contents(app)[0] == "tell me about dogs"
    gate.open()


async def test_a_frame_drawn_just_after_a_composer_is_removed_does_not_stop_t502(server: LoopbackServer) -> None:
    """Opening another branch of an open conversation removes its pane; a frame planned
    before that can still draw the pane's composer, without its styles (Textual #6528)."""
    from textual.geometry import Region

    app = make_app(server)
    async with app.run_test(size=(80, 24)) as pilot:
        composer = pane(app).composer
        await pane(app).remove()
        await pilot.pause()
        assert composer.render_lines(Region(0, 0, 20, 2)) == [Strip.blank(20)] * 2


async def test_up_never_throws_away_edits(server: LoopbackServer) -> None:
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "first")
        await settle(app)
        await send(pilot, "second")
        await settle(app)
        composer = pane(app).composer
        composer.focus()
        await pilot.press("up")
        assert composer.text == "second"
        await pilot.press("up")
        assert composer.text == "first"
        await pilot.press("!")
        await pilot.press("home", "up")
        assert composer.text == "first!"


async def test_json_export_from_the_chat_holds_every_branch(server: LoopbackServer, tmp_path: Path) -> None:
    import json

    from t502_tui.ui.screens.dialogs import TextPrompt

    server.script(CHAT, text_stream("first reply"), text_stream("second reply"))
    target = tmp_path / "out.json"
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await ask_with_versions(pilot, app, "question", 2)
        app.chat.action_export("json")
        await until(pilot, lambda: isinstance(app.screen, TextPrompt))
        app.screen.query_one("#prompt-input").value = str(target)  # type: ignore[attr-defined]
        await pilot.press("enter")
        await until(pilot, target.exists)
    data = json.loads(target.read_text())
    assert [m["content"] for m in data["messages"]] == ["question", "first reply", "second reply"]


@pytest.mark.parametrize("kind", ["md", "json"])
async def test_an_export_that_cannot_be_written_asks_again_and_a_missing_folder_is_asked_first(
        server: LoopbackServer, tmp_path: Path, kind: str) -> None:
    from t502_tui.ui.screens.dialogs import TextPrompt

    (tmp_path / "a-file").write_text("x")
    bad = tmp_path / "a-file" / f"notes.{kind}"
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "question")
        await settle(app)
        app.chat.action_export(kind)
        await until(pilot, lambda: isinstance(app.screen, TextPrompt))
        app.screen.query_one("#prompt-input").value = str(bad)  # type: ignore[attr-defined]
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, TextPrompt) and "Could not write" in str(
            app.screen.query_one(".hint").render()))
        field = app.screen.query_one("#prompt-input")
        assert field.value == str(bad)  # type: ignore[attr-defined]
        # A folder that does not exist is made only when the user says so, as for an image.
        missing = tmp_path / "new" / "folder" / f"notes.{kind}"
        for answer, made in (("n", False), ("y", True)):
            app.screen.query_one("#prompt-input").value = str(missing)  # type: ignore[attr-defined]
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, Confirm) and "There is no folder" in app.screen.question)
            await pilot.press(answer)
            await until(pilot, lambda: missing.exists() if made else isinstance(app.screen, TextPrompt))
        assert (tmp_path / "new").stat().st_mode & 0o777 == 0o700


@pytest.mark.parametrize("kind", ["md", "json"])
async def test_an_export_asks_before_replacing_a_file(server: LoopbackServer, tmp_path: Path, kind: str) -> None:
    from t502_tui.ui.screens.dialogs import TextPrompt

    target = tmp_path / f"notes.{kind}"
    target.write_text("MY PRECIOUS NOTES")
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "question")
        await settle(app)
        for answer, kept in (("n", True), ("y", False)):
            app.chat.action_export(kind)
            await until(pilot, lambda: isinstance(app.screen, TextPrompt))
            app.screen.query_one("#prompt-input").value = str(target)  # type: ignore[attr-defined]
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, Confirm))
            await pilot.press(answer)
            await until(pilot, lambda: not isinstance(app.screen, Confirm))
            await app.workers.wait_for_complete()
            assert (target.read_text() == "MY PRECIOUS NOTES") is kept


def test_an_exports_file_name_keeps_whole_words_of_the_title() -> None:
    from t502_tui.ui.screens.saved_conversations import _file_stem

    assert _file_stem("Greeting test with a quite long title that goes on") == "Greeting-test-with-a-quite-long-title"
    assert _file_stem("x" * 60) == "x" * 40 and _file_stem("!!!") == "conversation"
    assert _file_stem("naïve café: a/b") == "naïve-café-a-b"
