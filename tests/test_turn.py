"""The turn engine, without Textual, against the loopback server."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from loopback import Gate, LoopbackServer, Reply, chunk, sse, stream_reply, text_stream, usage_chunk
from t502_tui.attachments import Attachment
from t502_tui.config import load_config
from t502_tui.conversation import ChatMessage, Conversation, ReplyStatus
from t502_tui.history import History
from t502_tui.service import ContentDelta
from t502_tui.service.errors import APIError
from t502_tui.session import ChatSession
from t502_tui.store import Store, StoreError
from t502_tui import turn as turn_module
from t502_tui.turn import (
    ConnectionChanged,
    LinkState,
    PromptSaved,
    ReplyEnded,
    ReplyGrew,
    RetryWaiting,
    Turn,
    TurnEvent,
    error_text,
)

CHAT = "/chat/completions"
KEY = "sk-turn-secret-0123456789"


def session_for(url: str, tmp_path: Path | None = None, **env: str) -> ChatSession:
    config = load_config(env={"T502_API_KEY": KEY, "T502_BASE_URL": url, "T502_MODEL": "gpt-5", **env})
    config.max_retries = 1
    history = History(Store(tmp_path / "t502.db")) if tmp_path is not None else None
    return ChatSession(config, history)


class Events(list[TurnEvent]):
    """A listener that keeps what it is told."""

    def __call__(self, event: TurnEvent) -> None:
        self.append(event)

    def text(self) -> str:
        return "".join(e.content for e in self if isinstance(e, ReplyGrew))

    def kinds(self) -> list[str]:
        return [type(e).__name__ for e in self]


async def test_a_turn_saves_streams_and_completes(server: LoopbackServer, tmp_path: Path) -> None:
    server.script(CHAT, text_stream("Hello **world**", model="gpt-5", reasoning="hmm"))
    session = session_for(server.url, tmp_path)
    conversation = Conversation(model="gpt-5", system_prompt="be brief")
    events = Events()
    reply = await Turn(session, conversation, events).run(ChatMessage("user", "hi"))
    assert reply.status is ReplyStatus.COMPLETE and reply.content == "Hello **world**"
    assert reply.reasoning == "hmm" and reply.usage is not None and reply.error is None
    kinds = events.kinds()
    assert kinds[:3] == ["PromptSaved", "ReplyStarted", "ConnectionChanged"] and kinds[-1] == "ReplyEnded"
    assert events.text() == "Hello **world**"
    assert [m.role for m in conversation.messages] == ["user", "assistant"]
    assert conversation.messages[1].parent_id == conversation.messages[0].id is not None
    assert server.chat_requests()[0].json["messages"] == [
        {"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}]
    await session.aclose()
    saved = Store(tmp_path / "t502.db").load_conversation(conversation.id).messages
    assert [(m.role, m.content, m.status) for m in saved] == [
        ("user", "hi", ReplyStatus.COMPLETE), ("assistant", "Hello **world**", ReplyStatus.COMPLETE)]


async def test_thinking_in_think_tags_is_kept_as_thinking_and_not_sent_back(
        server: LoopbackServer, tmp_path: Path) -> None:
    """As Ollama, llama.cpp and vLLM without a reasoning parser send DeepSeek-R1's thinking,
    cut anywhere by the stream; a stream, then a server that ignores ``stream``."""
    server.script(CHAT, stream_reply(sse(chunk("<thi"), chunk("nk>\nIs it 4?"), chunk(" Yes.\n</th"),
                                         chunk("ink>\n\n"), chunk("It is **4**."), chunk(finish="stop"))),
                  Reply(body=json.dumps({"choices": [{"message": {"role": "assistant",
                                                                  "content": "<think>Again 4.</think>\nStill 4."}}]})))
    session = session_for(server.url, tmp_path)
    conversation = Conversation(model="gpt-5")
    reply = await Turn(session, conversation, Events()).run(ChatMessage("user", "2+2?"))
    assert (reply.reasoning, reply.content, reply.status) == ("Is it 4? Yes.", "It is **4**.", ReplyStatus.COMPLETE)
    again = await Turn(session, conversation, Events()).run(ChatMessage("user", "sure?"))
    assert (again.reasoning, again.content) == ("Again 4.", "Still 4.")
    assert server.chat_requests()[1].json["messages"][1] == {"role": "assistant", "content": "It is **4**."}
    await session.aclose()
    saved = Store(tmp_path / "t502.db").load_conversation(conversation.id).messages
    assert (saved[1].reasoning, saved[1].content) == ("Is it 4? Yes.", "It is **4**.")


async def test_a_reply_whose_stream_had_unreadable_parts_says_so(server: LoopbackServer) -> None:
    """A server that splits an event's JSON over two ``data:`` lines: the stream ends as it
    should, but text is missing; the reply's header says so (not its text: that is sent
    back to the model)."""
    server.script(CHAT, stream_reply(sse(chunk("Here is the word, a "), '{"choices":[{"delta":{"content":"ans',
                                         'wer."}}]}', chunk(" Done."), chunk(finish="stop"))))
    session = session_for(server.url)
    reply = await Turn(session, Conversation(model="gpt-5"), Events()).run(ChatMessage("user", "hi"))
    assert reply.status is ReplyStatus.COMPLETE and reply.content == "Here is the word, a  Done."
    assert reply.finish_note == "parts of the stream could not be read: some text may be missing"
    await session.aclose()


async def test_a_reply_longer_than_any_model_writes_is_cut_and_kept(
        server: LoopbackServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(turn_module, "MAX_REPLY_TEXT", 1000)
    pieces = [chunk("x" * 99 + " ") for _ in range(15)]
    server.script(CHAT, stream_reply(sse(chunk(reasoning="r" * 300), *pieces, chunk(finish="stop"))))
    reply = await Turn(session_for(server.url), Conversation(model="m"), Events()).run(ChatMessage("user", "go"))
    assert reply.status is ReplyStatus.ERROR and "longer than 1,000 characters" in (reply.error or "")
    assert reply.reasoning == "r" * 300 and 600 <= len(reply.content) <= 700  # what came before it is kept


async def test_text_is_merged_per_frame_and_nothing_is_lost(server: LoopbackServer) -> None:
    words = [f"w{i} " for i in range(3000)]
    server.script(CHAT, stream_reply(sse(*[chunk(w) for w in words], chunk(finish="stop"))))
    events = Events()
    reply = await Turn(session_for(server.url), Conversation(model="m"), events).run(ChatMessage("user", "go"))
    assert reply.content == "".join(words) == events.text()
    pieces = [e for e in events if isinstance(e, ReplyGrew)]
    assert len(pieces) < len(words) / 10  # merged, not one event per piece the server sent


async def test_the_last_words_before_a_pause_are_not_held_back(server: LoopbackServer) -> None:
    gate = Gate()
    server.script(CHAT, stream_reply([*sse(chunk("before the pause"), done=False), gate,
                                      *sse(chunk(" after"), chunk(finish="stop"))]))
    events = Events()
    shown = asyncio.Event()

    def listener(event: TurnEvent) -> None:
        events(event)
        if isinstance(event, ReplyGrew) and "pause" in events.text():
            shown.set()

    task = asyncio.create_task(Turn(session_for(server.url), Conversation(model="m"), listener).run(
        ChatMessage("user", "go")))
    await asyncio.wait_for(shown.wait(), 5)  # while the server still holds the rest back
    gate.open()
    reply = await task
    assert reply.content == "before the pause after"


@pytest.mark.parametrize(("message", "first_hint"), [
    ("not found (HTTP 404): The model `gpt-9` does not exist", "(is the model name right? `t502 models`"),
    ("not found (HTTP 404): model_not_found", "(is the model name right?"),
    ("not found (HTTP 404): the server sent an HTML page: 404 Not Found", "(is the base URL right? It is"),
    ("not found (HTTP 404): 404 page not found", "(is the base URL right?"),
])
def test_a_404_hints_at_what_is_likely_wrong(message: str, first_hint: str) -> None:
    assert error_text(APIError(message, status=404), has_key=True).startswith(f"{message} {first_hint}")


def test_messages_of_one_role_in_a_row_go_as_one() -> None:
    # vLLM and llama.cpp serve models whose chat templates refuse user, user.
    png = Attachment("a.png", "image/png", b"\x89PNG", 1, 1)
    conversation = Conversation(model="m", system_prompt="be brief", messages=[
        ChatMessage("user", "its reply deleted"),
        ChatMessage("user", "look", attachments=[png]), ChatMessage("assistant", "a cat"),
        ChatMessage("user", "refused"), ChatMessage("assistant", "", status=ReplyStatus.ERROR, error="x"),
        ChatMessage("user", "stopped"), ChatMessage("assistant", "half", status=ReplyStatus.STOPPED),
        ChatMessage("assistant", "kept", status=ReplyStatus.ERROR, in_context=True),
        ChatMessage("user", "and now"),
    ])
    sent = conversation.request_messages()
    assert [m["role"] for m in sent] == ["system", "user", "assistant", "user", "assistant", "user"]
    assert [part.get("text") for part in sent[1]["content"]] == ["its reply deleted", "look", None]
    assert sent[3]["content"] == "stopped"  # a question whose reply failed goes no more
    assert sent[4]["content"] == "half\n\nkept"
    assert conversation.request_messages("user")[:2] == [  # a system prompt sent as a user message stays apart
        {"role": "user", "content": "be brief"}, {"role": "user", "content": sent[1]["content"]}]


async def test_a_mid_stream_error_keeps_the_text_and_is_not_sent_again(server: LoopbackServer, tmp_path: Path) -> None:
    server.script(CHAT, stream_reply(sse(chunk("half an"), {"error": {"message": "upstream died"}}, done=False)))
    session = session_for(server.url, tmp_path)
    conversation = Conversation(model="m")
    events = Events()
    reply = await Turn(session, conversation, events).run(ChatMessage("user", "first"))
    assert reply.status is ReplyStatus.ERROR and reply.content == "half an"
    assert reply.error is not None and "upstream died" in reply.error
    ended = events[-1]
    assert isinstance(ended, ReplyEnded) and ended.error is not None and ended.error.partial
    await Turn(session, conversation, Events()).run(ChatMessage("user", "second"))
    sent = server.chat_requests()[1].json["messages"]
    # The cut-off reply stays out, and so does its question: not sent again with every message.
    assert [(m["role"], m["content"]) for m in sent] == [("user", "second")]
    conversation.messages[1].in_context = True  # the user keeps it
    await Turn(session, conversation, Events()).run(ChatMessage("user", "third"))
    assert [m["content"] for m in server.chat_requests()[2].json["messages"]][:2] == ["first", "half an"]
    await session.aclose()


class ExplodingClient:
    """A client whose stream fails in a way no ServiceError describes (a bug, an unforeseen server)."""

    async def stream_chat(self, messages: Any, model: str, **params: Any) -> AsyncIterator[ContentDelta]:
        yield ContentDelta("some words")
        raise OverflowError("int too large to convert to SQLite INTEGER")

    async def aclose(self) -> None:
        pass


async def test_an_unexpected_failure_is_an_error_never_complete(tmp_path: Path) -> None:
    session = session_for("http://127.0.0.1:9/v1", tmp_path)
    session.client = ExplodingClient()  # type: ignore[assignment]
    conversation = Conversation(model="m")
    events = Events()
    reply = await Turn(session, conversation, events).run(ChatMessage("user", "go"))
    assert reply.status is ReplyStatus.ERROR and reply.content == "some words"
    assert reply.error is not None and "OverflowError" in reply.error
    await session.aclose()
    saved = Store(tmp_path / "t502.db").load_conversation(conversation.id).messages[-1]
    assert saved.status is ReplyStatus.ERROR and saved.content == "some words"


@pytest.mark.parametrize("interrupted", [False, True])
async def test_cancelling_keeps_the_text(server: LoopbackServer, tmp_path: Path, interrupted: bool) -> None:
    gate = Gate()
    server.script(CHAT, stream_reply([*sse(chunk("so far"), done=False), gate]))
    session = session_for(server.url, tmp_path)
    conversation = Conversation(model="m")
    events = Events()
    turn = Turn(session, conversation, events)
    task = asyncio.create_task(turn.run(ChatMessage("user", "go")))
    while "so far" not in events.text():
        await asyncio.sleep(0.01)
    if interrupted:
        turn.interrupt()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    reply = conversation.messages[-1]
    expected = ReplyStatus.INTERRUPTED if interrupted else ReplyStatus.STOPPED
    assert reply.status is expected and reply.content == "so far"
    assert isinstance(events[-1], ReplyEnded)
    assert await asyncio.to_thread(server.disconnected.wait, 5)
    gate.open()
    await session.aclose()
    saved = Store(tmp_path / "t502.db").load_conversation(conversation.id).messages[-1]
    assert saved.status is expected and saved.content == "so far"


async def test_messages_the_store_could_not_take_are_saved_with_the_next_in_their_place(
        server: LoopbackServer, tmp_path: Path) -> None:
    # Another program held the database locked while "second B" and its reply came.
    session = session_for(server.url, tmp_path)
    conversation = Conversation(model="m")
    await Turn(session, conversation, Events()).run(ChatMessage("user", "first A"))
    def refused(*args: object) -> None:
        raise StoreError("database is locked")

    locked = pytest.MonkeyPatch()
    for method in ("add_message", "update_message"):
        locked.setattr(Store, method, refused)
    await Turn(session, conversation, Events()).run(ChatMessage("user", "second B"))
    assert conversation.messages[2].id is None and conversation.messages[3].id is None
    locked.undo()
    await Turn(session, conversation, Events()).run(ChatMessage("user", "third C"))
    await session.aclose()
    saved = Store(tmp_path / "t502.db").load_conversation(conversation.id).messages
    assert [(m.role, m.content) for m in saved] == [(m.role, m.content) for m in conversation.messages]
    assert [m.content for m in saved if m.role == "user"] == ["first A", "second B", "third C"]
    assert all(later.parent_id == earlier.id for earlier, later in zip(saved, saved[1:]))  # one branch


async def test_connection_state_belongs_to_the_turn(server: LoopbackServer) -> None:
    dead = Events()
    await Turn(session_for("http://127.0.0.1:9/v1"), Conversation(model="m"), dead).run(ChatMessage("user", "x"))
    states = [e.connection.state for e in dead if isinstance(e, ConnectionChanged)]
    assert states == [LinkState.STREAMING, LinkState.RETRYING, LinkState.OFFLINE]
    server.script(CHAT, Reply(401, body=json.dumps({"error": {"message": "bad key"}})))
    rejected = Events()
    turn = Turn(session_for(server.url), Conversation(model="m"), rejected)
    reply = await turn.run(ChatMessage("user", "x"))
    assert turn.connection.state is LinkState.REJECTED and "bad key" in turn.connection.reason
    assert reply.status is ReplyStatus.ERROR and reply.content == ""
    gate = Gate()  # a server that answers, then sends nothing: there, but stuck
    server.script(CHAT, stream_reply([gate]))
    session = session_for(server.url)
    session.config.timeout = 0.2
    stuck = Turn(session, Conversation(model="m"), Events())
    reply = await stuck.run(ChatMessage("user", "x"))
    gate.open()
    assert reply.error is not None and "sent nothing for 0.2 s" in reply.error
    assert stuck.connection.state is LinkState.READY


async def test_retries_are_told_to_the_listener(server: LoopbackServer) -> None:
    server.script(CHAT, Reply(429, body='{"error": {"message": "slow down"}}', headers={"Retry-After": "0"}),
                  text_stream("fine now"))
    events = Events()
    reply = await Turn(session_for(server.url), Conversation(model="m"), events).run(ChatMessage("user", "x"))
    assert reply.status is ReplyStatus.COMPLETE
    [retry] = [e for e in events if isinstance(e, RetryWaiting)]
    assert "slow down" in retry.notice.reason
    # The status line says so while it waits, and streaming once the next try is answered.
    states = [e.connection for e in events if isinstance(e, ConnectionChanged)]
    assert [c.state for c in states] == [LinkState.STREAMING, LinkState.RETRYING, LinkState.STREAMING,
                                         LinkState.READY]
    assert states[1].reason.startswith("rate limited") and states[1].reason.endswith("; trying again in 0 s")
    assert states[1].brief == "retrying in 0 s"  # what a narrow status line says


async def test_regenerating_answers_the_conversation_as_it_is(server: LoopbackServer, tmp_path: Path) -> None:
    session = session_for(server.url, tmp_path)
    conversation = Conversation(model="m")
    await Turn(session, conversation, Events()).run(ChatMessage("user", "q"))
    first = conversation.messages.pop()
    conversation.model = "other"
    events = Events()
    second = await Turn(session, conversation, events).run()
    assert "PromptSaved" not in events.kinds() and second.model == "other"
    assert second.parent_id == first.parent_id and sorted(second.alternatives) == sorted([first.id, second.id])
    await session.aclose()


async def test_the_api_key_never_reaches_the_store(server: LoopbackServer, tmp_path: Path) -> None:
    # A server that echoes the key in its error, and a reply that streams: nothing of the
    # key may land in the database (or its journal), whatever path the turn took.
    server.script(CHAT, Reply(400, body=json.dumps({"error": {"message": f"bad request for key {KEY}"}})),
                  text_stream("an answer"))
    session = session_for(server.url, tmp_path)
    conversation = Conversation(model="m")
    failed = await Turn(session, conversation, Events()).run(ChatMessage("user", "q"))
    assert failed.error is not None and "***" in failed.error
    await Turn(session, conversation, Events()).run(ChatMessage("user", "again"))
    await session.aclose()
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())
    assert b"an answer" in raw and KEY.encode() not in raw and KEY[3:15].encode() not in raw
    assert any(r.headers.get("authorization") == f"Bearer {KEY}" for r in server.requests)


async def test_older_messages_not_loaded_are_still_sent(server: LoopbackServer, tmp_path: Path) -> None:
    session = session_for(server.url, tmp_path)
    conversation = Conversation(model="m")
    for question in ("one", "two", "three"):
        await Turn(session, conversation, Events()).run(ChatMessage("user", question))
    assert session.history is not None
    loaded = await session.history.read(lambda store: store.load_conversation(conversation.id, newest=2))
    assert loaded.has_older and len(loaded.messages) == 2
    await Turn(session, loaded, Events()).run(ChatMessage("user", "four"))
    sent = [m["content"] for m in server.chat_requests()[-1].json["messages"] if m["role"] == "user"]
    assert sent == ["one", "two", "three", "four"]
    await session.aclose()


async def test_no_store_keeps_the_reply_in_memory(server: LoopbackServer) -> None:
    server.script(CHAT, stream_reply(sse(*[chunk(f"{i} ") for i in range(500)], chunk(finish="stop"),
                                          usage_chunk(3, 500))))
    conversation = Conversation(model="m")
    reply = await Turn(session_for(server.url), conversation, Events()).run(ChatMessage("user", "go"))
    assert reply.content == "".join(f"{i} " for i in range(500)) and reply.id is None
    assert reply.usage is not None and reply.usage.completion_tokens == 500




async def test_the_pages_a_reply_cites_are_listed_after_its_text(server: LoopbackServer, tmp_path: Path) -> None:
    # Each chunk repeats the list (Perplexity); a title arrives later for one first sent bare;
    # the second is no web link and the fourth repeats the first: numbers stay the server's.
    listed = ["https://a.example/x_(y)\\", "javascript:x", "https://www.b.example/", "https://a.example/x_(y)\\"]
    first = {**chunk("Rain is likely [1][3]."), "citations": listed}
    titled = {**chunk(finish="stop"), "citations": listed,
              "search_results": [{}, {}, {"url": "https://www.b.example/", "title": "*Weather* [today] <b>"}]}
    server.script(CHAT, stream_reply(sse(first, titled)))
    session = session_for(server.url, tmp_path)
    conversation = Conversation(model="gpt-5")
    reply = await Turn(session, conversation, Events()).run(ChatMessage("user", "rain?"))
    assert reply.content == (
        "Rain is likely [1][3].\n\nSources:\n\n"
        "- \\[1\\] [a.example](https://a.example/x_%28y%29%5C)\n"
        "- \\[3\\] [\\*Weather\\* \\[today\\] \\<b\\>](https://www.b.example/) · b.example\n\n")
    await session.aclose()
    assert Store(tmp_path / "t502.db").load_conversation(conversation.id).messages[1].content == reply.content


async def test_sources_after_a_reply_cut_off_in_a_code_block_are_not_taken_into_it(server: LoopbackServer) -> None:
    cut = {**chunk("```python\nprint(1)\n", finish="length"), "citations": ["https://c.example/"]}
    annotated = {"choices": [{"index": 0, "delta": {"annotations": [
        {"type": "url_citation", "url_citation": {"url": "https://d.example/", "title": "D"}}]}}]}
    server.script(CHAT, stream_reply(sse(cut, annotated)))
    session = session_for(server.url)
    reply = await Turn(session, Conversation(model="gpt-5"), Events()).run(ChatMessage("user", "code"))
    await session.aclose()
    assert reply.content == ("```python\nprint(1)\n```\n\nSources:\n\n- \\[1\\] [c.example](https://c.example/)\n"
                             "- \\[2\\] [D](https://d.example/) · d.example\n\n")


async def test_a_conversation_deleted_elsewhere_while_open_is_saved_again_whole(
        server: LoopbackServer, tmp_path: Path) -> None:
    server.script(CHAT, text_stream("One."), text_stream("Two."))
    session = session_for(server.url, tmp_path)
    conversation = Conversation(model="gpt-5")
    await Turn(session, conversation, Events()).run(ChatMessage("user", "first"))
    Store(tmp_path / "t502.db").delete(conversation.id)  # `t502 history delete`, meanwhile
    events = Events()
    await Turn(session, conversation, events).run(ChatMessage("user", "second"))
    await session.aclose()
    assert [e.saved_again for e in events if isinstance(e, PromptSaved)] == [True]
    saved = Store(tmp_path / "t502.db").load_conversation(conversation.id).messages
    assert [m.content for m in saved] == ["first", "One.", "second", "Two."]
    assert server.chat_requests()[1].json["messages"][:2] == [{"role": "user", "content": "first"},
                                                              {"role": "assistant", "content": "One."}]


async def test_a_question_the_server_refused_is_not_sent_again_with_the_next(server: LoopbackServer) -> None:
    refused = Reply(400, body=json.dumps({"error": {"message": "this prompt is refused"}}))
    server.script(CHAT, refused, text_stream("Fine."), text_stream("Again."))
    session = session_for(server.url)
    conversation = Conversation(model="gpt-5")
    failed = await Turn(session, conversation, Events()).run(ChatMessage("user", "refused words"))
    assert failed.status is ReplyStatus.ERROR and conversation.messages[0].content == "refused words"  # kept
    await Turn(session, conversation, Events()).run(ChatMessage("user", "next"))
    await Turn(session, conversation, Events()).run(ChatMessage("user", "and then"))
    await session.aclose()
    asked = [[m["content"] for m in r.json["messages"]] for r in server.chat_requests()]
    assert asked == [["refused words"], ["next"], ["next", "Fine.", "and then"]]


def test_a_source_on_a_site_named_in_another_script_shows_its_real_name() -> None:
    from t502_tui.reply_sources import ReplySources
    from t502_tui.service.events import Source, SourcesFound

    sources = ReplySources()
    sources.add(SourcesFound((Source("https://аррӏе.com/login", "Sign in"),)))  # Cyrillic, reads "apple.com"
    assert sources.markdown().endswith("[Sign in](https://аррӏе.com/login) · xn--80ak6aa92e.com")


def test_a_401_with_no_key_says_where_one_is_given_in_the_chat_and_the_shell() -> None:
    said = error_text(APIError("the API key was rejected (HTTP 401)", status=401), has_key=False)
    assert "Settings (F2)" in said and "T502_API_KEY" in said


def test_a_tls_failure_leaves_the_server_offline_not_ready() -> None:
    from t502_tui.service import TLSFailed
    from t502_tui.turn import Connection, LinkState

    assert Connection.after(TLSFailed("127.0.0.1:9's TLS certificate is not trusted")).state is LinkState.OFFLINE
