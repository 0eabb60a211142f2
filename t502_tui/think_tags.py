"""Thinking that a model writes into its answer, between ``<think>`` and ``</think>``.

DeepSeek-R1, Qwen3 and their kin think this way when the server does not set the thinking
apart as ``reasoning_content`` (Ollama, llama.cpp, vLLM without a reasoning parser, many
relays). Left in the answer, Markdown drops the tags and shows the thinking as if it were
the answer, and it is sent back to the model with every later request.
"""

from __future__ import annotations

from enum import Enum

OPEN, CLOSE = "<think>", "</think>"
HELD_AT_START = 64
"""Characters held back while they could still begin ``<think>`` at the start (blank
lines before it), or end the thinking (blank lines before ``</think>``)."""


class _Part(Enum):
    START = "start"
    THINKING = "thinking"
    AFTER = "after"
    """Just after ``</think>``: the blank lines before the answer are dropped."""
    ANSWER = "answer"


class ThinkTags:
    """Splits the text of one reply, piece by piece, into the thinking it starts with and
    the answer. Only a reply that starts with ``<think>`` is split; a tag later in the
    answer is the answer's (a model explaining the tags)."""

    def __init__(self) -> None:
        self._part = _Part.START
        self._held = ""
        """Text that may be the start of a tag, kept until the next piece tells."""
        self._thought_begun = False

    def feed(self, text: str) -> tuple[str, str]:
        """The thinking and the answer in ``text``; what may be half a tag is held back."""
        if self._part is _Part.ANSWER:
            return "", text
        text, self._held = self._held + text, ""
        if self._part is _Part.START:
            begun = text.lstrip()
            if begun.startswith(OPEN):
                self._part = _Part.THINKING
                text = begun[len(OPEN):]
            elif OPEN.startswith(begun) and len(text) < HELD_AT_START:
                self._held = text
                return "", ""
            else:
                self._part = _Part.ANSWER
                return "", text
        if self._part is _Part.THINKING:
            end = text.find(CLOSE)
            if end < 0:
                kept = _tag_start(text)
                self._held = text[kept:]
                return self._thought(text[:kept]), ""
            thought, text = text[:end], text[end + len(CLOSE):]
            self._part = _Part.AFTER
            return self._thought(thought).rstrip(), self._answer(text)
        return "", self._answer(text)

    def _thought(self, text: str) -> str:
        if not self._thought_begun:  # "<think>\n": the thinking starts on its first words
            text = text.lstrip()
            self._thought_begun = bool(text)
        return text

    def _answer(self, text: str) -> str:
        text = text.lstrip()
        if text:
            self._part = _Part.ANSWER
        return text

    def finish(self) -> tuple[str, str]:
        """The reply ended: what was held back, as thinking or as answer."""
        held, self._held = self._held, ""
        return (held, "") if self._part is _Part.THINKING else ("", held)


def _tag_start(text: str) -> int:
    """Where what may still end the thinking starts: a ``</think>`` cut off by the end of
    ``text``, and the blank space before it (up to HELD_AT_START characters)."""
    start = next((start for start in range(max(0, len(text) - len(CLOSE) + 1), len(text))
                  if CLOSE.startswith(text[start:])), len(text))
    blank = len(text[:start]) - len(text[:start].rstrip())
    return start - blank if blank < HELD_AT_START else start
