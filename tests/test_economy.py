"""Providers, prices and balance through the turn engine, against two loopback servers."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import pytest

from loopback import DEMO_MODELS, DEMO_PRICING, Gate, LoopbackServer, Reply, text_stream, usage_chunk, chunk, sse, stream_reply
from t502_tui import provider_facts
from t502_tui.attachments import Attachment
from t502_tui.config import load_config
from t502_tui.conversation import ChatMessage, Conversation, ReplyStatus
from t502_tui.export import read_export, to_json, to_markdown
from t502_tui.history import History
from t502_tui.model_catalog import load_cached_pricing, save_cached_pricing
from t502_tui.prices import Price
from t502_tui.session import ChatSession
from t502_tui.store import Store
from t502_tui.turn import NOT_SENT, Turn

CHAT = "/chat/completions"
KEY_A = "sk-relay-a-0123456789"


@pytest.fixture
def local() -> LoopbackServer:
    server = LoopbackServer().start()
    yield server  # type: ignore[misc]
    server.stop()


def session_for(relay: LoopbackServer, local: LoopbackServer, tmp_path: Path, extra: str = "") -> ChatSession:
    path = tmp_path / "config.toml"
    path.write_text(f'[providers.local]\nbase_url = "{local.url}"\n{extra}')
    config = load_config(path, env={"T502_BASE_URL": relay.url, "T502_API_KEY": KEY_A})
    return ChatSession(config, History(Store(tmp_path / "t502.db")))


async def test_a_conversation_across_providers_each_with_its_key_params_and_files(
        server: LoopbackServer, local: LoopbackServer, tmp_path: Path) -> None:
    server.key, server.pricing, server.models = KEY_A, DEMO_PRICING, DEMO_MODELS
    server.script(CHAT, text_stream("first answer", model="gpt-5", prompt_tokens=1000))
    local.script(CHAT, stream_reply(sse(chunk("second answer"), chunk(finish="stop"),
                                        usage_chunk(1200, 30, cost=0.0042))))
    session = session_for(server, local, tmp_path)
    await session.facts().load_pricing(session.client_for())
    conversation = Conversation(model="gpt-5", settings={"temperature": 0.2, "top_p": 0.5, "max_tokens": 900,
                                                         "reasoning_effort": "high"})
    first = await Turn(session, conversation, lambda event: None).run(ChatMessage("user", "hello"))
    assert first.status is ReplyStatus.COMPLETE and first.provider is None
    assert first.cost == pytest.approx((1000 * 1.25 + 2 * 10) / 1e6)  # the relay's rule for gpt-5
    conversation.provider, conversation.model = "local", "llama3"
    note = Attachment("todo.txt", "text/plain", "buy milk\n".encode(), kind="text")
    second = await Turn(session, conversation, lambda event: None).run(
        ChatMessage("user", "and now?", attachments=[note]))
    assert second.provider == "local" and second.writer == "local/llama3"
    assert second.cost == 0.0042  # the server's own figure
    await session.aclose()

    [to_relay] = server.chat_requests()
    assert to_relay.headers["authorization"] == f"Bearer {KEY_A}"
    assert {k: to_relay.json[k] for k in ("temperature", "top_p", "max_tokens", "reasoning_effort")} == {
        "temperature": 0.2, "top_p": 0.5, "max_tokens": 900, "reasoning_effort": "high"}
    [to_local] = local.chat_requests()
    assert "authorization" not in to_local.headers  # a keyless server gets no key, least of all another's
    body = to_local.json
    assert body["model"] == "llama3" and "reasoning_effort" not in body and body["temperature"] == 0.2
    assert [m["content"] for m in body["messages"]] == [
        "hello", "first answer", "todo.txt\n```\nbuy milk\n```\n\nand now?"]

    again = Store(tmp_path / "t502.db").load_conversation(conversation.id)  # after a restart
    assert (again.provider, again.model, again.settings["temperature"]) == ("local", "llama3", 0.2)
    assert [(m.provider, m.cost) for m in again.messages if m.role == "assistant"] == [
        (None, first.cost), ("local", 0.0042)]
    assert again.messages[2].attachments[0].kind == "text"
    transcript = to_markdown(again)  # what `t502 history show` prints
    assert "## gpt-5 · " in transcript and "· $0.0013" in transcript and "## local/llama3 · " in transcript
    assert "- Cost: $0.0055" in transcript and "- Attached file: todo.txt" in transcript
    back = read_export(to_json(again)).conversation
    assert [(m.provider, m.cost) for m in back.messages] == [(m.provider, m.cost) for m in again.messages]
    assert (back.provider, back.settings, back.messages[2].attachments[0].kind) == ("local", again.settings, "text")


async def test_a_provider_the_config_lost_is_an_error_not_another_server(
        server: LoopbackServer, local: LoopbackServer, tmp_path: Path) -> None:
    session = session_for(server, local, tmp_path)
    conversation = Conversation(model="m", provider="gone")
    reply = await Turn(session, conversation, lambda event: None).run(ChatMessage("user", "hi"))
    await session.aclose()
    assert reply.status is ReplyStatus.ERROR and "no provider 'gone'" in (reply.error or "")
    assert (reply.error or "").startswith(NOT_SENT)  # no "ctrl+r retries": only another model helps
    assert not server.chat_requests() and not local.chat_requests()


async def test_a_server_without_prices_or_balance_is_asked_once(
        local: LoopbackServer, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="t502")
    session = ChatSession(load_config(env={"T502_BASE_URL": local.url, "T502_API_KEY": KEY_A}))
    facts, client = session.facts(), session.client
    await facts.load_pricing(client)
    for _ in range(3):
        assert not await facts.refresh_balance(client)
    await session.aclose()
    assert facts.pricing_absent and facts.balance_absent and facts.balance is None
    assert [r.path for r in local.requests] == ["/api/pricing", "/v1/dashboard/billing/subscription"]
    assert "no price list" in caplog.text
    again = ChatSession(load_config(env={"T502_BASE_URL": local.url, "T502_API_KEY": KEY_A}))
    await again.facts().load_pricing(again.client)  # remembered for a while: not asked again
    await again.aclose()
    assert len(local.requests_to("/api/pricing")) == 1


async def test_a_wrong_key_is_not_taken_for_a_server_without_prices(server: LoopbackServer) -> None:
    server.key, server.pricing, server.models, server.balance = KEY_A, DEMO_PRICING, DEMO_MODELS, (25.0, 658.0)
    wrong = ChatSession(load_config(env={"T502_BASE_URL": server.url, "T502_API_KEY": "sk-wrong-key-000"}))
    facts = wrong.facts()
    assert await facts.load_models(wrong.client) is not None
    await facts.load_pricing(wrong.client)
    assert not await facts.refresh_balance(wrong.client)
    await wrong.aclose()
    assert len(server.requests_to("/api/pricing")) == 1  # it was asked, and refused
    assert not facts.pricing_absent and not facts.balance_absent and facts.balance_possible
    assert load_cached_pricing(server.url) is None  # nothing remembered for the next start
    right = ChatSession(load_config(env={"T502_BASE_URL": server.url, "T502_API_KEY": KEY_A}))  # the key fixed
    await right.facts().load_pricing(right.client)
    await right.aclose()
    assert right.price_for("", "gpt-5") == Price(1.25, 10)


async def test_closing_stops_a_price_list_still_being_read(server: LoopbackServer) -> None:
    """Ctrl+C during `t502 ask` closes the connections while the price list may still be
    on its way: the read stops, rather than fail on a closed client with a traceback."""
    gate = Gate()
    server.script("/api/pricing", Reply(chunks=[gate]))
    session = ChatSession(load_config(env={"T502_BASE_URL": server.url, "T502_API_KEY": KEY_A}))
    reading = session.facts().load_pricing(session.client)
    await asyncio.to_thread(gate.reached.wait, 10)
    await session.aclose()
    gate.open()
    assert reading.cancelled()


@pytest.mark.parametrize("status", [403, 429, 500, 503])
async def test_a_passing_failure_of_the_price_list_is_asked_again(server: LoopbackServer, status: int) -> None:
    server.pricing = DEMO_PRICING
    server.script("/api/pricing", Reply(status, body=json.dumps({"error": {"message": "not now"}})))
    session = ChatSession(load_config(env={"T502_BASE_URL": server.url, "T502_API_KEY": KEY_A}))
    facts = session.facts()
    await facts.load_pricing(session.client)
    assert not facts.pricing_absent and session.price_for("", "gpt-5") is None
    await facts.load_pricing(session.client)  # as the next model-list refresh does
    await session.aclose()
    assert session.price_for("", "gpt-5") == Price(1.25, 10)
    assert len(server.requests_to("/api/pricing")) == 2


@pytest.mark.parametrize("status", [404, 405])
async def test_a_missing_price_list_is_remembered(server: LoopbackServer, status: int) -> None:
    server.script("/api/pricing", Reply(status, body="{}"))
    session = ChatSession(load_config(env={"T502_BASE_URL": server.url, "T502_API_KEY": KEY_A}))
    await session.facts().load_pricing(session.client)
    await session.facts().load_pricing(session.client)
    await session.aclose()
    assert session.facts().pricing_absent and load_cached_pricing(server.url) == (None,)
    assert len(server.requests_to("/api/pricing")) == 1


async def test_a_providers_new_key_or_server_forgets_what_it_told(
        server: LoopbackServer, local: LoopbackServer, tmp_path: Path) -> None:
    server.pricing = local.pricing = DEMO_PRICING
    session = session_for(server, local, tmp_path)
    for name, url in (("", server.url), ("local", local.url)):
        save_cached_pricing(url, None)  # "no price list", as a refused key once made t502 believe
        await session.facts(name).load_pricing(session.client_for(name))
        assert session.price_for(name, "gpt-5") is None
        await session.provider_changed(name)
        await session.facts(name).load_pricing(session.client_for(name))
        assert session.price_for(name, "gpt-5") == Price(1.25, 10)
    await session.aclose()


async def test_a_malformed_price_list_is_ignored(local: LoopbackServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="t502")
    local.pricing = json.dumps({"success": True, "data": [{"model_name": ["x"]}, 5]})
    session = ChatSession(load_config(env={"T502_BASE_URL": local.url}))
    await session.facts().load_pricing(session.client)
    await session.aclose()
    assert session.facts().pricing_absent and session.price_for("", "x") is None
    assert "pricing body ignored" in caplog.text


async def test_the_balance_is_asked_at_most_every_30_seconds(
        server: LoopbackServer, monkeypatch: pytest.MonkeyPatch) -> None:
    server.balance = (25.0, 658.0)
    now = [1000.0]
    monkeypatch.setattr(provider_facts, "clock", lambda: now[0])
    session = ChatSession(load_config(env={"T502_BASE_URL": server.url, "T502_API_KEY": KEY_A}))
    facts = session.facts()
    assert await facts.refresh_balance(session.client) and facts.balance.left == pytest.approx(18.42)  # type: ignore[union-attr]
    server.balance = (25.0, 700.0)
    now[0] += 29
    assert not await facts.refresh_balance(session.client) and facts.balance_wait() == pytest.approx(1)
    now[0] += 1
    assert await facts.refresh_balance(session.client) and facts.balance.left == pytest.approx(18.0)  # type: ignore[union-attr]
    await session.aclose()
    assert len(server.requests_to("/dashboard/billing/subscription")) == 2


async def test_the_users_prices_win_over_the_relays(server: LoopbackServer, tmp_path: Path) -> None:
    server.pricing = DEMO_PRICING
    path = tmp_path / "config.toml"
    path.write_text('[prices."gpt-5"]\ninput = 1.0\noutput = 1.0\n[context]\n"gpt-5" = 1234\n')
    session = ChatSession(load_config(path, env={"T502_BASE_URL": server.url}))
    await session.facts().load_pricing(session.client)
    await session.aclose()
    assert session.facts().price("gpt-5") == Price(1.25, 10.0)  # what the relay says
    assert session.price_for("", "gpt-5") == Price(1.0, 1.0)  # what counts
    assert session.price_for("", "claude-sonnet-4") == Price(3.0, 15.0)
    assert session.context_for("", "gpt-5") == 1234
