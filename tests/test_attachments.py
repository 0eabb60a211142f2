"""Recognising images by their headers, and the rules for attaching them."""

from __future__ import annotations

import os
import struct
from pathlib import Path

import pytest

from t502_tui.attachments import AttachmentError, check_count, load_attachment, load_image, path_from_text, sniff
from test_cli import tiny_png


def jpeg(width: int, height: int) -> bytes:
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00" + b"\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + app0 + sof + b"\xff\xd9"


def webp_vp8x(width: int, height: int) -> bytes:
    body = b"VP8X" + struct.pack("<I", 10) + b"\x00\x00\x00\x00" + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    return b"RIFF" + struct.pack("<I", len(body) + 4) + b"WEBP" + body


@pytest.mark.parametrize(("data", "expected"), [
    (tiny_png(7, 5), ("image/png", 7, 5)),
    (jpeg(640, 480), ("image/jpeg", 640, 480)),
    (b"GIF89a" + struct.pack("<HH", 12, 34) + b"\0" * 10, ("image/gif", 12, 34)),
    (webp_vp8x(300, 200), ("image/webp", 300, 200)),
    (b"%PDF-1.7 not an image", None),
])
def test_sniff(data: bytes, expected: tuple[str, int, int] | None) -> None:
    assert sniff(data) == expected


def test_load_image_and_describe(tmp_path: Path) -> None:
    path = tmp_path / "photo.jpg"
    path.write_bytes(jpeg(640, 480))
    image = load_image(path)
    assert image.mime == "image/jpeg" and image.describe().endswith("640×480")
    assert image.data_url().startswith("data:image/jpeg;base64,/9j/")


def test_an_image_with_no_pixels_is_refused(tmp_path: Path) -> None:
    empty = tmp_path / "zero.png"
    empty.write_bytes(b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + struct.pack(">II", 0, 0) + bytes(9))
    for load in (load_image, load_attachment):
        with pytest.raises(AttachmentError, match=r"zero.png is an image with no pixels \(0×0\)"):
            load(empty)


def test_limits(tmp_path: Path) -> None:
    path = tmp_path / "big.png"
    path.write_bytes(tiny_png())
    with pytest.raises(AttachmentError, match="the limit is"):
        load_image(path, max_bytes=10)
    with pytest.raises(AttachmentError, match="is a folder"):
        load_image(tmp_path)
    notes = tmp_path / "notes.txt"  # bigger than either limit: both are said, not the image's alone
    with notes.open("wb") as file:
        file.truncate(3 * 1024 * 1024)
    with pytest.raises(AttachmentError, match="^notes.txt is 3.0 MB; images up to 2.0 MB and text files up to"
                                              " 512 KB can be attached$"):
        load_attachment(notes, 2 * 1024 * 1024, 512 * 1024)
    with pytest.raises(AttachmentError, match="at most 2 images"):
        check_count(3, 2)


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "secret.png"
    path.write_bytes(tiny_png())

    real_open = os.open

    def refuse(name: object, *args: object) -> int:  # chmod 0 is no obstacle to root: refuse by hand
        if str(name) == str(path):
            raise PermissionError(13, "Permission denied")
        return real_open(name, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", refuse)
    with pytest.raises(AttachmentError, match="cannot read"):
        load_image(path)


def test_path_from_pasted_text(tmp_path: Path) -> None:
    path = tmp_path / "my pic.png"
    path.write_bytes(tiny_png())
    assert path_from_text(f"'{path}'") == path
    assert path_from_text(str(path).replace(" ", "\\ ")) == path
    assert path_from_text(f"file://{str(path).replace(' ', '%20')}") == path
    assert path_from_text("just some words") is None
    assert path_from_text(f"{path}\n{path}") is None


async def test_path_completion(tmp_path: Path) -> None:
    from t502_tui.ui.screens.attach import PathSuggester

    (tmp_path / "holiday.png").write_bytes(b"x")
    (tmp_path / "homework").mkdir()
    suggester = PathSuggester()
    assert await suggester.get_suggestion(str(tmp_path / "hol")) == str(tmp_path / "holiday.png")
    assert await suggester.get_suggestion(str(tmp_path / "home")) == str(tmp_path / "homework") + "/"
    assert await suggester.get_suggestion(str(tmp_path / "zzz")) is None


def test_only_regular_files_are_read_and_never_past_the_limit(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    with pytest.raises(AttachmentError, match="not a regular file"):
        load_image(fifo)  # today: waits forever for a writer
    with pytest.raises(AttachmentError, match="not a regular file"):
        load_image(Path("/dev/zero"), 1024)  # today: reads until memory runs out
    with pytest.raises(AttachmentError, match="folder"):
        load_image(tmp_path)
