"""How one message looks: a header (who, model, time, usage, status) above its text.

Model output is data: it is shown through ``Content`` and ``Markdown``, never as Rich
markup, and control characters are made visible before anything is drawn.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import Collapsible, Static

from t502_tui.conversation import ChatMessage, ReplyStatus
from t502_tui.prices import format_cost
from t502_tui.terminal_text import defuse
from t502_tui.ui.widgets.streaming_markdown import StreamingMarkdown

_STATUS = {
    ReplyStatus.STREAMING: ("streaming…", "$accent"),
    ReplyStatus.STOPPED: ("■ stopped", "$warning"),
    ReplyStatus.ERROR: ("✗ failed", "$error"),
    ReplyStatus.INTERRUPTED: ("⚠ interrupted (t502 was closed while it streamed)", "$warning"),
}


class MessageView(Vertical, can_focus=True):
    """A focusable message: copy it, flip between its versions, edit or delete it."""

    BINDINGS = [
        Binding("c", "copy", "Copy"),
        Binding("less_than_sign,left_square_bracket", "flip(-1)", "Prev version", key_display="<"),
        Binding("greater_than_sign,right_square_bracket", "flip(1)", "Next version", key_display=">"),
        Binding("d,delete", "delete", "Delete"),
    ]

    @dataclass
    class FlipRequested(Message):
        """Show another version of ``message`` (a sibling ``step`` away)."""

        view: MessageView
        step: int

    @dataclass
    class EditRequested(Message):
        """Put ``view``'s message in the composer to send as a new branch."""

        view: MessageView

    @dataclass
    class DeleteRequested(Message):
        """Delete ``view``'s message, after asking."""

        view: MessageView

    def __init__(self, message: ChatMessage) -> None:
        super().__init__(classes=f"message {message.role}")
        self.message = message

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "flip":
            return len(self.message.alternatives) > 1
        return True

    def action_copy(self) -> None:
        """Copy the message's text (Markdown) to the clipboard."""
        self.app.copy_to_clipboard(self.message.content)
        self.notify("Message copied to the clipboard as Markdown")

    def action_flip(self, step: int) -> None:
        """Show the previous or next version of this message."""
        self.post_message(self.FlipRequested(self, step))

    def action_delete(self) -> None:
        """Delete this message (the pane asks first)."""
        self.post_message(self.DeleteRequested(self))

    def version_label(self) -> Content:
        """`` · ‹2/3›`` when the message has other versions."""
        label = self.message.alternative_label
        return Content.assemble(" · ", (f"‹{label}›", "$accent")) if label else Content("")


class UserMessageView(MessageView):
    """What the user sent, shown as typed, with its images listed."""

    BINDINGS = [Binding("e", "edit", "Edit")]

    def compose(self) -> ComposeResult:
        yield Static(self._header(), classes="header")
        yield Static(Content(defuse(self.message.content)), classes="body")

    def _header(self) -> Content:
        parts: list[str | tuple[str, str] | Content] = [("You", "bold"), f" · {self.message.created:%H:%M}"]
        parts.append(self.version_label())
        for image in self.message.attachments:
            parts.append((f" · {image.icon} {defuse(image.describe())}", "$secondary"))
        if self.message.in_context is False:
            parts.append((" · not sent (left out to fit the model's context)", "$text-muted"))
        return Content.assemble(*parts)

    def refresh_header(self) -> None:
        """Redraw the header (the message was saved and may now have versions)."""
        self.query_one(".header", Static).update(self._header())

    def action_edit(self) -> None:
        """Edit this message and send it again as a new branch."""
        self.post_message(self.EditRequested(self))


class AssistantMessageView(MessageView):
    """A reply, streamed into Markdown as it arrives; reasoning folded above it."""

    BINDINGS = [Binding("k", "toggle_context", "Send/leave out")]

    @dataclass
    class ContextToggled(Message):
        """Send ``view``'s reply with the next request, or leave it out (the user said)."""

        view: MessageView

    def action_toggle_context(self) -> None:
        """Keep this reply in the context sent to the model, or leave it out."""
        if self.message.status is not ReplyStatus.STREAMING:
            self.post_message(self.ContextToggled(self))

    def compose(self) -> ComposeResult:
        self._theme = getattr(self.app, "code_theme", "monokai")
        self._body = StreamingMarkdown(defuse(self.message.content), code_theme=self._theme, classes="body")
        self._reasoning: StreamingMarkdown | None = None
        self._reasoning_fold: Collapsible | None = None
        yield Static(self._header(), classes="header")
        if self.message.reasoning:
            yield self._make_fold(self.message.reasoning)
        yield self._body
        yield Static(classes="error")

    def _make_fold(self, text: str) -> Collapsible:
        """The folded reasoning, made only for replies that have some (it is costly)."""
        self._reasoning = StreamingMarkdown(defuse(text), code_theme=self._theme, classes="reasoning-text")
        self._reasoning_fold = Collapsible(self._reasoning, title="Thinking", collapsed=True, classes="reasoning")
        return self._reasoning_fold

    def on_mount(self) -> None:
        self.refresh_header()

    def _header(self) -> Content:
        message = self.message
        parts: list[str | tuple[str, str] | Content] = [
            (message.writer, "bold"),
            f" · {message.created:%H:%M:%S}",
            self.version_label(),
        ]
        if message.usage:
            parts.append(f" · {message.usage.describe()}")
        if message.cost is not None:
            parts.append(f" · {format_cost(message.cost)}")
        if message.status in _STATUS:
            text, style = _STATUS[message.status]
            parts.append(" · ")
            parts.append((text, style))
        if message.finish_reason == "length":
            parts.append((" · cut off at the token limit", "$warning"))
        if message.status is not ReplyStatus.STREAMING and message.content:
            if not message.sendable:
                parts.append((" · not sent as context (k sends it)", "$text-muted"))
            elif message.status.cut_off:
                parts.append((" · kept as context (k leaves it out)", "$text-muted"))
        return Content.assemble(*parts)

    def refresh_header(self) -> None:
        """Redraw the header and the error line from the message's data."""
        self.query_one(".header", Static).update(self._header())
        error = self.query_one(".error", Static)
        error.display = bool(self.message.error)
        if self.message.error:
            error.update(Content.assemble(
                ("✗ ", "bold"), defuse(self.message.error), ("   ctrl+r retries", "dim")
            ))

    def append_content(self, text: str) -> None:
        """Add streamed answer text."""
        self._body.append(defuse(text))

    def append_reasoning(self, text: str) -> None:
        """Add streamed reasoning text (shown folded)."""
        if self._reasoning is None:
            self.mount(self._make_fold(text), before=self._body)
        else:
            self._reasoning.append(defuse(text))

    async def finish(self) -> None:
        """Draw the whole reply now, so the last tokens are on screen."""
        if not self.is_attached or self._closing:
            return  # t502 is closing: the reply is saved, there is nothing left to draw on
        self.refresh_header()
        body = self._body.finish()
        if self._reasoning is not None:
            await self._reasoning.finish()
        await body
