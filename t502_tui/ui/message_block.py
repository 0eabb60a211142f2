"""One message as the conversation view draws it: lines, made when needed and kept.

A block is a header (who, model, time, versions, usage, how it ended), the reasoning
(folded to one line unless opened), the body, a reply's images and media links (each
image with a preview drawn in half-blocks), and an error line. The body is cut into
segments (:mod:`t502_tui.ui.markdown_segments`) that are drawn once per width and theme
and kept; while a reply streams only its open tail is drawn again. Segments far from the
screen are not drawn at all until they are needed: until then they count with an
estimated height. Previews too: their room is known from the image's size, and the
image is decoded only once its preview comes into view.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import replace
from unicodedata import category

from rich.cells import cell_len
from rich.console import Console
from rich.segment import Segment as _Segment
from rich.style import Style
from rich.text import Text
from textual.strip import Strip

from t502_tui.attachments import Attachment
from t502_tui.conversation import ChatMessage, ReplyStatus
from t502_tui.media import MediaState
from t502_tui.paths import display_path
from t502_tui.prices import format_cost
from t502_tui.reply_media import MediaItem, media_items
from t502_tui.terminal_text import defuse, visible_name
from t502_tui.tokens import estimate_tokens
from t502_tui.turn import NOT_SENT
from t502_tui.ui.image_preview import PreviewCache, preview_size
from t502_tui.ui.markdown_segments import MarkdownSegmenter, Segment
from t502_tui.ui.message_render import (
    Look,
    blank_line,
    code_lines,
    estimate_lines,
    growing_code_lines,
    markdown_lines,
    paragraph_lines,
    text_lines,
)

Palette = dict[str, Style]
"""Styles by role: header, model, accent, warning, error, secondary, reasoning, fold."""

MAX_SHOWN_TYPED = 100_000
"""Characters of a user's message drawn: it is wrapped whole, about 0.1 s for this many,
and again at each new width. A longer one (pasted or imported) is cut on screen; 5 MB
froze t502 for a minute."""
MAX_SHOWN_REPLY = 1_000_000
"""Characters of a saved reply drawn: longer than any model writes (it is drawn a block
at a time, as it comes into view)."""

_STATUS = {
    ReplyStatus.STREAMING: ("streaming…", "accent"),
    ReplyStatus.STOPPED: ("■ stopped", "warning"),
    ReplyStatus.ERROR: ("✗ failed", "error"),
    ReplyStatus.INTERRUPTED: ("⚠ interrupted (t502 was closed while it streamed)", "warning"),
}


class _Drawn:
    """A settled segment and its lines for one width and look (None: not drawn yet)."""

    __slots__ = ("segment", "lines", "key", "estimate")

    def __init__(self, segment: Segment) -> None:
        self.segment = segment
        self.lines: list[Strip] | None = None
        self.key: tuple[int, Look] | None = None
        self.estimate = 0

    def height(self, width: int, look: Look) -> int:
        if self.key == (width, look) and self.lines is not None:
            return len(self.lines)
        self.estimate = estimate_lines(self.segment.source, width) + (
            self.segment.is_code and (self.segment.first + self.segment.last))
        return self.estimate

    def draw(self, console: Console, width: int, look: Look) -> list[Strip]:
        if self.key != (width, look) or self.lines is None:
            segment = self.segment
            if segment.is_code:
                self.lines = code_lines(console, segment.source, segment.language or "", width, look,
                                        segment.first, segment.last)
            else:
                self.lines = markdown_lines(console, segment.source, width, look)
            self.key = (width, look)
        return self.lines


class _Body:
    """Markdown that may still be growing: settled segments, then the open tail."""

    def __init__(self, text: str, growing: bool) -> None:
        self._segmenter = MarkdownSegmenter()
        self._segmenter.append(text)
        self.growing = growing
        self._shown_room = MAX_SHOWN_REPLY - len(text)
        """Characters that may still be shown as the text grows (see :func:`_shown`)."""
        self._left_out = 0
        self._drawn: list[_Drawn] = []
        self._tops: list[int] = []
        """First line of each segment, gaps included, for the key the tops were made for."""
        self._tops_key: tuple[int, Look] | None = None
        self._settled_height = 0
        self._tail: Segment | None = None
        self._tail_lines: list[Strip] = []
        self._tail_key: tuple[Segment | None, int, Look] | None = None
        if not growing:
            self._take(self._segmenter.finish())

    @property
    def text(self) -> str:
        return self._segmenter.text

    def append(self, text: str) -> None:
        if len(text) > self._shown_room:  # a reply past what is shown: the rest is only counted
            self._left_out += len(text) - max(0, self._shown_room)
            text = text[:max(0, self._shown_room)]
        self._shown_room -= len(text)
        self._segmenter.append(text)

    def settle(self) -> int | None:
        """Take in the text appended since the last call: the first line of text settled
        before that is drawn again (a fence that closed), or None if only the tail is."""
        if not self.growing:
            return None
        again = self._take(self._segmenter.settle())
        self._tail = self._segmenter.tail()
        return again

    def finish(self) -> None:
        """The text is complete: everything becomes settled segments."""
        if self.growing:
            self.growing = False
            if self._left_out:
                self._segmenter.append(_left_out_note(self._left_out))
            self._take(self._segmenter.finish())
            self._tail = None

    def _take(self, segments: list[Segment]) -> int | None:
        """Add settled segments: where the first of those settled before and now merged
        into one starts, or None."""
        merged: int | None = None
        for segment in segments:
            if segment.is_code and segment.last and not segment.first:
                # A fence streamed a line at a time has closed: draw it again as one, so
                # what spans lines (a docstring, a comment block) is highlighted right.
                start = len(self._drawn)
                while start and not (self._drawn[start - 1].segment.is_code and self._drawn[start - 1].segment.first):
                    start -= 1
                start -= 1
                if start >= 0:
                    code = "".join(d.segment.source for d in self._drawn[start:]) + segment.source
                    segment = Segment(code, segment.language, first=True, last=True)
                    del self._drawn[start:]
                    if len(self._tops) > start:
                        top = self._tops[start]
                        merged = top if merged is None else min(merged, top)
                        self._settled_height = top - (1 if start else 0)
                        del self._tops[start:]
                    elif merged is None:
                        merged = self._settled_height  # laid out only up to here
            self._drawn.append(_Drawn(segment))
        return merged

    @staticmethod
    def _gap(segment: Segment, index: int) -> int:
        return 0 if index == 0 or segment.continued else 1

    def _layout(self, width: int, look: Look) -> None:
        """Work out where each segment starts (from drawn heights, or estimates)."""
        if self._tops_key == (width, look) and len(self._tops) == len(self._drawn):
            return
        start = 0 if self._tops_key != (width, look) else len(self._tops)
        tops = self._tops[:start]
        y = self._settled_height if start else 0
        for index in range(start, len(self._drawn)):
            drawn = self._drawn[index]
            y += self._gap(drawn.segment, index)
            tops.append(y)
            y += drawn.height(width, look)
        self._tops, self._tops_key, self._settled_height = tops, (width, look), y

    def _redo_from(self, index: int, width: int, look: Look) -> None:
        """A segment's drawn height differs from its estimate: move those below it."""
        y = self._tops[index]
        for later in range(index, len(self._drawn)):
            if later > index:
                y += self._gap(self._drawn[later].segment, later)
                self._tops[later] = y
            y += self._drawn[later].height(width, look)
        self._settled_height = y

    def _tail_lines_for(self, console: Console, width: int, look: Look) -> list[Strip]:
        key = (self._tail, width, look)
        if key != self._tail_key:
            tail = self._tail
            if tail is None:
                self._tail_lines = []
            elif tail.is_code:
                self._tail_lines = growing_code_lines(console, tail.source, width, look, tail.first)
            else:
                self._tail_lines = paragraph_lines(console, tail.source, width, look)
            self._tail_key = key
        return self._tail_lines

    def height(self, console: Console, width: int, look: Look) -> int:
        self._layout(width, look)
        tail = self._tail_lines_for(console, width, look)
        if not tail:
            return self._settled_height
        gap = 1 if self._drawn and not (self._tail is not None and self._tail.continued) else 0
        return self._settled_height + gap + len(tail)

    def draw(self, console: Console, width: int, look: Look, start: int, end: int,
             anchor: int) -> tuple[bool, int]:
        """Draw the segments on lines ``start`` to ``end``: whether a height changed, and
        by how many lines the segments starting above line ``anchor`` grew (so moved it)."""
        self._layout(width, look)
        changed, moved = False, 0
        first = max(0, bisect_right(self._tops, start) - 1)
        for index in range(first, len(self._drawn)):
            if self._tops[index] >= end:
                break
            grew = len(self._drawn[index].draw(console, width, look)) - self._room(index)
            if grew:
                self._redo_from(index, width, look)
                changed = True
                if self._tops[index] < anchor:
                    moved += grew
        return changed, moved

    def _room(self, index: int) -> int:
        """The lines the layout gives segment ``index`` (its height when laid out, which
        may have been a guess: it may have been drawn since, to be painted)."""
        if index + 1 < len(self._drawn):
            end = self._tops[index + 1] - self._gap(self._drawn[index + 1].segment, index + 1)
        else:
            end = self._settled_height
        return end - self._tops[index]

    def line(self, console: Console, width: int, look: Look, y: int) -> Strip | None:
        """Line ``y`` of the body (None for a gap between segments)."""
        self._layout(width, look)
        if y < self._settled_height:
            index = bisect_right(self._tops, y) - 1
            if index < 0:
                return None
            drawn = self._drawn[index]
            offset = y - self._tops[index]
            lines = drawn.draw(console, width, look)
            return lines[offset] if offset < len(lines) else None
        tail = self._tail_lines_for(console, width, look)
        offset = y - self._settled_height - (1 if self._drawn and tail and not self._tail.continued else 0)  # type: ignore[union-attr]
        return tail[offset] if 0 <= offset < len(tail) else None

    def tail_top(self, console: Console, width: int, look: Look) -> int:
        """Where the open tail starts (to repaint only it)."""
        self._layout(width, look)
        return self._settled_height


class Block:
    """A message and the lines that show it."""

    def __init__(self, message: ChatMessage, *, streaming: bool = False,
                 previews: PreviewCache | None = None) -> None:
        self.message = message
        self.previews = previews
        """Where image previews come from (None: captions only)."""
        self.chosen_item = 0
        """The image or link the media keys act on, of the reply's several."""
        self.folded = True
        """The reasoning is shown as one line; Enter (or a click on it) opens it."""
        self._body = _Body(_shown(message.content, MAX_SHOWN_REPLY) if message.role == "assistant" else "", streaming)
        self._reasoning = _Body(_shown(message.reasoning, MAX_SHOWN_REPLY), streaming)
        self._header: list[Strip] = []
        self._fixed_key: tuple[int, Look] | None = None
        """What the header, fold, user text and error lines were drawn for."""
        self._user: list[Strip] = []
        self._fold: list[Strip] = []
        self._error: list[Strip] = []
        self._media: list[Strip] = []
        self._undrawn: list[tuple[int, Attachment, int, int]] = []
        """Previews whose room in ``_media`` waits for them: (first line, image, columns, rows)."""
        self._items: tuple[str, list[Attachment], list[MediaItem]] | None = None
        """The reply's text and images, and the media items listed from them."""
        self._reasoning_grew = False
        """Reasoning came since the last :meth:`settle` (it is drawn above the body)."""
        self._fold_stale = False
        """The fold line says something else since the last :meth:`settle`."""
        self._answered = bool(self.message.content.strip())
        """Some of the answer's words are in (asking the body would join its whole text)."""
        self._thought_look: tuple[Look, Look] | None = None
        """The look the thinking was drawn in, for the view's look (see :meth:`_thought`)."""
        self.waiting: str | None = None
        """What a streaming reply waits for instead ("retrying in 5 s"): said in its header."""

    @property
    def is_reply(self) -> bool:
        return self.message.role == "assistant"

    @property
    def streaming(self) -> bool:
        return self._body.growing

    # -- changes ------------------------------------------------------------------------

    def grow(self, content: str, reasoning: str) -> None:
        """Add streamed text (drawn at the next :meth:`settle`)."""
        # The fold line appears, counts the lines as they come, and stops saying "Thinking…"
        # when the answer starts.
        answers = not self._answered and bool(content.strip())
        fold_stale = bool(reasoning) and self.folded or answers and self._has_reasoning
        if reasoning:
            self._reasoning.append(reasoning)
            self._reasoning_grew = True
        if content:
            self._body.append(content)
        if answers:
            self._answered = True
        if fold_stale:
            self._fold_stale = True
            self.changed()

    def settle(self, console: Console, width: int, look: Look, palette: Palette) -> int | None:
        """Take in what :meth:`grow` added: the first line above :meth:`tail_top` that is
        drawn again (a fence that closed), or None if none is."""
        self._reasoning_grew = self._fold_stale = False
        again = {"reasoning": self._reasoning.settle(), "body": self._body.settle()}
        if again["reasoning"] is None and again["body"] is None:
            return None
        y = 0
        for part, height in self._parts(console, width, look, palette):
            if (line := again.get(part)) is not None:
                return y + line
            y += height
        return None

    def finish(self) -> None:
        """The reply is over: settle the rest, draw the header as it ended."""
        self._body.finish()
        self._reasoning.finish()
        self.changed()

    def changed(self) -> None:
        """The message's header, text or error changed: draw those again."""
        self._fixed_key = None

    def toggle_fold(self) -> bool:
        """Open or close the reasoning; False when there is none."""
        if not self._has_reasoning:
            return False
        self.folded = not self.folded
        self.changed()
        return True

    @property
    def media_items(self) -> list[MediaItem]:
        """The reply's images and links (:func:`~t502_tui.reply_media.media_items`), listed
        again only when its text or its images changed: a redraw (ten a second while a
        video downloads) must not read megabytes of text again."""
        message = self.message
        items = self._items
        if items is None or items[0] is not message.content or items[1] is not message.attachments:
            items = self._items = (message.content, message.attachments, media_items(message))
        return items[2]

    @property
    def waits_for_previews(self) -> bool:
        """Some of its previews are not drawn yet."""
        return bool(self._undrawn)

    def _thought(self, look: Look, palette: Palette) -> Look:
        """How the opened thinking is drawn: in the fold line's muted italics, so that it
        is not read as the answer below it, and line by line, as it is written."""
        if self._thought_look is None or self._thought_look[0] != look:
            self._thought_look = (look, replace(look, base=look.base + palette["fold"], hard_breaks=True))
        return self._thought_look[1]

    @property
    def _has_reasoning(self) -> bool:
        return bool(self._reasoning.text.strip() or self.message.reasoning.strip())

    # -- drawing --------------------------------------------------------------------------

    def _draw_fixed(self, console: Console, width: int, look: Look, palette: Palette) -> None:
        if self._fixed_key == (width, look):
            return
        message = self.message
        header = header_text(message, palette, waiting=self.waiting)
        self._header = text_lines(console, broken_between_parts(header, width), width, look)
        self._user = text_lines(console, _shown(message.content, MAX_SHOWN_TYPED), width, look) \
            if message.role == "user" else []
        self._fold = []
        if self.is_reply and self._has_reasoning:
            reasoning = self._reasoning.text
            lines = reasoning.count("\n") + (not reasoning.endswith("\n"))
            # Still thinking (no answer yet): said, so that a long think does not read as stuck.
            thinking = self.streaming and not self._answered
            what = "Thinking…" if thinking else "Thinking"
            sign, what = ("▾", what) if not self.folded else ("▸", f"{what} · {lines} line{'s' if lines != 1 else ''}")
            # A click opens it from anywhere; Enter only once the reply is chosen (F1 says so).
            fold = Text.assemble((f"{sign} {what}", palette["fold"]),
                                 ("  (click to open)" if self.folded else "", palette["header"]))
            if thinking and self.folded:  # its newest words, moving as they come
                fold.append(_newest_words(reasoning, width - fold.cell_len - 3), palette["secondary"])
            self._fold = text_lines(console, fold, width, look)
        self._error = []
        if self.is_reply and message.status is ReplyStatus.COMPLETE and not message.content.strip() \
                and not message.attachments:
            self._error = text_lines(console, Text("(the answer has no text)", palette["secondary"]), width, look)
        if message.error:
            error = Text.assemble(("✗ ", palette["error"] + Style(bold=True)), (defuse(message.error), palette["error"]))
            if not message.error.startswith(NOT_SENT):
                hint = "Ctrl+R retries"  # whole: on a line of its own when the last one has no room
                lines = error.wrap(console, width)
                error.append("\n" if lines and lines[-1].cell_len + 3 + len(hint) > width else "   ")
                error.append(hint, palette["header"])
            self._error = text_lines(console, error, width, look)
        self._media = self._media_lines(console, width, look, palette)
        self._fixed_key = (width, look)

    def _media_lines(self, console: Console, width: int, look: Look, palette: Palette) -> list[Strip]:
        """Each image's caption and the room for its preview, each link's caption, in order."""
        items = self.media_items
        lines: list[Strip] = []
        self._undrawn = []
        for number, item in enumerate(items):
            chosen = number == self.chosen_item and len(items) > 1
            caption = _caption(item, self.message.media.get(item.key), palette, chosen)
            lines += text_lines(console, broken_between_parts(caption, width), width, look)
            if item.image is not None:
                lines += self._preview_room(item.image, len(lines), console, width, look, palette)
        return lines

    def _preview_room(self, image: Attachment, top: int, console: Console, width: int, look: Look,
                      palette: Palette) -> list[Strip]:
        """The lines a preview takes, said to be drawing until :meth:`_draw_previews` draws
        it (the rows come from the image's size: nothing moves when it is drawn); one line
        saying why when it has none."""
        columns, rows = preview_size(image.width, image.height, width - 2, look.preview_rows)
        known = self.previews.known(image) if self.previews is not None else "no preview here"
        if isinstance(known, str):
            return text_lines(console, Text(f"  ({known})", palette["secondary"]), width, look)
        self._undrawn.append((top, image, columns, rows))
        note = text_lines(console, Text("  drawing the preview…", palette["secondary"]), width, look)[:1]
        return note + [blank_line(width, look)] * (rows - 1)

    def _draw_previews(self, width: int, look: Look, start: int, end: int) -> None:
        """Draw the previews on media lines ``start`` to ``end``: only there are images
        decoded (a thumbnail being made is drawn once the view hears it is ready)."""
        if self.previews is None:
            return
        background = look.base.bgcolor.get_truecolor() if look.base.bgcolor else None
        indent = Strip([_Segment("  ", look.base)], 2)
        undrawn = []
        for preview in self._undrawn:
            top, image, columns, rows = preview
            drawn = self.previews.lines(image, columns, rows, tuple(background or (0, 0, 0)), look.base) \
                if top < end and top + rows > start else None
            if isinstance(drawn, list):
                self._media[top:top + rows] = [Strip.join([indent, line]).extend_cell_length(width, look.base)
                                               for line in drawn]
            else:
                undrawn.append(preview)
        self._undrawn = undrawn

    def _parts(self, console: Console, width: int, look: Look, palette: Palette) -> list[tuple[str, int]]:
        """(part, height) in order; a 1-line gap after the message is the last part."""
        self._draw_fixed(console, width, look, palette)
        parts = [("header", len(self._header))]
        if self._fold:
            parts.append(("fold", len(self._fold)))
            if not self.folded:
                parts += [("reasoning", self._reasoning.height(console, width, self._thought(look, palette))),
                          ("gap", 1)]
        if self.message.role == "user":
            parts.append(("user", len(self._user)))
        else:
            parts.append(("body", self._body.height(console, width, look)))
        if self._media:
            parts.append(("media", len(self._media)))
        if self._error:
            parts.append(("error", len(self._error)))
        parts.append(("gap", 1))
        return parts

    def height(self, console: Console, width: int, look: Look, palette: Palette) -> int:
        """Lines the block takes at ``width``, the gap after it included."""
        return sum(h for _, h in self._parts(console, width, look, palette))

    def prepare(self, console: Console, width: int, look: Look, palette: Palette, start: int,
                end: int, anchor: int) -> tuple[bool, int]:
        """Draw what lines ``start`` to ``end`` show: whether the block's height changed,
        and by how many lines what was on line ``anchor`` moved down (paragraphs above it
        whose height was a guess, now drawn)."""
        changed, moved = False, 0
        y = 0
        for part, height in self._parts(console, width, look, palette):
            if y >= end:
                break
            if y + height > start and part in ("body", "reasoning"):
                body, drawn = (self._body, look) if part == "body" else (self._reasoning, self._thought(look, palette))
                grew, shift = body.draw(console, width, drawn, max(0, start - y), end - y, anchor - y)
                changed, moved = changed or grew, moved + shift
            elif y + height > start and part == "media" and self._undrawn:
                self._draw_previews(width, look, max(0, start - y), end - y)
            y += height
        return changed, moved

    def line(self, console: Console, width: int, look: Look, palette: Palette, y: int) -> tuple[str, Strip | None]:
        """(part, line) for line ``y`` of the block; the line is None for a gap."""
        for part, height in self._parts(console, width, look, palette):
            if y < height:
                if part == "header":
                    return part, self._header[y]
                if part == "fold":
                    return part, self._fold[y]
                if part == "user":
                    return part, self._user[y]
                if part == "error":
                    return part, self._error[y]
                if part == "media":
                    if self._undrawn:
                        self._draw_previews(width, look, y, y + 1)
                    return part, self._media[y]
                if part == "body":
                    return part, self._body.line(console, width, look, y)
                if part == "reasoning":
                    return part, self._reasoning.line(console, width, self._thought(look, palette), y)
                return part, None
            y -= height
        return "gap", None

    def tail_top(self, console: Console, width: int, look: Look, palette: Palette) -> int:
        """The first line that the text grown since the last :meth:`settle` can change."""
        y = 0
        for part, height in self._parts(console, width, look, palette):
            if part == "fold" and self._fold_stale:
                return y
            if part == "reasoning" and self._reasoning_grew:
                return y + self._reasoning.tail_top(console, width, self._thought(look, palette))
            if part == "body":
                return y + self._body.tail_top(console, width, look)
            y += height
        return y


def _newest_words(text: str, room: int) -> str:
    """The end of ``text``'s last line, in at most ``room`` cells (none if that is too
    few to read), after two spaces."""
    last = defuse(" ".join(text[-1000:].rstrip().rsplit("\n", 1)[-1].split()))
    if room < 12 or not last:
        return ""
    words = last[-room:]
    # Not from the middle of a character drawn from several (an emoji's skin tone).
    while cell_len(words) > room - 1 or (words and category(words[0]) in ("Mn", "Me", "Sk", "Cf")):
        words = words[1:]
    return f"  …{words}" if len(words) < len(last) else f"  {words}"


def _shown(text: str, limit: int) -> str:
    """``text`` as drawn: cut after ``limit`` characters (at a line's end) with a line that
    says so. The message keeps it all: c copies it, exports and the history have it."""
    if len(text) <= limit:
        return text
    cut = text.rfind("\n", 0, limit) + 1 or limit
    return text[:cut] + _left_out_note(len(text) - cut)


def _left_out_note(count: int) -> str:
    return f"\n\n… {count:,} more characters, not shown here (c copies them all)\n"


def _size(count: int) -> str:
    return f"{count / 1024 / 1024:.1f} MB" if count >= 1024 * 1024 else f"{count / 1024:.0f} KB"


def _caption(item: MediaItem, state: MediaState | None, palette: Palette, chosen: bool) -> Text:
    """One line about an image or link: what it is, where it is, what the keys do."""
    header, secondary = palette["header"], palette["secondary"]
    mark = ("▸ ", palette["accent"]) if chosen else ("", header)
    parts: list[tuple[str, Style]] = [mark]
    if item.image is not None:
        parts += [("🖼 ", secondary), (defuse(item.image.describe()), secondary)]
        if state is not None and state.path is not None:
            parts.append((f" · saved as {defuse(display_path(state.path))}", header))
        parts.append(("  o open · s save · y path · v view", header))
        return Text.assemble(*parts)
    link = item.link
    assert link is not None
    video = link.kind == "video"
    parts += [("▶ video " if video else "⤓ image ", secondary), (defuse(link.url), secondary)]
    if state is not None and state.downloading:
        if video and state.total:
            done = min(1.0, state.received / state.total)
            bar = "━" * round(20 * done) + "─" * (20 - round(20 * done))
            parts += [("  ", header), (bar, palette["accent"]),
                      (f" {done:.0%} of {_size(state.total)}", header)]
        else:
            parts.append((f"  downloading… {_size(state.received)}" if state.received else "  downloading…", header))
    elif state is not None and state.error:
        parts += [("  ✗ ", palette["error"]), (defuse(state.error), palette["error"]),
                  ("  r tries again" if not video else "  o tries again", header)]
    elif video and state is not None and state.path is not None:
        parts.append((f"  saved as {defuse(display_path(state.path))} · o open · f show folder · y copy path", header))
    elif video:
        parts.append(("  o download and open · s save as", header))
    else:
        parts.append(("  not downloaded · r downloads it", header))
    return Text.assemble(*parts)


PART_BREAKS = (" · ", "  ")
"""Between the parts of a header or a caption ("  " before the keys a caption names)."""


def broken_between_parts(text: Text, width: int) -> Text:
    """``text`` with its lines broken between its parts (at each " · " or "  "), not
    inside one: "(k" / "sends it)" and "s" / "save" read as broken phrases. A part wider
    than ``width`` alone is left to wrap."""
    if text.cell_len <= width:
        return text
    plain, lines = text.plain, []
    pieces = text.divide(index for index in range(1, len(plain))
                         if plain.startswith(PART_BREAKS, index) and plain[index - 1] != " ")
    for piece in pieces:
        if lines and lines[-1].cell_len + piece.cell_len <= width:
            lines[-1].append_text(piece)
        else:
            lines.append(piece[next(len(b) for b in PART_BREAKS if piece.plain.startswith(b)):] if lines else piece)
    return Text("\n").join(lines)


def header_text(message: ChatMessage, palette: Palette, waiting: str | None = None) -> Text:
    """Who wrote the message and when, its versions, usage (counted as the status line
    counts, ``38 tokens (18 in, 20 out)``) and how it ended; ``waiting``: what a streaming
    reply waits for, said instead of "streaming"."""
    parts: list[tuple[str, Style] | str] = []
    header = palette["header"]
    if message.role == "user":
        parts += [("You", palette["model"]), (f" · {message.created:%H:%M}", header)]
    else:
        parts += [(visible_name(message.writer), palette["model"]), (f" · {message.created:%H:%M:%S}", header)]
    if label := message.alternative_label:
        parts += [(" · ", header), (f"‹{label}›", palette["accent"])]
    for attachment in message.attachments if message.role == "user" else ():  # a reply's are shown below it
        parts.append((f" · {attachment.icon} {defuse(attachment.describe())}", palette["secondary"]))
    if message.role == "user" and message.in_context is False:
        parts.append((" · not sent (left out to fit the model's context)", header))
    if message.role == "assistant":
        if message.usage:
            parts.append((f" · {message.usage.describe_short()}", header))
        elif message.status not in (ReplyStatus.COMPLETE, ReplyStatus.STREAMING) and (
                message.content or message.reasoning):
            # The server counted nothing (it stopped before its usage): what came, roughly.
            written = estimate_tokens(message.content) + estimate_tokens(message.reasoning or "")
            parts.append((f" · ≈{written:,} tokens out (not counted)", header))
        if message.cost is not None:
            parts.append((f" · {format_cost(message.cost)}", header))
        if message.status is ReplyStatus.STREAMING and waiting:
            parts += [(" · ", header), (f"{waiting}…", palette["warning"])]
        elif message.status in _STATUS:
            text, role = _STATUS[message.status]
            parts += [(" · ", header), (text, palette[role])]
        if message.finish_note:
            parts.append((f" · {message.finish_note}", palette["warning"]))
        if message.status is not ReplyStatus.STREAMING and message.content:
            if not message.sendable:
                parts.append((" · not sent as context (k sends it)", header))
            elif message.status.cut_off:
                parts.append((" · kept as context (k leaves it out)", header))
    return Text.assemble(*parts)

