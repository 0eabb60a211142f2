"""When a request will not fit the model's context, or the server said it did not: offer to
send only the newest turns that fit (the older ones stay, marked "not sent") or to switch
model, then send the message in the composer (or the refused turn again)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from t502_tui.context_fit import budget, context_error, limit_text, request_tokens, trim_to_fit
from t502_tui.conversation import ChatMessage
from t502_tui.service import ServiceError
from t502_tui.tokens import short_count
from t502_tui.ui.screens.dialogs import Choice
from t502_tui.ui.widgets.conversation_pane import ConversationPane

if TYPE_CHECKING:
    from t502_tui.ui.screens.chat import ChatScreen

REFUSED_SHARE = 0.75
"""After a refusal that names no context length, aim at this share of the estimate."""
UNEXPLAINED = 2
"""A refusal that names a context this many times the request's estimate is not about the
conversation's length."""


def offer_before_sending(chat: ChatScreen, pane: ConversationPane, tokens: int, limit: int) -> None:
    """The message in the composer would make the request larger than the model takes."""
    context = chat.session.context_for(pane.conversation.provider, pane.conversation.model) or limit
    question = (f"This message makes the request ≈{short_count(tokens)} tokens, and {chat.ref(pane)} takes"
                f" {limit_text(context, limit)}. Older turns can stay in the conversation, marked \"not sent\".")
    _offer(chat, pane, limit, question, after_error=False)


def offer_after_refusal(chat: ChatScreen, pane: ConversationPane, reply: ChatMessage,
                        error: ServiceError | None) -> None:
    """A reply ended: if the server said the conversation is too long, offer the same."""
    named = context_error(error)
    conversation = pane.conversation
    if named is None or not conversation.messages or reply is not conversation.messages[-1]:
        return
    session = chat.session
    if named:
        session.learn_context(conversation.provider, conversation.model, named)
    size = request_tokens(conversation)
    if named and size * UNEXPLAINED < budget(named, session.request_params(conversation)):
        # Leaving out turns would not help: it would leave out all but the last (a refusal
        # that named 32,768 tokens offered to trim a request of a hundred to five).
        chat.notify(f"{chat.ref(pane)} says the request is too long for its context ({named:,} tokens), yet t502"
                    f" counts it at about {size:,}: leaving out older turns would not help. The room asked for"
                    " the reply may be too large (max_tokens, F3), or the server counts otherwise.",
                    severity="warning", timeout=15)
        return
    # The server refused what the estimate let through: aim below both its figure and the
    # estimate, or trimming would send the same request again.
    known = budget(named, session.request_params(conversation)) if named else pane.context_limit()
    limit = min(known or 1 << 40, int(size * REFUSED_SHARE))
    said = f" (its context: {named:,} tokens)" if named else ""
    _offer(chat, pane, limit, f"{chat.ref(pane)} says the conversation is too long for it{said}.", after_error=True)


def _offer(chat: ChatScreen, pane: ConversationPane, limit: int, question: str, after_error: bool) -> None:
    async def send() -> None:
        if after_error:
            await pane.retry()
        else:
            pane.send_unchecked()

    async def switched(ref: str | None) -> None:
        if ref:
            await chat.use_model(pane, ref)
            if after_error:
                await pane.retry()
            else:
                pane.composer.submit()  # checked again, against the new model

    async def answered(choice: str | None) -> None:
        if choice == "switch":
            chat.t502.pick_model(chat.ref(pane), switched)
        elif choice == "trim":
            trim = await pane.leave_out_oldest(limit, "" if after_error else pane.composer.text)
            if trim is None:
                prompt = " with the system prompt" if pane.conversation.system_prompt.strip() else ""
                chat.notify(f"Even your message alone{prompt} is more than {short_count(limit)} tokens: shorten"
                            " it, or switch to a model with a larger context (ctrl+o).", severity="warning")
                return
            left = len(trim.leave_out)
            chat.notify(f"{left} older message{'s' if left != 1 else ''} left out (marked \"not sent\")."
                        if left else "It fits now.")
            await send()

    hint = "Esc leaves it as it is (Ctrl+R sends it again)" if after_error else "Esc keeps your message in the composer"
    answers = [("trim", "Send only the newest turns that fit", "t"), ("switch", "Switch model…", "m")]
    if trim_to_fit(pane.conversation, limit, "" if after_error else pane.composer.text, pane.attachments) is None:
        # Leaving out turns cannot make it fit: not offered, only to be refused when chosen.
        prompt = " with the system prompt" if pane.conversation.system_prompt.strip() else ""
        question += f" Even your message alone{prompt} is more than that: shorten it, or switch model."
        answers = answers[1:]
    chat.app.push_screen(Choice(question, answers, hint), answered)
