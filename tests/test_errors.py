"""Human messages built from every shape of error body."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from t502_tui.service.errors import describe_size, error_from_response, one_line, parse_retry_after


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (401, '{"error": {"message": "Invalid token", "type": "auth", "code": "invalid_api_key"}}',
         "the API key was rejected (HTTP 401): Invalid token"),
        (404, '{"error": {"message": "model x not found", "type": "invalid_request_error", "code": 404}}',
         "not found (HTTP 404): model x not found"),
        (400, '{"error": "plain string error"}', "the server refused the request (HTTP 400): plain string error"),
        (422, '{"detail": [{"loc": ["body", "messages"], "msg": "field required"}]}',
         "the server could not process the request (HTTP 422): messages: field required"),
        (400, '{"detail": "Not allowed"}', "the server refused the request (HTTP 400): Not allowed"),
        (502, "<html><head><title>502 Bad Gateway</title></head><body><h1>nginx</h1></body></html>",
         "the server failed (HTTP 502 Bad Gateway): the server sent an HTML page: 502 Bad Gateway"),
        (500, "upstream exploded\nTraceback (most recent call last):\n  File x",
         "the server failed (HTTP 500 Internal Server Error): upstream exploded"),
        (400, '[{"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.",'
              ' "status": "INVALID_ARGUMENT"}}]',  # Google's OpenAI-compatible API: errors in a list
         "the API key was rejected: it may be mistyped, or a key for another service (HTTP 400):"
         " API key not valid. Please pass a valid API key."),
        (429, '[{"error": {"code": 429, "message": "Resource has been exhausted (e.g. check quota).",'
              ' "status": "RESOURCE_EXHAUSTED"}}]', "rate limited (HTTP 429): Resource has been exhausted (e.g. check quota)."),
        (403, 'data: {"error": {"message": "quota exhausted"}}\n\n',
         "access denied (the key may not be allowed this model, or is out of quota) (HTTP 403): quota exhausted"),
        (503, "", "the server failed (HTTP 503 Service Unavailable)"),
    ],
)
def test_messages(status: int, body: str, expected: str) -> None:
    reason = {502: "Bad Gateway", 500: "Internal Server Error", 503: "Service Unavailable"}.get(status, "")
    assert error_from_response(status, reason, body).message == expected


def new_api(message: str, code: str | None = None) -> str:
    """An error body as new-api sends it."""
    return json.dumps({"error": {"message": message, "type": "new_api_error", "param": "", "code": code}},
                      ensure_ascii=False)


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (403, new_api("该令牌额度已用尽 (request id: 2026)", "insufficient_user_quota"),
         "the key's quota is used up, or less than this request's estimated cost, which the relay reserves"
         " before sending it (HTTP 403): 该令牌额度已用尽 (request id: 2026)"),
        (403, new_api("预扣费额度失败, 用户剩余额度: ＄0.01, 需要预扣费额度: ＄0.05"),
         "the key's quota is used up, or less than this request's estimated cost, which the relay reserves"
         " before sending it (HTTP 403): 预扣费额度失败, 用户剩余额度: ＄0.01, 需要预扣费额度: ＄0.05"),
        (403, new_api("token quota is not enough", "pre_consume_token_quota_failed"),
         "the key's quota is used up, or less than this request's estimated cost, which the relay reserves"
         " before sending it (HTTP 403): token quota is not enough"),
        (401, '{"error": {"message": "该令牌额度已用尽", "type": "one_api_error"}}',
         "the key's quota is used up, or less than this request's estimated cost, which the relay reserves"
         " before sending it (HTTP 401): 该令牌额度已用尽"),
        (503, new_api("当前分组 default 下对于模型 xyz 无可用渠道 (request id: 2026)", "model_not_found"),
         "the relay has no channel serving this model for the key's group: pick another model (HTTP 503):"
         " 当前分组 default 下对于模型 xyz 无可用渠道 (request id: 2026)"),
        (503, '{"error": {"message": "No available channel for model x under group vip"}}',
         "the relay has no channel serving this model for the key's group: pick another model (HTTP 503):"
         " No available channel for model x under group vip"),
        (404, '{"error": {"message": "The model `x` does not exist", "code": "model_not_found"}}',
         "not found (HTTP 404): The model `x` does not exist"),
        (401, new_api("该令牌已过期"), "the API key has expired: renew it in the relay's console (HTTP 401): 该令牌已过期"),
        (401, new_api("token expired", "token_expired"),
         "the API key has expired: renew it in the relay's console (HTTP 401): token expired"),
        (401, new_api("无效的令牌"), "the relay does not accept this API key: it may be mistyped, disabled,"
         " expired or used up (HTTP 401): 无效的令牌"),
        (403, new_api("该令牌无权访问模型 gpt-5"), "this key may not use this model: the relay's console sets"
         " the models a key may use (HTTP 403): 该令牌无权访问模型 gpt-5"),
        (403, new_api("您的 IP 不在令牌允许访问的列表中", "access_denied"), "the relay does not let this key make"
         " this request (a key may be limited to some IP addresses) (HTTP 403): 您的 IP 不在令牌允许访问的列表中"),
        (400, new_api("sensitive words detected: x", "sensitive_words_detected"),
         "the relay's content filter refused the prompt (HTTP 400): sensitive words detected: x"),
        (429, '{"error": {"message": "You exceeded your current quota", "type": "insufficient_quota"}}',
         "the account is out of credit: check its plan and billing (HTTP 429): You exceeded your current quota"),
    ],
)
def test_relay_error_codes_are_explained(status: int, body: str, expected: str) -> None:
    """new-api refuses a request whose estimated cost is above the balance while the status
    line shows that balance as positive: "access denied" alone read as a contradiction."""
    assert error_from_response(status, "", body).message == expected


CHALLENGE_PAGE = ("<!DOCTYPE html><html lang=\"en-US\"><head><title>Just a moment...</title>"
                  "<meta http-equiv=\"refresh\" content=\"360\"></head><body><noscript>Enable JavaScript"
                  " and cookies to continue</noscript></body></html>")


@pytest.mark.parametrize("headers", [
    {"server": "cloudflare", "cf-mitigated": "challenge"},
    {"cf-mitigated": "challenge"},
    {"server": "cloudflare"},
])
def test_a_cloudflare_challenge_is_named(headers: dict[str, str]) -> None:
    error = error_from_response(503, "Service Unavailable", CHALLENGE_PAGE, None, headers)
    assert error.message == (
        "Cloudflare's bot check blocked the request (a challenge page meant for browsers, HTTP 503):"
        " the relay's address may be wrong, or it blocks API clients from this network")
    assert not error.retryable and "Just a moment" in error.detail


def test_an_html_page_through_cloudflare_is_not_a_challenge() -> None:
    # Cloudflare names itself as the server of everything it passes on, error pages included.
    error = error_from_response(502, "Bad Gateway", "<html><title>502 Bad Gateway</title></html>", None,
                                {"server": "cloudflare"})
    assert error.message == "the server failed (HTTP 502 Bad Gateway): the server sent an HTML page: 502 Bad Gateway"
    assert error.retryable


def test_escape_sequences_in_a_servers_message_reach_no_terminal() -> None:
    # Shown in notices, the model picker and the setup screen: none may retitle the window.
    body = json.dumps({"error": {"message": "A \x1b]0;PWNED\x07 \x1b[2J \x9b31m red"}})
    error = error_from_response(503, "Service Unavailable", body)
    assert error.message.endswith("A ^[]0;PWNED^G ^[[2J \\x9b31m red")
    assert "\\u001b]0;PWNED" in error.detail  # the debug log keeps the body as it came


def test_code_may_be_string_or_number() -> None:
    assert error_from_response(400, "", '{"error": {"message": "m", "code": 1234}}').code == 1234
    assert error_from_response(400, "", '{"error": {"message": "m", "code": "x"}}').code == "x"


def test_long_message_is_one_cut_line_and_detail_keeps_all() -> None:
    body = '{"error": {"message": "' + "a" * 500 + '\\nsecond line"}}'
    error = error_from_response(500, "", body)
    assert len(error.message) < 260 and error.message.endswith("…")
    assert "second line" in error.detail


def test_a_json_body_cut_short_still_gives_its_message() -> None:
    # Only the first 256 KB of an error body is read: a relay that pads its JSON past that.
    body = '{"error": {"message": "Invalid \\"token\\"", "type": "auth", "trace": "' + "x" * 300_000
    assert error_from_response(401, "", body[:256 * 1024]).message == (
        'the API key was rejected (HTTP 401): Invalid "token"')
    hostile = '{"message": "' + "\\" * 200_001  # an escape never closed: still linear
    assert error_from_response(500, "", hostile).message.startswith("the server failed (HTTP 500)")
    # The message itself longer than what is read: its start, not the body's JSON.
    huge = '{"error": {"message": "' + "E" * 300_000
    assert error_from_response(400, "", huge[:256 * 1024]).message.startswith(
        "the server refused the request (HTTP 400): EEEE")
    assert error_from_response(400, "", '{"error": {"message": "caf\\u00').message.endswith(": caf…")


def test_html_is_never_dumped() -> None:
    error = error_from_response(404, "", "<!DOCTYPE html><html><body><div>x</div></body></html>")
    assert "<" not in error.message


def test_429_names_the_wait() -> None:
    error = error_from_response(429, "", '{"error": {"message": "slow down"}}', "7")
    assert error.retry_after == 7 and "retry after 7 s" in error.message
    for seconds, said in (("119", "119 s"), ("900", "15 min"), ("999999", "12 days")):
        assert f"retry after {said})" in error_from_response(429, "", "", seconds).message


def test_retry_after_http_date() -> None:
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480) == 10
    assert parse_retry_after("soon") is None


def test_one_line_skips_blank_lines() -> None:
    assert one_line("\n\n  hello   world \nnext") == "hello world"


NO_CHANNEL = json.dumps({"error": {"message": "当前分组 default 下对于模型 gpt-9 无可用渠道 (request id: 2025)",
                                   "type": "new_api_error", "code": "model_not_found"}}, ensure_ascii=False)


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (503, NO_CHANNEL),
        (503, '{"error": {"message": "当前分组 vip 下对于模型 x 无可用渠道"}}'),
        (503, '{"error": {"message": "No available channel for model x under group default"}}'),
        (500, '{"error": {"message": "bad messages", "type": "invalid_request_error"}}'),
        (502, '{"error": {"message": "too long", "code": "context_length_exceeded"}}'),
        (429, '{"error": {"message": "You exceeded your current quota", "type": "insufficient_quota"}}'),
        (400, '{"error": {"message": "model x does not exist"}}'),
        (404, '{"error": {"message": "The model `x` does not exist", "code": "model_not_found"}}'),
        (401, '{"error": {"message": "Invalid token"}}'),
        (403, '{"error": {"message": "not allowed"}}'),
        (501, "not implemented"),
    ],
)
def test_errors_a_second_try_cannot_fix_are_not_retryable(status: int, body: str) -> None:
    assert not error_from_response(status, "", body).retryable


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (429, '{"error": {"message": "slow down", "type": "rate_limit_error"}}'),
        (500, '{"error": {"message": "upstream exploded"}}'),
        (502, "<html><title>502 Bad Gateway</title></html>"),
        (503, '{"error": {"message": "upstream overloaded", "type": "upstream_error", "code": "overloaded"}}'),
        (503, ""),
        (504, "gateway timeout"),
        (529, '{"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}'),
    ],
)
def test_passing_failures_stay_retryable(status: int, body: str) -> None:
    assert error_from_response(status, "", body).retryable


HOSTILE_PAGES = """
from t502_tui.service.errors import error_from_response
for body in ["<html>" + "<title>" * 40_000, "<html><title>" + "<" * 250_000 + "</title></html>",
             "<html><h1>" + "<b" * 120_000 + "</h1>"]:
    print(error_from_response(502, "Bad Gateway", body).message)
"""


def test_hostile_html_error_pages_cost_linear_time() -> None:
    """Pages of many unclosed tags (256 KB, an error body's cap) took a regular expression
    20 to 50 s each: quadratic, and in one C call that holds the GIL, hence the subprocess."""
    done = subprocess.run([sys.executable, "-c", HOSTILE_PAGES], capture_output=True, text=True, timeout=30)
    assert done.stdout.splitlines() == [
        "the server failed (HTTP 502 Bad Gateway): the server sent an HTML page"] * 3, done.stderr


@pytest.mark.parametrize(
    "body",
    [
        '{"detail": [{"loc": 5, "msg": ["x"]}, {"loc": [{"a": 1}, "messages"], "msg": 3}, 7]}',
        '{"error": {"message": ' + "[" * 100_000 + "}}",
        '{"error": {"message": ' + "[" * 900 + "]" * 900 + ', "code": 1e300, "type": []}}',
        '{"error": {"message": "m", "code": ' + "9" * 4000 + "}}",
        '{"error": {"message": "m", "code": ' + "9" * 5000 + "}}",
        "[" * 100_000,
        "data: " + "[" * 100_000 + "\n\n",
        '{"error": 5, "detail": {"a": 1}, "message": []}',
        "\ufeff" + '{"error": "with a byte order mark"}',
    ],
    ids=["detail-types", "deep", "nearly-too-deep", "code-4000-digits", "code-5000-digits", "deep-list",
         "deep-sse", "wrong-types", "bom"],
)
def test_absurd_error_bodies_give_a_message(body: str) -> None:
    error = error_from_response(400, "Bad Request", body)
    assert error.message.startswith("the server refused the request (HTTP 400)")
    assert len(error.message) < 300 and isinstance(error.code, (str, int, type(None)))


def test_an_error_code_out_of_int32_range_is_dropped() -> None:
    assert error_from_response(400, "", '{"error": {"message": "m", "code": 99999999999}}').code is None
    assert error_from_response(400, "", '{"error": {"message": "m", "code": -1}}').code == -1


@pytest.mark.parametrize("value", ["inf", "nan", "1e400", "-inf"])
def test_retry_after_that_is_not_a_finite_number_is_ignored(value: str) -> None:
    assert parse_retry_after(value) is None


def test_detail_is_cut_for_the_log() -> None:
    error = error_from_response(500, "", "x" * 200_000)
    assert len(error.detail) < 70_000 and error.detail.endswith("more characters)")


def test_describe_size() -> None:
    assert [describe_size(n) for n in (900, 256 * 1024, 64 << 20, 3 << 30, 1536 << 10)] == [
        "900 bytes", "256 KiB", "64 MiB", "3 GiB", "1.5 MiB"]


def test_a_server_message_of_several_lines_is_kept_on_one() -> None:
    body = json.dumps({"object": "error", "code": 400, "message": (
        "1 validation error for ChatCompletionRequest\nmessages.1.content\n  Input should be a valid string")})
    assert error_from_response(400, "Bad Request", body).message == (
        "the server refused the request (HTTP 400): 1 validation error for ChatCompletionRequest · "
        "messages.1.content · Input should be a valid string")


def test_a_refused_key_is_told_whatever_the_status() -> None:
    from t502_tui.turn import Connection, LinkState

    google = ('[{"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.",'
              ' "status": "INVALID_ARGUMENT"}}]')
    for status, body, refused in ((400, google, True), (401, "{}", True), (403, "{}", True),
                                  (400, '{"error": {"message": "bad request"}}', False)):
        error = error_from_response(status, "", body)
        assert error.key_refused is refused
        assert (Connection.after(error).state is LinkState.REJECTED) is refused  # "● rejected" on the status line


@pytest.mark.parametrize(("verify_message", "says"), [
    ("self-signed certificate", "is not trusted (self-signed certificate); for a server of your own, set SSL_CERT_FILE"),
    ("certificate has expired", "is not valid (certificate has expired)"),
    ("Hostname mismatch, certificate is not valid for 'x'.", "is not valid (Hostname mismatch"),
])
def test_a_tls_certificate_problem_is_said_with_the_fix_that_applies(verify_message: str, says: str) -> None:
    import ssl

    from t502_tui.service.errors import tls_problem

    error = ssl.SSLCertVerificationError(1, "certificate verify failed")
    error.verify_message = verify_message
    said = tls_problem(error, "relay.example:443")
    assert said is not None and said.startswith("relay.example:443's TLS certificate ") and says in said
    assert ("SSL_CERT_FILE" in said) == ("self-signed" in verify_message)
