"""The chat across providers, with prices, balance and the context guard: one app, driven
with Pilot against a relay-like loopback server, a keyless one, and one that is down."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from textual.widgets import Input, OptionList

from loopback import DEMO_MODELS, DEMO_PRICING, LoopbackServer, RecordedRequest, Reply, text_stream
from t502_tui import paths, provider_facts
from t502_tui.context_fit import request_tokens
from t502_tui.model_catalog import remember_model
from t502_tui.session import LAST_MODEL
from t502_tui.prices import Price
from t502_tui.conversation import ChatMessage, Conversation, ReplyStatus
from t502_tui.store import Store, default_path
from t502_tui.turn import LinkState
from t502_tui.ui.screens.conversation_settings import ConversationSettingsScreen
from t502_tui.ui.screens.dialogs import Choice
from t502_tui.ui.screens.model_picker import ModelPicker
from t502_tui.ui.screens.preset_picker import PresetPicker
from t502_tui.ui.screens.settings import SettingsScreen
from t502_tui.ui.widgets.status_line import StatusLine
from tui_helpers import KEY, choose, header, make_app, pane, picker_ready, send, settle, until

CHAT = "/chat/completions"


def counted(request: RecordedRequest) -> Reply | None:
    """A reply whose usage counts the prompt as a server would (about 4 characters a token)."""
    if not request.path.endswith(CHAT):
        return None
    prompt = len(json.dumps(request.json["messages"])) // 4
    return text_stream("Short answer here.", model=request.json["model"], prompt_tokens=prompt)


@pytest.fixture
def local() -> Iterator[LoopbackServer]:
    server = LoopbackServer()
    server.handler = counted
    yield server.start()
    server.stop()


def status(app) -> str:  # type: ignore[no-untyped-def]
    return str(app.chat.query_one(StatusLine).render())


def headers(app, role: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [header(app, m) for m in pane(app).view.messages if m.role == role]


async def test_a_chat_across_providers_with_settings_presets_prices_and_the_context_guard(
        server: LoopbackServer, local: LoopbackServer, monkeypatch: pytest.MonkeyPatch) -> None:
    server.key, server.pricing, server.models, server.balance = KEY, DEMO_PRICING, DEMO_MODELS, (25.0, 658.0)
    config = paths.config_file()
    config.parent.mkdir(parents=True)
    config.write_text(f"""
[providers.local]
base_url = "{local.url}"
[providers.down]
base_url = "http://127.0.0.1:7/v1"
api_key_cmd = "false"
[presets.small]
model = "local/small"
system_prompt = "Be short."
[context]
"local/small" = 70
""")
    clock = [1000.0]
    monkeypatch.setattr(provider_facts, "clock", lambda: clock[0])
    app = make_app(server)
    app.config.max_retries = 0
    async with app.run_test(size=(120, 40)) as pilot:
        facts = app.session.facts
        await until(pilot, lambda: facts("local").models is not None and bool(facts("down").models_note)
                    and facts().balance is not None)
        assert "$18.42 left" in status(app)
        assert any(n.message == "providers.down: api_key_cmd failed (exit 1)" for n in app._notifications)

        # The picker groups every provider's models; each failure shows on its own group.
        await pilot.press("ctrl+o")
        await until(pilot, lambda: picker_ready(app))
        rows = [str(o.prompt) for o in app.screen.query_one(OptionList).options]
        assert any(r.startswith("local · 6 models") for r in rows)
        assert any(r.startswith("down · Not asked: providers.down: api_key_cmd failed") for r in rows)
        assert any(r.startswith("gpt-5") and "$1.25/$10 · 400k ctx" in r for r in rows)
        app.screen.query_one(Input).value = "local/claude"
        await pilot.press("enter")
        await until(pilot, lambda: not isinstance(app.screen, ModelPicker))
        conversation = pane(app).conversation
        assert (conversation.provider, conversation.model) == ("local", "claude-sonnet-4")

        # This conversation's own parameters: saved, shown, sent.
        await pilot.press("f3")
        await until(pilot, lambda: isinstance(app.screen, ConversationSettingsScreen))
        app.screen.query_one("#conv-temperature", Input).value = "0.3"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "temp 0.3" in status(app))
        await send(pilot, "hi")
        await settle(app)

        # Switching provider mid-conversation: the whole history goes to the new one.
        await pilot.press("ctrl+o")
        await until(pilot, lambda: picker_ready(app))
        app.screen.query_one(Input).value = f"{app.session.default_provider}/gpt-5"  # bare: local's
        await pilot.press("enter")
        await until(pilot, lambda: conversation.provider == "")
        clock[0] += 31
        server.balance = (25.0, 2450.0)
        await send(pilot, "again")
        await settle(app)
        await until(pilot, lambda: "$0.5000 left" in status(app))
        assert any("Only $0.5000 left on the token502 key (low_balance warns below $1.00)" in n.message for n in app._notifications)
        replies = headers(app, "assistant")
        assert replies[0].startswith("local/claude-sonnet-4") and "$" not in replies[0]  # no price known
        assert replies[1].startswith("gpt-5") and "$0.0" in replies[1]
        assert pane(app).conversation.messages[-1].cost is not None

        # A preset on Ctrl+N; then more turns than its model's context takes.
        await pilot.press("ctrl+n")
        await until(pilot, lambda: isinstance(app.screen, PresetPicker))
        await pilot.press("down", "enter")
        await until(pilot, lambda: pane(app).conversation.preset == "small")
        small = pane(app).conversation
        assert (small.provider, small.model, small.system_prompt) == ("local", "small", "Be short.")
        assert "preset small" in status(app)
        for index in range(12):
            await send(pilot, f"question number {index}")
            await settle(app)
            if isinstance(app.screen, Choice):
                break
        assert isinstance(app.screen, Choice), "the guard never asked"
        sent_before = len(local.chat_requests())
        await pilot.press("t")
        await until(pilot, lambda: len(local.chat_requests()) == sent_before + 1)
        await settle(app)
        kept = [m["content"] for m in local.chat_requests()[-1].json["messages"]]
        assert kept[0] == "Be short." and "question number 0" not in kept and kept[-1] == f"question number {index}"
        assert small.messages[0].in_context is False and small.messages[-1].content == "Short answer here."
        assert "not sent" in headers(app, "user")[0]

        # The server's own "too long": the same offer, then the turn again, shorter.
        local.script(CHAT, Reply(400, body=json.dumps({"error": {
            "message": "This model's maximum context length is 50 tokens.", "code": "context_length_exceeded"}})))
        await send(pilot, "one more")
        await until(pilot, lambda: isinstance(app.screen, Choice))
        refused = len(local.chat_requests()[-1].json["messages"])
        await pilot.press("t")
        await until(pilot, lambda: small.messages[-1].content == "Short answer here."
                    and small.messages[-2].content == "one more")
        await settle(app)
        assert len(local.chat_requests()[-1].json["messages"]) < refused
        assert app.session.context_for("local", "small") == 70  # the config's table wins
    store = Store(default_path())
    try:
        saved = store.load_conversation(small.id)
    finally:
        store.close()
    assert saved.preset == "small" and saved.messages[0].in_context is False
    assert "authorization" not in local.chat_requests()[0].headers
    to_relay = server.chat_requests()[-1]
    assert to_relay.headers["authorization"] == f"Bearer {KEY}" and to_relay.json["temperature"] == 0.3
    assert [m["content"] for m in to_relay.json["messages"]] == ["hi", "Short answer here.", "again"]


def local_chosen_last(local: LoopbackServer, entry: str = "") -> None:
    """A config with the provider ``local`` (plus ``entry`` lines), whose llama3 was the
    model chosen last."""
    config = paths.config_file()
    config.parent.mkdir(parents=True)
    config.write_text(f'[providers.local]\nbase_url = "{local.url}"\n{entry}')
    store = Store(default_path())
    store.set_preference(LAST_MODEL, "local/llama3")
    store.close()


async def test_the_model_chosen_last_may_be_another_providers(server: LoopbackServer, local: LoopbackServer) -> None:
    local_chosen_last(local)
    app = make_app(server)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: pane(app).conversation.provider == "local")
        assert pane(app).conversation.model == "llama3" and "local/llama3" in status(app)


async def test_a_message_to_a_provider_whose_key_command_failed_is_not_sent(
        server: LoopbackServer, local: LoopbackServer) -> None:
    local_chosen_last(local, 'api_key_cmd = "false"\n')
    app = make_app(server)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: pane(app).conversation.provider == "local")
        await send(pilot, "my words")
        await settle(app)
        prompt, reply = pane(app).conversation.messages
        assert prompt.content == "my words" and reply.status is ReplyStatus.ERROR
        assert reply.error is not None and "providers.local: api_key_cmd failed (exit 1)" in reply.error
        shown = pane(app).view.text_of(reply).replace("\n", " ")
        assert "start t502 again" in shown and "ctrl+r" not in shown  # trying again would fail the same way
        assert not pane(app).can_retry and app.chat.check_action("retry", ()) is False  # nor the footer
        assert "○ no API key" in status(app)  # not a healthy green dot
        pane(app).conversation.provider, pane(app).conversation.model = "", "gpt-5"  # another model: it may
        assert pane(app).can_retry
    # Nothing at all went to it, not even for its models: a request without the key would
    # only have been refused (and the refusal blamed on a key that was never sent).
    assert local.requests == []


async def test_a_key_fixed_in_settings_brings_the_prices_a_wrong_one_was_refused(server: LoopbackServer) -> None:
    server.key, server.pricing, server.models, server.balance = KEY, DEMO_PRICING, DEMO_MODELS, (25.0, 658.0)
    app = make_app(server, T502_API_KEY="sk-wrong-key-000")
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: app.connection.state is LinkState.REJECTED)
        await settle(app)
        assert server.requests_to("/api/pricing") and app.session.price_for("", "gpt-5") is None
        await pilot.press("f2")
        await until(pilot, lambda: isinstance(app.screen, SettingsScreen))
        app.screen.query_one("#api_key", Input).value = KEY
        await pilot.press("ctrl+s")
        await until(pilot, lambda: app.session.price_for("", "gpt-5") == Price(1.25, 10))
        await until(pilot, lambda: app.connection.state is LinkState.READY and "$18.42 left" in status(app))
        assert app.session.context_for("", "gpt-5") == 400_000


@pytest.mark.parametrize("over", [2, 8])
async def test_a_message_just_over_a_tiny_context_sends_only_the_newest_turns(server: LoopbackServer, over: int) -> None:
    server.models = DEMO_MODELS  # tiny-context takes 300 tokens; each reply says the prompt was 5
    app = make_app(server, T502_MODEL="tiny-context")
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: pane(app).context_limit() == 300)
        for index in range(2):
            await send(pilot, f"question {index} " + "q" * 300)
            await settle(app)
        conversation = pane(app).conversation
        draft = "next "
        while request_tokens(conversation, draft) < 300 + over:
            draft += "x"
        pane(app).composer.load_text(draft)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, Choice))
        await pilot.press("t")
        await until(pilot, lambda: len(server.chat_requests()) == 3)
        await settle(app)
        sent = [m["content"] for m in server.chat_requests()[-1].json["messages"]]
        assert sent[-1] == draft and not any(text.startswith("question 0") for text in sent)
        assert "not sent" in headers(app, "user")[0] and "not sent" not in headers(app, "user")[-1]


async def test_a_message_too_long_alone_is_not_offered_a_trim(server: LoopbackServer) -> None:
    server.models = DEMO_MODELS  # tiny-context takes 300 tokens
    app = make_app(server, T502_MODEL="tiny-context")
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: pane(app).context_limit() == 300)
        pane(app).composer.load_text("word " * 400)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, Choice))
        assert [answer[0] for answer in app.screen.answers] == ["switch"]
        assert "Even your message alone is more than that: shorten it, or switch model." in app.screen.question
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, Choice))
        assert pane(app).composer.text == "word " * 400 and not server.chat_requests()


async def test_a_too_long_refusal_of_a_short_request_offers_no_trim(server: LoopbackServer) -> None:
    """vLLM's "maximum context length is 32768 tokens. However, you requested 33000 tokens
    (100 in the messages, 32900 in the completion)": leaving out turns would not help."""
    server.script(CHAT, Reply(400, body=json.dumps({"error": {
        "message": "This model's maximum context length is 32768 tokens. However, you requested 33000 tokens "
                   "(100 in the messages, 32900 in the completion).", "code": "context_length_exceeded"}})))
    app = make_app(server)
    async with app.run_test(size=(100, 30)) as pilot:
        await send(pilot, "a short question")
        await settle(app)
        await until(pilot, lambda: any("leaving out older turns would not help" in n.message
                                       for n in app._notifications))
        assert not isinstance(app.screen, Choice)
        assert pane(app).conversation.messages[0].content == "a short question"


@pytest.mark.parametrize("chosen", [True, False])
async def test_a_model_the_server_does_not_list_is_named_before_the_first_message(
        server: LoopbackServer, chosen: bool) -> None:
    """Chosen (T502_MODEL, the config): kept, with a warning; only a default: replaced."""
    server.models = [{"id": "llama3.2:latest"}, {"id": "nomic-embed-text"}]
    app = make_app(server, **({"T502_MODEL": "gpt-5"} if chosen else {}))
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: bool(app._notifications))
        notice = list(app._notifications)[-1].message
        if chosen:
            assert notice.startswith("This server does not list gpt-5 among its 2 models")
            assert pane(app).conversation.model == "gpt-5"
        else:
            assert notice.startswith("This server does not offer ") and "using llama3.2:latest" in notice
            assert pane(app).conversation.model == "llama3.2:latest"


def picker_rows(app) -> list[str]:  # type: ignore[no-untyped-def]
    return [str(o.prompt) for o in app.screen.query_one(OptionList).options]


async def open_picker(pilot, app) -> None:  # type: ignore[no-untyped-def]
    """Ctrl+O once the default provider's model list is in."""
    await until(pilot, lambda: app.session.facts().models is not None)
    await pilot.press("ctrl+o")
    await until(pilot, lambda: picker_ready(app))


async def test_ctrl_a_shows_and_hides_the_models_not_for_chat_from_the_filter_box(server: LoopbackServer) -> None:
    server.models = DEMO_MODELS
    app = make_app(server)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_picker(pilot, app)
        note = app.screen.query_one("#picker-note")
        assert isinstance(app.focused, Input) and "1 image/audio/embedding model hidden (Ctrl+A shows them)" in str(
            note.render())
        await pilot.press("ctrl+a")
        assert "text-embedding-3-small" in picker_rows(app) and "Ctrl+A hides" in str(note.render())
        await pilot.press("e", "m", "b")
        assert app.screen.query_one(Input).value == "emb" and "text-embedding-3-small" in picker_rows(app)
        await pilot.press("ctrl+a")
        assert "text-embedding-3-small" not in picker_rows(app) and "hidden (Ctrl+A shows" in str(note.render())


async def test_a_server_that_lists_no_models_is_told_apart_from_a_blank_picker(server: LoopbackServer) -> None:
    server.models = []
    app = make_app(server)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_picker(pilot, app)
        assert str(app.screen.query_one("#picker-note").render()).startswith(
            "The server lists no models: type a model's id · Enter chooses")


async def test_a_refresh_that_fails_keeps_the_list_and_says_so_in_the_picker_alone(server: LoopbackServer) -> None:
    server.models = DEMO_MODELS
    app = make_app(server)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_picker(pilot, app)
        before = picker_rows(app)
        server.script("/models", Reply(401, body=json.dumps({"error": {"message": "key revoked"}})))
        await pilot.press("ctrl+r")
        note = app.screen.query_one("#picker-note")
        await until(pilot, lambda: "Could not refresh" in str(note.render()))
        assert str(note.render()).startswith("Could not refresh the model list (this is the last one): "
                                             "the API key was rejected (HTTP 401): key revoked")
        assert picker_rows(app) == before  # still there to choose from
        assert not any("key revoked" in n.message for n in app._notifications)  # not said twice


async def test_a_typed_id_picks_the_current_providers_model_before_a_recent_one(
        server: LoopbackServer, local: LoopbackServer) -> None:
    server.models = DEMO_MODELS  # has tiny-context; local has not
    config = paths.config_file()
    config.parent.mkdir(parents=True)
    config.write_text(f'[providers.local]\nbase_url = "{local.url}"\n')
    remember_model("local/gpt-5")  # a recent row, pinned above the groups

    async def pick(typed: str) -> tuple[str, str]:
        await pilot.press("ctrl+o")
        await until(pilot, lambda: picker_ready(app))
        app.screen.query_one(Input).value = typed
        await pilot.pause()  # the list filtered for it before Enter
        options = app.screen.query_one(OptionList)
        above = [options.get_option_at_index(i).prompt for i in range(options.highlighted or 0)]
        assert not any(str(label).split()[:1] == [typed] for label in above)  # no row above it reads as the match
        await pilot.press("enter")
        await until(pilot, lambda: not isinstance(app.screen, ModelPicker))
        conversation = pane(app).conversation
        return conversation.provider, conversation.model

    app = make_app(server, T502_MODEL="deepseek-r1")
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: app.session.facts("local").models is not None
                    and app.session.facts().models is not None)
        assert await pick("gpt-5") == ("", "gpt-5")  # the conversation is on the default provider
        assert await pick("local/claude-sonnet-4") == ("local", "claude-sonnet-4")
        assert await pick("gpt-5") == ("local", "gpt-5")  # now on local
        assert await pick("tiny-context") == ("", "tiny-context")  # local has none: the default's
        assert await pick("local/claude-sonnet-4") == ("local", "claude-sonnet-4")
        assert await pick("gemini-2.5-pro") == ("local", "gemini-2.5-pro")  # both have it: local's, listed first


async def picker_of_two_providers(pilot, app) -> None:  # type: ignore[no-untyped-def]
    """Ctrl+O once both the default provider's and ``local``'s model lists are in."""
    await until(pilot, lambda: app.session.facts("local").models is not None
                and app.session.facts().models is not None)
    await pilot.press("ctrl+o")
    await until(pilot, lambda: picker_ready(app))


def with_local_provider(local: LoopbackServer) -> None:
    config = paths.config_file()
    config.parent.mkdir(parents=True)
    config.write_text(f'[providers.local]\nbase_url = "{local.url}"\n')


async def test_a_filter_that_only_matches_the_current_model_shows_no_empty_groups(
        server: LoopbackServer, local: LoopbackServer) -> None:
    with_local_provider(local)
    app = make_app(server)
    async with app.run_test(size=(100, 30)) as pilot:
        await picker_of_two_providers(pilot, app)
        app.screen.query_one(Input).value = pane(app).conversation.model
        await pilot.pause()
        assert picker_rows(app) == ["gpt-5  current", "local · 6 models", "local/gpt-5"]  # no token502 heading


async def test_the_filter_finds_the_default_providers_models_by_provider_slash_model(
        server: LoopbackServer, local: LoopbackServer) -> None:
    with_local_provider(local)
    app = make_app(server)
    async with app.run_test(size=(100, 30)) as pilot:
        await picker_of_two_providers(pilot, app)
        app.screen.query_one(Input).value = f"{app.session.default_provider}/claude"
        await pilot.pause()
        rows = picker_rows(app)
        assert "claude-sonnet-4" in rows and "local/claude-sonnet-4" not in rows
        app.screen.query_one(Input).value = f"{app.session.default_provider}/claude-sonnet-4"
        await pilot.pause()
        assert not any(row.startswith("Use ") for row in picker_rows(app))  # listed: not offered "as typed"
        await pilot.press("enter")
        await until(pilot, lambda: not isinstance(app.screen, ModelPicker))
        assert (pane(app).conversation.provider, pane(app).conversation.model) == ("", "claude-sonnet-4")


async def test_a_conversation_whose_provider_left_the_config_says_so_on_the_status_line(
        server: LoopbackServer) -> None:
    gone = Conversation(model="llama3", provider="gone", messages=[ChatMessage("user", "hi")])
    app = make_app(server, [gone])
    async with app.run_test(size=(120, 30)) as pilot:
        # Not "connecting" for ever (both come with one repaint; under load, after a few).
        await until(pilot, lambda: "no provider 'gone'" in status(app) and "offline" in status(app))


async def test_refresh_balance_asked_by_the_user_says_what_it_found(
        server: LoopbackServer, monkeypatch: pytest.MonkeyPatch) -> None:
    server.key, server.pricing, server.models, server.balance = KEY, DEMO_PRICING, DEMO_MODELS, (25.0, 658.0)
    clock = [1000.0]
    monkeypatch.setattr(provider_facts, "clock", lambda: clock[0])
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.session.facts().balance is not None)  # read once at start
        notices = lambda: [n.message for n in app._notifications]  # noqa: E731
        app.chat.action_refresh_balance()  # moments later: said, not silent
        await until(pilot, lambda: any("asking again in 30 s" in m for m in notices()))
        clock[0] += 31
        server.balance = (25.0, 700.0)
        app.chat.action_refresh_balance()
        await until(pilot, lambda: "$18.00 left on the token502 key." in notices())


async def test_refresh_balance_soon_after_a_failed_read_says_why_it_failed(
        server: LoopbackServer, monkeypatch: pytest.MonkeyPatch) -> None:
    from test_errors import CHALLENGE_PAGE

    clock = [1000.0]
    monkeypatch.setattr(provider_facts, "clock", lambda: clock[0])
    page = Reply(200, body=CHALLENGE_PAGE, headers={"content-type": "text/html", "cf-mitigated": "challenge"})
    server.script("/dashboard/billing/subscription", page)
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.session.facts().balance_error is not None)  # read once at start
        app.chat.action_refresh_balance()  # moments later: not "read moments ago"
        await until(pilot, lambda: any(n.message.startswith("token502 did not tell the balance: Cloudflare's bot check")
                                       and "Asking again in 30 s." in n.message for n in app._notifications))


async def test_leaving_a_reply_out_with_k_changes_the_context_figure_at_once(server: LoopbackServer) -> None:
    server.models = DEMO_MODELS  # tiny-context takes 300 tokens
    server.script(CHAT, text_stream("word " * 200, model="tiny-context", prompt_tokens=5))
    app = make_app(server, T502_MODEL="tiny-context")
    async with app.run_test(size=(140, 30)) as pilot:
        await until(pilot, lambda: pane(app).context_limit() == 300)
        await send(pilot, "q")
        await settle(app)
        def used() -> int:
            return int(status(app).split("ctx ≈")[1].split(" ")[0])

        await until(pilot, lambda: "ctx ≈" in status(app) and used() > 150)  # the reply's 200 words count
        choose(app, pane(app).conversation.messages[-1])
        await settle(app)
        await pilot.press("k")  # left out of the next request: said at once, not at the next keystroke
        await pilot.pause()
        assert used() < 50
