"""Text and code files as context: read whatever their encoding, binary refused, fenced."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from t502_tui.attachments import AttachmentError, expand_paths, load_attachment, paths_from_text
from t502_tui.conversation import ChatMessage
from t502_tui.text_files import decode_text, fenced

TEXT = "naïve café — ünïcode ✓\nline two\n"


@pytest.mark.parametrize(("data", "encoding"), [
    (TEXT.encode("utf-8"), "utf-8"),
    (codecs.BOM_UTF8 + TEXT.encode("utf-8"), "utf-8"),
    (TEXT.encode("utf-16"), "utf-16"),  # with its byte-order mark
    (TEXT.encode("utf-16-le"), "utf-16"),  # without one
    (TEXT.encode("utf-16-be"), "utf-16"),
    (TEXT.encode("utf-32"), "utf-32"),
])
def test_unicode_files_are_read_in_their_encoding(data: bytes, encoding: str) -> None:
    assert decode_text(data) == (TEXT, encoding)


def test_older_western_files_are_read_as_windows_1252() -> None:
    assert decode_text("price: 5 € — naïve".encode("cp1252")) == ("price: 5 € — naïve", "cp1252")


def test_a_terminals_log_is_text() -> None:
    # `script` keeps every title (ESC ] 0 ; ... BEL) and every backspace typed.
    line = "\x1b]0;user@host: ~\x07$ lss\x08 \x08\x08 \x08ls\r\nnotes.txt\r\n"
    assert decode_text((line * 40).encode()) == (line * 40, "utf-8")


@pytest.mark.parametrize("data", [
    b"\x7fELF\x02\x01\x01\x00" + bytes(200),
    bytes(range(256)) * 8,
    b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(100),
    "".join(chr(c) for c in range(1, 9)).encode() * 50,
])
def test_binary_files_are_refused(data: bytes) -> None:
    assert decode_text(data) is None


def test_a_file_is_fenced_under_its_name_beyond_its_own_backticks() -> None:
    assert fenced("main.py", "print(1)") == "main.py\n```python\nprint(1)\n```"
    readme = "# Title\n````\ncode\n````\n"
    block = fenced("README.md", readme)
    assert block.startswith("README.md\n`````markdown\n") and block.endswith("\n`````")


def test_loading_files_says_what_is_wrong(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_bytes("notes in latin-1: café".encode("latin-1"))
    attachment = load_attachment(tmp_path / "notes.txt")
    assert attachment.kind == "text" and attachment.text == "notes in latin-1: café"
    assert attachment.describe() == "notes.txt · ≈13 tokens"  # its text, name and fence
    with pytest.raises(AttachmentError, match=r"is a folder: attach the files in it instead .*\*\.py"):
        load_attachment(tmp_path)
    (tmp_path / "big.log").write_text("x" * 3000)
    with pytest.raises(AttachmentError, match=r"big.log is 3 KB; text files up to 2 KB can be attached"):
        load_attachment(tmp_path / "big.log", max_text_bytes=2048)
    (tmp_path / "a.out").write_bytes(b"\x00\x01\x02" * 100)
    with pytest.raises(AttachmentError, match="a.out looks like a binary file"):
        load_attachment(tmp_path / "a.out")
    with pytest.raises(AttachmentError, match="no such file"):
        load_attachment(tmp_path / "missing.txt")


def test_several_paths_pasted_dropped_or_typed(tmp_path: Path) -> None:
    one, two = tmp_path / "one file.py", tmp_path / "two.md"
    one.write_text("a")
    two.write_text("b")
    assert paths_from_text(str(one)) == [one]  # spaces and all
    assert paths_from_text(f"'{one}' {two}") == [one, two]  # as a terminal drops two files
    assert paths_from_text(f"{str(one).replace(' ', chr(92) + ' ')} {two}") == [one, two]
    assert paths_from_text("look at this and that") == []
    assert paths_from_text(f"{two} and words") == []
    assert expand_paths(f"'{one}' {tmp_path}/*.md {tmp_path}/none.txt") == [one, two, tmp_path / "none.txt"]


def test_files_go_first_fenced_then_the_message() -> None:
    from t502_tui.attachments import Attachment

    note = Attachment("todo.txt", "text/plain", b"buy milk", kind="text")
    image = Attachment("dot.png", "image/png", b"\x89PNG", 1, 1)
    assert ChatMessage("user", "what next?", attachments=[note]).api_content() == (
        "todo.txt\n```\nbuy milk\n```\n\nwhat next?")
    assert ChatMessage("user", "", attachments=[note]).api_content() == "todo.txt\n```\nbuy milk\n```"
    parts = ChatMessage("user", "and this?", attachments=[note, image]).api_content()
    assert isinstance(parts, list) and parts[0]["text"].endswith("```\n\nand this?")
    assert parts[1]["type"] == "image_url"
