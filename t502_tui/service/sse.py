"""An incremental Server-Sent Events decoder that is correct for real servers.

Bytes go in as the network delivers them (a line, or a UTF-8 character, may be split
across reads); complete events come out. Lines end with LF, CRLF or CR; ``:`` lines are
comments; several ``data:`` lines join with newlines; a last event with no blank line
after it is still delivered by :meth:`SSEDecoder.close`. A fast server sends tens of
thousands of events a second, so the common case (LF lines, ``data:`` fields) takes
the shortest path. A line that never ends costs linear time, and one event is capped.
"""

from __future__ import annotations

import codecs
import itertools
from typing import NamedTuple

from t502_tui.service.errors import TooLarge, describe_size

MAX_EVENT = 64 * 1024 * 1024
"""The most characters one event may hold, its unfinished line included (bytes, for the
ASCII that JSON events are): a 5 MB image sent as a base64 data URL is about 7 MB, so
this leaves a wide margin."""


_JOINED = 4096
"""An unfinished line up to this long is joined with each read (the usual case: a read
that cuts an event, and copying it costs less than the read); a longer one is kept in
pieces, so an endless line, even one sent a byte at a time, costs linear time."""


class SSEEvent(NamedTuple):
    """One dispatched event."""

    data: str
    event: str = "message"


class SSEDecoder:
    """Feed bytes with :meth:`feed`; each call returns the events completed so far.

    Raises :class:`TooLarge` once the event being read passes ``max_event`` characters.
    """

    def __init__(self, max_event: int | None = None) -> None:
        self.max_event = MAX_EVENT if max_event is None else max_event
        self._utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._tail = ""
        """The unfinished last line."""
        self._more: list[str] = []
        """Reads that did not end a long tail either: joined to it once, when it ends."""
        self._more_size = 0
        self._data: list[str] = []
        self._data_size = 0
        """Characters in ``_data``, the event still being read."""
        self._event = ""
        self._started = False

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        """Decode ``chunk`` and return the events it completes."""
        text = self._utf8.decode(chunk)
        if not self._started and text:
            self._started = True
            text = text.removeprefix("\ufeff")
        if self._tail:
            if len(self._tail) > _JOINED and "\n" not in text and "\r" not in text:
                self._more.append(text)
                self._more_size += len(text)
                if len(self._tail) + self._more_size + self._data_size > self.max_event:
                    raise self._too_large()
                return []
            if self._more:
                text = self._tail + "".join(self._more) + text
                self._more = []
                self._more_size = 0
            else:
                text = self._tail + text
        elif (
            # The common case, one whole ``data:`` event per read, in one slice.
            text.startswith("data: ") and text.find("\n") == len(text) - 2 and text.endswith("\n")
            and not self._data and "\r" not in text
        ):
            if len(text) - 8 > self.max_event:
                raise self._too_large()
            event = SSEEvent(text[6:-2], self._event or "message")
            self._event = ""
            return [event]
        return self._lines(text, final=False)

    def close(self) -> list[SSEEvent]:
        """End of stream: return what is left, including an unterminated last event."""
        text = self._tail + "".join(self._more) + self._utf8.decode(b"", final=True)
        self._more = []
        self._more_size = 0
        return self._lines(text + "\n\n", final=True)

    def _too_large(self) -> TooLarge:
        return TooLarge(
            f"the server sent an event larger than {describe_size(self.max_event)};"
            " the reply was stopped there"
        )

    def _lines(self, text: str, final: bool) -> list[SSEEvent]:
        """Read the complete lines of ``text``, keeping the unfinished last one."""
        held = ""
        if "\r" in text:
            if text.endswith("\r") and not final:
                text, held = text[:-1], "\r"  # may be the first half of a CRLF
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        lines = text.split("\n")
        self._tail = tail = lines.pop() + held
        events: list[SSEEvent] = []
        data = carried = self._data
        counted = len(data)
        # An event ended here can pass the cap only if this text and the open event together do.
        check = len(text) + self._data_size > self.max_event
        for line in lines:
            if not line:
                if data:
                    payload = "\n".join(data)
                    if check and len(payload) > self.max_event:
                        raise self._too_large()
                    events.append(SSEEvent(payload, self._event or "message"))
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
        # The open event keeps its size; only lines new to it are measured. It and the tail
        # can pass the cap only if this text and the open event together could.
        if data is not carried:
            self._data_size = sum(map(len, data)) if data else 0
        elif len(data) > counted:
            self._data_size += sum(map(len, itertools.islice(data, counted, None)))
        if check and self._data_size + len(tail) > self.max_event:
            raise self._too_large()
        return events
