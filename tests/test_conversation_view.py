"""The conversation view: reading while a reply streams, and selecting text to copy."""

from __future__ import annotations

import pytest
from rich.cells import cell_len
from rich.console import Console
from textual import events
from textual.theme import BUILTIN_THEMES
from rich.style import Style
from textual.geometry import Offset, Region
from textual.selection import Selection
from textual.strip import Strip
from textual.widgets import Static

from loopback import Gate, LoopbackServer, chunk, sse, stream_reply
from t502_tui.conversation import ChatMessage, Conversation
from t502_tui.ui.widgets.conversation_view import ConversationView
from t502_tui.ui import message_block
from t502_tui.ui.message_block import MAX_SHOWN_REPLY, MAX_SHOWN_TYPED, _shown
from t502_tui.ui.message_render import MAX_RICH_CHARS, TEXT_PIECE_CHARS, TEXT_PIECE_LINES, Look, _pieces, markdown_lines
from tui_helpers import choose, linked_paragraphs, make_app, painted, pane, send, settle, shown, until

CHAT = "/chat/completions"


def lines(first: int, last: int) -> str:
    return "".join(f"line {i} of the reply\n\n" for i in range(first, last))


def _cells(strip: Strip) -> list[tuple[str, Style | None]]:
    return [(char, segment.style) for segment in strip for char in segment.text]


def painted_as_drawn(view: ConversationView) -> bool:
    """Every line Textual keeps painted is what the view would draw now: a frame that
    repaints only the lines that changed left none out."""
    painted = view.render_lines(Region(0, 0, view.size.width, view.size.height))
    drawn = [_cells(view.render_line(y)) for y in range(len(painted))]
    return all(_cells(line)[:len(now)] == now for line, now in zip(painted, drawn, strict=True))


async def test_scrolling_up_while_a_reply_streams_stays_put_and_end_follows_again(server: LoopbackServer) -> None:
    more, done = Gate(), Gate()
    server.script(CHAT, stream_reply([*sse(chunk(lines(0, 60)), done=False), more,
                                      *sse(chunk(lines(60, 120)), done=False), done,
                                      *sse(chunk("the very end"), chunk(finish="stop"))]))
    app = make_app(server)
    async with app.run_test(size=(90, 30)) as pilot:
        await send(pilot, "go")
        view = pane(app).view
        await until(pilot, lambda: "line 59 of the reply" in view.visible_text())
        await pilot.press("pageup", "pageup")  # from the composer, which keeps the focus
        assert pane(app).composer.has_focus and not view.following
        before = view.visible_text()
        assert "line 59 of the reply" not in before
        more.open()
        await until(pilot, lambda: done.reached.is_set())
        await until(pilot, lambda: "line 119" in pane(app).view.text_of(pane(app).conversation.messages[-1]))
        await pilot.pause()
        after = view.visible_text().split("\n")
        assert after == before.split("\n")[:len(after)]  # the lines being read did not move
        indicator = pane(app).query_one(".new-text", Static)
        assert indicator.display and "new text below · End or Ctrl+End follows it" in str(indicator.render())
        await pilot.press("ctrl+end")
        await pilot.pause()
        assert "line 119 of the reply" in view.visible_text() and view.following
        assert not indicator.display
        done.open()
        await settle(app)
        await pilot.pause()
        assert "the very end" in view.visible_text()  # followed to the end of the reply


async def test_the_mouse_wheel_stops_following_too(server: LoopbackServer) -> None:
    more = Gate()
    server.script(CHAT, stream_reply([*sse(chunk(lines(0, 60)), done=False), more,
                                      *sse(chunk(lines(60, 90)), chunk(finish="stop"))]))
    app = make_app(server)
    async with app.run_test(size=(90, 30)) as pilot:
        await send(pilot, "go")
        view = pane(app).view
        await until(pilot, lambda: "line 59 of the reply" in view.visible_text())
        for _ in range(5):  # the wheel, a notch at a time
            view.post_message(events.MouseScrollUp(view, 5, 5, 0, -1, 0, False, False, False))
        await pilot.pause()
        before = view.visible_text()
        more.open()
        await settle(app)
        await pilot.pause()
        after = view.visible_text().split("\n")  # the new-text note takes the last line
        assert after == before.split("\n")[:len(after)] and not view.following
        await pilot.press("shift+tab")  # onto the messages, where End follows
        await pilot.press("end")
        await pilot.pause()
        assert "line 89 of the reply" in view.visible_text()


async def test_text_selected_with_the_mouse_is_copied_with_a_note(server: LoopbackServer) -> None:
    conversation = Conversation(model="m", messages=[
        ChatMessage("user", "a question"),
        ChatMessage("assistant", "The first line of the answer.\n\nA second paragraph here.", model="m"),
    ])
    app = make_app(server, [conversation])
    async with app.run_test(size=(90, 30)) as pilot:
        view = pane(app).view
        await pilot.pause()
        top = view.visible_text().split("\n")
        row = next(i for i, line in enumerate(top) if "The first line" in line)
        start = top[row].index("first")
        await pilot.mouse_down(view, offset=(3 + start, row))
        await pilot.hover(view, offset=(3 + start + 10, row + 2))
        await pilot.mouse_up(view, offset=(3 + start + 10, row + 2))
        await pilot.pause()
        assert app.screen.get_selected_text() == "first line of the answer.\n\nA second paragr"
        picked = app.screen.get_component_rich_style("screen--selection").bgcolor
        selected = [seg.style for seg in view.render_line(row) if seg.style and seg.style.bgcolor == picked]
        assert selected and all(style.color is not None and style.color != picked for style in selected)  # readable
        await pilot.press("ctrl+c")
        assert app.clipboard == "first line of the answer.\n\nA second paragr"
        assert any("Copied the selected text (42 characters)" in n.message for n in app._notifications)


async def test_selecting_a_whole_message_copies_its_text_not_the_bars(server: LoopbackServer) -> None:
    conversation = Conversation(model="m", messages=[ChatMessage("user", "one\ntwo")])
    app = make_app(server, [conversation])
    async with app.run_test(size=(60, 20)) as pilot:
        view = pane(app).view
        await pilot.pause()
        app.screen.selections = {view: Selection(Offset(0, 1), Offset(3, 2))}
        assert app.screen.get_selected_text() == "one\ntwo"


async def test_a_new_theme_redraws_the_conversation_in_its_colours(server: LoopbackServer) -> None:
    app = make_app(server)
    async with app.run_test(size=(100, 30)) as pilot:
        await send(pilot, "hello")
        await until(pilot, lambda: not pane(app).streaming and len(pane(app).conversation.messages) == 2)
        view = pane(app).view
        for name in ("textual-light", "ansi-dark"):  # ansi: the terminal's own colours
            assert app.try_theme(name)
            await pilot.pause()
            assert view.look.theme_name == name and view.look.base == view.rich_style
            line = view.render_line(1)
            assert {segment.style.bgcolor for segment in line if segment.style} == {view.rich_style.bgcolor}


async def test_a_finished_reply_ends_at_the_bottom_of_the_view(server: LoopbackServer) -> None:
    server.script(CHAT, stream_reply([*sse(*(chunk(f"line {i} of the reply\n\n") for i in range(40)),
                                           chunk("the very end"), chunk(finish="stop"))]))
    app = make_app(server)
    async with app.run_test(size=(80, 24)) as pilot:
        await send(pilot, "go")
        await until(pilot, lambda: not pane(app).streaming and len(pane(app).conversation.messages) == 2)
        await pilot.pause()
        view = pane(app).view
        last = view.scrollable_content_region.height - 1
        assert view.following and view.scroll_y == view.max_scroll_y > 0
        assert "the very end" in view.render_line(last - 1).text  # below it only the space after a message


async def test_a_saved_conversation_opens_at_its_newest_text(server: LoopbackServer) -> None:
    body = "".join(f"paragraph {i} of the reply, long enough to wrap at seventy columns or so.\n\n" for i in range(30))
    server.script(CHAT, stream_reply([*sse(chunk(body + "the very end"), chunk(finish="stop"))]))
    app = make_app(server)
    async with app.run_test(size=(100, 30)) as pilot:
        await send(pilot, "first")
        await until(pilot, lambda: not pane(app).streaming and len(pane(app).conversation.messages) == 2)
        ident = pane(app).conversation.id
        await settle(app)
        await app.chat.action_close_conversation()  # a new, empty one takes its place
        await pilot.pause()
        await app.chat.open_saved(ident)
        await pilot.pause()
        view = pane(app).view
        assert view.following and view.scroll_y == view.max_scroll_y > 0
        assert "the very end" in view.visible_text()


async def test_end_in_the_composer_follows_again_but_still_moves_the_cursor_first(server: LoopbackServer) -> None:
    more = Gate()
    server.script(CHAT, stream_reply([*sse(chunk(lines(0, 60)), done=False), more,
                                      *sse(chunk(lines(60, 90)), chunk(finish="stop"))]))
    app = make_app(server)
    async with app.run_test(size=(90, 30)) as pilot:
        await send(pilot, "go")
        view, composer = pane(app).view, pane(app).composer
        await until(pilot, lambda: "line 59 of the reply" in view.visible_text())
        await pilot.press("pageup", "pageup")
        await pilot.press(*"draft", "home", "end")  # End moves the cursor to the end of the draft
        await pilot.pause()
        assert not view.following and composer.cursor_location == (0, 5)
        more.open()
        await settle(app)
        await pilot.press("end")  # nothing after the cursor: follow
        await pilot.pause()
        assert view.following and "line 89 of the reply" in view.visible_text()
        assert composer.text == "draft"


async def test_shift_tab_chooses_a_message_in_view_not_one_chosen_long_ago(server: LoopbackServer) -> None:
    long_answer = "\n\n".join(f"paragraph {i} of a long answer" for i in range(40))
    conversation = Conversation(model="m", messages=[
        ChatMessage("user", "one"), ChatMessage("assistant", "the first answer", model="m"),
        ChatMessage("user", "two"), ChatMessage("assistant", long_answer, model="m"),
    ])
    app = make_app(server, [conversation])
    async with app.run_test(size=(90, 30)) as pilot:
        view = pane(app).view
        await pilot.pause()
        await pilot.press("shift+tab", "up", "up")
        assert view.chosen_message is conversation.messages[1]
        await pilot.press("escape", "end")
        await pilot.pause()
        assert "the first answer" not in view.visible_text()  # the old choice scrolled away
        await pilot.press("shift+tab")
        assert view.chosen_message is conversation.messages[3]


async def test_each_frame_repaints_every_line_that_changed(server: LoopbackServer) -> None:
    """Frames repaint only from the open text down; a closed fence is highlighted again
    as a whole (a docstring over lines), and reasoning grows above the answer."""
    more, fence, done = Gate(), Gate(), Gate()
    server.script(CHAT, stream_reply([
        *sse(chunk(reasoning="First thought."), chunk("An opening paragraph.\n\n```python\ndef f():\n"
                                                    '    """One\n'), done=False),
        more, *sse(chunk(reasoning=" Second thought."), chunk("    two\n    three\n"), done=False),
        fence, *sse(chunk('    """\n    return 1\n```\n\nAfter the code.'), done=False),
        done, *sse(chunk(finish="stop"))]))
    app = make_app(server)
    async with app.run_test(size=(100, 40)) as pilot:
        await send(pilot, "go")
        view = pane(app).view
        await until(pilot, lambda: '"""One' in view.visible_text())
        choose(app, view.messages[-1])
        await pilot.press("enter")  # the reasoning opened while it streams
        await until(pilot, lambda: "First thought." in view.visible_text())
        more.open()
        await until(pilot, lambda: "Second thought." in view.visible_text() and "three" in view.visible_text())
        await until(pilot, lambda: painted_as_drawn(view))
        fence.open()
        await until(pilot, lambda: "After the code." in view.visible_text())
        await until(pilot, lambda: painted_as_drawn(view))
        done.open()
        await settle(app)
        await until(pilot, lambda: painted_as_drawn(view))


async def test_a_line_painted_again_unchanged_is_not_drawn_again(server: LoopbackServer) -> None:
    """Textual has turned a kept line into escape codes once: the same strip comes back."""
    app = make_app(server, [Conversation(model="m", messages=[ChatMessage("user", "hello there")])])
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        view = pane(app).view
        assert view.render_line(0) is view.render_line(0)
        first = view.render_line(0)
        app.theme = "textual-light" if app.theme != "textual-light" else "textual-dark"
        await pilot.pause()
        assert view.render_line(0) is not first


def shows_what_it_draws(view: ConversationView) -> bool:
    """The lines on screen are a run of the lines of the messages drawn whole: no stale
    height leaves a line out, repeats one, or adds a blank."""
    shown = view.visible_text().split("\n")
    while shown and not shown[-1]:
        shown.pop()
    whole: list[str] = []
    for message in view.messages:
        whole += [*view.text_of(message).split("\n"), ""]
    return any(whole[i:i + len(shown)] == shown for i in range(len(whole) - len(shown) + 1))


async def reply_with_links(server: LoopbackServer, pilot, app) -> ConversationView:  # type: ignore[no-untyped-def]
    server.script(CHAT, stream_reply([*sse(chunk(linked_paragraphs(14)), chunk(finish="stop"))]))
    await send(pilot, "go")
    await until(pilot, lambda: not pane(app).streaming and len(pane(app).conversation.messages) == 2)
    await pilot.pause()
    return pane(app).view


async def reaches_the_end_showing_each_line_once(pilot, view: ConversationView, case: object) -> None:  # type: ignore[no-untyped-def]
    """After a change (``case``, named if an assertion fails), Ctrl+End shows the reply's
    last line, every line on screen once, and what is painted is what is drawn."""
    await pilot.pause()
    await pilot.press("ctrl+end")
    await pilot.pause()
    assert "the very end" in view.visible_text(), case
    assert shows_what_it_draws(view), case
    assert painted_as_drawn(view), case


async def test_after_a_resize_the_view_shows_each_line_once_and_reaches_the_end(server: LoopbackServer) -> None:
    app = make_app(server)
    async with app.run_test(size=(140, 45)) as pilot:
        view = await reply_with_links(server, pilot, app)
        for width in (100, 140, 120, 60):
            await pilot.resize_terminal(width, 45)
            await reaches_the_end_showing_each_line_once(pilot, view, width)


async def test_after_a_new_theme_the_view_shows_each_line_once_and_reaches_the_end(server: LoopbackServer) -> None:
    app = make_app(server)
    async with app.run_test(size=(140, 45)) as pilot:
        view = await reply_with_links(server, pilot, app)
        for name in ("textual-light", "ansi-dark", "textual-dark"):
            assert app.try_theme(name)
            await reaches_the_end_showing_each_line_once(pilot, view, name)


async def test_a_saved_conversation_that_fits_the_screen_is_shown_whole(server: LoopbackServer) -> None:
    app = make_app(server)
    async with app.run_test(size=(140, 200)) as pilot:
        view = await reply_with_links(server, pilot, app)
        ident = pane(app).conversation.id
        await settle(app)
        await app.chat.action_close_conversation()
        await pilot.pause()
        await app.chat.open_saved(ident)
        await pilot.pause()
        view = pane(app).view
        assert "the very end" in view.visible_text()
        assert shows_what_it_draws(view)
        assert painted_as_drawn(view)


def test_a_paragraph_drawn_to_be_painted_before_it_was_laid_out_still_moves_what_is_below() -> None:
    from rich.console import Console
    from textual.theme import BUILTIN_THEMES

    from t502_tui.ui.message_block import _Body
    from t502_tui.ui.message_render import Look, load_renderers

    load_renderers()
    console, look = Console(width=80, color_system="truecolor"), Look.of(BUILTIN_THEMES["textual-dark"], "monokai", Style())
    body = _Body(linked_paragraphs(3), growing=False)
    guessed = body.height(console, 60, look)
    assert body.line(console, 60, look, 0) is not None  # painted at once, before being drawn
    assert body.draw(console, 60, look, 0, guessed, 0)[0]  # drawing finds that the paragraph is shorter
    lines = [body.line(console, 60, look, y) for y in range(body.height(console, 60, look))]
    text = [line.text.rstrip() if line is not None else "" for line in lines]
    assert text[:4] == ["Paragraph 0 names code_0 and the docs before a list.", "", " • first item 0", " • second item 0"]


WIDE = "".join((f"## 第{i}节\n\n" if i % 5 == 0 else "") + "流式输出的每一个字都应该尽快显示出来，" * 6 + f"这是第{i}段。\n\n"
               for i in range(40)) + "the very end"
"""Paragraphs of wide characters: two cells each, so counting characters guesses short."""


async def test_paging_down_and_up_shows_every_line_once_whatever_the_guessed_heights(server: LoopbackServer) -> None:
    for reply in (WIDE, linked_paragraphs(30)):
        server.script(CHAT, stream_reply([*sse(chunk(reply), chunk(finish="stop"))]))
        app = make_app(server)
        async with app.run_test(size=(100, 45)) as pilot:
            await send(pilot, "go")
            await until(pilot, lambda: not pane(app).streaming and len(pane(app).conversation.messages) == 2)
            view = pane(app).view
            await pilot.press("ctrl+home")
            await pilot.pause()
            height = view.scrollable_content_region.height
            last = view.visible_text().split("\n")
            seen = list(last)
            while not view.following:
                before = view.scroll_y
                await pilot.press("pagedown")
                await pilot.pause()
                assert view.following or view.scroll_y - before == height - 2  # a page, however lines were guessed
                screen = view.visible_text().split("\n")
                overlap = height - int(view.scroll_y - before)
                assert screen[:overlap] == last[-overlap:]  # nothing skipped, nothing repeated
                seen += screen[overlap:]
                last = screen
            whole = [*view.text_of(view.messages[0]).split("\n"), "", *view.text_of(view.messages[1]).split("\n")]
            assert [line for line in seen if line] == [line for line in whole if line]


async def test_paging_up_through_lines_not_drawn_yet_skips_none(server: LoopbackServer) -> None:
    for reply in (WIDE, linked_paragraphs(30)):
        server.script(CHAT, stream_reply([*sse(chunk(reply), chunk(finish="stop"))]))
        app = make_app(server)
        async with app.run_test(size=(140, 45)) as pilot:
            await send(pilot, "go")
            await until(pilot, lambda: not pane(app).streaming and len(pane(app).conversation.messages) == 2)
            view = pane(app).view
            await pilot.resize_terminal(100, 45)  # every line above the view is now a guess
            await pilot.pause()
            seen = set(view.visible_text().split("\n"))
            while view.scroll_y > 0:
                await pilot.press("pageup")
                await pilot.pause()
                seen |= set(view.visible_text().split("\n"))
            for message in view.messages:
                assert set(view.text_of(message).split("\n")) <= seen


def test_wide_characters_are_guessed_at_two_cells_each() -> None:
    from t502_tui.ui.message_render import estimate_lines

    assert estimate_lines("字" * 40, 44) == 2 and estimate_lines("a" * 40, 44) == 1



async def test_a_huge_message_is_cut_on_screen_and_kept_whole(server: LoopbackServer) -> None:
    # 5 MB pasted or imported froze t502 for a minute: wrapping grows faster than the text.
    typed = "".join(f"{i} lorem ipsum dolor sit amet\n" for i in range(10_000))  # 320 KB
    conversation = Conversation(model="m", messages=[ChatMessage("user", typed), ChatMessage("assistant", "ok")])
    app = make_app(server, [conversation])
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app)
        user = pane(app).view.messages[0]
        drawn = shown(app, user)
        assert drawn.rstrip().endswith("more characters, not shown here (c copies them all)")
        assert len(drawn) < MAX_SHOWN_TYPED * 1.1 and "0 lorem" in drawn and "9999 lorem" not in drawn
        assert user.content == typed  # what is kept, copied and sent
        await pilot.press("ctrl+end")


def test_a_huge_reply_is_cut_at_a_lines_end() -> None:
    written = "".join(f"paragraph {i}\n\n" for i in range(100_000))
    body = _shown(written, MAX_SHOWN_REPLY)
    kept = body.split("\n\n… ")[0]
    assert written.startswith(kept) and len(kept) <= MAX_SHOWN_REPLY and kept.endswith("\n")
    assert body.endswith(f"… {len(written) - len(kept):,} more characters, not shown here (c copies them all)\n")
    assert _shown("short", MAX_SHOWN_REPLY) == "short"


async def test_a_reply_past_what_is_shown_in_one_piece_is_cut_as_it_streams(
        server: LoopbackServer, monkeypatch: pytest.MonkeyPatch) -> None:
    # A relay that sends a whole 50 MB answer as one chunk froze t502 for minutes.
    monkeypatch.setattr(message_block, "MAX_SHOWN_REPLY", 5_000)
    answer = "word " * 4_000  # 20,000 characters, one paragraph
    server.script(CHAT, stream_reply(sse(chunk(answer), chunk(reasoning="why " * 4_000), chunk(finish="stop"))))
    app = make_app(server)
    async with app.run_test(size=(100, 30)) as pilot:
        await send(pilot, "all at once")
        await settle(app)
        reply = pane(app).view.messages[-1]
        drawn = shown(app, reply)
        assert reply.content == answer and reply.reasoning == "why " * 4_000  # kept whole
        assert drawn.rstrip().endswith("15,000 more characters, not shown here (c copies them all)")
        assert drawn.count("word") == 1_000


def test_long_literal_text_is_wrapped_a_bounded_piece_at_a_time() -> None:
    text = "word " * 30_000 + "\n" + "\n".join(f"line {i}" for i in range(1_000))
    pieces = _pieces(text)
    assert all(len(piece) <= TEXT_PIECE_CHARS and piece.count("\n") < TEXT_PIECE_LINES for piece in pieces)
    assert "".join(pieces).replace("\n", "") == text.replace("\n", "")


def test_markdown_too_long_for_rich_is_drawn_as_its_text() -> None:
    table = "| a | b |\n|---|---|\n" + "| 1 | two |\n" * (MAX_RICH_CHARS // 10)
    look = Look.of(BUILTIN_THEMES["textual-dark"], "monokai", Style())
    lines = markdown_lines(Console(), table, 80, look)
    assert len(lines) == table.strip().count("\n") + 1 and lines[-1].text.rstrip() == "| 1 | two |"


@pytest.mark.parametrize("source", [
    "".join("  " * i + f"- step at depth {i}\n" for i in range(12)),
    ">" * 1000 + " deep quote\n",
    "> - a\n" + "".join(">" + "  " * i + f" - step at depth {i}\n" for i in range(1, 12)),
])
def test_markdown_nested_deeper_than_the_parser_keeps_is_drawn_as_its_text(source: str) -> None:
    look = Look.of(BUILTIN_THEMES["textual-dark"], "monokai", Style())
    drawn = "\n".join(line.text for line in markdown_lines(Console(), source, 200, look))
    last = source.strip().split("\n")[-1].strip("> -")
    assert last in drawn  # the parser dropped what nested deeper: it was never on screen


def test_lists_and_quotes_of_ordinary_depth_are_still_markdown() -> None:
    look = Look.of(BUILTIN_THEMES["textual-dark"], "monokai", Style())
    source = "".join("  " * i + f"- step {i}\n" for i in range(9)) + "\n" + "> " * 5 + "quoted\n"
    drawn = "\n".join(line.text for line in markdown_lines(Console(), source, 100, look))
    assert "step 8" in drawn and "- step" not in drawn and "quoted" in drawn and ">" not in drawn


def test_the_newest_words_of_a_thought_never_start_inside_a_character() -> None:
    from t502_tui.ui.message_block import _newest_words

    for room in range(12, 30):
        words = _newest_words("more 👍🏽 and 中文字符混合。", room)
        assert not words.startswith("  …\U0001f3fd") and cell_len(words) <= room + 2


async def test_a_long_header_breaks_between_its_parts_not_inside_one() -> None:
    from t502_tui.conversation import ReplyStatus
    from t502_tui.service import Usage

    reply = ChatMessage("assistant", "half", model="gpt-5", usage=Usage(5, 13, 18), status=ReplyStatus.INTERRUPTED)
    app = make_app(None, [Conversation(model="gpt-5", messages=[ChatMessage("user", "q"), reply])])
    async with app.run_test(size=(60, 24)) as pilot:
        await until(pilot, lambda: "half" in shown(app))
        text = shown(app)
        header = text[text.index("gpt-5 ·"):text.index("half")].split("\n")
        phrases = ["18 tokens (5 in, 13 out)", "not sent as context (k sends it)"]
        assert all(any(phrase in line for line in header) for phrase in phrases), header


def test_an_image_caption_breaks_between_its_parts() -> None:
    from rich.text import Text

    caption = Text.assemble(("🖼 ", "green"), "image-1.png · 2.0 MB · 640×480", ("  o open · s save · y path · v view", "dim"))
    assert message_block.broken_between_parts(caption, 50).plain.split("\n") == [
        "🖼 image-1.png · 2.0 MB · 640×480  o open · s save", "y path · v view"]
    assert message_block.broken_between_parts(caption, 36).plain.split("\n") == [  # at the keys' two spaces
        "🖼 image-1.png · 2.0 MB · 640×480", "o open · s save · y path · v view"]


@pytest.mark.parametrize("last", [True, False])
async def test_folding_a_long_thinking_keeps_its_reply_in_sight(last: bool) -> None:
    """Folded at the end of the view (the reply newest), or with the view inside it."""
    thought = "\n\n".join(f"thought {n}" for n in range(120))
    thinker = ChatMessage("assistant", "the answer", model="m", reasoning=thought)
    messages = [ChatMessage("user", "q1"), ChatMessage("assistant", lines(1, 60), model="m"), ChatMessage("user", "q2"),
                thinker]
    if not last:
        messages += [ChatMessage("user", "q3"), ChatMessage("assistant", lines(1, 60), model="m")]
    app = make_app(None, [Conversation(model="m", messages=messages)])
    async with app.run_test(size=(100, 30)) as pilot:
        view = pane(app).view
        view.scroll_to_message(thinker)
        await pilot.pause()
        choose(app, thinker)
        await pilot.press("enter")  # open the thinking
        await until(pilot, lambda: "thought 119" in shown(app, thinker))
        await pilot.press("end" if last else "pagedown")
        await until(pilot, lambda: "thought" in painted(app))
        await pilot.press("enter")  # fold it
        await until(pilot, lambda: "▸ Thinking" in painted(app) and "the answer" in painted(app))
        index = view.messages.index(thinker)
        assert view.scroll_y <= view._tops[index] < view.scroll_y + view.scrollable_content_region.height


async def test_opening_a_long_thinking_at_the_end_of_the_view_shows_its_start() -> None:
    thought = "\n\n".join(f"step{n}" for n in range(200))
    thinker = ChatMessage("assistant", "the answer", model="m", reasoning=thought)
    messages = [ChatMessage("user", "q1"), ChatMessage("assistant", lines(1, 60), model="m"), ChatMessage("user", "q2"),
                thinker]
    app = make_app(None, [Conversation(model="m", messages=messages)])
    async with app.run_test(size=(100, 30)) as pilot:
        view = pane(app).view
        await until(pilot, lambda: view.following and "the answer" in painted(app))
        choose(app, thinker)
        await pilot.press("enter")  # open it: it was following the end, which is far below now
        await until(pilot, lambda: "step0" in painted(app))
        assert not view.following and "step199" not in painted(app)
