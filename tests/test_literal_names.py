"""Names from a server or the store (model ids, titles) are shown exactly as spelt: no markup
takes effect, and characters that reorder text or take no room are shown as codes."""

from __future__ import annotations

from datetime import datetime

import pytest
from textual.app import App, ComposeResult
from textual.widgets import OptionList

from loopback import LoopbackServer, models_reply
from t502_tui.conversation import ChatMessage, Conversation
from t502_tui.store import ConversationSummary, Store, default_path
from t502_tui.terminal_text import defuse, visible_name
from t502_tui.ui.screens.model_picker import ModelPicker, PickerGroup, PickerRow
from t502_tui.ui.widgets.sidebar import ConversationList
from scripted_replies import reply_for
from store_helpers import append
from test_cli import t502
from tui_helpers import make_app, pane, picker_ready, send, settle, shown, until

MARKUP = "[bold red]x[/]"
POSER = "gpt-4o\u202e\u200b"  # looks like "gpt-4o"


def test_visible_name_shows_what_hides() -> None:
    assert visible_name(POSER) == "gpt-4o<U+202E><U+200B>"
    assert visible_name("a\u2066b\u2069c\u200dd\ufeffe\u2060") == "a<U+2066>b<U+2069>c<U+200D>d<U+FEFF>e<U+2060>"
    assert visible_name("x\x1b[31m\ty\n") == "x^[[31m^Iy^J"
    assert visible_name("Grüße · 東京 ☕ مرحبا") == "Grüße · 東京 ☕ مرحبا"
    # Model output keeps bidi text and line breaks: that is defuse's job, not this one.
    assert defuse("שלום\u202b עולם\n") == "שלום\u202b עולם\n"
    # But not an override, which shows "gnp.exe" as "exe.png" where the terminal reorders.
    assert defuse("photo\u202egnp.exe") == "photo<U+202E>gnp.exe"


def lines(widget: OptionList) -> list[str]:
    return [widget.render_line(y).text.rstrip() for y in range(widget.size.height)]


async def test_model_picker_draws_ids_literally() -> None:
    class PickerApp(App[None]):
        def on_mount(self) -> None:
            rows = [PickerRow(f"token502/{m}", m) for m in (MARKUP, POSER, "gpt-4o")]
            self.push_screen(ModelPicker([PickerGroup("token502", rows)], current=f"token502/{POSER}",
                                         recent=[f"token502/{MARKUP}"]))

    app = PickerApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        drawn = "\n".join(lines(app.screen.query_one(OptionList)))
        assert f"{MARKUP}  recent" in drawn
        assert "gpt-4o<U+202E><U+200B>  current" in drawn
        await pilot.press(*"[bold")
        await pilot.pause()
        drawn = "\n".join(lines(app.screen.query_one(OptionList)))
        assert "[bold red]x[/]" in drawn and "Use [bold as typed" in drawn


ESCAPES = "bell\x07and\x1b]0;TITLE-HACK\x07osc \x1b[41mRED"
SHOWN = "bell^Gand^[]0;TITLE-HACK^Gosc ^[[41mRED"


async def test_notices_show_escape_sequences_as_text(server: LoopbackServer) -> None:
    app = make_app(server)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app)
        app.notify(f"Next replies come from {ESCAPES}", title=ESCAPES)  # a model id, a server's words
        await pilot.pause()
        notice = list(app._notifications)[-1]
        assert (notice.message, notice.title) == (f"Next replies come from {SHOWN}", SHOWN)


async def test_a_model_chosen_is_named_in_the_notice_as_spelt(server: LoopbackServer) -> None:
    app = make_app(server)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app)
        app.chat.action_switch_model()
        await until(pilot, lambda: picker_ready(app))
        app.screen.dismiss("gpt\u202egnp.exe")  # a right-to-left override would show "gptexe.png"
        await until(pilot, lambda: any("Next replies come from" in n.message for n in app._notifications))
        assert "Next replies come from gpt<U+202E>gnp.exe" in [n.message for n in app._notifications]


async def test_the_pages_a_reply_cites_are_shown_as_the_server_names_them(server: LoopbackServer) -> None:
    server.handler = reply_for  # "cite": titles with markup and an escape sequence
    app = make_app(server)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app)
        await send(pilot, "cite")
        await until(pilot, lambda: not pane(app).streaming and "Sources:" in shown(app))
        assert "[1] Rain - Wikipedia · en.wikipedia.org" in shown(app)
        assert "[2] Forecast [bold red]today[/bold red] ^[[31m* · example.com" in shown(app)


@pytest.mark.parametrize("alone", [True, False])
async def test_model_pickers_notes_show_escape_sequences_as_text(alone: bool) -> None:
    broken = PickerGroup("relay", None, f"server said {ESCAPES}")
    groups = [broken] if alone else [PickerGroup("token502", [PickerRow("token502/gpt-5", "gpt-5")]), broken]
    app: App[None] = App()
    async with app.run_test(size=(100, 30)) as pilot:
        app.push_screen(ModelPicker(groups, current="token502/gpt-5", recent=[]))
        await pilot.pause()
        if alone:  # the note under the list says what went wrong
            assert app.screen.query_one("#picker-note").render_line(0).text.startswith(f"Server said {SHOWN} · ")
        else:  # the group's heading does
            assert f"relay · server said {SHOWN}" in "\n".join(lines(app.screen.query_one(OptionList)))


async def test_sidebar_draws_titles_and_models_literally() -> None:
    class SidebarApp(App[None]):
        def compose(self) -> ComposeResult:
            yield ConversationList()

    app = SidebarApp()
    async with app.run_test(size=(60, 20)) as pilot:
        sidebar = app.query_one(ConversationList)
        unsaved = Conversation(model=POSER, title="new\u202eone")
        saved = ConversationSummary("c1", f"{MARKUP}\u2066", datetime.now(), MARKUP, 2, False)
        first = ConversationSummary("c2", "just asked", datetime.now(), "gpt-5", 1, False)
        elsewhere = ConversationSummary("c3", "local one", datetime.now(), "qwen3", 2, False, provider="local")
        local = Conversation(model="llama3", provider="local", title="new local")
        sidebar.show([(unsaved, False, ""), (local, False, "")], [saved, first, elsewhere], set(), None)
        await pilot.pause()
        drawn = [line.strip() for line in lines(sidebar)]
        assert "new<U+202E>one" in drawn and "gpt-4o<U+202E><U+200B>" in drawn
        assert f"{MARKUP}<U+2066>" in drawn and any(line.endswith(f" 2 msgs · {MARKUP}") for line in drawn)
        assert any(line.endswith(" 1 msg · gpt-5") for line in drawn)
        # Another provider's model is named with it, as the status line names it.
        assert "local/llama3" in drawn and any(line.endswith(" 2 msgs · local/qwen3") for line in drawn)


def test_shell_shows_names_as_spelt(server: LoopbackServer) -> None:
    server.script("/models", models_reply([POSER, "gpt-4o"]))
    assert t502("models", server=server).stdout == "gpt-4o\ngpt-4o<U+202E><U+200B>\n"
    store = Store(default_path())
    conversation = Conversation(model="m", title="pay\u202eusd")
    for role, text in (("user", "find me"), ("assistant", "found")):
        message = ChatMessage(role, text, model=POSER if role == "assistant" else None)
        append(store, conversation, message)
    store.close()
    listing = t502("history", "list").stdout
    assert "gpt-4o<U+202E><U+200B>" in listing and listing.rstrip().endswith("pay<U+202E>usd")
    found = t502("history", "search", "found").stdout
    assert "pay<U+202E>usd" in found and "gpt-4o<U+202E><U+200B>: found" in found
    shown = t502("history", "show", conversation.id[:8]).stdout
    assert shown.startswith("# pay<U+202E>usd\n") and "## gpt-4o<U+202E><U+200B> · " in shown

