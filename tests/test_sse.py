"""The SSE decoder, fed the way networks deliver bytes."""

from __future__ import annotations

import random
import re

import pytest

from t502_tui.service.errors import TooLarge
from t502_tui.service.sse import MAX_EVENT, SSEDecoder, SSEEvent


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


def test_a_cr_at_the_end_of_a_read_ends_its_line_when_no_lf_follows() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\r\r") == []  # the second CR might be half of a CRLF
    assert decoder.feed(b"da") == [SSEEvent("a")]
    assert decoder.feed(b"ta: b\n\n") == [SSEEvent("b")]


def test_an_endless_line_fails_at_the_cap_not_before() -> None:
    """The real cap, fed as a fast server sends: linear time (a quadratic decoder takes
    minutes here), and an error naming the size."""
    decoder = SSEDecoder()
    piece = b"x" * 65536
    decoder.feed(b"data: ")
    for _ in range(MAX_EVENT // len(piece) - 1):
        assert decoder.feed(piece) == []
    with pytest.raises(TooLarge, match="event larger than 64 MiB"):
        for _ in range(2):
            decoder.feed(piece)


@pytest.mark.parametrize("line", [b"data: ", b": a comment that never ends ", b"event: "])
def test_any_endless_line_is_capped(line: bytes) -> None:
    decoder = SSEDecoder(max_event=1000)
    decoder.feed(line + b"x" * (1000 - len(line)))
    with pytest.raises(TooLarge, match="larger than 1000 bytes"):
        decoder.feed(b"x")


def test_many_data_lines_without_a_blank_line_are_one_event_and_capped() -> None:
    decoder = SSEDecoder(max_event=1000)
    for _ in range(10):
        assert decoder.feed(b"data: " + b"x" * 99 + b"\n") == []
    with pytest.raises(TooLarge):
        decoder.feed(b"data: " + b"x" * 99 + b"\n")


def test_an_event_completed_in_one_read_is_capped_too() -> None:
    with pytest.raises(TooLarge):
        SSEDecoder(max_event=1000).feed(b"data: " + b"x" * 1001 + b"\n\n")
    assert SSEDecoder(max_event=1000).feed(b"data: " + b"x" * 1000 + b"\n\n") == [SSEEvent("x" * 1000)]


def test_the_cap_is_per_event() -> None:
    decoder = SSEDecoder(max_event=1000)
    for _ in range(50):
        assert decoder.feed(b"data: " + b"x" * 900 + b"\n\n") == [SSEEvent("x" * 900)]


def reference(raw: bytes) -> list[SSEEvent]:
    """The same stream decoded the plain way, all at once: what any split must give."""
    text = raw.decode("utf-8").removeprefix("\ufeff") + "\n\n"
    events, data, name = [], [], ""
    for line in re.split(r"\r\n|\r|\n", text)[:-1]:
        field, _, value = line.partition(":")
        if not line:
            if data:
                events.append(SSEEvent("\n".join(data), name or "message"))
            data, name = [], ""
        elif field == "data":
            data.append(value.removeprefix(" "))
        elif field == "event":
            name = value.removeprefix(" ")
    return events


LINES = ["data: {\"t\": \"héllo\"}", "data:x", "data", "data:  two spaces", ": keep-alive", "event: error",
         "event:", "id: 7", "retry: 10", "", "", "data: 世界 → ✓", "unknown field", "data: " + "y" * 5000]


@pytest.mark.parametrize("seed", range(40))
def test_any_split_of_any_stream_gives_what_decoding_it_whole_gives(seed: int) -> None:
    rng = random.Random(seed)
    parts = ["\ufeff"] if rng.random() < 0.2 else []
    for _ in range(rng.randint(1, 60)):
        parts.append(rng.choice(LINES) + rng.choice(["\n", "\r\n", "\r"]))
    raw = "".join(parts).encode()
    cuts = sorted(rng.sample(range(1, len(raw)), min(len(raw) - 1, rng.randint(0, 40))))
    pieces = [raw[a:b] for a, b in zip([0, *cuts], [*cuts, len(raw)])]
    assert decode(*pieces) == reference(raw)
