"""The service layer against a real HTTP server on 127.0.0.1, quirk by quirk."""

from __future__ import annotations

import asyncio
import json
import ssl
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from loopback import (
    Gate,
    LoopbackServer,
    Pause,
    Reply,
    chunk,
    models_reply,
    sse,
    stream_reply,
    text_stream,
    usage,
    usage_chunk,
    self_signed,
)
from t502_tui.service import (
    APIError,
    ConnectionFailed,
    ContentDelta,
    Finished,
    IncompleteReply,
    ReasoningDelta,
    RetryNotice,
    ServiceError,
    Source,
    SourcesFound,
    TimedOut,
    TLSFailed,
    Usage,
    UsageReport,
)
from t502_tui.service import client as client_module
from t502_tui.service.client import TRICKLE_PACE, ChatClient, fast_trickle

KEY = "sk-secret-test-key-0123456789"
CHAT = "/chat/completions"
HI = [{"role": "user", "content": "hi"}]


@pytest.fixture
async def client(server: LoopbackServer) -> AsyncIterator[ChatClient]:
    async with ChatClient(server.url, KEY, retry_base_delay=0.01, idle_timeout=5) as c:
        yield c


async def collect(client: ChatClient, **params: Any) -> list[Any]:
    return [event async for event in client.stream_chat(HI, "m", **params)]


def text_of(events: list[Any]) -> str:
    return "".join(e.text for e in events if isinstance(e, ContentDelta))


async def test_request_shape(server: LoopbackServer, client: ChatClient) -> None:
    await collect(client, temperature=0.2)
    request = server.chat_requests()[0]
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.json == {"temperature": 0.2, "model": "m", "messages": HI, "stream": True,
                            "stream_options": {"include_usage": True}}


async def test_the_key_is_sent_even_with_a_user_and_password_in_the_base_url(server: LoopbackServer) -> None:
    address = server.url.replace("http://", "http://someone:their-password@")
    async with ChatClient(address, KEY) as keyed, ChatClient(address, "") as keyless:
        await keyed.list_models()
        await keyless.list_models()
    assert server.requests[0].headers["authorization"] == f"Bearer {KEY}"
    assert server.requests[1].headers["authorization"].startswith("Basic ")  # a proxy that asks for it


async def test_one_client_reuses_its_pool(server: LoopbackServer, client: ChatClient) -> None:
    await collect(client)
    http = client._http  # made for the first request
    await client.list_models()
    assert client._http is http and len(server.requests) == 2


async def test_plain_stream(server: LoopbackServer, client: ChatClient) -> None:
    server.script(CHAT, text_stream("Hello there, friend", pieces=4))
    events = await collect(client)
    assert text_of(events) == "Hello there, friend"
    assert Finished("stop") in events
    assert [e for e in events if isinstance(e, UsageReport)][-1].usage.total_tokens == 8


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
async def test_role_only_first_chunk_empty_deltas_comments(server: LoopbackServer, client: ChatClient, newline: str) -> None:
    items = sse(chunk(role="assistant"), chunk(), chunk("a"), chunk(""), chunk("b", finish="stop"),
                usage_chunk(), newline=newline)
    server.script(CHAT, stream_reply([f": keep-alive{newline}{newline}", *items]))
    events = await collect(client)
    assert text_of(events) == "ab" and Finished("stop") in events


@pytest.mark.parametrize("index", [1, "0"])
async def test_a_single_choice_not_numbered_0_is_followed(server: LoopbackServer, client: ChatClient,
                                                          index: object) -> None:
    chunks = [chunk("Hel"), chunk("lo"), chunk(finish="stop")]
    for item in chunks:
        item["choices"][0]["index"] = index
    server.script(CHAT, stream_reply(sse(*chunks)))
    events = await collect(client)
    assert text_of(events) == "Hello" and Finished("stop") in events


async def test_other_choices_of_the_stream_are_left_out(server: LoopbackServer, client: ChatClient) -> None:
    first, other = chunk("mine"), chunk("not mine")
    other["choices"][0]["index"] = 1
    server.script(CHAT, stream_reply(sse(first, other, chunk(finish="stop"))))
    assert text_of(await collect(client)) == "mine"


async def test_role_inside_first_content_chunk(server: LoopbackServer, client: ChatClient) -> None:
    server.script(CHAT, stream_reply(sse(chunk("Hi", role="assistant"), chunk(finish="stop"))))
    assert text_of(await collect(client)) == "Hi"


async def test_missing_finish_reason_key(server: LoopbackServer, client: ChatClient) -> None:
    server.script(CHAT, stream_reply(sse(chunk("x", no_finish_key=True), chunk(finish="length"))))
    assert (await collect(client))[-1] == Finished("length")


async def test_usage_in_empty_delta_choice_and_in_finish_chunk(server: LoopbackServer, client: ChatClient) -> None:
    server.script(CHAT, stream_reply(sse(chunk("x"), chunk(finish="stop", usage=usage(3, 4)))))
    server.script(CHAT, stream_reply(sse(chunk("x", finish="stop"), chunk(usage=usage(1, 2)))))
    first = await collect(client)
    second = await collect(client)
    assert UsageReport(Usage(3, 4, 7)) in first
    assert UsageReport(Usage(1, 2, 3)) in second


async def test_usage_where_groq_puts_it(server: LoopbackServer, client: ChatClient) -> None:
    last = {**chunk("", finish="stop"), "x_groq": {"id": "req_1", "usage": usage(5, 6)}}
    server.script(CHAT, stream_reply(sse(chunk("x"), last, {"choices": [], "x_groq": "odd"})))
    assert UsageReport(Usage(5, 6, 11)) in await collect(client)


async def test_a_whole_reply_asked_for_and_streamed_anyway_is_gathered(server: LoopbackServer, client: ChatClient) -> None:
    server.script(CHAT, text_stream("Some relays always stream.", reasoning="hm", prompt_tokens=9))
    completion = await client.complete(HI, "m")
    assert completion.content == "Some relays always stream." and completion.reasoning == "hm"
    assert completion.finish_reason == "stop" and completion.usage is not None and completion.usage.prompt_tokens == 9
    assert server.chat_requests()[0].json["stream"] is False


async def test_a_refusal_in_its_own_field_is_the_reply(server: LoopbackServer, client: ChatClient) -> None:
    # OpenAI puts a model's refusal in "refusal", content null ("refusal": null in every other chunk).
    first = {"choices": [{"index": 0, "delta": {"role": "assistant", "content": None, "refusal": None}}]}
    said = {"choices": [{"index": 0, "delta": {"refusal": "I can't help with that."}}]}
    whole = {"choices": [{"message": {"content": None, "refusal": "No."}, "finish_reason": "stop"}]}
    server.script(CHAT, stream_reply(sse(first, said, chunk(finish="stop"))), Reply(body=json.dumps(whole)))
    assert text_of(await collect(client)) == "I can't help with that."
    assert (await client.complete(HI, "m")).content == "No."


async def test_the_pages_a_search_model_cites_are_read_where_each_server_puts_them(
        server: LoopbackServer, client: ChatClient) -> None:
    # Perplexity: every chunk repeats "citations" (and "search_results", with titles).
    cited = {"citations": ["https://a.example/1", "https://b.example/2"],
             "search_results": [{"title": "Page A", "url": "https://a.example/1", "date": None},
                                {"title": "Page B", "url": "https://b.example/2"}]}
    perplexity = sse({**chunk("It is [1]."), **cited}, {**chunk(finish="stop"), "citations": cited["citations"]})
    # OpenAI's search models and OpenRouter's web search: url_citation annotations.
    note = {"type": "url_citation", "url_citation": {"url": "https://c.example/", "title": "C", "start_index": 0,
                                                     "end_index": 3}}
    openai = sse({"choices": [{"index": 0, "delta": {"content": "See C.", "annotations": [note]}}]}, chunk(finish="stop"))
    whole = {"choices": [{"message": {"content": "See C.", "annotations": [note]}, "finish_reason": "stop"}]}
    server.script(CHAT, stream_reply(perplexity), stream_reply(openai), Reply(body=json.dumps(whole)))
    events = await collect(client)
    assert SourcesFound((Source("https://a.example/1", "Page A", 1), Source("https://b.example/2", "Page B", 2))) in events
    assert SourcesFound((Source("https://a.example/1", "", 1), Source("https://b.example/2", "", 2))) in events
    assert SourcesFound((Source("https://c.example/", "C"),)) in await collect(client)
    assert (await client.complete(HI, "m")).sources == SourcesFound((Source("https://c.example/", "C"),))


async def test_a_cited_page_is_kept_only_as_a_web_link_of_one_piece(server: LoopbackServer, client: ChatClient) -> None:
    odd = ["javascript:alert(1)", "https://x.example/a b", "https://x.example/\x1b[2J", "https://x.example/" + "a" * 3000,
           42, None, {"url": "https://x.example/"}, "HTTPS://ok.example/"]
    titled = [{"url": "https://t.example/", "title": "line\none \x1b[31mred\x1b[0m\u202e"}, "not a dict"]
    many = [f"https://{n}.example/" for n in range(150)]
    server.script(CHAT, stream_reply(sse({**chunk("x", finish="stop"), "citations": odd})),
                  stream_reply(sse({**chunk("y", finish="stop"), "search_results": titled})),
                  stream_reply(sse({**chunk("z", finish="stop"), "citations": many})))
    # Each keeps its place in the server's list: the text's [8] is the eighth.
    assert [e for e in await collect(client) if isinstance(e, SourcesFound)] == [
        SourcesFound((Source("HTTPS://ok.example/", "", 8),))]
    assert [e for e in await collect(client) if isinstance(e, SourcesFound)] == [
        SourcesFound((Source("https://t.example/", "line one \x1b[31mred\x1b[0m\u202e", 1),))]
    [found] = [e for e in await collect(client) if isinstance(e, SourcesFound)]
    assert len(found.sources) == 100 and found.beyond == 50


async def test_a_finished_reply_on_a_connection_left_open_ends_complete(
        server: LoopbackServer, client: ChatClient, monkeypatch: pytest.MonkeyPatch) -> None:
    # No [DONE] and no close after the finish and the usage: the reply is whole all the same.
    monkeypatch.setattr(client_module, "FINISHED_GRACE", 0.05)  # (3 s as users meet it)
    held = Gate()
    server.script(CHAT, stream_reply([*sse(chunk("all of it", finish="stop"), usage_chunk(2, 3), done=False), held]))
    try:
        events = await collect(client)
    finally:
        held.open()
    assert text_of(events) == "all of it" and UsageReport(Usage(2, 3, 5)) in events


async def test_thinking_sent_as_a_content_part_is_the_replys_thinking(server: LoopbackServer,
                                                                       client: ChatClient) -> None:
    # Mistral's reasoning models (Magistral): thinking in a part of its own, then text.
    def parts(*content: dict[str, Any]) -> dict[str, Any]:
        return {"choices": [{"index": 0, "delta": {"content": list(content)}}]}

    thinking = {"type": "thinking", "thinking": [{"type": "text", "text": "Let me see."}]}
    whole = {"choices": [{"message": {"content": [thinking, {"type": "text", "text": "Four."}]}, "finish_reason": "stop"}]}
    server.script(CHAT, stream_reply(sse(parts(thinking), parts({"type": "text", "text": "Four."}), chunk(finish="stop"))),
                  Reply(body=json.dumps(whole)))
    events = await collect(client)
    assert ReasoningDelta("Let me see.") in events and text_of(events) == "Four."
    completion = await client.complete(HI, "m")
    assert (completion.reasoning, completion.content) == ("Let me see.", "Four.")


async def test_usage_details(server: LoopbackServer, client: ChatClient) -> None:
    detail = usage(10, 20, completion_tokens_details={"reasoning_tokens": 6},
                   prompt_tokens_details={"cached_tokens": 4})
    server.script(CHAT, stream_reply(sse(chunk("x", finish="stop"), {"choices": [], "usage": detail})))
    assert UsageReport(Usage(10, 20, 30, 6, 4)) in await collect(client)


def test_the_cost_a_server_reports_in_usage_is_read_where_each_puts_it() -> None:
    assert Usage.from_json(usage(1, 2, cost=0.0031)) == Usage(1, 2, 3, cost=0.0031)  # OpenRouter's
    perplexity = {"input_tokens_cost": 0.0, "output_tokens_cost": 0.001, "request_cost": 0.005, "total_cost": 0.006}
    assert Usage.from_json(usage(1, 2, cost=perplexity)) == Usage(1, 2, 3, cost=0.006)
    assert Usage.from_json(usage(1, 2, cost={"total_cost": "lots"})) == Usage(1, 2, 3)


async def test_null_usage_details_and_no_usage(server: LoopbackServer, client: ChatClient) -> None:
    nulls = usage(1, 1, completion_tokens_details=None, prompt_tokens_details=None)
    server.script(CHAT, stream_reply(sse(chunk("x", finish="stop", usage=None), {"choices": [], "usage": nulls})))
    server.script(CHAT, stream_reply(sse(chunk("x", finish="stop"))))
    assert UsageReport(Usage(1, 1, 2)) in await collect(client)
    assert not [e for e in await collect(client) if isinstance(e, UsageReport)]


async def test_reasoning_content_and_reasoning(server: LoopbackServer, client: ChatClient) -> None:
    other = chunk()
    other["choices"][0]["delta"]["reasoning"] = "also thinking"
    server.script(CHAT, stream_reply(sse(chunk(reasoning="thinking "), other, chunk("answer", finish="stop"))))
    events = await collect(client)
    assert [e.text for e in events if isinstance(e, ReasoningDelta)] == ["thinking ", "also thinking"]
    assert text_of(events) == "answer"


async def test_split_reads_inside_utf8(server: LoopbackServer, client: ChatClient) -> None:
    raw = "".join(str(c) for c in sse(chunk("日本語 ✓"), chunk(finish="stop"))).encode()
    pieces: list[Any] = [raw[i:i + 5] for i in range(0, len(raw), 5)]
    server.script(CHAT, stream_reply(pieces))
    assert text_of(await collect(client)) == "日本語 ✓"


async def test_multi_line_data_event(server: LoopbackServer, client: ChatClient) -> None:
    body = json.dumps(chunk("multi", finish="stop"), indent=1).replace("\n", "\ndata: ")
    server.script(CHAT, stream_reply([f"data: {body}\n\n", "data: [DONE]\n\n"]))
    assert text_of(await collect(client)) == "multi"


async def test_events_without_blank_lines_between(server: LoopbackServer, client: ChatClient) -> None:
    lines = "".join(f"data: {json.dumps(c)}\n" for c in [chunk("a"), chunk("b", finish="stop")])
    server.script(CHAT, stream_reply([lines, "\n"]))
    assert text_of(await collect(client)) == "ab"


async def test_finish_without_done_is_normal(server: LoopbackServer, client: ChatClient) -> None:
    server.script(CHAT, stream_reply(sse(chunk("a"), chunk(finish="stop"), done=False)))
    assert (await collect(client))[-1] == Finished("stop")


async def test_done_without_finish_is_normal(server: LoopbackServer, client: ChatClient) -> None:
    server.script(CHAT, stream_reply(sse(chunk("a"))))
    assert text_of(await collect(client)) == "a"


async def test_end_without_finish_or_done_is_partial(server: LoopbackServer, client: ChatClient) -> None:
    server.script(CHAT, stream_reply(sse(chunk("half"), done=False)))
    seen: list[Any] = []
    with pytest.raises(IncompleteReply) as info:
        async for event in client.stream_chat(HI, "m"):
            seen.append(event)
    assert text_of(seen) == "half" and info.value.partial


@pytest.mark.parametrize("content_type", ["text/event-stream", "application/json"])
async def test_an_empty_answer_is_called_so(server: LoopbackServer, client: ChatClient, content_type: str) -> None:
    server.script(CHAT, Reply(200, body="\r\n", headers={"Content-Type": content_type}))
    with pytest.raises(IncompleteReply, match="^the server answered with nothing: no reply, no error$"):
        await collect(client)


async def test_dropped_connection_is_partial(server: LoopbackServer, client: ChatClient) -> None:
    server.script(CHAT, stream_reply(sse(chunk("half"), done=False), drop=True))
    with pytest.raises(IncompleteReply, match="connection was lost") as info:
        await collect(client)
    assert info.value.partial


async def test_dropped_after_finish_is_complete(server: LoopbackServer, client: ChatClient) -> None:
    server.script(CHAT, stream_reply(sse(chunk("all", finish="stop"), done=False), drop=True))
    assert text_of(await collect(client)) == "all"


@pytest.mark.parametrize("error", [{"error": {"message": "upstream overloaded", "code": "overloaded"}},
                                   {"error": "upstream overloaded"}])
async def test_error_event_mid_stream(server: LoopbackServer, client: ChatClient, error: Any) -> None:
    server.script(CHAT, stream_reply(sse(chunk("par"), error)))
    with pytest.raises(APIError, match="upstream overloaded") as info:
        await collect(client)
    assert info.value.partial


async def test_named_error_event(server: LoopbackServer, client: ChatClient) -> None:
    server.script(CHAT, stream_reply(['event: error\ndata: {"message": "bad things"}\n\n']))
    with pytest.raises(APIError, match="bad things"):
        await collect(client)


async def test_error_status_with_sse_body(server: LoopbackServer, client: ChatClient) -> None:
    server.script(CHAT, stream_reply(sse({"error": {"message": "model not allowed"}}, done=False), status=403))
    with pytest.raises(APIError, match="model not allowed") as info:
        await collect(client)
    assert info.value.status == 403 and not info.value.partial


async def test_stream_answered_with_one_json_body(server: LoopbackServer, client: ChatClient) -> None:
    body = {"choices": [{"index": 0, "finish_reason": "stop", "message": {
        "role": "assistant", "content": "whole", "reasoning_content": "why"}}], "usage": usage(2, 3)}
    server.script(CHAT, Reply(body=json.dumps(body)))
    events = await collect(client)
    assert events == [ReasoningDelta("why"), ContentDelta("whole"), UsageReport(Usage(2, 3, 5)), Finished("stop")]


async def test_json_error_body_with_200(server: LoopbackServer, client: ChatClient) -> None:
    server.script(CHAT, Reply(body='{"error": {"message": "no credit left"}}'))
    with pytest.raises(APIError, match="no credit left"):
        await collect(client)


async def test_html_answer_to_stream(server: LoopbackServer, client: ChatClient) -> None:
    server.script(CHAT, Reply(body="<html><title>Welcome to nginx!</title></html>", content_type="text/html"))
    with pytest.raises(ServiceError, match="Welcome to nginx!") as info:
        await collect(client)
    assert "<" not in info.value.message


async def test_garbage_stream(server: LoopbackServer, client: ChatClient) -> None:
    server.script(CHAT, stream_reply(["data: not json at all\n\n", "data: {broken\n\n"]))
    with pytest.raises(IncompleteReply, match="not JSON"):
        await collect(client)


async def test_idle_timeout_between_chunks(server: LoopbackServer) -> None:
    gate = Gate()
    server.script(CHAT, stream_reply([*sse(chunk("slow"), done=False), gate]))
    async with ChatClient(server.url, KEY, idle_timeout=0.3) as client:
        with pytest.raises(TimedOut, match="sent nothing for 0.3 s") as info:
            await collect(client)
    gate.open()
    assert info.value.partial


@pytest.mark.parametrize(("pieces", "gathered", "seconds", "pauses"), [
    (1, 300, 0.050, False),  # prose at 20 tokens/s: a pause would gather nothing
    (1, 300, 0.010, True),  # 100 tokens/s: the first packet after the first token
    (9, 2_700, 0.093, True),  # 100 tokens/s, after a pause: it keeps gathering
    (300, 64 * 1024, 0.010, False),  # a flood is read as fast as it comes
])
def test_only_a_fast_trickle_pauses_to_gather(pieces: int, gathered: int, seconds: float, pauses: bool) -> None:
    assert fast_trickle(pieces, gathered, seconds) is pauses


async def test_a_fast_trickle_arrives_whole_with_an_idle_timeout_shorter_than_its_pauses(
        server: LoopbackServer) -> None:
    words = [f"w{i} " for i in range(40)]
    paced: list[Any] = []
    for part in sse(*(chunk(word) for word in words), chunk(finish="stop")):
        paced += [part, Pause(0.004)]
    server.script(CHAT, stream_reply(paced))
    async with ChatClient(server.url, KEY, idle_timeout=TRICKLE_PACE / 2) as client:
        assert text_of(await collect(client)) == "".join(words)


async def test_connect_failure_is_retried_then_explained() -> None:
    notices = []
    async with ChatClient("http://127.0.0.1:9/v1", KEY, retry_base_delay=0.01,
                          on_retry=notices.append) as client:
        with pytest.raises(ConnectionFailed, match="cannot connect to 127.0.0.1:9.*; tried 3 times$"):
            await collect(client)
    assert len(notices) == 2


async def test_429_honours_retry_after_then_succeeds(server: LoopbackServer) -> None:
    server.script(CHAT, Reply(429, body='{"error": {"message": "slow down"}}', headers={"Retry-After": "0"}),
                  Reply(503, body="busy"), text_stream("ok"))
    notices = []
    async with ChatClient(server.url, KEY, retry_base_delay=0.01, on_retry=notices.append) as client:
        assert text_of(await collect(client)) == "ok"
    assert [n.delay for n in notices][0] == 0 and len(notices) == 2
    assert "slow down" in notices[0].reason


async def test_retry_after_beyond_budget_is_not_waited(server: LoopbackServer, client: ChatClient) -> None:
    server.script(CHAT, Reply(429, body='{"error": {"message": "quota"}}', headers={"Retry-After": "3600"}))
    with pytest.raises(APIError, match="retry after 60 min"):
        await collect(client)
    assert len(server.requests) == 1


@pytest.mark.parametrize("status", [400, 401, 403, 404])
async def test_client_errors_are_not_retried(server: LoopbackServer, client: ChatClient, status: int) -> None:
    server.script(CHAT, Reply(status, body='{"error": {"message": "nope"}}'))
    with pytest.raises(APIError) as info:
        await collect(client)
    assert info.value.status == status and len(server.requests) == 1


async def test_no_retry_after_reply_started(server: LoopbackServer, client: ChatClient) -> None:
    server.script(CHAT, stream_reply(sse(chunk("par"), done=False), drop=True))
    with pytest.raises(IncompleteReply):
        await collect(client)
    assert len(server.requests) == 1


async def test_key_echoed_by_server_is_scrubbed(server: LoopbackServer, client: ChatClient) -> None:
    server.script(CHAT, Reply(401, body=json.dumps({"error": {"message": f"bad key {KEY}"}})))
    with pytest.raises(APIError) as info:
        await collect(client)
    assert KEY not in info.value.message and KEY not in info.value.detail


@pytest.mark.parametrize("echoed", [KEY[:-1], KEY[:-3] + "***", KEY[:12] + "…"])
async def test_a_key_echoed_cut_short_is_scrubbed_too(server: LoopbackServer, client: ChatClient, echoed: str) -> None:
    server.script(CHAT, Reply(401, body=json.dumps({"error": {"message": f"bad key {echoed} for this group"}})))
    with pytest.raises(APIError) as info:
        await collect(client)
    assert KEY[:10] not in info.value.message + info.value.detail and "for this group" in info.value.message


async def test_a_one_letter_key_leaves_the_servers_words_alone(server: LoopbackServer) -> None:
    # A local server's key like "k" is no secret; masking it garbled "the API ***ey was rejected".
    server.script(CHAT, Reply(401, body=json.dumps({"error": {"message": "bad key"}})))
    async with ChatClient(server.url, "k", max_retries=0) as client:
        with pytest.raises(APIError) as info:
            await collect(client)
    assert info.value.message == "the API key was rejected (HTTP 401): bad key"


async def test_cancel_closes_connection_promptly(server: LoopbackServer, client: ChatClient) -> None:
    gate = Gate()
    server.script(CHAT, stream_reply([*sse(chunk("first"), done=False), gate]))
    started = asyncio.Event()

    async def consume() -> None:
        async for _ in client.stream_chat(HI, "m"):
            started.set()

    task = asyncio.create_task(consume())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await asyncio.to_thread(server.disconnected.wait, 5)
    gate.open()


async def test_redirect_is_explained(server: LoopbackServer, client: ChatClient) -> None:
    server.script(CHAT, Reply(301, headers={"Location": "https://elsewhere/v1/chat/completions"}))
    with pytest.raises(APIError, match="redirects"):
        await collect(client)


async def test_slow_stream_with_pauses(server: LoopbackServer, client: ChatClient) -> None:
    server.script(CHAT, stream_reply([*sse(chunk("a")), Pause(0.01), *sse(chunk("b", finish="stop"))]))
    assert text_of(await collect(client)).startswith("a")


# -- non-streaming and models --------------------------------------------------------------


async def test_complete(server: LoopbackServer, client: ChatClient) -> None:
    body = {"model": "m", "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None,
            "message": {"role": "assistant", "content": "Hi!", "refusal": None}}],
            "usage": usage(18, 20, completion_tokens_details={"reasoning_tokens": 0})}
    server.script(CHAT, Reply(body=json.dumps(body)))
    completion = await client.complete(HI, "m")
    assert completion.content == "Hi!" and completion.usage == Usage(18, 20, 38, 0, None)
    assert server.chat_requests()[0].json["stream"] is False


async def test_complete_garbage(server: LoopbackServer, client: ChatClient) -> None:
    server.script(CHAT, Reply(body="<html><title>Login</title></html>", content_type="text/html"))
    with pytest.raises(ServiceError, match="not a chat completion: the server sent an HTML page: Login"):
        await client.complete(HI, "m")
    server.script(CHAT, Reply(body=CHALLENGE_PAGE, content_type="text/html", headers={"cf-mitigated": "challenge"}))
    with pytest.raises(APIError, match="Cloudflare's bot check blocked the request .* HTTP 200"):
        await client.complete(HI, "m")


async def test_list_models(server: LoopbackServer, client: ChatClient) -> None:
    server.script("/models", models_reply(["b", "a"]))
    assert [m.id for m in await client.list_models()] == ["b", "a"]
    assert server.requests[0].path == "/v1/models"


@pytest.mark.parametrize("body", ['["x", "y"]', '{"models": [{"name": "x"}, {"name": "y"}]}',
                                  # Google's: ids it takes without "models/", the names people use
                                  '{"object": "list", "data": [{"id": "models/x", "owned_by": "google"},'
                                  ' {"id": "models/y", "owned_by": "google"}]}'])
async def test_list_models_other_shapes(server: LoopbackServer, client: ChatClient, body: str) -> None:
    server.script("/models", Reply(body=body))
    assert [m.id for m in await client.list_models()] == ["x", "y"]


async def test_a_model_list_that_trickles_is_given_up_long_before_a_reply_would_be(
        server: LoopbackServer, client: ChatClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(client_module, "MODEL_LIST_SECONDS", 0.2)  # 120 s; a reply may take 1,800
    held = Gate()
    server.script("/models", Reply(chunks=['{"data": [', held]))
    with pytest.raises(TimedOut, match="took longer than 0.2 s to list its models"):
        await client.list_models()
    held.open()


async def test_list_models_error(server: LoopbackServer, client: ChatClient) -> None:
    server.script("/models", Reply(401, body='{"error": {"message": "Invalid token"}}'))
    with pytest.raises(APIError, match="API key was rejected"):
        await client.list_models()


async def test_vllm_style_error_object_mid_stream(server: LoopbackServer, client: ChatClient) -> None:
    error = {"object": "error", "message": "The model `x` does not exist.", "type": "NotFoundError", "code": 404}
    server.script(CHAT, stream_reply(sse(error, done=False)))
    with pytest.raises(APIError, match="does not exist"):
        await collect(client)


async def test_server_refusing_stream_options_is_asked_again_without(server: LoopbackServer, client: ChatClient) -> None:
    refusal = {"error": {"message": "Unrecognized request argument supplied: stream_options", "code": None}}
    server.script(CHAT, Reply(400, body=json.dumps(refusal)), text_stream("fine without"))
    assert text_of(await collect(client)) == "fine without"
    first, second = server.chat_requests()
    assert "stream_options" in first.json and "stream_options" not in second.json


MAX_TOKENS_REFUSAL = {"error": {  # OpenAI's answer to max_tokens for its reasoning models
    "message": "Unsupported parameter: 'max_tokens' is not supported with this model."
               " Use 'max_completion_tokens' instead.",
    "type": "invalid_request_error", "param": "max_tokens", "code": "unsupported_parameter"}}


async def test_max_tokens_refused_for_max_completion_tokens_is_asked_again_so(server: LoopbackServer,
                                                                              client: ChatClient) -> None:
    refusal = {"error": {"message": "Unrecognized request argument supplied: stream_options", "code": None}}
    server.script(CHAT, Reply(400, body=json.dumps(refusal)), Reply(400, body=json.dumps(MAX_TOKENS_REFUSAL)),
                  text_stream("fine so"), text_stream("at once"), text_stream("another model"),
                  Reply(body=json.dumps({"choices": [{"message": {"content": "whole"}, "finish_reason": "stop"}]})))
    assert text_of(await collect(client, max_tokens=50, temperature=0.2)) == "fine so"
    assert text_of(await collect(client, max_tokens=60)) == "at once"  # what was refused is not sent again
    assert text_of([e async for e in client.stream_chat(HI, "other", max_tokens=5)]) == "another model"
    assert (await client.complete(HI, "m", max_tokens=70)).content == "whole"
    asked = [r.json for r in server.chat_requests()]
    assert [("max_tokens" in a, a.get("max_completion_tokens"), "stream_options" in a) for a in asked] == [
        (True, None, True), (True, None, False), (False, 50, False), (False, 60, False), (True, None, True),
        (False, 70, False)]
    assert asked[2]["temperature"] == 0.2


async def test_a_temperature_a_reasoning_model_refuses_is_left_out(server: LoopbackServer, client: ChatClient) -> None:
    refusal = {"error": {"message": "Unsupported value: 'temperature' does not support 0.3 with this model. Only the"
                                    " default (1) value is supported.", "type": "invalid_request_error",
                         "param": "temperature", "code": "unsupported_value"}}
    server.script(CHAT, Reply(400, body=json.dumps(refusal)), text_stream("fine"), text_stream("at once"))
    assert text_of(await collect(client, temperature=0.3, top_p=0.9)) == "fine"
    assert text_of(await collect(client, temperature=0.3)) == "at once"
    asked = [r.json for r in server.chat_requests()]
    assert [("temperature" in a, a.get("top_p")) for a in asked] == [(True, 0.9), (False, 0.9), (False, None)]


@pytest.mark.parametrize("message", [
    "Your organization must be verified to stream this model. Please go to: https://platform.openai.com/settings"
    "/organization/general and click on Verify Organization.",
    "Unsupported value: 'stream' does not support true with this model. Supported values are: false.",
])
async def test_a_model_that_may_not_stream_answers_whole(server: LoopbackServer, client: ChatClient,
                                                         message: str) -> None:
    refusal = {"error": {"message": message, "type": "invalid_request_error", "param": "stream",
                         "code": "unsupported_value"}}
    whole = {"choices": [{"message": {"content": "whole"}, "finish_reason": "stop"}], "usage": usage(3, 1)}
    server.script(CHAT, Reply(400, body=json.dumps(refusal)), Reply(body=json.dumps(whole)), Reply(body=json.dumps(whole)))
    events = await collect(client)
    assert text_of(events) == "whole" and UsageReport(Usage(3, 1, 4)) in events
    assert text_of(await collect(client)) == "whole"  # asked whole at once from then on
    asked = [(r.json["stream"], "stream_options" in r.json) for r in server.chat_requests()]
    assert asked == [(True, True), (False, False), (False, False)]


async def test_a_server_refusing_to_stream_even_a_whole_answer_is_asked_twice_then_believed(
        server: LoopbackServer, client: ChatClient) -> None:
    refusal = {"error": {"message": "Your organization must be verified to stream this model.",
                         "param": "stream", "code": "unsupported_value"}}
    server.script(CHAT, *[Reply(400, body=json.dumps(refusal))] * 8)
    with pytest.raises(APIError, match="verified to stream"):
        await collect(client)
    assert [r.json["stream"] for r in server.chat_requests()] == [True, False]


async def test_a_refusal_of_something_else_is_not_asked_again(server: LoopbackServer, client: ChatClient) -> None:
    server.script(CHAT, Reply(400, body=json.dumps(MAX_TOKENS_REFUSAL)), text_stream("never"))
    with pytest.raises(APIError, match="max_completion_tokens"):
        await collect(client)  # no max_tokens was sent: nothing to change
    assert len(server.chat_requests()) == 1


async def test_an_error_in_a_list_as_google_sends_it_is_read_mid_stream_and_whole(server: LoopbackServer,
                                                                                    client: ChatClient) -> None:
    error = [{"error": {"code": 400, "message": "Request contains an invalid argument.", "status": "INVALID_ARGUMENT"}}]
    server.script(CHAT, stream_reply(sse(error, done=False)), Reply(body=json.dumps(error)))
    for _ in range(2):
        with pytest.raises(APIError, match="the server reported an error: Request contains an invalid argument"):
            await collect(client)


async def test_vllm_style_error_body_with_200(server: LoopbackServer, client: ChatClient) -> None:
    server.script(CHAT, Reply(body='{"object": "error", "message": "context too long", "code": 400}'))
    with pytest.raises(APIError, match="context too long"):
        await client.complete(HI, "m")


# -- what is retried -------------------------------------------------------------------------

NO_CHANNEL = {"error": {"message": "当前分组 default 下对于模型 gpt-9 无可用渠道 (request id: 20251127)",
                        "type": "new_api_error", "param": "", "code": "model_not_found"}}


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (503, NO_CHANNEL),
        (503, {"error": {"message": "no available channel for model gpt-9"}}),
        (404, {"error": {"message": "The model `gpt-9` does not exist", "type": "invalid_request_error",
                         "code": "model_not_found"}}),
        (400, {"error": {"message": "unknown model gpt-9"}}),
        (500, {"error": {"message": "This model's maximum context length is 8192 tokens",
                         "type": "invalid_request_error", "code": "context_length_exceeded"}}),
        (429, {"error": {"message": "You exceeded your current quota", "type": "insufficient_quota",
                         "code": "insufficient_quota"}}),
        (502, {"error": {"message": "Incorrect API key provided", "code": "invalid_api_key"}}),
    ],
)
async def test_what_cannot_succeed_is_asked_once(server: LoopbackServer, client: ChatClient,
                                                 status: int, body: dict[str, Any]) -> None:
    server.script(CHAT, Reply(status, body=json.dumps(body)), text_stream("never seen"))
    with pytest.raises(APIError) as info:
        await collect(client)
    assert info.value.status == status
    assert len(server.chat_requests()) == 1


async def test_an_unknown_model_on_new_api_costs_one_request_in_the_model_list_too(
        server: LoopbackServer, client: ChatClient) -> None:
    server.script("/models", Reply(503, body=json.dumps(NO_CHANNEL)))
    with pytest.raises(APIError, match="无可用渠道"):
        await client.list_models()
    assert len(server.requests) == 1


async def test_no_channel_for_the_model_is_said_and_asked_once(server: LoopbackServer, client: ChatClient) -> None:
    server.script(CHAT, Reply(503, body=json.dumps(NO_CHANNEL, ensure_ascii=False)), text_stream("never seen"))
    with pytest.raises(APIError) as info:
        await collect(client)
    assert info.value.message == (
        "the relay has no channel serving this model for the key's group: pick another model (HTTP 503):"
        " 当前分组 default 下对于模型 gpt-9 无可用渠道 (request id: 20251127)")
    assert len(server.chat_requests()) == 1


CHALLENGE_PAGE = ("<!DOCTYPE html><html lang=\"en-US\"><head><title>Just a moment...</title></head>"
                  "<body><noscript>Enable JavaScript and cookies to continue</noscript></body></html>")


@pytest.mark.parametrize("status", [200, 403, 503])
async def test_a_cloudflare_challenge_is_named_and_asked_once(server: LoopbackServer, client: ChatClient,
                                                              status: int) -> None:
    challenge = Reply(status, body=CHALLENGE_PAGE, content_type="text/html; charset=UTF-8",
                      headers={"Server": "cloudflare", "cf-mitigated": "challenge"})
    server.script(CHAT, challenge, text_stream("never seen"))
    with pytest.raises(APIError) as info:
        await collect(client)
    assert info.value.message == (
        f"Cloudflare's bot check blocked the request (a challenge page meant for browsers, HTTP {status}):"
        " the relay's address may be wrong, or it blocks API clients from this network")
    assert len(server.chat_requests()) == 1


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_passing_failures_are_retried(server: LoopbackServer, client: ChatClient, status: int) -> None:
    body = json.dumps({"error": {"message": "upstream busy", "type": "upstream_error"}})
    server.script(CHAT, Reply(status, body=body), Reply(status, body=body), text_stream("third time"))
    assert text_of(await collect(client)) == "third time"
    assert len(server.chat_requests()) == 3


async def test_on_retry_per_call_overrides_the_clients(server: LoopbackServer) -> None:
    for_client: list[RetryNotice] = []
    for_call: list[RetryNotice] = []
    server.script(CHAT, Reply(502, body="busy"), text_stream("ok"), Reply(502, body="busy"), text_stream("ok"),
                  Reply(502, body="busy"), Reply(body=json.dumps({"choices": [{"message": {"content": "ok"}}]})))
    async with ChatClient(server.url, KEY, retry_base_delay=0.01, on_retry=for_client.append) as client:
        await collect(client, on_retry=for_call.append)
        assert len(for_call) == 1 and not for_client
        await collect(client)
        assert len(for_call) == 1 and len(for_client) == 1
        assert (await client.complete(HI, "m", on_retry=for_call.append)).content == "ok"
    assert [n.attempt for n in for_call] == [1, 1] and "HTTP 502" in for_call[0].reason
    assert "on_retry" not in server.chat_requests()[0].json


# -- the constructor's guard -------------------------------------------------------------------


@pytest.mark.parametrize("name", ["idle_timeout", "connect_timeout", "max_reply_seconds"])
@pytest.mark.parametrize("value", [float("inf"), float("nan"), 0, -1.0])
async def test_timeouts_must_be_finite_and_positive(name: str, value: float) -> None:
    with pytest.raises(ValueError, match=name):
        ChatClient("http://127.0.0.1:9/v1", KEY, **{name: value})


async def test_max_reply_seconds_is_kept() -> None:
    async with ChatClient("http://127.0.0.1:9/v1", KEY, max_reply_seconds=90) as client:
        assert client.max_reply_seconds == 90


# -- numbers from the server -------------------------------------------------------------------


async def test_absurd_usage_numbers_are_dropped_with_a_log_line(
        server: LoopbackServer, client: ChatClient, caplog: pytest.LogCaptureFixture) -> None:
    absurd = {"prompt_tokens": 1e29, "completion_tokens": 7, "total_tokens": -1,
              "completion_tokens_details": {"reasoning_tokens": 2.5},
              "prompt_tokens_details": {"cached_tokens": 10**30}}
    server.script(CHAT, stream_reply(sse(chunk("x", finish="stop"), {"choices": [], "usage": absurd})))
    server.script(CHAT, Reply(body=json.dumps({"choices": [{"message": {"content": "x"}}], "usage": absurd})))
    with caplog.at_level("DEBUG", logger="t502.service"):
        streamed = [e for e in await collect(client) if isinstance(e, UsageReport)]
        whole = await client.complete(HI, "m")
    assert streamed == [UsageReport(Usage(0, 7, 7))] and whole.usage == Usage(0, 7, 7)
    assert "dropped prompt_tokens from the server" in caplog.text
    assert "dropped cached_tokens from the server" in caplog.text


def test_a_count_dropped_is_what_the_total_leaves_and_parts_larger_than_their_whole_are_dropped() -> None:
    assert Usage.from_json({"prompt_tokens": 1e15, "completion_tokens": 5, "total_tokens": 15}) == Usage(10, 5, 15)
    assert Usage.from_json({"prompt_tokens": 10, "completion_tokens": 10.7, "total_tokens": 15}) == Usage(10, 5, 15)
    assert Usage.from_json({"prompt_tokens": 10.7, "completion_tokens": 5}) == Usage(0, 5, 5)  # nothing to go by
    assert Usage.from_json({"prompt_tokens": 10, "completion_tokens": 500, "total_tokens": 20}) == Usage(10, 500, 510)
    assert Usage.from_json({"prompt_tokens": 3, "completion_tokens": 5, "total_tokens": 8,
                            "completion_tokens_details": {"reasoning_tokens": 999},
                            "prompt_tokens_details": {"cached_tokens": 4}}) == Usage(3, 5, 8)


async def test_model_list_numbers_names_and_types_are_checked(server: LoopbackServer, client: ChatClient) -> None:
    items = [{"id": "ok", "created": 1700000000, "owned_by": "a"}, {"id": "huge", "created": 1e29},
             {"id": "negative", "created": -5}, {"id": "text", "created": "yesterday", "owned_by": 5},
             {"id": "x" * 10_000}, {"id": 5}, None, 7, [], {"name": "named", "created": 1.0e9}]
    server.script("/models", Reply(body=json.dumps({"data": items})))
    models = await client.list_models()
    assert [(m.id, m.created, m.owned_by) for m in models] == [
        ("ok", 1700000000, "a"), ("huge", None, ""), ("negative", None, ""), ("text", None, ""),
        ("named", 1000000000, "")]


async def test_the_certificates_are_read_once_for_every_client(monkeypatch: pytest.MonkeyPatch) -> None:
    made = []
    monkeypatch.setattr(client_module.httpx, "create_ssl_context", lambda: made.append(1) or ssl.create_default_context())
    client_module.tls_context.cache_clear()
    try:
        for port in (9, 10, 11):
            async with ChatClient(f"https://127.0.0.1:{port}/v1", "k", max_retries=0) as client:
                with pytest.raises(ServiceError):  # nothing listens there: a request is tried
                    await client.list_models()
        assert len(made) == 1
    finally:
        client_module.tls_context.cache_clear()


async def test_the_certificates_are_read_off_the_event_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    # A first run's key check makes a client before any model list: 30 ms of disk on the loop.
    threads = []
    monkeypatch.setattr(client_module.httpx, "create_ssl_context",
                        lambda: threads.append(threading.current_thread()) or ssl.create_default_context())
    client_module.tls_context.cache_clear()
    try:
        async with ChatClient("https://127.0.0.1:9/v1", "k", max_retries=0) as client:
            assert not threads  # nothing read before a request needs it
            with pytest.raises(ServiceError):
                await client.list_models()
        assert threads and threads[0] is not threading.main_thread()
    finally:
        client_module.tls_context.cache_clear()


async def test_tls_problems_are_named_as_such_and_not_tried_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    notices: list[RetryNotice] = []

    async def plain_http(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(100)  # a TLS hello, answered as an http server answers garbage
        writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        await writer.drain()
        writer.close()

    # https:// to a server that speaks plain http (errno 1 read "Operation not permitted")
    listener = await asyncio.start_server(plain_http, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    async with listener, ChatClient(f"https://127.0.0.1:{port}/v1", KEY, retry_base_delay=0.01,
                                    on_retry=notices.append) as client:
        with pytest.raises(ServiceError, match="does not answer in TLS .*start with http://") as plain:
            await collect(client)
    assert isinstance(plain.value, TLSFailed) and notices == []
    made = self_signed(tmp_path)
    if made is None:
        pytest.skip("openssl is needed to make a certificate")
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    client_module.tls_context.cache_clear()  # its own certificate, trusted by nobody
    secure = LoopbackServer(tls=made[0]).start()
    try:
        async with ChatClient(secure.url, KEY, retry_base_delay=0.01, on_retry=notices.append) as client:
            with pytest.raises(ServiceError, match="certificate is not trusted .*self.signed.*SSL_CERT_FILE"):
                await collect(client)
    finally:
        secure.stop()
        client_module.tls_context.cache_clear()
    assert notices == []
