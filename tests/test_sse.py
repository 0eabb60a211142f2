"""The SSE decoder, fed the way networks deliver bytes."""

from __future__ import annotations

import pytest

from t502_tui.service.sse import SSEDecoder, SSEEvent


def decode(*pieces: bytes) -> list[SSEEvent]:
    decoder = SSEDecoder()
    events = []
    for piece in pieces:
        events += decoder.feed(piece)
    return events + decoder.close()


def test_lf_and_crlf_and_cr() -> None:
    assert decode(b"data: a\n\ndata: b\r\n\r\ndata: c\r\rdata: d\n\n") == [
        SSEEvent("a"), SSEEvent("b"), SSEEvent("c"), SSEEvent("d")]


def test_comments_and_unknown_fields_are_ignored() -> None:
    assert decode(b": keep-alive\n\nid: 4\nretry: 10\ndata: x\n\n") == [SSEEvent("x")]


@pytest.mark.parametrize("size", [1, 2, 3, 7])
def test_split_anywhere_even_inside_utf8_and_crlf(size: int) -> None:
    raw = "data: {\"t\": \"héllo → 世界\"}\r\n\r\ndata: [DONE]\r\n\r\n".encode()
    pieces = [raw[i:i + size] for i in range(0, len(raw), size)]
    assert decode(*pieces) == [SSEEvent('{"t": "héllo → 世界"}'), SSEEvent("[DONE]")]


def test_multi_line_data_joins_with_newlines() -> None:
    assert decode(b"data: one\ndata: two\ndata:three\n\n") == [SSEEvent("one\ntwo\nthree")]


def test_event_name_is_kept() -> None:
    assert decode(b"event: error\ndata: {}\n\n") == [SSEEvent("{}", "error")]


def test_last_event_without_blank_line_is_delivered_at_close() -> None:
    assert decode(b"data: tail") == [SSEEvent("tail")]


def test_bom_is_dropped() -> None:
    assert decode("\ufeffdata: x\n\n".encode()) == [SSEEvent("x")]


def test_field_without_colon_and_cr_at_the_end_of_a_read() -> None:
    assert decode(b"data\ndata: x\r", b"\n\r", b"\n") == [SSEEvent("\nx")]
    assert decode(b"data: a\r", b"data: b\r\r") == [SSEEvent("a\nb")]
