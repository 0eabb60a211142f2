"""An incremental Server-Sent Events decoder that is correct for real servers.

Bytes go in as the network delivers them (a line, or a UTF-8 character, may be split
across reads); complete events come out. Lines end with LF, CRLF or CR; ``:`` lines are
comments; several ``data:`` lines join with newlines; a last event with no blank line
after it is still delivered by :meth:`SSEDecoder.close`.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass


@dataclass(frozen=True)
class SSEEvent:
    """One dispatched event."""

    data: str
    event: str = "message"


class SSEDecoder:
    """Feed bytes with :meth:`feed`; each call returns the events completed so far."""

    def __init__(self) -> None:
        self._utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._buffer = ""
        self._data: list[str] = []
        self._event = ""
        self._started = False

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        """Decode ``chunk`` and return the events it completes."""
        self._buffer += self._utf8.decode(chunk)
        return self._drain(final=False)

    def close(self) -> list[SSEEvent]:
        """End of stream: return what is left, including an unterminated last event."""
        self._buffer += self._utf8.decode(b"", final=True)
        events = self._drain(final=True)
        if self._buffer:
            self._line(self._buffer, events)
            self._buffer = ""
        self._dispatch(events)
        return events

    def _drain(self, final: bool) -> list[SSEEvent]:
        events: list[SSEEvent] = []
        buffer = self._buffer
        start = 0
        length = len(buffer)
        while start < length:
            lf = buffer.find("\n", start)
            cr = buffer.find("\r", start, lf if lf != -1 else length)
            if cr != -1:
                if cr == length - 1 and not final:
                    break  # a CR at the end may be the first half of a CRLF
                end, next_start = cr, cr + 2 if buffer.startswith("\n", cr + 1) else cr + 1
            elif lf != -1:
                end, next_start = lf, lf + 1
            else:
                break
            self._line(buffer[start:end], events)
            start = next_start
        self._buffer = buffer[start:]
        return events

    def _line(self, line: str, events: list[SSEEvent]) -> None:
        if not self._started:
            self._started = True
            line = line.removeprefix("\ufeff")
        if not line:
            self._dispatch(events)
            return
        if line.startswith(":"):
            return
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value

    def _dispatch(self, events: list[SSEEvent]) -> None:
        if self._data:
            events.append(SSEEvent("\n".join(self._data), self._event or "message"))
        self._data = []
        self._event = ""
