"""A reply with images in the chat, driven with Pilot against the loopback server: shown as
a half-block preview (never as base64), kept, downloaded again, saved, opened, its path
copied and viewed whole. One app for all of it: the suite stays fast."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input, Static

from loopback import LoopbackServer
from media_samples import b64, file_reply, noisy_png, picture_png, text_reply
from t502_tui import reply_media
from t502_tui.attachments import Attachment, sniff
from t502_tui.conversation import ChatMessage, Conversation
from t502_tui.thumbnails import Thumbnail, make_thumbnail
from t502_tui.ui import image_preview
from t502_tui.ui.screens import image_view
from t502_tui.ui.screens.chat import ChatScreen
from t502_tui.ui.screens.dialogs import Confirm
from t502_tui.ui.screens.image_view import HalfBlockPicture, ImageScreen
from t502_tui.ui.widgets import conversation_pane
from t502_tui.ui.widgets.key_hints import KeyHints
from tui_helpers import choose, make_app, pane, send, settle, shown, until


async def test_an_image_reply_is_shown_kept_and_handled_in_the_chat(
        server: LoopbackServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    big = noisy_png(2 * 1024 * 1024)
    base = server.url.removesuffix("/v1")
    server.script("/chat/completions", text_reply(
        f"Here:\n\n![noise](data:image/png;base64,{b64(big)})\n\nand ![later]({base}/files/later.png)"))
    opened: list[Path] = []
    monkeypatch.setattr(conversation_pane, "open_path", lambda path: opened.append(path))
    app = make_app(server)
    async with app.run_test(size=(100, 30)) as pilot:
        await send(pilot, "draw")
        view = pane(app).view
        await until(pilot, lambda: "▀" in shown(app) and "HTTP 404" in shown(app))
        reply = pane(app).conversation.messages[-1]
        text = shown(app)
        assert b64(big)[:40] not in text and "base64" not in text and "data:" not in text
        assert "🖼 noise" in text and "image-1.png · 2.0 MB" in text
        assert "r tries again" in text and reply.content.startswith("Here:\n\n![noise](attachment:1)")
        # The preview is drawn in colour, two pixels a cell.
        lines = [view.render_line(y) for y in range(view.size.height)]
        cells = [s for line in lines if "▀" in line.text for s in line if "▀" in s.text]
        assert cells and all(s.style and s.style.color and s.style.bgcolor for s in cells)

        # r on the link (i chooses it): downloaded now that the file is there.
        server.script("/files/later.png", file_reply(picture_png()))
        choose(app, reply)
        await pilot.press("i", "r")
        await until(pilot, lambda: len(reply.attachments) == 2)
        assert reply.attachments[1].source == f"{base}/files/later.png"
        await until(pilot, lambda: "HTTP 404" not in shown(app))

        # s saves the chosen image where the user says (the first again, after i).
        await pilot.press("i", "s")
        await until(pilot, lambda: bool(app.screen.query(Input)))
        target = tmp_path / "saved.png"
        app.screen.query_one(Input).value = str(target)
        await pilot.press("enter")
        await until(pilot, lambda: target.exists())
        assert target.read_bytes() == big
        await until(pilot, lambda: "saved as" in shown(app))

        # o opens it in the system viewer, y copies its path, v shows it whole.
        await pilot.press("o")
        await until(pilot, lambda: bool(opened))
        assert opened[0].read_bytes() == big
        await pilot.press("y")
        assert app.clipboard == str(opened[0])
        await pilot.press("v")
        await until(pilot, lambda: isinstance(app.screen, ImageScreen))
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, ImageScreen))


def image_reply(png: bytes, name: str = "image-1.png") -> ChatMessage:
    mime, width, height = sniff(png)  # type: ignore[misc]
    return ChatMessage("assistant", "![x](attachment:1)", model="m",
                       attachments=[Attachment(name, mime, png, width, height)])


async def test_saving_asks_before_replacing_and_a_path_that_cannot_be_is_a_message(tmp_path: Path) -> None:
    conversation = Conversation(model="m", messages=[ChatMessage("user", "hi"), image_reply(picture_png())])
    target = tmp_path / "there.png"
    target.write_bytes(b"mine")
    app = make_app(None, [conversation])
    async with app.run_test(size=(100, 30)) as pilot:
        reply = pane(app).conversation.messages[-1]

        async def save_as(path: str) -> None:
            choose(app, reply)
            await pilot.press("s")
            await until(pilot, lambda: bool(app.screen.query(Input)))
            app.screen.query_one(Input).value = path
            await pilot.press("enter")

        await save_as(str(target))
        await until(pilot, lambda: isinstance(app.screen, Confirm))
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, ChatScreen))
        assert target.read_bytes() == b"mine"
        await save_as(str(target))
        await until(pilot, lambda: isinstance(app.screen, Confirm))
        await pilot.press("y")
        await until(pilot, lambda: target.read_bytes() == picture_png())
        await save_as(str(tmp_path / "a\x00b.png"))
        await until(pilot, lambda: any("Could not write" in n.message and "a^@b.png" in n.message
                                       for n in app._notifications))
        assert app.is_running and isinstance(app.screen, ChatScreen)
        typo = tmp_path / "no-such" / "dir" / "x.png"
        for answer, made in (("n", False), ("y", True)):  # a missing folder is made only when asked
            await save_as(str(typo))
            await until(pilot, lambda: isinstance(app.screen, Confirm) and "There is no folder" in app.screen.question)
            await pilot.press(answer)
            await until(pilot, lambda: isinstance(app.screen, ChatScreen) and typo.exists() is made)
            assert (tmp_path / "no-such").exists() is made
            assert made or [n.message for n in app._notifications][-1] == "The image was not saved."


async def test_many_image_replies_decode_only_the_previews_in_view(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[int] = []

    def counting(data: bytes) -> Thumbnail:
        made.append(len(data))
        return make_thumbnail(data)

    monkeypatch.setattr(image_preview, "make_thumbnail", counting)
    replies = [image_reply(picture_png(20 + i, 20)) for i in range(image_preview.KEPT + 16)]
    app = make_app(None, [Conversation(model="m", messages=replies)])
    async with app.run_test(size=(100, 30)) as pilot:
        view = pane(app).view
        view.show(replies)  # all of them, not only the newest page
        await until(pilot, lambda: view.visible_text().count("▀") > 20)
        for _ in range(5):
            await pilot.pause()
        assert 0 < len(made) <= 8  # the replies in view and beside it, not all of them
    view.previews.on_ready()  # a thumbnail made as t502 closes: nothing to draw, nothing raised


async def test_the_image_view_shows_names_literally_and_says_why_it_cannot_draw(
        monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(data: bytes) -> Thumbnail:
        raise RuntimeError("a decoder bug")

    monkeypatch.setattr(image_view, "make_thumbnail", broken)
    reply = image_reply(picture_png(), "\x1b]0;owned\x07x.png")
    app = make_app(None, [Conversation(model="m", messages=[ChatMessage("user", "hi"), reply])])
    async with app.run_test(size=(100, 30)) as pilot:
        app.push_screen(ImageScreen(reply.attachments[0]))
        await until(pilot, lambda: bool(app.screen.query(HalfBlockPicture)))
        caption = str(app.screen.query_one("#image-caption", Static).render())
        assert "\x1b" not in caption and "^[]0;owned^Gx.png" in caption
        picture = app.screen.query_one(HalfBlockPicture)
        await until(pilot, lambda: "no picture (RuntimeError)" in picture.render_line(0).text)


async def test_links_wait_for_r_with_download_images_off_and_redraws_do_not_reread_the_text(
        server: LoopbackServer, monkeypatch: pytest.MonkeyPatch) -> None:
    base = server.url.removesuffix("/v1")
    server.script("/chat/completions", text_reply(f"Here: ![sun]({base}/files/sun.png)" + " words" * 10_000))
    server.script("/files/sun.png", file_reply(picture_png()))
    scans: list[int] = []
    listed = reply_media.links_in
    monkeypatch.setattr(reply_media, "links_in", lambda text: scans.append(len(text)) or listed(text))
    app = make_app(server)
    app.config.download_images = False
    async with app.run_test(size=(100, 30)) as pilot:
        await send(pilot, "draw")
        await until(pilot, lambda: "not downloaded" in shown(app))
        await settle(app)
        assert server.requests_to("/files/sun.png") == []
        view, reply = pane(app).view, pane(app).conversation.messages[-1]
        before = len(scans)
        for _ in range(10):  # what a video's progress does, ten times a second
            view.changed(reply)
            await pilot.pause()
        assert len(scans) == before
        choose(app, reply)
        await pilot.press("r")
        await until(pilot, lambda: len(reply.attachments) == 1 and "▀" in shown(app))


async def test_copying_an_images_path_does_not_call_it_saved(tmp_path: Path) -> None:
    conversation = Conversation(model="m", messages=[ChatMessage("user", "hi"), image_reply(picture_png())])
    app = make_app(None, [conversation])
    async with app.run_test(size=(100, 30)) as pilot:
        choose(app, pane(app).conversation.messages[-1])
        await pilot.press("y")
        await until(pilot, lambda: bool(app.clipboard))
        assert "cache" in app.clipboard and "saved as" not in shown(app)  # a copy t502 keeps, not one the user saved


async def test_a_key_for_a_file_on_an_image_link_not_downloaded_says_how_to_get_it() -> None:
    reply = ChatMessage("assistant", "![x](http://127.0.0.1:9/gone.png)", model="m")
    app = make_app(None, [Conversation(model="m", messages=[ChatMessage("user", "hi"), reply])])
    async with app.run_test(size=(100, 30)) as pilot:
        choose(app, pane(app).conversation.messages[-1])
        await pilot.press("y")
        await until(pilot, lambda: any("This image is not downloaded: r downloads it." == n.message
                                       for n in app._notifications))


async def test_a_folder_that_cannot_be_made_is_named_and_r_on_a_kept_image_says_there_is_nothing_to_fetch() -> None:
    conversation = Conversation(model="m", messages=[ChatMessage("user", "hi"), image_reply(picture_png())])
    app = make_app(None, [conversation])
    async with app.run_test(size=(100, 30)) as pilot:
        reply = pane(app).conversation.messages[-1]
        choose(app, reply)
        await pilot.press("r")
        await until(pilot, lambda: any(n.message == "This image is kept with the reply: there is nothing to download."
                                       for n in app._notifications))
        choose(app, reply)
        await pilot.press("s")
        await until(pilot, lambda: bool(app.screen.query(Input)))
        app.screen.query_one(Input).value = "/proc/no-such-folder/x.png"  # /proc takes no folders
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, Confirm))
        await pilot.press("y")
        await until(pilot, lambda: any(n.message.startswith("Could not make the folder /proc/no-such-folder")
                                       for n in app._notifications))


async def test_the_image_keys_are_offered_on_a_reply_with_images_and_explained_elsewhere() -> None:
    two = ChatMessage("assistant", "![x](attachment:1) and ![y](http://127.0.0.1:9/y.png)", model="m",
                      attachments=image_reply(picture_png()).attachments)
    conversation = Conversation(model="m", messages=[ChatMessage("user", "hi"), two, ChatMessage("user", "more"),
                                                     ChatMessage("assistant", "plain words", model="m")])
    app = make_app(None, [conversation])
    async with app.run_test(size=(160, 30)) as pilot:
        hints = app.screen.query_one(KeyHints)
        choose(app, two)
        await until(pilot, lambda: "Open" in hints.shown and "Save" in hints.shown and "Next image" in hints.shown)
        assert hints.shown.index("Next image") < hints.shown.index("Send/leave out")  # what a narrow footer keeps
        choose(app, conversation.messages[-1])
        await until(pilot, lambda: "Open" not in hints.shown and "Save" not in hints.shown)
        assert "Next image" not in hints.shown
        await pilot.press("o")  # pressed anyway: it says why, and types nothing
        await until(pilot, lambda: any(n.message == "This message has no images or media links."
                                       for n in app._notifications))
        assert pane(app).composer.text == ""


async def test_an_image_preview_leaves_room_for_the_text_around_it_in_a_short_view() -> None:
    conversation = Conversation(model="m", messages=[ChatMessage("user", "hi"), image_reply(picture_png())])
    app = make_app(None, [conversation])
    async with app.run_test(size=(60, 20)) as pilot:
        view = pane(app).view
        await until(pilot, lambda: "▀" in shown(app))
        drawn = [y for y in range(view._total) if (line := view._line(y)[3]) is not None and "▀" in line.text]
        assert 4 <= len(drawn) <= view.scrollable_content_region.height - 5
        await pilot.resize_terminal(100, 45)
        await until(pilot, lambda: len([y for y in range(view._total) if (line := view._line(y)[3]) is not None
                                        and "▀" in line.text]) > len(drawn))  # taller once there is room


async def test_attaching_an_image_counts_it_in_the_context_figure_at_once_and_only_once(
        server: LoopbackServer, tmp_path: Path) -> None:
    from loopback import DEMO_MODELS
    from t502_tui.ui.widgets.status_line import StatusLine

    server.models = DEMO_MODELS  # gpt-5 takes 400k: the status line shows how full it is
    picture = tmp_path / "pic.png"
    picture.write_bytes(picture_png())
    app = make_app(server)
    async with app.run_test(size=(140, 30)) as pilot:
        line = lambda: str(app.chat.query_one(StatusLine).render())  # noqa: E731
        await until(pilot, lambda: "ctx ≈0 / 400k" in line())
        await pane(app).attach(picture)
        await until(pilot, lambda: "ctx ≈259 / 400k" in line())  # a small image's 255 and its message's 4, no key
        await pane(app).attach(picture)
        await until(pilot, lambda: any(n.message == "pic.png is attached already" for n in app._notifications))
        assert len(pane(app).attachments) == 1 and "ctx ≈259 / 400k" in line()
