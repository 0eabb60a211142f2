"""An incremental Server-Sent Events decoder that is correct for real servers.

Bytes go in as the network delivers them (a line, or a UTF-8 character, may be split
across reads); complete events come out. Lines end with LF, CRLF or CR; ``:`` lines are
comments; several ``data:`` lines join with newlines; a last event with no blank line
after it is still delivered by :meth:`SSEDecoder.close`. A fast server sends tens of
thousands of events a second, so the common case (LF lines, ``data:`` fields) takes
the shortest path.
"""

from __future__ import annotations

import codecs
from typing import NamedTuple


class SSEEvent(NamedTuple):
    """One dispatched event."""

    data: str
    event: str = "message"


class SSEDecoder:
    """Feed bytes with :meth:`feed`; each call returns the events completed so far."""

    def __init__(self) -> None:
        self._utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._buffer = ""
        """The unfinished last line."""
        self._data: list[str] = []
        self._event = ""
        self._started = False

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        """Decode ``chunk`` and return the events it completes."""
        text = self._utf8.decode(chunk)
        if not self._started and text:
            self._started = True
            text = text.removeprefix("\ufeff")
        return self._lines(self._buffer + text if self._buffer else text, final=False)

    def close(self) -> list[SSEEvent]:
        """End of stream: return what is left, including an unterminated last event."""
        text = self._buffer + self._utf8.decode(b"", final=True)
        self._buffer = ""
        return self._lines(text + "\n\n", final=True)

    def _lines(self, text: str, final: bool) -> list[SSEEvent]:
        """Read the complete lines of ``text``, keeping the unfinished last one."""
        held = ""
        if "\r" in text:
            if text.endswith("\r") and not final:
                text, held = text[:-1], "\r"  # may be the first half of a CRLF
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        lines = text.split("\n")
        self._buffer = lines.pop() + held
        events: list[SSEEvent] = []
        data = self._data
        for line in lines:
            if not line:
                if data:
                    events.append(SSEEvent("\n".join(data), self._event or "message"))
                    self._data = data = []
                self._event = ""
            elif line.startswith("data:"):
                data.append(line[6:] if line.startswith(" ", 5) else line[5:])
            elif not line.startswith(":"):
                name, colon, value = line.partition(":")
                if colon and value.startswith(" "):
                    value = value[1:]
                if name == "data":
                    data.append(value)
                elif name == "event":
                    self._event = value
        return events
