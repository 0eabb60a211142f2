"""Images and videos in replies, without Textual: recognised in every shape they arrive in,
kept once, downloaded without the API key, sent back, exported and imported, and saved as
files by ``t502 ask``; against the loopback server."""

from __future__ import annotations

import asyncio
import io
import json
import os
import struct
import zlib
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from loopback import Gate, LoopbackServer, Reply, self_signed
from media_samples import (
    b64,
    data_url,
    delta_reply,
    file_reply,
    image_part,
    noisy_png,
    picture_jpeg,
    picture_png,
    scripted_media,
    text_reply,
)
from t502_tui import media
from t502_tui.attachments import Attachment
from t502_tui.conversation import ChatMessage, Conversation, ReplyStatus
from t502_tui.service.downloads import Downloader
from t502_tui.export import ImportError_, read_export, to_json, write_markdown
from t502_tui.history import History
from t502_tui.media import MediaError, MediaExtractor, RawImage, decode_image, links_in
from t502_tui.reply_media import download_video, keep_linked_images, pending_images, write_image
from t502_tui.service.errors import DownloadError
from t502_tui.store import Store
from t502_tui.thumbnails import ThumbnailError, make_thumbnail
from t502_tui.turn import ReplyMediaChanged, Turn
from test_turn import KEY, Events, session_for

CHAT = "/chat/completions"


def lifted(text: str, step: int, complete: bool = True) -> tuple[str, list[RawImage]]:
    """What the extractor keeps of ``text`` fed ``step`` characters at a time."""
    extractor = MediaExtractor()
    out: list[str | RawImage] = []
    for start in range(0, len(text), step):
        out += extractor.feed(text[start:start + step])
    out += extractor.finish(complete)
    return "".join(p if isinstance(p, str) else "<IMAGE>" for p in out), [p for p in out if isinstance(p, RawImage)]


@pytest.mark.parametrize("step", [1, 2, 3, 7, 64, 10**6])
def test_a_data_url_image_is_lifted_out_wherever_the_text_is_cut(step: int) -> None:
    png = picture_png()
    text = (f"Look! [1] d ![a sun](data:image/png;base64,{b64(png)}) then "
            f'![x](data:image/jpeg;base64,{b64(picture_jpeg())} "a title") and data:image/png;base64,{b64(png)}.')
    kept, images = lifted(text, step)
    assert kept == "Look! [1] d <IMAGE> then <IMAGE> and <IMAGE>."
    assert [i.alt for i in images] == ["a sun", "x", ""]
    assert decode_image(images[0], "image-1").data == png
    assert decode_image(images[1], "image-2").mime == "image/jpeg"  # told from the bytes


@pytest.mark.parametrize("step", [1, 5, 10**6])
def test_damage_inside_a_data_url_link_is_said_as_such_and_none_of_it_stays_as_text(step: int) -> None:
    kept, images = lifted("see ![a](data:image/png;base64,!!!notbase64!!!) after", step)
    assert kept == "see <IMAGE> after"
    with pytest.raises(MediaError, match="its base64 is damaged"):
        decode_image(images[0], "image-1")
    kept, _ = lifted(f"bare data:image/png;base64,{b64(picture_png())}. Next", step)
    assert kept == "bare <IMAGE>. Next"  # outside a link, what is not base64 ends it
    kept, images = lifted(f"![a](data:image/png;base64,{b64(picture_png())}图片如上", step)
    assert kept == "<IMAGE>图片如上" and decode_image(images[0], "image-1").data == picture_png()  # ) left out


@pytest.mark.parametrize("text", [
    "array[i] and ![a link](https://example.com/a.png) and [x](data:text/plain;base64,QQ==)",
    "ends in d", "ends in !", "ends in ![half", "d" * 5000, "[" + "a" * 3000,
])
def test_text_that_only_looks_like_an_image_is_kept_as_it_is(text: str) -> None:
    assert lifted(text, 5) == (text, [])


def test_an_image_cut_off_or_damaged_or_too_large_is_refused_with_a_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    kept, [cut] = lifted(f"![a](data:image/png;base64,{b64(picture_png())[:40]}", 9, complete=False)
    assert kept == "<IMAGE>" and cut.cut_off
    cases = [(cut, "ended in the middle"), (RawImage("", "!!!!"), "base64 is damaged"),
             (RawImage("", b64(b"plain text, not a picture")), "not a PNG, JPEG, WebP or GIF")]
    monkeypatch.setattr(media, "MAX_BASE64_CHARS", 1000)
    _, [large] = lifted(f"![a](data:image/png;base64,{b64(noisy_png(4000))})", 300)
    cases.append((large, "larger than"))
    for raw, reason in cases:
        with pytest.raises(MediaError, match=reason):
            decode_image(raw, "x")


def test_links_to_images_and_videos_are_found_once_each() -> None:
    text = ("![a](https://cdn.example/x?sig=1) again https://cdn.example/x?sig=1, a page https://example.com "
            "[b](https://cdn.example/b.JPG) and https://v.example/clip.mp4.")
    assert [(link.url, link.kind) for link in links_in(text)] == [
        ("https://cdn.example/x?sig=1", "image"), ("https://cdn.example/b.JPG", "image"),
        ("https://v.example/clip.mp4", "video")]


async def run_turn(server: LoopbackServer, tmp_path: Path, prompt: str, *replies: Reply,
                   conversation: Conversation | None = None, stream: bool = True) -> tuple[ChatMessage, Events, Any]:
    server.script(CHAT, *replies)
    session = session_for(server.url, tmp_path)
    conversation = conversation or Conversation(model="image-model")
    events = Events()
    try:
        reply = await Turn(session, conversation, events, stream=stream).run(ChatMessage("user", prompt))
    finally:
        await session.aclose()
    return reply, events, conversation


def stored(tmp_path: Path, sql: str) -> list[Any]:
    db = sqlite3.connect(tmp_path / "t502.db")
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


async def test_a_streamed_2mb_data_url_image_is_kept_once_and_never_in_the_text(
        server: LoopbackServer, tmp_path: Path) -> None:
    png = noisy_png(2 * 1024 * 1024)
    text = f"Here it is:\n\n![a cat](data:image/png;base64,{b64(png)})\n\nEnjoy."
    reply, events, conversation = await run_turn(server, tmp_path, "draw", text_reply(text))
    assert reply.status is ReplyStatus.COMPLETE
    assert reply.content == "Here it is:\n\n![a cat](attachment:1)\n\nEnjoy." == events.text()
    assert [a.data for a in reply.attachments] == [png] and reply.attachments[0].mime == "image/png"
    assert any(isinstance(e, ReplyMediaChanged) for e in events)
    # The same image again (a model repeating itself): one copy of its bytes in the store.
    await run_turn(server, tmp_path, "again", text_reply(text), conversation=conversation)
    assert stored(tmp_path, "SELECT max(length(content)) FROM messages") == [(len(reply.content),)]
    assert stored(tmp_path, "SELECT count(*), sum(length(data)) FROM blobs") == [(1, len(png))]
    assert stored(tmp_path, "SELECT count(*) FROM attachments") == [(2,)]
    store = Store(tmp_path / "t502.db")
    try:
        loaded = store.load_conversation(conversation.id).messages
        assert loaded[1].content == reply.content and loaded[1].attachments == reply.attachments
        store.delete_message(loaded[1])
        assert stored(tmp_path, "SELECT count(*) FROM blobs") == [(1,)]  # the other reply still has it
        store.delete(conversation.id)
        assert stored(tmp_path, "SELECT count(*) FROM blobs") == [(0,)]
    finally:
        store.close()
    # "make it blue": the image goes back as an image part of the next user turn.
    messages = server.chat_requests()[1].json["messages"]
    assert messages[1] == {"role": "assistant", "content": "Here it is:\n\n[image 1]\n\nEnjoy."}
    parts = messages[2]["content"]
    assert parts[1] == image_part(data_url(png)) and parts[-1] == {"type": "text", "text": "again"}


async def test_images_in_delta_images_and_content_parts_are_kept(server: LoopbackServer, tmp_path: Path) -> None:
    png, jpeg = picture_png(), picture_jpeg()
    reply, events, conversation = await run_turn(
        server, tmp_path, "draw", delta_reply({"images": [image_part(data_url(png))]}, "Made:"))
    assert reply.content == "Made:\n\n![image 1](attachment:1)\n\n" and reply.attachments[0].data == png
    whole = Reply(body=json.dumps({"choices": [{"index": 0, "finish_reason": "stop", "message": {
        "role": "assistant", "content": [
            {"type": "text", "text": "Two:"}, image_part(b64(jpeg)),  # bare base64: a JPEG by its bytes
            image_part("https://cdn.example/c.png"), image_part("garbage that is no image")]}}]}))
    reply, _, _ = await run_turn(server, tmp_path, "more", whole, conversation=conversation, stream=False)
    assert [a.mime for a in reply.attachments] == ["image/jpeg"] and reply.attachments[0].data == jpeg
    assert reply.content == ("Two:\n\n![image 1](attachment:1)\n\n![image](https://cdn.example/c.png)\n\n"
                             "*[an image could not be kept: not a PNG, JPEG, WebP or GIF image]*\n\n")
    assert [link.url for link in pending_images(reply)] == ["https://cdn.example/c.png"]
    # An image before any text: the reply's row is written with it, once.
    reply, _, _ = await run_turn(server, tmp_path, "only", delta_reply({"images": [image_part(data_url(png))]}),
                                 conversation=conversation)
    assert reply.content == "![image 1](attachment:1)\n\n"
    assert stored(tmp_path, f"SELECT count(*) FROM attachments WHERE message_id = {reply.id}") == [(1,)]
    assert stored(tmp_path, "SELECT count(*) FROM attachments") == [(3,)]


async def test_linked_images_are_downloaded_without_the_key_and_failures_leave_a_retry(
        server: LoopbackServer, tmp_path: Path) -> None:
    base = server.url.removesuffix("/v1")
    stall = Gate()
    server.script("/files/ok", file_reply(picture_png(), "text/html"))  # the bytes decide, not the type
    server.script("/files/slow.png", Reply(chunks=[stall, b"late"], content_type="image/png"))
    server.script("/files/page.png", file_reply(b"<html>not an image</html>"))
    server.script("/files/bare.png", file_reply(picture_png(32, 32)))
    text = (f"![a]({base}/files/ok) ![b]({base}/files/gone.png) ![c]({base}/files/slow.png) "
            f"![d]({base}/files/page.png) and a bare link, fetched only when asked: {base}/files/bare.png")
    reply, _, _ = await run_turn(server, tmp_path, "draw", text_reply(text))
    changes: list[int] = []
    history = History(Store(tmp_path / "t502.db"))
    async with Downloader(idle_timeout=0.5) as downloader:
        await keep_linked_images(reply, history, lambda: changes.append(1), downloader)
    stall.open()
    assert [(a.source, a.data) for a in reply.attachments] == [(f"{base}/files/ok", picture_png())]
    errors = {url.rsplit("/", 1)[1]: state.error for url, state in reply.media.items()}
    assert errors["ok"] is None and "HTTP 404" in str(errors["gone.png"])
    assert "sent nothing for 0.5 s" in str(errors["slow.png"]) and "not give a PNG" in str(errors["page.png"])
    assert changes and reply.content == text  # failed links stay, to be tried again
    files = [r for r in server.requests if "/files/" in r.path]
    assert not [r for r in files if r.path.endswith("bare.png")]
    assert files and all("authorization" not in r.headers and KEY not in str(r.headers) for r in files)
    # Trying again (r: the bare link too) once the file is there keeps it; the store has them.
    server.script("/files/gone.png", file_reply(picture_jpeg()))
    await keep_linked_images(reply, history, lambda: None, everything=True)
    await history.close()
    assert sorted(a.source.rsplit("/", 1)[1] for a in reply.attachments if a.source) == ["bare.png", "gone.png", "ok"]
    assert reply.media[f"{base}/files/gone.png"].error is None
    assert len(stored(tmp_path, "SELECT source FROM attachments WHERE source IS NOT NULL")) == 3


async def test_a_video_link_is_fetched_with_progress_only_when_asked(server: LoopbackServer, tmp_path: Path) -> None:
    reply_for_video = scripted_media("video", server.url.removesuffix("/v1"), "veo")
    assert reply_for_video is not None
    reply, events, _ = await run_turn(server, tmp_path, "video", reply_for_video)
    assert "生成中 35%" in reply.content and not reply.attachments
    assert not [r for r in server.requests if "/files/" in r.path]  # not downloaded unless asked
    [link] = [link for link in links_in(reply.content) if link.kind == "video"]
    clip = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 400
    server.script("/files/clip.mp4", file_reply(clip, "video/mp4", pieces=8))
    seen: list[tuple[int, int | None]] = []
    path = await download_video(reply, link, tmp_path, lambda: seen.append(
        (reply.media[link.url].received, reply.media[link.url].total)))
    assert path == tmp_path / "clip.mp4" and path.read_bytes() == clip
    assert path.stat().st_mode & 0o777 == 0o600
    assert seen[-1] == (len(clip), len(clip)) and reply.media[link.url].path == path
    assert not reply.media[link.url].downloading


def test_export_and_import_keep_generated_images(tmp_path: Path) -> None:
    png, jpeg = picture_png(), picture_jpeg()
    reply = ChatMessage("assistant", "A sun: ![sun](attachment:1) and ![b](https://cdn.example/b.jpg)",
                        model="m", attachments=[Attachment("image-1.png", "image/png", png, 96, 64),
                                                Attachment("b.jpg", "image/jpeg", jpeg, 64, 64,
                                                           source="https://cdn.example/b.jpg")])
    conversation = Conversation(model="m", title="Pictures", messages=[ChatMessage("user", "draw"), reply])
    markdown = tmp_path / "out" / "pics.md"
    markdown.parent.mkdir()
    assert write_markdown(conversation, markdown) == 2
    text = markdown.read_text()
    assert "![sun](pics-images/2-1-image-1.png)" in text and "![b](pics-images/2-2-b.jpg)" in text
    assert "cdn.example" not in text and "base64" not in text
    assert (markdown.parent / "pics-images" / "2-1-image-1.png").read_bytes() == png
    exported = to_json(conversation)
    assert data_url(png) in exported
    back = read_export(exported).conversation
    assert back.messages[1].attachments == reply.attachments and back.messages[1].content == reply.content
    store = Store(tmp_path / "t502.db")
    try:
        ident = store.import_conversation(back)
        assert store.load_conversation(ident).messages[1].attachments == reply.attachments
    finally:
        store.close()
    nowhere = tmp_path / "no" / "such" / "pics.md"  # the transcript first: where it fails, nothing is written
    with pytest.raises(OSError):
        write_markdown(conversation, nowhere)
    assert not (tmp_path / "no").exists()
    hostile = Conversation(model="m", messages=[ChatMessage("assistant", "![x](attachment:1)", attachments=[
        Attachment("../../../escape me.png", "image/png", png)])])
    write_markdown(hostile, tmp_path / "out" / "h.md")
    assert [p.name for p in (tmp_path / "out" / "h-images").iterdir()] == ["1-1-escape-me.png"]
    old = json.loads(exported)  # a version 1 file: base64 in "data"
    old["t502_export"] = 1
    for image in old["messages"][1]["attachments"]:
        image["data"] = image.pop("url").split(",", 1)[1]
    assert read_export(json.dumps(old)).conversation.messages[1].attachments[0].data == png


def test_saving_an_image_makes_the_missing_folder_and_never_overwrites(tmp_path: Path) -> None:
    image = Attachment("image-1.png", "image/png", picture_png(), 96, 64)
    downloads = tmp_path / "Downloads"  # a first save, to a downloads folder not made yet
    first = write_image(image, downloads / "sun.png")
    assert first.read_bytes() == image.data and first.stat().st_mode & 0o777 == 0o600
    assert [write_image(image, downloads).name for _ in range(2)] == ["image-1.png", "image-1-2.png"]


def test_a_preview_refuses_bombs_and_damage_quickly() -> None:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    # A header that says 900 million pixels, with a few bytes of "image" after it.
    bomb = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 30000, 30000, 8, 2, 0, 0, 0)) \
        + chunk(b"IDAT", zlib.compress(b"\x00" * 1000)) + chunk(b"IEND", b"")
    for data, reason in ((bomb, "too large to preview"), (noisy_png(60000)[:30000], "truncated"),
                         (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "cannot be read")):
        with pytest.raises(ThumbnailError, match=reason):
            make_thumbnail(data)
    thumbnail = make_thumbnail(picture_png(960, 640))
    assert (thumbnail.width, thumbnail.height) == (240, 160)
    assert len(thumbnail.pixels(30, 20, (0, 0, 0))) == 30 * 20 * 3


def test_images_stored_before_schema_4_are_still_read(tmp_path: Path) -> None:
    store = Store(tmp_path / "t502.db")
    conversation = Conversation(model="m", messages=[ChatMessage("user", "hi")])
    store.add_message(conversation, conversation.messages[0])
    store.close()
    db = sqlite3.connect(tmp_path / "t502.db")
    db.execute("INSERT INTO attachments (message_id, name, mime, data) VALUES (1, 'old.png', 'image/png', ?)",
               (picture_png(),))
    db.commit()
    db.close()
    store = Store(tmp_path / "t502.db")
    try:
        assert store.load_conversation(conversation.id).messages[0].attachments[0].data == picture_png()
    finally:
        store.close()


def test_ask_saves_images_and_never_prints_base64(server: LoopbackServer, tmp_path: Path) -> None:
    png, big = picture_png(), noisy_png(1024 * 1024)
    base = server.url.removesuffix("/v1")
    server.script(CHAT, text_reply(f"One ![a](data:image/png;base64,{b64(big)}) two ![b]({base}/files/b.png) and"
                                   f" ![c]({base}/files/gone.png \"title\") three"))
    server.script("/files/b.png", file_reply(png))
    out = tmp_path / "pictures"
    result = subprocess.run([sys.executable, "-m", "t502_tui", "ask", "--save-images", str(out), "draw"],
                            capture_output=True, text=True, timeout=60,
                            env={**os.environ, "T502_BASE_URL": server.url, "T502_API_KEY": KEY})
    assert result.returncode == 0, result.stderr
    files = sorted(out.iterdir())
    assert [f.read_bytes() for f in files] == [big, png]
    # The link's image was saved: its path in the link's place; one that was not stays a link.
    assert result.stdout == f"One {files[0]} two {files[1]} and ![c]({base}/files/gone.png \"title\") three\n"
    assert f"{base}/files/gone.png was not downloaded" in result.stderr
    assert "downloading 2 images the reply links to (the answer follows; Ctrl+C prints it now)" in result.stderr
    assert f"saved {files[0]}" in result.stderr and f"saved {files[1]} (from {base}/files/b.png)" in result.stderr
    assert b64(big)[:100] not in result.stdout + result.stderr and "Traceback" not in result.stderr
    bad = subprocess.run([sys.executable, "-m", "t502_tui", "ask", "--save-images", str(files[0]), "x"],
                         capture_output=True, text=True, timeout=60, env={**os.environ})
    assert bad.returncode == 2 and "not a folder" in bad.stderr


def test_thousands_of_images_in_one_piece_keep_the_first_ones_only() -> None:
    extractor = MediaExtractor()
    out = extractor.feed("a ![](data:image/png;base64,QQ)" * 5000) + extractor.finish()
    assert "".join(p for p in out if isinstance(p, str)) == "a " * 5000
    assert len([p for p in out if isinstance(p, RawImage)]) == media.MAX_IMAGES
    assert extractor.dropped == 5000 - media.MAX_IMAGES


@pytest.mark.parametrize("reply", [
    text_reply("![](data:image/png;base64,QQ)" * 1000, piece=10**9),
    delta_reply({"images": [image_part("QQ")] * 600 + [image_part("https://cdn.example/a.png")] * 400}),
], ids=["in the text", "in images[]"])
async def test_images_past_the_limit_are_one_note_however_many_fail(
        server: LoopbackServer, tmp_path: Path, reply: Reply) -> None:
    kept, _, _ = await run_turn(server, tmp_path, "draw", reply)
    assert kept.content.count("*[an image could not be kept: not a PNG, JPEG, WebP or GIF image]*") == media.MAX_IMAGES
    assert kept.content.endswith(f"*[{1000 - media.MAX_IMAGES} more images dropped: t502 keeps at most "
                                 f"{media.MAX_IMAGES} of one reply]*\n\n")
    assert "cdn.example" not in kept.content and len(kept.content) < 5000


@pytest.mark.parametrize("step", [1, 3, 10**6])
def test_a_data_url_missing_its_parenthesis_ends_at_the_first_space(step: int) -> None:
    url, rest = f"data:image/png;base64,{b64(picture_png())}", ' "a title that never ends' + " x" * 300
    kept, images = lifted(f"![a]({url} and the rest of the answer.\n\n![b]({url}  \n) ![c]({url} \"a title\"\n)"
                          f" ![d]({url}{rest}", step)
    assert kept == f"<IMAGE> and the rest of the answer.\n\n<IMAGE> <IMAGE> <IMAGE>{rest}"
    assert [decode_image(image, "i").data for image in images] == [picture_png()] * 4


def test_a_markdown_image_of_a_video_file_is_a_video() -> None:
    reply = ChatMessage("assistant", "![video](https://v.example/clip.mp4) ![pic](https://v.example/pic)")
    assert [(link.kind, link.name) for link in links_in(reply.content)] == [("video", "clip.mp4"), ("image", "pic")]
    assert [link.url for link in pending_images(reply)] == ["https://v.example/pic"]


async def test_a_link_urlsplit_cannot_read_is_still_kept_under_a_plain_name(server: LoopbackServer) -> None:
    url = server.url.removesuffix("/v1").replace("http://", "http://user\uff20@") + "/files/a.png"
    server.script("/files/a.png", file_reply(picture_png()))
    reply = ChatMessage("assistant", f"![x]({url})")
    await keep_linked_images(reply, None, lambda: None, own_url=server.url)
    assert [(a.name, a.data) for a in reply.attachments] == [("image.png", picture_png())]


async def test_an_image_downloading_is_not_downloaded_again_and_tells_its_progress(server: LoopbackServer) -> None:
    base = server.url.removesuffix("/v1")
    gate, png = Gate(), noisy_png(300_000)
    server.script("/files/a.png", Reply(chunks=[png[:100_000], gate, png[100_000:]], content_type="image/png",
                                        headers={"Content-Length": str(len(png))}),
                  file_reply(png))  # what a second download would get
    reply = ChatMessage("assistant", f"![x]({base}/files/a.png)")
    state = reply.media.setdefault(f"{base}/files/a.png", media.MediaState())
    started = asyncio.Event()

    def changed() -> None:
        if state.total is not None:
            started.set()

    first = asyncio.create_task(keep_linked_images(reply, None, changed, own_url=server.url))
    await started.wait()
    assert state.downloading and state.total == len(png)  # the caption says how much came
    assert pending_images(reply, everything=True) == []
    second = asyncio.create_task(keep_linked_images(reply, None, lambda: None, everything=True))  # r meanwhile
    gate.open()
    await asyncio.gather(first, second)
    assert [a.data for a in reply.attachments] == [png] and state.received == len(png)
    assert len(server.requests_to("/files/a.png")) == 1


async def test_downloads_nobody_asked_for_stay_off_local_hosts(server: LoopbackServer) -> None:
    base = server.url.removesuffix("/v1")
    server.script("/files/own.png", file_reply(picture_png()))
    server.script("/files/local.png", file_reply(picture_jpeg()))
    local = base.replace("127.0.0.1", "localhost") + "/files/local.png"
    reply = ChatMessage("assistant", f"![a]({base}/files/own.png) ![b]({local}) ![c](http://192.0.2.1/x.png) "
                                     "![d](http://[::ffff:10.0.0.1]/y.png)")
    await keep_linked_images(reply, None, lambda: None, own_url=server.url)
    assert [a.source for a in reply.attachments] == [f"{base}/files/own.png"]  # the provider's own host
    errors = {url: state.error for url, state in reply.media.items() if state.error}
    assert sorted(errors) == sorted([local, "http://192.0.2.1/x.png", "http://[::ffff:10.0.0.1]/y.png"])
    assert all("local or private address, not fetched without asking" in e for e in errors.values())
    assert server.requests_to("/files/local.png") == []
    # r: the user asks for them.
    reply.content = f"![b]({local})"
    await keep_linked_images(reply, None, lambda: None, everything=True)
    assert [a.source for a in reply.attachments][1:] == [local]


@pytest.fixture
def https_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LoopbackServer]:
    """A loopback server on https, its certificate (made for 127.0.0.1) trusted by httpx."""
    made = self_signed(tmp_path)
    if made is None:
        pytest.skip("openssl is needed to make a certificate")
    context, cert = made
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    secure = LoopbackServer(tls=context).start()
    yield secure
    secure.stop()


async def test_downloads_nobody_asked_for_never_go_from_https_to_http(
        server: LoopbackServer, https_server: LoopbackServer) -> None:
    plain = f"{server.url.removesuffix('/v1')}/files/a.png"
    https_server.script("/files/a.png", *[Reply(status=302, headers={"Location": plain}, body="")] * 2)
    server.script("/files/a.png", file_reply(picture_png()))
    url = f"{https_server.url.removesuffix('/v1')}/files/a.png"
    async with Downloader(public_only=True, own_url=https_server.url) as careful:
        with pytest.raises(DownloadError, match="redirects from https to plain http"):
            await careful.fetch(url, 1_000_000)
    assert server.requests_to("/files/a.png") == []
    async with Downloader() as asked:
        assert await asked.fetch(url, 1_000_000) == picture_png()


async def test_downloads_nobody_asked_for_reach_the_providers_server_not_other_ports_of_its_host(
        server: LoopbackServer) -> None:
    server.script("/files/a.png", file_reply(picture_png()))
    root = server.url.removesuffix("/v1")
    async with Downloader(public_only=True, own_url=server.url) as careful:
        assert await careful.fetch(f"{root}/files/a.png", 1_000_000) == picture_png()
        with pytest.raises(DownloadError, match="local or private address"):
            await careful.fetch("http://127.0.0.1:1/x.png", 1_000_000)  # another service on the provider's host


def test_names_from_servers_and_imported_files_stay_in_their_folder(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    for name in ("../../escaped.png", str(tmp_path / "abs.png"), "[/]x.png", "a\x00b.png", ".hidden.png", ".."):
        write_image(Attachment(name, "image/png", picture_png(), 96, 64), folder)
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == [
        "a-b.png", "abs.png", "escaped.png", "hidden.png", "image", "x.png"]
    assert all(p.parent == folder for p in folder.iterdir())
    reply = ChatMessage("assistant", "![x](attachment:1)",
                        attachments=[Attachment("../../\x1b[2Jevil.png", "image/png", picture_png(), 96, 64)])
    back = read_export(to_json(Conversation(model="m", messages=[reply]))).conversation
    assert back.messages[0].attachments[0].name == "2Jevil.png"


async def test_a_video_to_a_path_that_cannot_be_is_a_reason_not_a_crash(server: LoopbackServer, tmp_path: Path) -> None:
    reply = ChatMessage("assistant", server.url.removesuffix("/v1") + "/files/clip.mp4")  # never the internet
    [link] = links_in(reply.content)
    assert await download_video(reply, link, tmp_path / "a\x00b.mp4", lambda: None) is None
    assert "could not write" in str(reply.media[link.url].error) and not reply.media[link.url].downloading


def test_only_the_four_image_formats_are_decoded(tmp_path: Path) -> None:
    bmp = io.BytesIO()
    Image.open(io.BytesIO(picture_png())).save(bmp, "BMP")
    with pytest.raises(ThumbnailError):
        make_thumbnail(bmp.getvalue())
    reply = ChatMessage("assistant", "![x](attachment:1)",
                        attachments=[Attachment("x.png", "image/png", bmp.getvalue(), 96, 64)])
    with pytest.raises(ImportError_, match="message 1: an attachment is not a PNG, JPEG, WebP or GIF image"):
        read_export(to_json(Conversation(model="m", messages=[reply])))


@pytest.mark.parametrize("public_only", [True, False])
async def test_a_download_redirected_to_a_file_on_disk_says_so(server: LoopbackServer, public_only: bool) -> None:
    server.script("/files/a.png", Reply(status=302, headers={"Location": "file:///etc/passwd"}, body=""))
    async with Downloader(public_only=public_only, own_url=server.url) as downloader:
        with pytest.raises(DownloadError, match="redirects to a file: address, not a web one"):
            await downloader.fetch(f"{server.url.removesuffix('/v1')}/files/a.png", 1_000_000)


async def test_a_file_on_the_providers_own_server_is_fetched_with_its_key_and_no_other_gets_it(
        server: LoopbackServer) -> None:
    other = LoopbackServer().start()
    try:
        server.key = "sk-relay-files-key"  # a relay serving what it made behind the key, as its API is
        root, elsewhere = server.url.removesuffix("/v1"), other.url.removesuffix("/v1")
        server.script("/files/a.png", file_reply(picture_png()))
        server.script("/files/b.png", Reply(status=302, headers={"Location": f"{elsewhere}/files/b.png"}, body=""))
        other.script("/files/b.png", file_reply(picture_png()))
        async with Downloader(own_url=server.url, own_key="sk-relay-files-key") as downloader:
            assert await downloader.fetch(f"{root}/files/a.png", 1_000_000) == picture_png()
            assert await downloader.fetch(f"{root}/files/b.png", 1_000_000) == picture_png()
        [asked] = other.requests_to("/files/b.png")
        assert "authorization" not in {name.lower() for name in asked.headers}
        async with Downloader(own_url=other.url, own_key="sk-relay-files-key") as downloader:
            with pytest.raises(DownloadError, match="HTTP 401"):  # the key goes to its own server only
                await downloader.fetch(f"{root}/files/a.png", 1_000_000)
    finally:
        other.stop()
