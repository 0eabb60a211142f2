"""The streaming Markdown widget: nothing lost, however the text is cut."""

from __future__ import annotations

import random

from rich.markdown import Markdown as RichMarkdown
from textual.app import App, ComposeResult

from scripted_replies import markdown_tokens
from t502_tui.ui.widgets.rendered_block import RenderedBlock
from t502_tui.ui.widgets.streaming_markdown import (
    FENCE_PIECE_LINES,
    LARGE_SEGMENT_CHARS,
    StreamingMarkdown,
    text_end,
)


class Host(App[None]):
    def compose(self) -> ComposeResult:
        yield StreamingMarkdown()


def drawn(widget: StreamingMarkdown) -> str:
    return "\n".join(
        strip.text.rstrip() for block in widget.query(RenderedBlock) for strip in block._lines_for(100)
    )


def document() -> str:
    words = " ".join(f"w{i}" for i in range(400))
    code = "".join(f"line_{i} = {i}\n" for i in range(FENCE_PIECE_LINES * 3 + 5))
    return (f"# Title\n\n{words}\n\n- item a\n- item b\n\n```python\n{code}```\n\n"
            "| a | b |\n|---|---|\n| 1 | 2 |\n\nlast words here")


async def test_every_word_survives_random_cuts() -> None:
    text = document()
    rng = random.Random(7)
    app = Host()
    async with app.run_test(size=(110, 40)) as pilot:
        widget = app.query_one(StreamingMarkdown)
        position = 0
        while position < len(text):
            step = rng.randint(1, 40)
            widget.append(text[position:position + step])
            position += step
            if rng.random() < 0.2:
                await pilot.pause()
        await widget.finish()
        await pilot.pause()
        out = drawn(widget)
        assert widget.text == text
        for i in range(400):
            assert f"w{i}" in out
        for i in range(FENCE_PIECE_LINES * 3 + 5):
            assert f"line_{i} = {i}" in out
        assert "last words here" in out and "item b" in out
        assert len(widget.query(".md-code")) >= 3  # the long fence was settled in pieces
        assert len(widget._tail) < 100


async def test_unclosed_fence_at_the_end_is_drawn_as_code() -> None:
    app = Host()
    async with app.run_test(size=(110, 40)) as pilot:
        widget = app.query_one(StreamingMarkdown)
        widget.append("text\n\n```js\nlet x = 1;\nlet y")
        await widget.finish()
        await pilot.pause()
        assert "let x = 1;" in drawn(widget) and "let y" in drawn(widget)


async def test_long_run_without_blank_lines_is_cut() -> None:
    text = "".join(f"- entry {i}\n" for i in range(20000))
    app = Host()
    async with app.run_test(size=(110, 40)) as pilot:
        widget = app.query_one(StreamingMarkdown)
        for i in range(0, len(text), 500):
            widget.append(text[i:i + 500])
            if i % 3000 == 0:
                widget._draw()
        await widget.finish()
        await pilot.pause()
        blocks = widget.query(RenderedBlock)
        assert len(blocks) >= 3
        first = "".join(strip.text for strip in blocks.first()._lines_for(100))
        last = "".join(strip.text for strip in blocks.last()._lines_for(100))
        assert "entry 0" in first and "entry 19999" in last


async def test_realistic_reply_keeps_tail_short() -> None:
    app = Host()
    async with app.run_test(size=(110, 40)):
        widget = app.query_one(StreamingMarkdown)
        for token in markdown_tokens(3000):
            widget.append(token)
            widget._draw()
            assert len(widget._tail) < LARGE_SEGMENT_CHARS + 4000


def test_text_end_reopens_a_fence_cut_through() -> None:
    text = "intro\n\n```python\nx = 1\ny = 2\nz = 3\n```\n\nafter\n"
    assert text_end(text, 3, 10_000) == "```python\n```\n\nafter\n"
    assert text_end(text, 5, 10_000) == "```python\ny = 2\nz = 3\n```\n\nafter\n"
    assert text_end(text, 100, 10_000) == text
    assert text_end(text, 100, 8) == "\nafter\n"  # stops once it holds enough characters


async def test_a_flood_shows_its_end_then_lays_everything_out() -> None:
    text = document() * 4
    app = Host()
    async with app.run_test(size=(110, 40)) as pilot:
        widget = app.query_one(StreamingMarkdown)
        widget.append(text[:10])
        await pilot.pause()
        for i in range(10, len(text), 300):
            widget.append(text[i:i + 300])  # far more than a frame's worth, no frame between
        widget._draw()
        shown = "\n".join(strip.text for strip in widget._tail_widget._lines_for(100))
        assert "last words here" in shown and "# Title" not in shown
        assert not widget.query(".md-segment")  # nothing is laid out during the flood
        await widget.finish()
        await pilot.pause()
        out = drawn(widget)
        assert widget.text == text
        assert out.count("last words here") == 4 and out.count("w399") == 4


async def test_a_block_that_keeps_its_height_is_only_repainted() -> None:
    app = Host()
    async with app.run_test(size=(110, 40)) as pilot:
        block = app.query_one(StreamingMarkdown)._tail_widget
        block.update(lambda theme: RichMarkdown("a few words"))
        await pilot.pause()
        layouts: list[bool] = []
        original = block.refresh
        block.refresh = lambda *a, layout=False, **k: layouts.append(layout) or original(*a, layout=layout, **k)
        block.update(lambda theme: RichMarkdown("a few more words"))
        block.update(lambda theme: RichMarkdown("a few more words\n\nand a new paragraph"))
        assert layouts == [False, True]
