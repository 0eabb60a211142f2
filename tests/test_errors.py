"""Human messages built from every shape of error body."""

from __future__ import annotations

import pytest

from t502_tui.service.errors import error_from_response, one_line, parse_retry_after


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
        (403, 'data: {"error": {"message": "quota exhausted"}}\n\n',
         "access denied (the key may not be allowed this model, or is out of quota) (HTTP 403): quota exhausted"),
        (503, "", "the server failed (HTTP 503 Service Unavailable)"),
    ],
)
def test_messages(status: int, body: str, expected: str) -> None:
    reason = {502: "Bad Gateway", 500: "Internal Server Error", 503: "Service Unavailable"}.get(status, "")
    assert error_from_response(status, reason, body).message == expected


def test_code_may_be_string_or_number() -> None:
    assert error_from_response(400, "", '{"error": {"message": "m", "code": 1234}}').code == 1234
    assert error_from_response(400, "", '{"error": {"message": "m", "code": "x"}}').code == "x"


def test_long_message_is_one_cut_line_and_detail_keeps_all() -> None:
    body = '{"error": {"message": "' + "a" * 500 + '\\nsecond line"}}'
    error = error_from_response(500, "", body)
    assert len(error.message) < 260 and error.message.endswith("…")
    assert "second line" in error.detail


def test_html_is_never_dumped() -> None:
    error = error_from_response(404, "", "<!DOCTYPE html><html><body><div>x</div></body></html>")
    assert "<" not in error.message


def test_429_names_the_wait() -> None:
    error = error_from_response(429, "", '{"error": {"message": "slow down"}}', "7")
    assert error.retry_after == 7 and "retry after 7 s" in error.message


def test_retry_after_http_date() -> None:
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480) == 10
    assert parse_retry_after("soon") is None


def test_one_line_skips_blank_lines() -> None:
    assert one_line("\n\n  hello   world \nnext") == "hello world"
