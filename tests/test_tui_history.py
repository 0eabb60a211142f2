"""The history in the TUI: sidebar, opening, renaming, archiving, deleting, searching."""

from __future__ import annotations

import pytest
from textual.widgets import Input
from textual import events

from t502_tui.conversation import ChatMessage, Conversation
from t502_tui.service.events import Usage
from t502_tui.ui.widgets.status_line import StatusLine
from t502_tui.store import HIT_END, HIT_START, Store, default_path
from t502_tui.ui.screens.dialogs import Confirm, TextPrompt
from t502_tui.ui.screens.search import SearchScreen, snippet_content
from t502_tui.ui.widgets.conversation_pane import VISIBLE_AT_OPEN
from t502_tui.ui.widgets.conversation_view import ConversationView
from t502_tui.ui.widgets.key_hints import KeyHints
from t502_tui.ui.widgets.sidebar import ConversationList
from loopback import Gate, LoopbackServer, chunk, sse, stream_reply
from tui_helpers import linked_paragraphs, make_app, pane, send, until, settle
from store_helpers import append


def seed(*conversations: list[str]) -> list[str]:
    store = Store(default_path())
    ids = []
    for texts in conversations:
        conversation = Conversation(model="gpt-5")
        for i, text in enumerate(texts):
            append(store, conversation, ChatMessage("user" if i % 2 == 0 else "assistant", text,
                                                        model="gpt-5" if i % 2 else None))
        ids.append(conversation.id)
    store.close()
    return ids


def listed(app) -> list[str]:  # type: ignore[no-untyped-def]
    sidebar = app.screen.query_one(ConversationList)
    return [str(sidebar.get_option_at_index(i).prompt).split("\n")[0].strip(" ●")
            for i in range(sidebar.option_count)]


async def key_on_row(pilot, app, title: str, key: str) -> None:  # type: ignore[no-untyped-def]
    """Press ``key`` on the list's row of ``title`` as a user does (Ctrl+B first if the
    list does not have the focus)."""
    if not app.chat.query_one(ConversationList).has_focus:
        await pilot.press("ctrl+b")
    app.chat.query_one(ConversationList).highlighted = listed(app).index(title)
    await pilot.press(key)


async def open_from_list(pilot, app, title: str) -> None:  # type: ignore[no-untyped-def]
    """Open the conversation ``title`` from the list."""
    await key_on_row(pilot, app, title, "enter")
    await until(pilot, lambda: pane(app).conversation.display_title == title)


async def test_sidebar_lists_history_and_opens_it(server: LoopbackServer) -> None:
    seed(["old question", "old answer"], ["newer question", "newer answer"])
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: "old question" in listed(app))
        assert listed(app) == ["New conversation", "newer question", "old question"]
        await pilot.press("ctrl+b", "down", "down", "enter")
        await until(pilot, lambda: pane(app).conversation.messages and pane(app).conversation.messages[0].content == "old question")
        await until(pilot, lambda: listed(app) == ["newer question", "old question"])  # the blank one is gone
        await send(pilot, "follow-up")
        await settle(app)
        await until(pilot, lambda: listed(app)[0] == "old question")
    sent = server.chat_requests()[-1].json["messages"]
    assert [m["content"] for m in sent] == ["old question", "old answer", "follow-up"]


async def test_chat_is_saved_as_it_happens(server: LoopbackServer) -> None:
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.session.history is not None)
        await send(pilot, "remember this")
        await settle(app)
        await until(pilot, lambda: "remember this" in listed(app))
    store = Store(default_path())
    [summary] = store.list_conversations()
    conversation = store.load_conversation(summary.id)
    assert [m.content for m in conversation.messages][0] == "remember this"
    assert conversation.messages[1].usage is not None and conversation.messages[1].model == "gpt-5"
    store.close()


async def test_rename_archive_unarchive_delete(server: LoopbackServer) -> None:
    [ident] = seed(["keep me", "ok"])
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: "keep me" in listed(app))
        await pilot.press("ctrl+b", "down")
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, TextPrompt))
        app.screen.query_one("#prompt-input").value = "  "  # type: ignore[attr-defined]
        await pilot.press("enter")  # nothing to rename to: the prompt stays, and says why
        await pilot.pause()
        assert isinstance(app.screen, TextPrompt) and "Nothing typed yet" in str(app.screen.query_one(".hint").render())
        app.screen.query_one("#prompt-input").value = "Renamed"  # type: ignore[attr-defined]
        await pilot.press("enter")
        await until(pilot, lambda: "Renamed" in listed(app))
        await pilot.press("a")
        await until(pilot, lambda: "Renamed" not in listed(app))
        await app.chat.action_unarchive()
        await pilot.press("enter")
        await until(pilot, lambda: "Renamed" in listed(app))
        await pilot.press("ctrl+b")
        app.chat.query_one(ConversationList).highlighted = listed(app).index("Renamed")
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, Confirm))
        await pilot.press("left", "enter")  # Delete, chosen: y typed with d would not do
        await until(pilot, lambda: "Renamed" not in listed(app))
        assert "Deleted “Renamed”." in [n.message for n in app._notifications]  # a sentence, as Archived is
    store = Store(default_path())
    assert store.list_conversations() == [] and store.list_conversations(archived=True) == []
    store.close()


async def test_after_unarchiving_from_the_list_its_keys_act_on_the_conversation_opened(server: LoopbackServer) -> None:
    seed(["my cats chat", "ok"])
    seed(["review this", "ok"])
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: "review this" in listed(app) and "my cats chat" in listed(app))
        listing = app.chat.query_one(ConversationList)
        await open_from_list(pilot, app, "my cats chat")
        await key_on_row(pilot, app, "review this", "a")
        await until(pilot, lambda: "review this" not in listed(app))
        assert listing.has_focus
        await app.chat.action_unarchive()
        await pilot.press("enter")
        await until(pilot, lambda: pane(app).conversation.display_title == "review this" and "review this" in listed(app))
        await pilot.press("ctrl+b")
        await pilot.pause()
        assert listed(app)[listing.highlighted] == "review this"  # d here asks about this one


async def test_deleting_or_archiving_another_conversation_leaves_the_one_read_in_front(server: LoopbackServer) -> None:
    app = make_app(server)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.session.history is not None)
        for words in ("conv one", "conv two", "conv three"):
            await send(pilot, words)
            await settle(app)
            await pilot.press("ctrl+n")
        await until(pilot, lambda: {"conv one", "conv two", "conv three"} <= set(listed(app)))
        await open_from_list(pilot, app, "conv one")
        for key, title in (("a", "conv two"), ("d", "conv three")):
            await key_on_row(pilot, app, title, key)
            if key == "d":
                await until(pilot, lambda: isinstance(app.screen, Confirm))
                await pilot.press("left", "enter")
            await until(pilot, lambda: title not in listed(app))
            assert pane(app).conversation.display_title == "conv one"  # still the one being read


async def test_archive_or_rename_in_the_list_leave_a_draft_alone_and_d_discards_it_after_asking(
        server: LoopbackServer) -> None:
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app)
        draft = pane(app)
        draft.composer.load_text("Important unsent draft text")
        await pilot.press("ctrl+b")
        await pilot.pause()
        assert app.active_bindings["d"].binding.description == "Discard"  # in the footer
        shown = app.chat.query_one(KeyHints).shown
        assert "Rename" not in shown and "Archive" not in shown  # not offered on a draft
        for key in ("a", "r"):
            await pilot.press(key)
            await pilot.pause()
            assert not isinstance(app.screen, (Confirm, TextPrompt))
            assert pane(app).composer.text == "Important unsent draft text"
        notices = [n.message for n in app._notifications]
        assert notices[-1].startswith("This conversation has not been saved yet: send a message first")
        assert not any(m.startswith(("Archived", "Deleted")) for m in notices)
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, Confirm))
        assert app.screen.question == "Discard the draft “Important unsent draft text”?"
        await pilot.press("escape")  # kept
        await until(pilot, lambda: not isinstance(app.screen, Confirm))
        assert draft.is_attached and draft.composer.text == "Important unsent draft text"
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, Confirm))
        await pilot.press("y")
        await until(pilot, lambda: not draft.is_attached)
        assert pane(app).composer.text == "" and "Draft discarded." in [n.message for n in app._notifications]
        await pilot.pause()
        assert app.active_bindings["d"].binding.description == "Delete"


async def test_words_typed_in_a_conversation_archived_or_closed_are_there_when_it_opens_again(
        server: LoopbackServer) -> None:
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "hello")
        await settle(app)
        ident = pane(app).conversation.id
        pane(app).composer.load_text("draft two")
        await pilot.press("ctrl+b")
        app.chat.query_one(ConversationList).highlighted = listed(app).index("hello")
        await pilot.press("a")
        await until(pilot, lambda: "hello" not in listed(app))
        await app.session.history.write(lambda store: store.set_archived(ident, False))  # unarchived
        await app.chat.open_saved(ident)
        await until(pilot, lambda: pane(app).conversation.id == ident and pane(app).composer.text == "draft two")
        await app.chat.action_close_conversation()  # the same when it is only closed
        await app.chat.open_saved(ident)
        await until(pilot, lambda: pane(app).conversation.id == ident and pane(app).composer.text == "draft two")


async def test_archiving_a_streaming_conversation_says_its_reply_was_stopped(server: LoopbackServer) -> None:
    gate = Gate()
    server.script("/chat/completions", stream_reply([*sse(chunk("partial"), done=False), gate]))
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "stream me")
        await until(pilot, lambda: gate.reached.is_set() and "stream me" in listed(app))
        await pilot.press("ctrl+b")
        app.chat.query_one(ConversationList).highlighted = listed(app).index("stream me")
        await pilot.press("a")
        await until(pilot, lambda: "stream me" not in listed(app))
        notice = list(app._notifications)[-1].message
        assert notice.startswith("Archived “stream me”. Its reply was stopped; what arrived is kept.")
    gate.open()


async def test_archiving_the_open_conversation_in_the_list_keeps_the_list_in_hand(server: LoopbackServer) -> None:
    seed(["keep me", "ok"])
    app = make_app(server)
    async with app.run_test(size=(80, 24)) as pilot:  # narrow: the list shows only when asked
        await pilot.press("ctrl+b")
        await until(pilot, lambda: "keep me" in listed(app))
        listing = app.chat.query_one(ConversationList)
        await open_from_list(pilot, app, "keep me")
        await key_on_row(pilot, app, "keep me", "a")
        await until(pilot, lambda: "keep me" not in listed(app))
        assert listing.has_focus  # Esc still leaves it
        await pilot.press("escape")
        await pilot.pause()
        assert not app.chat.query_one("#sidebar").display and pane(app).composer.has_focus


async def test_conversations_saved_elsewhere_are_listed_when_the_list_is_opened(server: LoopbackServer) -> None:
    seed(["old question", "old answer"])
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: "old question" in listed(app))
        seed(["asked from the shell", "an answer"])  # as `t502 ask` saves it, in another process
        await pilot.press("ctrl+b")
        await until(pilot, lambda: "asked from the shell" in listed(app))
        seed(["asked while away", "another answer"])
        app.post_message(events.AppFocus())  # the terminal is back in front
        await until(pilot, lambda: "asked while away" in listed(app))


async def open_search_hit(pilot, query: str, hits: int) -> None:  # type: ignore[no-untyped-def]
    """Search for ``query`` (Ctrl+F), wait for ``hits`` hits, open the first."""
    app = pilot.app
    await pilot.press("ctrl+f")
    await until(pilot, lambda: isinstance(app.screen, SearchScreen))
    app.screen.query_one(Input).value = query  # as typed (a key at a time is slow, and tested elsewhere)
    await until(pilot, lambda: len(app.screen.hits) == hits)
    await pilot.press("enter")
    await until(pilot, lambda: not isinstance(app.screen, SearchScreen))
    await until(pilot, lambda: app.focused is pane(app).composer)  # what is typed next goes there


async def test_search_opens_conversation_at_the_message(server: LoopbackServer) -> None:
    seed(["unrelated", "nothing here"], ["tell me about sourdough", "Sourdough needs a starter."])
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.session.history is not None)
        await open_search_hit(pilot, "sourd", hits=2)  # newest match first: the reply
        assert pane(app).view.chosen_message.content == "Sourdough needs a starter."  # type: ignore[union-attr]
        await pilot.press("shift+tab")  # to the messages: the hit is the one the keys act on
        await until(pilot, lambda: isinstance(app.focused, ConversationView))
        assert pane(app).view.chosen_message.content == "Sourdough needs a starter."  # type: ignore[union-attr]


async def test_typing_in_the_conversation_list_starts_a_search_with_what_was_typed(server: LoopbackServer) -> None:
    seed(["unrelated", "nothing here"], ["tell me about sourdough", "Sourdough needs a starter."])
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.session.history is not None)
        app.chat.query_one(ConversationList).focus()
        await pilot.press("s")  # no key of the list: the search opens with it, and finds
        await until(pilot, lambda: isinstance(app.screen, SearchScreen) and len(app.screen.hits) == 2)
        await pilot.press("o", "u")
        await until(pilot, lambda: app.screen.query_one(Input).value == "sou" and len(app.screen.hits) == 2)
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, SearchScreen))
        app.chat.query_one(ConversationList).focus()
        await pilot.press("down", "r")  # a key of the list stays one
        await until(pilot, lambda: isinstance(app.screen, TextPrompt))  # "Rename"


async def test_a_burst_typed_in_the_list_is_one_search_with_every_letter(server: LoopbackServer) -> None:
    seed(["tell me about sourdough", "Sourdough needs a starter."])
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.session.history is not None)
        app.chat.query_one(ConversationList).focus()
        await pilot.pause()
        for character in "starter":  # all in before the search has the focus; "r" and "a" too
            app.post_message(events.Key(character, character))
        await until(pilot, lambda: isinstance(app.screen, SearchScreen) and len(app.screen.hits) == 1)
        assert app.screen.query_one(Input).value == "starter"
        assert sum(isinstance(screen, SearchScreen) for screen in app.screen_stack) == 1
        assert not any(isinstance(screen, TextPrompt) for screen in app.screen_stack)  # no Rename


async def test_words_typed_while_a_search_hit_opens_go_to_its_composer_not_to_message_keys(
        server: LoopbackServer) -> None:
    seed(["unrelated", "nothing here"], ["tell me about sourdough", "Sourdough needs a starter."])
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.session.history is not None)
        left = pane(app)
        await pilot.press("ctrl+f")
        await until(pilot, lambda: isinstance(app.screen, SearchScreen))
        app.screen.query_one(Input).value = "sourd"
        await until(pilot, lambda: len(app.screen.hits) == 2)
        for key, character in [("enter", None), *[(c, c) for c in "do you"]]:  # typed on at once
            app.post_message(events.Key("space" if character == " " else key, character))
        await until(pilot, lambda: pane(app) is not left and pane(app).composer.text == "do you")
        pane(app).composer.clear()
        await pilot.press("ctrl+f")
        await until(pilot, lambda: isinstance(app.screen, SearchScreen))
        keys = [*[(c, c) for c in "starter"], ("enter", None), *[(c, c) for c in "and"]]  # before any hit came
        for key, character in keys:
            app.post_message(events.Key(key, character))
        await until(pilot, lambda: not isinstance(app.screen, SearchScreen) and pane(app).composer.text == "and")
        assert not any(isinstance(screen, Confirm) for screen in app.screen_stack)  # d was no Delete
        assert pane(app).editing is None and left.composer.text == ""
        await pilot.press("ctrl+f", "escape")  # a search given up: back where the user was
        await until(pilot, lambda: not isinstance(app.screen, SearchScreen) and app.focused is pane(app).composer)


async def test_a_search_hit_opens_with_its_message_at_the_top_of_the_view(server: LoopbackServer) -> None:
    linked = linked_paragraphs(25)
    seed(["first question", "sourdough starter\n\n" + linked, "second question", linked, "third", linked])
    app = make_app(server)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: app.session.history is not None)
        await open_search_hit(pilot, "sourdough", hits=1)
        await pilot.pause()
        view = pane(app).view
        assert view.visible_text().split("\n")[0].startswith("gpt-5 · ")  # the hit's header
        assert view.chosen_message.content.startswith("sourdough starter")  # type: ignore[union-attr]
        await pilot.press("escape", "ctrl+end")  # the conversation open, at its end: again
        await pilot.pause()
        await open_search_hit(pilot, "sourdough", hits=1)
        await pilot.pause()
        assert view.visible_text().split("\n")[0].startswith("gpt-5 · ")


async def test_a_search_hit_far_down_a_long_reply_opens_where_its_words_are(server: LoopbackServer) -> None:
    sections = "\n\n".join(f"## Section {n}\n\nSome text about part {n}." for n in range(1, 60))
    sections += "\n\nSee [the site](https://example.com/secretpathqq)."
    seed(["the plan?", sections, "thanks", "you are welcome"])
    app = make_app(server)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: app.session.history is not None)
        await open_search_hit(pilot, '"Section 41"', hits=1)
        await pilot.pause()
        view = pane(app).view
        assert "Section 41" in view.visible_text()  # not the reply's top, 200 lines above it
        assert view.chosen_message.content == sections  # type: ignore[union-attr]
        await pilot.press("escape", "ctrl+end")  # open already, at its end: another part of it
        await pilot.pause()
        await open_search_hit(pilot, "part 12.", hits=1)
        await pilot.pause()
        assert "Some text about part 12." in view.visible_text()
        await open_search_hit(pilot, "secretpathqq", hits=1)  # only in a link's address: not shown
        await pilot.pause()
        assert view.visible_text().startswith("gpt-5 · ")  # the message's top, nothing drawn in vain


async def test_a_hit_past_the_lines_looked_through_says_so(server: LoopbackServer, monkeypatch: pytest.MonkeyPatch) -> None:
    from t502_tui.ui.widgets import conversation_view

    monkeypatch.setattr(conversation_view, "SCANNED_LINES", 40)  # the same as 3,000, sooner
    seed(["the plan?", "\n\n".join(f"Line {n} of it." for n in range(100)) + "\n\nfar zebraquux", "ok", "fine"])
    app = make_app(server)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: app.session.history is not None)
        await open_search_hit(pilot, "zebraquux", hits=1)
        await until(pilot, lambda: any("further into this message than the 40 lines" in n.message
                                       for n in app._notifications))


async def test_long_conversation_draws_newest_first_then_older_on_scroll(server: LoopbackServer) -> None:
    [ident] = seed([f"message number {i}" for i in range(2000)])
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.session.history is not None)
        await app.chat.open_saved(ident)
        current = pane(app)
        # The newest first (the view, short of the screen's height, may ask a page more at once).
        assert len(current.conversation.messages) <= 3 * VISIBLE_AT_OPEN and current.conversation.has_older
        await pilot.pause()
        await pilot.press("ctrl+home")  # from the composer: to the top of the conversation, its first message
        await until(pilot, lambda: len(current.view.messages) == 2000 and current.view.scroll_y == 0)
        assert "message number 0" in current.view.text_of(current.view.messages[0])
        await send(pilot, "and one more")
        await settle(app)
    sent = server.chat_requests()[-1].json["messages"]
    assert len(sent) == 2001 and sent[0]["content"] == "message number 0"


async def test_a_long_conversation_opened_counts_the_tokens_and_cost_of_all_its_replies(
        server: LoopbackServer) -> None:
    store = Store(default_path())
    conversation = Conversation(model="gpt-5")
    for i in range(40):
        append(store, conversation, ChatMessage("user", f"question {i}"))
        append(store, conversation, ChatMessage("assistant", f"answer {i}", model="gpt-5",
                                                usage=Usage(10, 15, 25), cost=0.001))
    store.close()
    app = make_app(server)
    async with app.run_test(size=(140, 40)) as pilot:
        await until(pilot, lambda: app.session.history is not None)
        await app.chat.open_saved(conversation.id)
        opened = pane(app).conversation
        assert opened.has_older and len(opened.messages) < 80
        assert opened.total_usage().total_tokens == 1000 and opened.total_cost() == pytest.approx((0.04, True))
        await pilot.pause()
        status = str(app.chat.query_one(StatusLine).render())
        assert "1,000 tokens" in status and "$0.0400" in status and "≥" not in status
        await pane(app).load_older(5)  # a page more: counted once, not twice
        assert opened.total_usage().total_tokens == 1000 and opened.total_cost() == pytest.approx((0.04, True))
        await pane(app).load_older(None)
        assert not opened.has_older and opened.total_usage().total_tokens == 1000


async def test_broken_database_keeps_chat_working(server: LoopbackServer) -> None:
    path = default_path()
    path.parent.mkdir(parents=True)
    path.write_bytes(b"junk" * 500)
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app)
        assert app.session.history is None
        await send(pilot, "still chatting")
        await settle(app)
        assert pane(app).conversation.messages[-1].content
    assert path.read_bytes().startswith(b"junk")


async def test_store_that_cannot_write_is_reported_and_chat_goes_on(server: LoopbackServer) -> None:
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.session.history is not None)
        assert app.session.history is not None
        app.session.history.store._db.execute("PRAGMA query_only = ON")
        await send(pilot, "words that cannot be saved")
        await settle(app)
        await pilot.pause()
        messages = pane(app).conversation.messages
        assert messages[0].content == "words that cannot be saved" and messages[1].content
        notices = [n.message for n in app._notifications]
        assert any("Not saved" in n and "stays on screen" in n for n in notices)
        # Said for as long as it lasts, not by one notice: on the status line, and at quit.
        status = app.chat.query_one(StatusLine)
        await until(pilot, lambda: "⚠ not saving to the history" in str(status.render()))
        pane(app).composer.load_text("a draft")
        await pilot.press("ctrl+q")
        await until(pilot, lambda: isinstance(app.screen, Confirm))
        assert app.screen.question.startswith("Saving to the history is failing (is the disk full?)")
        await pilot.press("n")
        await until(pilot, lambda: not isinstance(app.screen, Confirm))
        app.session.history.store._db.execute("PRAGMA query_only = OFF")  # room again: the next write works
        await send(pilot, "saved again")
        await settle(app)
        await until(pilot, lambda: "not saving" not in str(status.render()))


def test_a_search_snippet_shows_markdown_as_its_text() -> None:
    snippet = f"## Costs\nthe **{HIT_START}gpt{HIT_END}-5** model and `x = 2*3` …"
    assert snippet_content(snippet).plain == "Costs the gpt-5 model and x = 2*3 …"


async def test_the_list_stops_at_its_ends(server: LoopbackServer) -> None:
    seed(["first", "a"], ["second", "b"], ["third", "c"])
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: "first" in listed(app))
        listing = app.query_one(ConversationList)
        await pilot.press("ctrl+b")
        await until(pilot, lambda: listing.has_focus)
        await pilot.press("end")
        last = listing.highlighted
        await pilot.press("down")  # went round to the top, and Enter opened the wrong one
        assert listing.highlighted == last
        await pilot.press("home")
        first = listing.highlighted
        await pilot.press("up")
        assert listing.highlighted == first != last


async def test_a_search_hit_in_the_middle_of_a_long_conversation_not_open_is_in_sight(server: LoopbackServer) -> None:
    seed([f"message number {i}" for i in range(210)])
    app = make_app(server)
    async with app.run_test(size=(140, 45)) as pilot:
        await until(pilot, lambda: app.session.history is not None)
        await open_search_hit(pilot, '"message number 104"', hits=1)
        await pilot.pause()
        view = pane(app).view
        assert view.chosen_message is not None and view.chosen_message.content == "message number 104"
        assert "message number 104" in view.visible_text()
