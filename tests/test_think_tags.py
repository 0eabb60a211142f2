"""Thinking written into the answer between <think> tags is set apart from it, however
the pieces of the stream cut the tags."""

from __future__ import annotations

import pytest

from t502_tui.think_tags import ThinkTags


def split(pieces: list[str]) -> tuple[str, str]:
    tags, thought, answer = ThinkTags(), "", ""
    for piece in [*pieces, None]:
        more = tags.feed(piece) if piece is not None else tags.finish()
        thought, answer = thought + more[0], answer + more[1]
    return thought, answer


REPLY = "<think>\nThe user says hi.\nGreet back.\n</think>\n\nHello **there**! A <think> tag later stays."


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 8, 9, len(REPLY)])
def test_thinking_is_set_apart_whatever_the_pieces(size: int) -> None:
    pieces = [REPLY[i:i + size] for i in range(0, len(REPLY), size)]
    assert split(pieces) == ("The user says hi.\nGreet back.", "Hello **there**! A <think> tag later stays.")


def test_only_a_reply_that_starts_with_thinking_is_split() -> None:
    assert split(["Use ", "<think> tags"]) == ("", "Use <think> tags")
    assert split(["<", "b>bold</b>"]) == ("", "<b>bold</b>")
    assert split(["\n\n", "<thi", "nk>x</think>y"]) == ("x", "y")
    assert split(["  "]) == ("", "  ")


def test_thinking_cut_off_is_kept_as_thinking() -> None:
    assert split(["<think>a long thought </thi"]) == ("a long thought </thi", "")


def test_what_is_held_back_is_bounded() -> None:
    tags = ThinkTags()
    assert tags.feed(" " * 100) == ("", " " * 100)  # blank lines only: not a tag, passed on
    tags = ThinkTags()
    tags.feed("<think>")
    assert tags.feed("x" * 10_000 + "</th") == ("x" * 10_000, "")
