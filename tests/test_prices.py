"""Prices, costs and the context a request needs: the rules, without a server."""

from __future__ import annotations

import logging

import pytest

from loopback import DEMO_PRICING, relay_pricing
from t502_tui.attachments import Attachment
from t502_tui.context_fit import Trim, context_error, request_tokens, trim_to_fit
from t502_tui.conversation import ChatMessage, Conversation
from t502_tui.prices import Price, format_cost, relay_prices, reply_cost, user_price
from t502_tui.service import APIError, ServiceError, Usage
from t502_tui.service.pricing import parse_balance, parse_relay_pricing
from t502_tui.tokens import estimate_image_tokens


def test_the_relays_rule_per_token_per_request_and_by_group() -> None:
    pricing = parse_relay_pricing(relay_pricing({
        "gpt-5": {"model_ratio": 0.625, "completion_ratio": 8, "enable_groups": ["default", "vip"]},
        "flux": {"quota_type": 1, "model_price": 0.04},
        "vip-only": {"model_ratio": 1, "enable_groups": ["vip"]},
    }, {"default": 1, "vip": 0.5}))
    assert pricing is not None
    prices = relay_prices(pricing, "default")
    assert prices["gpt-5"] == Price(1.25, 10.0)  # ratio 1 = $2 per 1M input; output × completion_ratio
    assert prices["flux"] == Price(request=0.04)
    assert "vip-only" not in prices  # not enabled for this group: unknown, not guessed
    vip = relay_prices(pricing, "vip")
    assert vip["gpt-5"] == Price(0.625, 5.0) and vip["vip-only"] == Price(1.0, 1.0)
    assert relay_prices(pricing, "nobody") == {}  # a group the relay does not price
    usage = Usage(1000, 500, 1500, reasoning_tokens=200)  # reasoning is in the completion
    assert reply_cost(usage, prices["gpt-5"]) == pytest.approx(1000 * 1.25e-6 + 500 * 10e-6)
    assert reply_cost(usage, prices["flux"]) == 0.04
    # An image model that reports no usage still cost its request once it answered.
    assert reply_cost(None, prices["flux"], answered=True) == 0.04
    assert reply_cost(None, prices["flux"]) is None and reply_cost(None, prices["gpt-5"], answered=True) is None


def test_a_relays_price_beyond_any_a_prices_table_may_hold_is_unknown() -> None:
    pricing = parse_relay_pricing(relay_pricing({
        "gpt-5": {"model_ratio": 1e6, "completion_ratio": 1e6},  # $2 trillion per 1M output tokens
        "flux": {"quota_type": 1, "model_price": 1e8},
        "sane": {"model_ratio": 1, "completion_ratio": 4},
    }, {"default": 1}))
    assert pricing is not None
    assert relay_prices(pricing, "default") == {"sane": Price(2.0, 8.0)}


def test_the_servers_own_cost_wins_then_the_users_table() -> None:
    usage = Usage(1000, 1000, 2000, cost=0.0123)
    assert reply_cost(usage, Price(1.0, 1.0)) == 0.0123
    assert reply_cost(Usage(1000, 1000, 2000), None) is None  # unknown: no made-up cost
    assert Usage.from_json({"prompt_tokens": 1, "completion_tokens": 1, "cost": 0.5}).cost == 0.5  # type: ignore[union-attr]
    for bad in ("0.5", -1, float("nan"), True, 1e9):
        assert Usage.from_json({"prompt_tokens": 1, "cost": bad}).cost is None  # type: ignore[union-attr]
    table = {"gpt-5": {"input": 1.0, "output": 2.0}, "local/llama3": {"request": 0.001}}
    assert user_price(table, "token502/gpt-5", "gpt-5") == Price(1.0, 2.0)
    assert user_price(table, "local/llama3", "llama3") == Price(request=0.001)
    assert user_price(table, "other/llama3", "llama3") is None


def test_a_malformed_price_list_is_ignored_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="t502")
    for body in (None, [], {"success": False}, {"data": "nope"}, {"data": [{"model_name": 3}, "x"]},
                 "<html>login</html>"):
        assert parse_relay_pricing(body) is None
    assert "pricing body ignored" in caplog.text
    odd = parse_relay_pricing({"data": [
        {"model_name": "a", "model_ratio": "1.5"},  # numbers as strings are read
        {"model_name": "b", "model_ratio": float("inf")}, {"model_name": "c", "model_ratio": -2},
        {"model_name": "d", "quota_type": 7}, {"model_name": "e", "model_ratio": 1e300},
    ], "group_ratio": {"default": "x"}})
    assert odd is not None and set(odd.models) == {"a", "b", "c", "e"} and odd.group_ratio == {}
    assert relay_prices(odd, "default") == {"a": Price(3.0, 3.0)}  # the rest have no usable ratio
    assert parse_relay_pricing(DEMO_PRICING) is not None


def test_the_balance_is_the_limit_less_the_usage_in_cents() -> None:
    balance = parse_balance({"hard_limit_usd": 25}, {"total_usage": 658.0})
    assert balance is not None and balance.left == pytest.approx(18.42)
    for subscription, usage in (({}, {"total_usage": 1}), ({"hard_limit_usd": 1}, "x"),
                                ({"hard_limit_usd": -5}, {"total_usage": 1}), ({"hard_limit_usd": "lots"}, {})):
        assert parse_balance(subscription, usage) is None
    assert [format_cost(c) for c in (0, 0.00002, 0.0031, 0.5, 18.42, 1234.5)] == [
        "$0", "<$0.0001", "$0.0031", "$0.5000", "$18.42", "$1,234.50"]


def turns(count: int, size: int) -> list[ChatMessage]:
    out = []
    for index in range(count):
        out += [ChatMessage("user", f"question {index} " + "q" * size),
                ChatMessage("assistant", f"answer {index} " + "a" * size)]
    return out


def test_the_request_size_starts_from_the_servers_count() -> None:
    conversation = Conversation(model="m", system_prompt="be brief", messages=turns(2, 40))
    assert request_tokens(conversation) == 2 + 4 + sum((len(m.content) + 3) // 4 + 4 for m in conversation.messages)
    conversation.messages[-1].usage = Usage(1000, 20, 1020)  # the server counted the prompt
    assert request_tokens(conversation) == 1000 + (len(conversation.messages[-1].content) + 3) // 4 + 4
    assert request_tokens(conversation, "new " * 40) == request_tokens(conversation) + 40 + 4
    conversation.messages[0].in_context = False  # once the user changes what is sent, it is estimated again
    assert request_tokens(conversation) < 1000


@pytest.mark.parametrize(("width", "height", "tokens"), [
    (1024, 1024, 765), (2048, 4096, 1105), (1920, 1080, 1105), (512, 512, 255),
    (1, 100_000, 255), (None, None, 765), (0, 0, 765),
])
def test_an_image_counts_by_its_size_as_openai_prices_it(width: int | None, height: int | None, tokens: int) -> None:
    assert estimate_image_tokens(width, height) == tokens


def test_an_attached_image_is_not_counted_as_free() -> None:
    image = Attachment("cat.png", "image/png", b"png", 1024, 1024)
    conversation = Conversation(model="m", messages=[ChatMessage("user", "what is this?", attachments=[image])])
    assert request_tokens(conversation) == 4 + 765 + 4
    assert request_tokens(Conversation(model="m"), "hi", [image]) == 1 + 765 + 4


def test_trimming_leaves_out_the_oldest_whole_turns() -> None:
    conversation = Conversation(model="m", messages=turns(5, 400))
    whole = request_tokens(conversation, "next")
    trim = trim_to_fit(conversation, whole // 2, "next")
    assert trim is not None and trim.tokens <= whole // 2
    left_out = trim.leave_out
    assert left_out == conversation.messages[: len(left_out)] and len(left_out) % 2 == 0
    assert trim_to_fit(conversation, 10, "next " * 100) is None  # the new message alone is too big
    roomy = trim_to_fit(conversation, whole * 2, "next")
    assert roomy is not None and roomy.leave_out == []


@pytest.mark.parametrize("counted", [None, 5, 150, 2000])
@pytest.mark.parametrize("over", [1, 8, 30])
def test_a_request_just_over_the_limit_is_trimmed_until_the_meter_says_it_fits(counted: int | None, over: int) -> None:
    conversation = Conversation(model="m", system_prompt="be brief", messages=turns(3, 100))
    if counted is not None:
        conversation.messages[-1].usage = Usage(counted, 20, counted + 20)  # the server counted fewer, or more
    draft = "next " * 4
    limit = request_tokens(conversation, draft) - over  # the check says: over by this much
    trim = trim_to_fit(conversation, limit, draft)
    assert trim is not None and trim.leave_out, "the edge was taken for a fit"
    for message in trim.leave_out:
        message.in_context = False
    assert request_tokens(conversation, draft) == trim.tokens <= limit  # what the meter shows next
    assert trim_to_fit(conversation, limit, draft) == Trim([], trim.tokens)


def test_a_retry_that_no_trim_makes_fit_says_so() -> None:
    conversation = Conversation(model="m", messages=turns(2, 40) + [ChatMessage("user", "x" * 4000)])
    assert trim_to_fit(conversation, 500) is None  # the message the retry answers is kept, and too large
    assert [m.in_context for m in conversation.messages] == [None] * 5


@pytest.mark.parametrize(("error", "limit"), [
    (APIError("This model's maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens.",
              status=400, code="context_length_exceeded"), 8192),
    (APIError("the server refused the request (HTTP 400): This model's maximum context length is 4,096 tokens",
              status=400), 4096),
    (APIError("prompt is too long: 210000 tokens > 200000 maximum", status=400), 200000),
    (APIError("input is too long for requested model", status=400), 0),
    (APIError("x", status=400, code="context_length_exceeded"), 0),
    (APIError("the server reported an error: Please reduce the length of the messages.", status=None), 0),
])
def test_context_errors_are_recognised(error: ServiceError, limit: int) -> None:
    assert context_error(error) == limit


@pytest.mark.parametrize("error", [
    APIError("Rate limit reached for tokens per min (TPM): Limit 30000", status=429),
    APIError("max_tokens is too large: 100000", status=400),
    ServiceError("cannot connect"), None,
])
def test_other_errors_are_not_context_errors(error: ServiceError | None) -> None:
    assert context_error(error) is None


def test_a_price_reads_as_people_say_it() -> None:
    assert Price(1.25, 10.0).describe() == "$1.25/$10"
    assert Price(request=0.04).describe() == "$0.04/request"
    assert Price(0.0, 0.0).describe() == Price(request=0.0).describe() == "free"  # not "$0/$0"
    assert Price(0.0, 0.6).describe() == "$0/$0.6"
