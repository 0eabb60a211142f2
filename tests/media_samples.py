"""Images, videos and replies that carry them, for tests, benchmarks and trying t502 by
hand (``draw``, ``draw big``, ``prose big`` (text of the same size), ``draw link``,
``draw parts``, ``draw images``, ``video`` in tests/scripted_replies.py)."""

from __future__ import annotations

import base64
import io
import os
from functools import cache
from typing import Any

from PIL import Image, ImageDraw

from loopback import Pause, Reply, chunk, sse, stream_reply, usage_chunk


@cache
def picture_png(width: int = 96, height: int = 64) -> bytes:
    """A small picture with shapes and colours (a preview shows them)."""
    image = Image.new("RGB", (width, height))
    pixels = image.load()
    for x in range(width):
        for y in range(height):
            pixels[x, y] = (x * 255 // width, y * 255 // height, 160)
    draw = ImageDraw.Draw(image)
    draw.ellipse((width // 4, height // 4, width * 3 // 4, height * 3 // 4), fill=(250, 220, 40))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


@cache
def noisy_png(size: int) -> bytes:
    """A PNG of about ``size`` bytes (noise does not compress)."""
    side = int((size / 3) ** 0.5)
    image = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=0)
    return out.getvalue()


@cache
def picture_jpeg(width: int = 64, height: int = 64) -> bytes:
    out = io.BytesIO()
    Image.open(io.BytesIO(picture_png(width, height))).convert("RGB").save(out, "JPEG")
    return out.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def data_url(data: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64,{b64(data)}"


def text_reply(text: str, piece: int = 4000, model: str = "image-model") -> Reply:
    """``text`` streamed in pieces of ``piece`` characters."""
    parts = [text[i:i + piece] for i in range(0, len(text), piece)]
    return stream_reply(sse(chunk(role="assistant", content="", model=model),
                            *[chunk(p, model=model) for p in parts],
                            chunk(finish="stop", model=model), usage_chunk(5, 7)))


def delta_reply(delta: dict[str, Any], text: str = "", model: str = "image-model") -> Reply:
    """A stream whose one content chunk carries ``delta`` (e.g. ``images``) besides ``text``."""
    item = chunk(text, model=model)
    item["choices"][0]["delta"].update(delta)
    return stream_reply(sse(chunk(role="assistant", content="", model=model), item,
                            chunk(finish="stop", model=model), usage_chunk(5, 7)))


def image_part(url: str) -> dict[str, Any]:
    return {"type": "image_url", "image_url": {"url": url}}


def file_reply(data: bytes, content_type: str = "image/png", pieces: int = 1, pause: float = 0.0) -> Reply:
    """A file from a media host, in ``pieces`` pieces (for progress), ``pause`` s apart."""
    if pieces <= 1:
        return Reply(body=data, content_type=content_type)
    step = -(-len(data) // pieces)
    chunks: list[Any] = []
    for i in range(0, len(data), step):
        chunks += [data[i:i + step]] + ([Pause(pause)] if pause else [])
    return Reply(chunks=chunks, content_type=content_type, headers={"Content-Length": str(len(data))})


@cache
def big_image_text() -> str:
    """A reply carrying a 5 MB PNG as a data URL (about 7 MB of text)."""
    return f"A large one:\n\n![big](data:image/png;base64,{b64(noisy_png(5 * 1024 * 1024))})\n\nDone. END-OF-REPLY"


def prose_like(size: int) -> str:
    """``size`` characters of plain paragraphs, ending like :func:`big_image_text`."""
    paragraph = "Plain words of a long reply, a few dozen of them, to be drawn as text in the view. " * 8 + "\n\n"
    return (paragraph * (size // len(paragraph) + 1))[:size - 18] + "Done. END-OF-REPLY"


def scripted_media(prompt: str, base: str, model: str) -> Reply | None:
    """The replies tests/scripted_replies.py gives for media keywords; ``base`` is the
    server's own address, where the linked files are."""
    if "draw big" in prompt:
        return text_reply(big_image_text(), model=model)
    if "prose big" in prompt:
        return text_reply(prose_like(len(big_image_text())), model=model)
    if "draw link" in prompt:
        return text_reply(f"Here: ![sunset]({base}/files/sunset.png) and a broken one ![gone]({base}/files/gone.png)",
                          model=model)
    if "draw parts" in prompt:
        return Reply(body=__import__("json").dumps({
            "id": "x", "object": "chat.completion", "model": model,
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": [
                {"type": "text", "text": "Two pictures:"}, image_part(b64(picture_jpeg())),
                image_part(data_url(picture_png(64, 96)))]}}]}))
    if "draw images" in prompt:
        return delta_reply({"images": [image_part(data_url(picture_png(120, 80)))]}, "Made with images[]:", model)
    if "draw" in prompt:
        return text_reply(f"Here is your picture:\n\n![a sun](data:image/png;base64,{b64(picture_png())})\n\nAnything else?",
                          piece=500, model=model)
    if "video" in prompt:
        steps = [chunk(role="assistant", content="", model=model)]
        steps += [chunk(f"生成中 {p}%\n", model=model) for p in (5, 35, 70, 100)]
        steps += [chunk(f"\nYour video: {base}/files/clip.mp4\n", model=model), chunk(finish="stop", model=model)]
        return stream_reply(sse(*steps))
    return None


def media_file(path: str) -> Reply | None:
    """The files the scripted replies link to."""
    if path.endswith("/files/sunset.png"):
        return file_reply(picture_png(160, 90), "application/octet-stream")
    if path.endswith("/files/clip.mp4"):
        return file_reply(b"\x00\x00\x00\x18ftypmp42" + os.urandom(3 * 1024 * 1024), "video/mp4", pieces=60, pause=0.05)
    return None
