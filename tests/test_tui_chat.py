"""The chat screen driven with Pilot against the loopback server."""

from __future__ import annotations

import asyncio
import gc
import json
import re
from dataclasses import replace
from pathlib import Path

import pytest
from loopback import Gate, LoopbackServer, Reply, chunk, sse, stream_reply, text_stream
from textual import events
from tui_helpers import (
    choose,
    header,
    make_app,
    painted,
    pane,
    picker_ready,
    send,
    settle,
    shown,
    until,
)

from t502_tui.conversation import ReplyStatus
from t502_tui.export import to_markdown
from t502_tui.ui import app as app_module
from t502_tui.ui import clipboard
from t502_tui.ui.app import T502App
from t502_tui.ui.screens.model_picker import ModelPicker
from t502_tui.ui.widgets.conversation_view import ConversationView
from t502_tui.ui.widgets.key_hints import KeyHints
from t502_tui.ui.widgets.sidebar import ConversationList
from t502_tui.ui.widgets.status_line import StatusLine

CHAT = "/chat/completions"


def invalid_token() -> Reply:
    """A server's refusal of the key."""
    return Reply(401, body=json.dumps({"error": {"message": "Invalid token", "type": "auth"}}))

async def test_send_streams_reply_with_usage(server: LoopbackServer) -> None:
    server.script(CHAT, text_stream("Hello **world**", model="gpt-5"))
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "hi there")
        await settle(app)
        await pilot.pause()
        messages = pane(app).conversation.messages
        assert [m.role for m in messages] == ["user", "assistant"]
        reply = messages[1]
        assert reply.content == "Hello **world**" and reply.status is ReplyStatus.COMPLETE
        assert reply.usage is not None and reply.usage.total_tokens > 0
        assert "Hello world" in shown(app)
        assert "gpt-5" in header(app) and " tokens (" in header(app)
        assert not pane(app).composer.text
    assert server.chat_requests()[0].json["messages"] == [{"role": "user", "content": "hi there"}]


@pytest.mark.parametrize(("finish", "note"), [("length", "cut off at the token limit"),
                                             ("content_filter", "stopped by the provider's content filter"),
                                             ("tool_calls", "the model asked for a tool, which t502 does not run")])
async def test_a_reply_the_server_cut_off_says_so_on_screen_and_in_the_transcript(
        server: LoopbackServer, finish: str, note: str) -> None:
    server.script(CHAT, stream_reply(sse(chunk("It reads whole"), chunk(finish=finish))))
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "hi there")
        await settle(app)
        await pilot.pause()
        assert f" · {note}" in header(app)
        assert f" · {note}\n" in to_markdown(pane(app).conversation)  # `t502 history show`, exports


@pytest.mark.parametrize("width", [60, 68, 80])
async def test_the_retry_hint_is_never_split(server: LoopbackServer, width: int) -> None:
    server.script(CHAT, invalid_token())
    app = make_app(server)
    async with app.run_test(size=(width, 24)) as pilot:
        await send(pilot, "hi")
        await settle(app)
        lines = [line.strip() for line in shown(app).split("\n")]
        assert any(line.endswith("Ctrl+R retries") for line in lines), lines


async def test_headers_count_tokens_as_the_status_line_does_at_any_width(server: LoopbackServer) -> None:
    server.script(CHAT, text_stream("Hello", model="gpt-5", prompt_tokens=12_345))
    app = make_app(server)
    async with app.run_test(size=(60, 20)) as pilot:
        await send(pilot, "hi there")
        await settle(app)
        await pilot.pause()
        reply = pane(app).conversation.messages[-1]
        assert reply.usage is not None
        assert header(app) == f"gpt-5 · {reply.created:%H:%M:%S} · {reply.usage.describe_short()}"
        await pilot.resize_terminal(120, 30)
        await pilot.pause()
        assert header(app).endswith(f" · {reply.usage.describe_short()}")  # one way, wide or narrow


async def test_switching_models_keeps_history(server: LoopbackServer) -> None:
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "first")
        await settle(app)
        await pilot.press("ctrl+o")
        await until(pilot, lambda: picker_ready(app))
        await pilot.press(*"claude")
        await pilot.press("enter")
        await until(pilot, lambda: not isinstance(app.screen, ModelPicker))
        await send(pilot, "second")
        await settle(app)
        await pilot.pause()
        models = [m.model for m in pane(app).conversation.messages if m.role == "assistant"]
        assert models == ["gpt-5", "claude-sonnet-4"]
        replies = [m for m in pane(app).conversation.messages if m.role == "assistant"]
        assert "gpt-5" in header(app, replies[0]) and "claude-sonnet-4" in header(app, replies[1])
    first, second = server.chat_requests()
    assert first.json["model"] == "gpt-5" and second.json["model"] == "claude-sonnet-4"
    assert [m["role"] for m in second.json["messages"]] == ["user", "assistant", "user"]
    assert second.json["messages"][1]["content"].startswith("Hello from the loopback")


async def test_a_new_conversation_starts_with_the_model_chosen_last(server: LoopbackServer) -> None:
    first = make_app(server)
    async with first.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: first.session.history is not None)
        first.chat.action_switch_model()
        await until(pilot, lambda: isinstance(first.screen, ModelPicker))
        await pilot.press(*"claude", "enter")
        await until(pilot, lambda: not isinstance(first.screen, ModelPicker))
        await pilot.press("ctrl+n")
        assert pane(first).conversation.model == "claude-sonnet-4"
        await settle(first)
    again = make_app(server)  # the config still says gpt-5: that was the first run's default
    async with again.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: pane(again).conversation.model == "claude-sonnet-4")


async def test_model_typed_that_is_not_listed_is_used_as_is(server: LoopbackServer) -> None:
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app)
        app.chat.action_switch_model()
        await until(pilot, lambda: picker_ready(app))
        await pilot.press(*"my-private-model")
        await pilot.press("enter")
        await until(pilot, lambda: not isinstance(app.screen, ModelPicker))
        assert pane(app).conversation.model == "my-private-model"


async def test_escape_stops_and_keeps_partial_reply(server: LoopbackServer) -> None:
    gate = Gate()
    server.script(CHAT, stream_reply([*sse(chunk("partial answer"), done=False), gate]))
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "tell me")
        await until(pilot, lambda: pane(app).streaming and gate.reached.is_set())
        await until(pilot, lambda: "partial answer" in shown(app))
        await pilot.press("escape")
        await settle(app)
        await pilot.pause()
        reply = pane(app).conversation.messages[-1]
        assert reply.status is ReplyStatus.STOPPED and reply.content == "partial answer"
        assert "Reply stopped; what arrived is kept." in [n.message for n in app._notifications]
        assert "stopped" in header(app)
        assert "≈4 tokens out (not counted)" in header(app)  # "partial answer", roughly
        # The server never said what the cut reply cost: not "no tokens yet".
        assert "tokens not reported" in str(app.chat.query_one(StatusLine).render())
    gate.open()
    assert await asyncio.to_thread(server.disconnected.wait, 5)


async def test_escape_before_any_text_says_nothing_came(server: LoopbackServer) -> None:
    gate = Gate()
    server.script(CHAT, stream_reply([": keep-alive\n\n", gate]))
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "tell me")
        await until(pilot, lambda: pane(app).streaming and gate.reached.is_set())
        await pilot.press("escape")
        await settle(app)
        assert "Reply stopped before any text came." in [n.message for n in app._notifications]
    gate.open()


async def test_a_reply_with_no_words_yet_says_how_long_it_has_waited(
        server: LoopbackServer, monkeypatch: pytest.MonkeyPatch) -> None:
    from t502_tui.ui.widgets import conversation_pane

    monkeypatch.setattr(conversation_pane, "FIRST_WORDS_SECONDS", 0)
    gate = Gate()
    server.script(CHAT, stream_reply([": keep-alive\n\n", gate, *sse(chunk("At last."), chunk(finish="stop"))]))
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "think hard")
        await until(pilot, lambda: "no words yet, 1 s" in header(app))
        gate.open()
        await settle(app)
        assert "no words yet" not in header(app) and "At last." in shown(app)


async def test_escape_on_a_chosen_message_goes_back_to_the_composer_and_the_reply_goes_on(
        server: LoopbackServer) -> None:
    gate = Gate()
    server.script(CHAT, stream_reply([*sse(chunk("partial answer"), done=False), gate]))
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "tell me")
        await until(pilot, lambda: "partial answer" in shown(app))
        await pilot.press("shift+tab")
        assert app.focused is pane(app).view
        await pilot.press("escape")
        await pilot.pause()
        assert app.focused is pane(app).composer and pane(app).streaming
        await pilot.press("escape")  # from the composer, Esc stops it
        await settle(app)
        assert pane(app).conversation.messages[-1].status is ReplyStatus.STOPPED
    gate.open()


async def test_message_keys_on_a_reply_still_streaming_say_why_they_wait(server: LoopbackServer) -> None:
    gate = Gate()
    server.script(CHAT, stream_reply([*sse(chunk("partial answer"), done=False), gate]))
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "tell me")
        await until(pilot, lambda: "partial answer" in shown(app))
        await pilot.press("shift+tab", "d")
        await until(pilot, lambda: any("still streaming" in n.message for n in app._notifications))
        assert pane(app).streaming and len(app.screen_stack) == 1  # nothing asked, nothing deleted
    gate.open()


@pytest.mark.parametrize("width", [140, 80])
async def test_escape_in_the_list_goes_back_to_the_composer(server: LoopbackServer, width: int) -> None:
    gate = Gate()
    server.script(CHAT, stream_reply([*sse(chunk("partial answer"), done=False), gate]))
    app = make_app(server)
    async with app.run_test(size=(width, 30)) as pilot:
        await send(pilot, "tell me")
        await until(pilot, lambda: "partial answer" in shown(app))
        shown_before = app.chat.query_one("#sidebar").display
        await pilot.press("ctrl+b")
        listing = app.chat.query_one(ConversationList)
        assert listing.has_focus
        await pilot.press("escape")
        await pilot.pause()
        assert pane(app).composer.has_focus and pane(app).streaming  # the reply goes on
        assert app.chat.query_one("#sidebar").display == shown_before  # as it was before Ctrl+B
    gate.open()


async def test_typing_while_streaming(server: LoopbackServer) -> None:
    gate = Gate()
    server.script(CHAT, stream_reply([*sse(chunk("streaming"), done=False), gate, *sse(chunk(finish="stop"))]))
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "go")
        await until(pilot, lambda: gate.reached.is_set())
        await pilot.press(*"next one")
        assert pane(app).composer.text == "next one"
        await pilot.press("enter")  # refused while streaming: the words stay
        await pilot.pause()
        assert pane(app).composer.text == "next one"
        gate.open()
        await settle(app)


async def test_a_new_key_or_address_clears_what_a_failed_turn_heard(server: LoopbackServer) -> None:
    from textual.widgets import Input

    server.script(CHAT, invalid_token())
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "hello")
        await settle(app)
        status = app.chat.query_one(StatusLine)
        await until(pilot, lambda: "● rejected" in str(status.render()))
        await pilot.press("f2")  # a new key
        await until(pilot, lambda: isinstance(app.focused, Input) and app.focused.id == "base_url")
        await pilot.press("tab", *"sk-new", "ctrl+s")
        await until(pilot, lambda: app.config.api_key == "sk-new")
        await until(pilot, lambda: "rejected" not in str(status.render()))


async def test_error_keeps_user_words_and_retry_resends(server: LoopbackServer) -> None:
    server.script(CHAT, invalid_token())
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "my precious words")
        await settle(app)
        await pilot.pause()
        user, reply = pane(app).conversation.messages
        assert user.content == "my precious words"
        assert reply.status is ReplyStatus.ERROR and "API key was rejected (HTTP 401): Invalid token" in (reply.error or "")
        error_line = shown(app).split("\n")[-1]
        assert "Invalid token" in error_line
        await pilot.press("ctrl+r")
        await settle(app)
        await pilot.pause()
        messages = pane(app).conversation.messages
        assert [m.status for m in messages[1:]] == [ReplyStatus.COMPLETE]
    assert len(server.chat_requests()) == 2
    assert server.chat_requests()[1].json["messages"] == [{"role": "user", "content": "my precious words"}]


async def test_a_reply_waiting_to_retry_says_so_in_its_header(server: LoopbackServer) -> None:
    busy = Reply(429, body=json.dumps({"error": {"message": "slow down"}}), headers={"Retry-After": "30"})
    server.script(CHAT, busy, text_stream("late but here"))
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "q")
        await until(pilot, lambda: "retrying in 30 s…" in header(app))
        assert "streaming" not in header(app)
        waiting = pane(app)
        assert waiting.connection is not None and waiting.connection.retry_at is not None
        waiting.connection = replace(waiting.connection, retry_at=waiting.connection.retry_at - 10)
        waiting._count_down()  # as its timer does each second: the wait is said as it shrinks
        await pilot.pause()
        assert re.search(r"retrying in (19|20) s…", header(app))
        assert re.search(r"retrying in (19|20) s", str(app.chat.query_one(StatusLine).render()))
        await pilot.press("escape")  # the user stops waiting
        await settle(app)
        await until(pilot, lambda: "stopped" in header(app))
        assert "retrying" not in header(app)


async def test_ctrl_r_with_nothing_to_retry_says_why(server: LoopbackServer) -> None:
    server.script(CHAT, text_stream("a whole answer"))
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        notices = lambda: [n.message for n in app._notifications]  # noqa: E731
        await pilot.press("ctrl+r")
        await until(pilot, lambda: "Nothing to retry yet: send a message first." in notices())
        await send(pilot, "q")
        await settle(app)
        await pilot.press("ctrl+r")
        await until(pilot, lambda: "Nothing to retry: the last reply is complete." in notices())
        assert len(server.chat_requests()) == 1
        assert "Retry" not in app.screen.query_one(KeyHints).shown


async def test_dead_server_is_explained(server: LoopbackServer, monkeypatch: pytest.MonkeyPatch) -> None:
    app = make_app(None)
    app.session.client.retry_base_delay = 0.01
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "anyone?")
        await settle(app)
        await pilot.pause()
        reply = pane(app).conversation.messages[-1]
        assert reply.status is ReplyStatus.ERROR and "cannot connect to 127.0.0.1:9" in (reply.error or "")
        assert app.chat.active_pane.connection.state.value == "offline"


async def test_partial_reply_then_drop_is_kept(server: LoopbackServer) -> None:
    server.script(CHAT, stream_reply(sse(chunk("half of it"), done=False), drop=True))
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "q")
        await settle(app)
        await pilot.pause()
        reply = pane(app).conversation.messages[-1]
        assert reply.status is ReplyStatus.ERROR and reply.content == "half of it"
        assert "half of it" in shown(app)
        assert "not sent as context" in shown(app, reply).split("half of it")[0]  # in its header, wrapped or not
        await send(pilot, "left out")
        await settle(app)
        choose(app, reply)
        await pilot.press("k")  # the user keeps the cut-off reply after all
        await pilot.pause()
        assert "kept as context" in shown(app, reply).split("half of it")[0]
        await send(pilot, "kept")
        await settle(app)
    sent = [[m["content"] for m in r.json["messages"]] for r in server.chat_requests()]
    assert "half of it" not in sent[1] and "half of it" in sent[2]


async def test_markup_and_escapes_are_literal(server: LoopbackServer) -> None:
    server.script(CHAT, text_stream("[bold red]x[/bold red] \x1b[31mred\x1b]0;title\x07", pieces=1))
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "[b]me[/b]")
        await settle(app)
        await pilot.pause()
        text = shown(app)
        assert "[bold red]x[/bold red]" in text and "^[[31mred" in text and "\x1b" not in text
        assert "[b]me[/b]" in shown(app, pane(app).conversation.messages[0])


async def test_escapes_are_literal_while_the_paragraph_still_streams(server: LoopbackServer) -> None:
    gate = Gate()
    server.script(CHAT, stream_reply([*sse(chunk("plain words \x1b[31mred\x1b]0;title\x07 and"), done=False), gate,
                                      *sse(chunk(" more."), chunk(finish="stop"))]))
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "go")
        await until(pilot, lambda: "plain words" in shown(app))
        text = shown(app)  # the open paragraph, drawn the quick way
        assert "^[[31mred" in text and "\x1b" not in text
        gate.open()
        await settle(app)


async def test_an_answer_without_text_says_so(server: LoopbackServer) -> None:
    server.script(CHAT, stream_reply(sse(chunk(reasoning="Only thinking"), chunk(finish="stop"))))
    app = make_app(server)
    async with app.run_test(size=(100, 30)) as pilot:
        await send(pilot, "hello")
        await settle(app)
        await pilot.pause()
        assert "(the answer has no text)" in shown(app)
        assert "(the answer has no text)" not in shown(app, pane(app).conversation.messages[0])


async def test_reasoning_is_folded_above_answer(server: LoopbackServer) -> None:
    server.script(CHAT, text_stream("Answer.", reasoning="Pondering deeply"))
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "why")
        await settle(app)
        await pilot.pause()
        reply = pane(app).conversation.messages[-1]
        assert reply.reasoning == "Pondering deeply" and reply.content == "Answer."
        lines = shown(app).split("\n")
        fold = next(i for i, line in enumerate(lines) if "Thinking" in line)
        answer = next(i for i, line in enumerate(lines) if "Answer." in line)
        assert fold < answer and "Pondering" not in shown(app)  # folded, above the answer
        choose(app, reply)
        await pilot.press("enter")
        lines = shown(app).split("\n")
        thought = next(i for i, line in enumerate(lines) if "Pondering deeply" in line)
        answer = next(i for i, line in enumerate(lines) if "Answer." in line)
        assert fold < thought < answer


async def test_opened_thinking_keeps_its_lines_and_is_set_apart_from_the_answer(server: LoopbackServer) -> None:
    server.script(CHAT, text_stream("The answer.", reasoning="First, the facts.\nThen the sum: `2+2`.\n", pieces=1))
    app = make_app(server)
    async with app.run_test(size=(100, 30)) as pilot:
        await send(pilot, "why")
        await settle(app)
        reply = pane(app).conversation.messages[-1]
        assert "▸ Thinking · 2 lines" in shown(app)  # not 3: the last line end starts no line
        choose(app, reply)
        await pilot.press("enter")
        lines = [line.strip() for line in shown(app).split("\n")]
        first = lines.index("First, the facts.")
        assert lines[first + 1:first + 4] == ["Then the sum: 2+2.", "", "The answer."]
        view = pane(app).view
        thought = view.look.base + view._palette["fold"]
        block = view.blocks[-1]
        drawn = block.line(app.console, view._width, view.look, view._palette, 2)[1]
        assert drawn is not None and all(segment.style is None or segment.style.italic == thought.italic
                                         for segment in drawn if segment.text.strip())


async def test_thinking_is_shown_as_it_streams(server: LoopbackServer) -> None:
    """A model that thinks for a minute before it answers must not look stuck: the fold
    line appears with the thinking and counts its lines."""
    gate = Gate()
    server.script(CHAT, stream_reply([*sse(chunk(reasoning="Let me see.\nFirst"), done=False), gate,
                                      *sse(chunk(reasoning="\nSecond"), chunk("Answer."), chunk(finish="stop"))]))
    app = make_app(server)
    async with app.run_test(size=(100, 30)) as pilot:
        await send(pilot, "why")
        await until(pilot, lambda: gate.reached.is_set()
                    and "▸ Thinking… · 2 lines  (click to open)  First" in painted(app))
        gate.open()
        await settle(app)
        await until(pilot, lambda: "▸ Thinking · 3 lines" in painted(app))
        assert "Thinking…" not in painted(app) and "Answer." in painted(app)
        view = pane(app).view
        row = next(y for y, line in enumerate(view.visible_text().split("\n")) if "▸ Thinking" in line)
        await pilot.click(ConversationView, offset=(6, row))  # as the line says, from the composer
        await until(pilot, lambda: "▾ Thinking" in painted(app) and "Second" in painted(app))


async def test_composer_keys(server: LoopbackServer) -> None:
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        composer = pane(app).composer
        composer.focus()
        await pilot.press("enter")
        assert not server.chat_requests()
        await pilot.press("a", "ctrl+j", "b")
        assert composer.text == "a\nb"
        await pilot.press("enter")
        await settle(app)
        assert composer.text == ""
        await pilot.press("up")
        assert composer.text == "a\nb"
        composer.clear()
        await pilot.pause()
        app.post_message(events.Paste("pasted\nlines\n"))
        await pilot.pause()
        assert composer.text == "pasted\nlines\n" and len(server.chat_requests()) == 1
        await pilot.press("enter")
        await settle(app)
        assert server.chat_requests()[-1].json["messages"][-1]["content"] == "pasted\nlines"  # not its last line break


async def test_new_conversation_and_background_streaming(server: LoopbackServer) -> None:
    gate = Gate()
    server.script(CHAT, stream_reply([*sse(chunk("background "), done=False), gate, *sse(chunk("done", finish="stop"))]))
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "first conversation")
        first = pane(app)
        await until(pilot, lambda: gate.reached.is_set())
        await pilot.press("ctrl+n")
        await until(pilot, lambda: pane(app) is not first)
        gate.open()
        await settle(app)
        assert first.conversation.messages[-1].content == "background done"
        assert len(app.chat.panes) == 2


async def test_ctrl_n_in_a_blank_conversation_opens_no_second_blank_one(server: LoopbackServer) -> None:
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("ctrl+n", "ctrl+n")
        await pilot.pause()
        blank = pane(app)
        assert app.chat.panes == [blank] and blank.composer.has_focus
        assert app.chat.query_one(ConversationList).option_count == 1  # the list says so too
        blank.composer.load_text("a draft")  # not blank any more: its words are kept apart
        await pilot.press("ctrl+n")
        await until(pilot, lambda: pane(app) is not blank)
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert len(app.chat.panes) == 2 and blank.composer.text == "a draft"
        listing = app.chat.query_one(ConversationList)
        rows = [str(listing.get_option_at_index(i).prompt) for i in range(listing.option_count)]
        assert len(rows) == 2 and "New conversation" in rows[0]
        assert rows[1].split("\n")[0].strip() == "a draft" and "draft ·" in rows[1]  # told apart
        await app.chat.action_close_conversation()  # the blank one: the draft's is left, alone in the list
        await pilot.pause()
        assert app.chat.panes == [blank] and app.chat.query_one(ConversationList).option_count == 1


@pytest.mark.parametrize("too_long", [False, True])
async def test_copy_last_reply(server: LoopbackServer, monkeypatch: pytest.MonkeyPatch, too_long: bool) -> None:
    if too_long:  # more than a terminal takes in one copy: refused, with a way out
        monkeypatch.setattr(clipboard, "MAX_COPIED", 5)
    server.script(CHAT, text_stream("copy me"))
    app = make_app(server)
    copied: list[str] = []
    app.copy_to_clipboard = copied.append  # type: ignore[method-assign]
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "q")
        await settle(app)
        await pilot.press("ctrl+l")
        if not too_long:
            assert copied == ["copy me"]
        else:
            assert copied == []
            assert any("too long to copy" in n.message and "Export" in n.message for n in app._notifications)


async def test_palette_switch_model(server: LoopbackServer) -> None:
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app)
        await pilot.press("ctrl+p")
        await pilot.press(*"Switch model")
        await pilot.press("enter")
        await until(pilot, lambda: picker_ready(app))


async def test_the_palette_finds_where_the_key_is_set(server: LoopbackServer) -> None:
    from t502_tui.ui.screens.settings import SettingsScreen

    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app)
        await pilot.press("ctrl+p", *"api key")
        await until(pilot, lambda: "API key" in str(app.screen.query_one("CommandList").get_option_at_index(0).prompt))
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, SettingsScreen))


async def test_no_request_before_the_first_frame(server: LoopbackServer) -> None:
    seen_at_first_frame: list[int] = []
    asked_after_first_frame: list[bool] = []

    class Watched(T502App):
        CSS_PATH = Path(app_module.__file__).with_name("app.tcss")

        def on_ready(self) -> None:  # Textual calls this before the app's own handler
            seen_at_first_frame.append(len(server.requests))

        def load_models(self, force: bool = False) -> None:
            asked_after_first_frame.append(bool(seen_at_first_frame))
            super().load_models(force)

    app = Watched(make_app(server).config)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.models is not None)
    assert seen_at_first_frame == [0]
    assert asked_after_first_frame == [True]  # not merely answered late: asked late
    # Then the model list, and what the server may tell of prices and balance (this one has neither).
    assert server.requests[0].path == "/v1/models"
    assert {r.path for r in server.requests} <= {"/v1/models", "/api/pricing", "/v1/dashboard/billing/subscription"}


async def test_the_garbage_collector_is_back_on_after_start_up(server: LoopbackServer) -> None:
    gc.disable()  # as `t502` starts the app
    try:
        app = make_app(server)
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, gc.isenabled)
    finally:
        gc.enable()


async def test_notices_show_server_text_literally(server: LoopbackServer) -> None:
    app = make_app(server)
    async with app.run_test(size=(100, 30)) as pilot:
        app.notify("the server said [bold red]x[/] and [link=http://evil]here[/]")
        await pilot.pause()
        notice = list(app._notifications)[-1]
        assert notice.message == "the server said [bold red]x[/] and [link=http://evil]here[/]" and not notice.markup
        app.screen.notify("could not write /tmp/[/]x.png")  # screens and widgets ask for markup
        await pilot.pause()
        notice = list(app._notifications)[-1]
        assert notice.message == "could not write /tmp/[/]x.png" and not notice.markup


def test_palette_pick_lists_show_titles_code_and_names_literally() -> None:
    from textual.content import Content
    from textual.fuzzy import Matcher

    from t502_tui.ui.screens.dialogs import pick

    line = pick("[bold red]French[/] chat \x1b[31m", lambda: None, "model [b]x[/] · 2 msgs")
    assert Content.from_markup(line.name).plain == "[bold red]French[/] chat ^[[31m"
    assert Matcher("fre").highlight(line.name).plain == "[bold red]French[/] chat ^[[31m"
    assert line.help_text is not None and Content.from_markup(line.help_text).plain == "model [b]x[/] · 2 msgs"
    assert pick("def f() -> list[int]:", lambda: None).help_text is None


async def test_commands_with_nothing_to_show_still_answer(server: LoopbackServer) -> None:
    # From the palette, "Stop reply" with nothing streaming and "Refresh model list" said nothing.
    app = make_app(server)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app)
        app.chat.action_cancel()
        app.refresh_models()
        await pilot.pause()
        said = [n.message for n in app._notifications]
        assert "No reply is streaming here." in said
        assert "Asking for the model lists again; Ctrl+O shows them." in said


async def test_saving_f3_says_what_the_conversation_now_uses(server: LoopbackServer) -> None:
    from t502_tui.ui.widgets.text_box import TextField

    app = make_app(server)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app)
        await pilot.press("f3")
        await until(pilot, lambda: isinstance(app.focused, TextField))
        await pilot.press(*"Be terse.", "ctrl+s")
        await until(pilot, lambda: pane(app).conversation.system_prompt == "Be terse.")
        await until(pilot, lambda: "This conversation now uses its system prompt and the default parameters"
                    in [n.message for n in app._notifications])


def test_a_copy_note_keeps_the_words_as_written() -> None:
    note, warned = clipboard.copy_note(12, "the conversation as Markdown", {"TMUX": "/tmp/tmux-0/default,1,0"})
    assert note.startswith("The conversation as Markdown (12 characters) sent to tmux") and warned


async def test_what_a_copy_through_tmux_needs_is_said_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TMUX", "/tmp/tmux-0/default,1,0")
    app = make_app(None)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app)
        for text in ("one", "two"):
            clipboard.copy(app, text, "the code block")
        await pilot.pause()
        first, second = [n for n in app._notifications]
        assert "set-clipboard on" in first.message and first.severity == "warning"
        assert second.message == "The code block (3 characters) sent to tmux" and second.severity == "information"


async def test_ctrl_c_in_the_composer_says_which_key_quits_in_words(server: LoopbackServer) -> None:
    app = make_app(server)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app)
        await pilot.press("h", "i", "ctrl+c")
        await until(pilot, lambda: any(n.title == "Do you want to quit?" for n in app._notifications))
        assert [n.message for n in app._notifications if n.title == "Do you want to quit?"] == [
            "Press Ctrl+Q to quit t502."]


async def test_copy_reply_and_follow_are_offered_once_there_is_something_to_act_on(server: LoopbackServer) -> None:
    server.script(CHAT, text_stream("a reply"))
    app = make_app(server)
    async with app.run_test(size=(160, 30)) as pilot:
        await settle(app)
        hints = app.screen.query_one(KeyHints)
        assert "Copy reply" not in hints.shown and "Follow" not in hints.shown
        await send(pilot, "q")
        await settle(app)
        await until(pilot, lambda: "Copy reply" in hints.shown and "Follow" in hints.shown)


async def test_commands_on_a_blank_conversation_say_there_is_nothing_to_act_on_yet() -> None:
    app = make_app(None)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app)
        for action in ("edit_last", "copy_conversation", "regenerate", "regenerate_with"):
            await app.chat.run_action(action)
        await pilot.pause()
        assert [n.message for n in app._notifications] == [
            "Nothing to edit yet: you have sent no message here.",
            "Nothing to copy yet: this conversation has no messages.",
            "Nothing to regenerate yet: there is no reply in this conversation.",
            "Nothing to regenerate yet: there is no reply in this conversation."]  # no picker first
        assert app.screen is app.chat
        assert not app.clipboard
