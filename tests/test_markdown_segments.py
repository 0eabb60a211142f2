"""Cutting a growing Markdown text into settled segments: nothing lost, the tail short."""

from __future__ import annotations

import random

from scripted_replies import markdown_tokens
from t502_tui.ui.markdown_segments import FENCE_PIECE_LINES, LARGE_SEGMENT_CHARS, MarkdownSegmenter, Segment


def document() -> str:
    words = " ".join(f"w{i}" for i in range(400))
    code = "".join(f"line_{i} = {i}\n" for i in range(FENCE_PIECE_LINES * 3 + 5))
    return (f"# Title\n\n{words}\n\n- item a\n- item b\n\n```python\n{code}```\n\n"
            "| a | b |\n|---|---|\n| 1 | 2 |\n\nlast words here")


def fed(text: str, rng: random.Random, tails: list[Segment] | None = None) -> list[Segment]:
    """Every segment of ``text`` appended in random pieces, settled at random moments."""
    segmenter = MarkdownSegmenter()
    segments: list[Segment] = []
    position = 0
    while position < len(text):
        step = rng.randint(1, 40)
        segmenter.append(text[position:position + step])
        position += step
        if rng.random() < 0.3:
            segments += segmenter.settle()
            if tails is not None and (tail := segmenter.tail()) is not None:
                tails.append(tail)
    assert segmenter.text == text
    return segments + segmenter.finish()


def test_every_line_survives_random_cuts_in_order() -> None:
    text = document()
    for seed in range(20):
        segments = fed(text, random.Random(seed))
        joined = "".join(s.source for s in segments)
        lines = [line for line in text.split("\n") if not line.startswith("```")]
        position = 0
        for line in lines:  # each line, in order (fence lines aside: pieces carry the code only)
            found = joined.find(line, position)
            assert found != -1, (seed, line)
            position = found + len(line)


def test_a_long_fence_is_settled_in_pieces_and_a_short_one_whole() -> None:
    segments = fed(document(), random.Random(1))
    pieces = [s for s in segments if s.is_code]
    assert len(pieces) >= 3 and pieces[0].first and not pieces[0].last and pieces[-1].last
    assert all(p.language == "python" for p in pieces) and all(p.continued for p in pieces[1:])
    short = fed("intro\n\n```js\nlet x = 1;\n```\nafter the fence\n", random.Random(2))
    assert short[0].source == "intro\n\n" and short[-1].source == "after the fence\n"
    # The fence in between: whole (it came at once) or a line at a time, first to last.
    fence = short[1:-1]
    assert "".join(s.source for s in fence) in ("```js\nlet x = 1;\n```\n", "let x = 1;\n")
    assert fence[0].first or not fence[0].is_code


def test_the_tail_stays_one_block_long() -> None:
    tails: list[Segment] = []
    text = "".join(markdown_tokens(3000))
    fed(text, random.Random(3), tails)
    assert max(len(t.source) for t in tails) < 1000
    code_tails = [t for t in tails if t.is_code]
    assert code_tails and max(t.source.count("\n") for t in code_tails) <= FENCE_PIECE_LINES


def test_an_unclosed_fence_at_the_end_is_code() -> None:
    segments = fed("text\n\n```js\nlet x = 1;\nlet y", random.Random(4))
    assert segments[-1].is_code and "let y" in segments[-1].source and segments[-1].last


def test_a_long_run_without_blank_lines_is_cut() -> None:
    text = "".join(f"- entry {i}\n" for i in range(20000))
    segments = fed(text, random.Random(5))
    assert len(segments) >= 3 and all(len(s.source) < LARGE_SEGMENT_CHARS + 100 for s in segments)
    assert "entry 0\n" in segments[0].source and "entry 19999" in segments[-1].source
    # One run, drawn without a blank row where it was cut; a block after a blank line is not.
    assert not segments[0].continued and all(s.continued for s in segments[1:])
    after = fed(text + "\nA paragraph after the list.\n", random.Random(5))
    assert after[-1].source.startswith("A paragraph") and not after[-1].continued


def test_a_table_is_not_cut_between_its_rows() -> None:
    rows = "".join(f"| {i} | {i * 2} |\n" for i in range(2000))
    segments = fed("| a | b |\n|---|---|\n" + rows + "\nafter\n", random.Random(6))
    table = [s for s in segments if "| a | b |" in s.source]
    assert table and "| 1999 | 3998 |" in table[0].source


def test_a_paragraph_indented_a_little_is_a_block_of_its_own_unless_a_list_goes_on() -> None:
    """In one segment, Rich would draw two blank rows after a table, and the blank row
    after a paragraph would be drawn as the segment's own (with the reply's bar)."""
    table = "| a | b |\n|---|---|\n| 1 | 2 |\n\n second para\n\nthird"
    sources = [s.source for s in fed(table, random.Random(7))]
    assert sources == ["| a | b |\n|---|---|\n| 1 | 2 |\n\n", " second para\n\n", "third"]
    prose = "some words.\n\n END-OF-REPLY"
    assert [s.source for s in fed(prose, random.Random(9))] == ["some words.\n\n", " END-OF-REPLY"]
    listed = "- item\n\n  more of the item\n\nafter"
    assert [s.source for s in fed(listed, random.Random(8))] == ["- item\n\n  more of the item\n\n", "after"]
    code = "text\n\n    indented code\n"
    assert [s.source for s in fed(code, random.Random(10))] == [code]
