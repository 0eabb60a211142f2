"""Text and code files sent as context: decoded whatever their encoding, binary refused,
and sent to the model as a fenced block headed by the file's name.

The encoding is told without a dependency: a byte-order mark (UTF-8, UTF-16, UTF-32)
decides; else UTF-16 without a mark shows as a NUL in every other byte; else UTF-8 if
the bytes are valid UTF-8; else Windows-1252 (Latin-1 for the few bytes it leaves
undefined), the usual encoding of older Western text files. A NUL byte or many control
characters mean a binary file.
"""

from __future__ import annotations

import codecs
import re
from pathlib import PurePath

SNIFF_BYTES = 8192
MAX_CONTROL_SHARE = 0.02
"""Above this share of control characters (other than tab, new lines, form feed, and the
escape, bell and backspace of a terminal's log), a file is taken as binary."""

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
)
_CONTROL = re.compile(r"[\x00-\x06\x0b\x0e-\x1a\x1c-\x1f\x7f]")
_TICKS = re.compile(r"`{3,}")

LANGUAGES = {
    ".py": "python", ".pyi": "python", ".js": "javascript", ".mjs": "javascript", ".jsx": "jsx",
    ".ts": "typescript", ".tsx": "tsx", ".rs": "rust", ".go": "go", ".java": "java", ".kt": "kotlin",
    ".c": "c", ".h": "c", ".cc": "cpp", ".cpp": "cpp", ".hpp": "cpp", ".cs": "csharp", ".rb": "ruby",
    ".php": "php", ".swift": "swift", ".lua": "lua", ".r": "r", ".sh": "bash", ".bash": "bash",
    ".zsh": "zsh", ".fish": "fish", ".ps1": "powershell", ".sql": "sql", ".html": "html", ".css": "css",
    ".scss": "scss", ".json": "json", ".yaml": "yaml", ".yml": "yaml", ".toml": "toml", ".ini": "ini",
    ".xml": "xml", ".md": "markdown", ".tex": "latex", ".diff": "diff", ".patch": "diff",
    ".dockerfile": "dockerfile", ".mk": "make",
}
"""Fence languages by suffix, so the model (and the Markdown view) know what the code is."""


def _looks_utf16(head: bytes) -> str | None:
    """``utf-16-le`` or ``utf-16-be`` when NULs fill every other byte, else None."""
    even, odd = head[0::2], head[1::2]
    if len(head) < 4:
        return None
    if odd.count(0) > len(odd) * 0.4 and even.count(0) < len(even) * 0.05:
        return "utf-16-le"
    if even.count(0) > len(even) * 0.4 and odd.count(0) < len(odd) * 0.05:
        return "utf-16-be"
    return None


def _decode_legacy(data: bytes) -> str:
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def decode_text(data: bytes) -> tuple[str, str] | None:
    """(text, encoding name) of a text file's bytes, or None for a binary file."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                text, encoding = data.decode(codec), codec.replace("-sig", "")
            except UnicodeDecodeError:
                return None
            break
    else:
        head = data[:SNIFF_BYTES]
        if b"\x00" in head:
            codec = _looks_utf16(head)
            if codec is None:
                return None
            try:
                text, encoding = data.decode(codec), "utf-16"
            except UnicodeDecodeError:
                return None
        else:
            try:
                text, encoding = data.decode("utf-8"), "utf-8"
            except UnicodeDecodeError:
                text, encoding = _decode_legacy(data), "cp1252"
    sample = text[:SNIFF_BYTES]
    if sample and len(_CONTROL.findall(sample)) > len(sample) * MAX_CONTROL_SHARE:
        return None
    return text, encoding


def fenced(name: str, text: str) -> str:
    """The file as the model gets it: its name, then its text in a fence longer than any
    run of backticks inside it (so a Markdown file cannot close the fence early)."""
    longest = max((len(run) for run in _TICKS.findall(text)), default=2)
    fence = "`" * max(3, longest + 1)
    language = LANGUAGES.get(PurePath(name).suffix.lower(), "")
    body = text if text.endswith("\n") or not text else text + "\n"
    return f"{name}\n{fence}{language}\n{body}{fence}"
