"""Whatever ends t502 (Ctrl+Q, SIGTERM, SIGHUP, an unexpected error), what the user saw and
typed is in the history, and the terminal is given back as it was."""

from __future__ import annotations

import contextlib
import os
import pty
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual import events

from loopback import Gate, LoopbackServer, chunk, sse, stream_reply
from t502_tui.conversation import ReplyStatus
from t502_tui.store import Store, default_path
from test_cli import ask_held_open, env_for
from tui_helpers import make_app, pane, send, settle, until

CHAT = "/chat/completions"


def latest_reply() -> tuple[str, ReplyStatus]:
    store = Store(default_path())
    try:
        conversation = store.load_conversation(store.latest_conversation_id() or "")
        reply = conversation.messages[-1]
        return reply.content, reply.status
    finally:
        store.close()


def held_reply(server: LoopbackServer, words: str) -> Gate:
    gate = Gate()
    server.script(CHAT, stream_reply([*sse(chunk(words), done=False), gate]))
    return gate


async def test_quitting_keeps_unsent_text(server: LoopbackServer) -> None:
    app = make_app(server)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: app.session.history is not None)
        pane(app).composer.insert("half a thought, not sent")
        await pilot.press("ctrl+q")
    again = make_app(server)
    async with again.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: again.session.history_ready.is_set() and again.chat.active_pane is not None)
        await until(pilot, lambda: pane(again).composer.text == "half a thought, not sent")
    assert not server.chat_requests()


async def test_quitting_keeps_what_a_new_conversation_was_set_to(server: LoopbackServer) -> None:
    """Its system prompt, parameters and model, not only its typed words (run 24): the
    prompt is the user's words too. One with nothing typed yet keeps them as well."""
    app = make_app(server)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: app.session.history is not None)
        conversation = pane(app).conversation
        conversation.system_prompt, conversation.settings = "Talk like a pirate.", {"temperature": 0.2}
        conversation.model = "deepseek-r1"
        pane(app).composer.insert("draft words")
        blank = await app.chat.new_conversation()
        blank.conversation.system_prompt = "A prompt, nothing typed yet."
        await pilot.press("ctrl+q")
    again = make_app(server)
    async with again.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: again.session.history_ready.is_set() and len(again.chat.panes) >= 2)
        await until(pilot, lambda: any(p.composer.text == "draft words" for p in again.chat.panes))
        [drafted] = [p.conversation for p in again.chat.panes if p.composer.text == "draft words"]
        assert (drafted.system_prompt, drafted.settings, drafted.model) == (
            "Talk like a pirate.", {"temperature": 0.2}, "deepseek-r1")
        assert "A prompt, nothing typed yet." in [p.conversation.system_prompt for p in again.chat.panes]
    store = Store(default_path())
    try:  # taken back: nothing of them left behind for the next start
        assert store.unsent_drafts() == [] and store._db.execute(
            "SELECT count(*) FROM preferences WHERE key LIKE 'draft-head:%'").fetchone()[0] == 0
    finally:
        store.close()


async def test_a_draft_reopened_while_the_user_types_does_not_take_their_keys(server: LoopbackServer) -> None:
    app = make_app(server)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: app.session.history_ready.is_set() and app.chat.active_pane is not None)
        first = pane(app)
        await pilot.press("h", "i")  # typed in the moment before the drafts are read
        await app.chat.reopen_drafts([("f" * 32, "the draft from last time")])
        await pilot.press("!")
        assert pane(app) is first and first.composer.text == "hi!"
        drafts = [p for p in app.chat.panes if p.composer.text == "the draft from last time"]
        assert len(drafts) == 1 and drafts[0] is not first
        assert [p for p in app.chat.panes if p.display] == [first]
        assert any("reopened in the conversation list (Ctrl+B)" in n.message for n in app._notifications)


async def test_keys_typed_before_a_draft_came_back_stay_apart_from_it(server: LoopbackServer) -> None:
    """A key typed a moment after start can reach the composer after the draft it never
    saw (it waited in the queue): it begins a new message, and the draft moves aside."""
    app = make_app(server)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: app.session.history_ready.is_set() and app.chat.active_pane is not None)
        first = pane(app)
        early = events.Key("n", "n")  # read from the terminal now, handled later
        await app.chat.reopen_drafts([("f" * 32, "the draft from last time")])
        assert first.composer.text == "the draft from last time"  # nothing typed yet: it is in front
        first.composer.post_message(early)
        await pilot.press("e", "w")
        await settle(app)
        assert pane(app) is first and first.composer.text == "new"
        drafts = [p for p in app.chat.panes if p.composer.text == "the draft from last time"]
        assert len(drafts) == 1 and drafts[0] is not first
        assert [p for p in app.chat.panes if p.display] == [first]  # the draft is listed, not drawn too
        await pilot.press("x")  # later keys are ordinary typing
        assert first.composer.text == "newx"


async def test_keys_typed_before_the_composer_was_there_are_typed_into_it_in_order(
        server: LoopbackServer) -> None:
    """Type-ahead: keys read while t502 starts, before anything has the focus, would reach
    an empty screen and be dropped; they are kept and typed into the composer ahead of
    the keys that come once it is there."""
    app = make_app(server)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: app.chat.active_pane is not None and app._typed_ahead is None)
        composer = pane(app).composer
        app._typed_ahead = []  # as while starting
        app.screen.set_focus(None)  # no composer to take them yet
        await pilot.press("h", "e", "enter")
        assert composer.text == ""
        composer.focus()
        await pilot.press("l", "l", "o")  # the composer is there: what came before goes first
        assert composer.text == "hello" and not pane(app).conversation.messages  # Enter sent nothing
        assert app._typed_ahead is None


async def test_keys_typed_right_after_ctrl_n_go_to_the_new_conversation(server: LoopbackServer) -> None:
    app = make_app(server)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: app.chat.active_pane is not None and app._typed_ahead is None)
        await send(pilot, "first question")
        await settle(app)
        old = pane(app)
        for key, character in (("ctrl+n", None), ("h", "h"), ("i", "i")):  # one burst, as a fast typist's
            app.post_message(events.Key(key, character))
        await until(pilot, lambda: pane(app) is not old and pane(app).composer.text == "hi")
        assert old.composer.text == "" and app.focused is pane(app).composer


async def test_quitting_while_a_reply_streams_keeps_it_as_interrupted(server: LoopbackServer) -> None:
    gate = held_reply(server, "the first words")
    app = make_app(server)
    async with app.run_test(size=(100, 30)) as pilot:
        await send(pilot, "tell me")
        await until(pilot, lambda: pane(app).conversation.messages[-1].content == "the first words")
        await pilot.press("ctrl+q")
    gate.open()
    assert latest_reply() == ("the first words", ReplyStatus.INTERRUPTED)


async def test_an_unexpected_error_keeps_the_session_and_names_the_log(
        server: LoopbackServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    gate = held_reply(server, "words on screen")
    app = make_app(server)

    def broken() -> None:
        raise RuntimeError("a bug somewhere in t502")

    with pytest.raises(RuntimeError, match="a bug somewhere"):
        async with app.run_test(size=(100, 30)) as pilot:
            await send(pilot, "go")
            await until(pilot, lambda: pane(app).conversation.messages[-1].content == "words on screen")
            pane(app).composer.insert("my next question")
            app.call_later(broken)
            await pilot.pause()
            await settle(app)
    gate.open()
    assert latest_reply() == ("words on screen", ReplyStatus.INTERRUPTED)
    log = tmp_path / "state" / "t502" / "debug.log"
    assert "RuntimeError: a bug somewhere in t502" in log.read_text()
    assert log.stat().st_mode & 0o777 == 0o600
    assert f"The details are in {log}" in capsys.readouterr().err.replace("\n", "")
    again = make_app(server)
    async with again.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: bool(again.chat.saved))
        await again.chat.open_saved(again.chat.saved[0].id)  # the text comes back with its conversation
        assert pane(again).composer.text == "my next question"


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_ask_ended_by_a_signal_keeps_the_reply_as_interrupted(server: LoopbackServer, signum: int) -> None:
    proc, gate = ask_held_open(server, "The first words\n", "tell me a story")
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=30)
    gate.open()
    assert proc.returncode == 128 + signum and "Traceback" not in err
    assert latest_reply() == ("The first words\n", ReplyStatus.INTERRUPTED)


def read_until(fd: int, wanted: bytes, timeout: float = 30) -> bytes:
    """What the terminal shows, up to and including ``wanted`` (the process's output)."""
    seen = b""
    deadline = time.monotonic() + timeout
    while wanted not in seen:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"never saw {wanted!r}; last output: {seen[-500:]!r}")
        if select.select([fd], [], [], left)[0]:
            try:
                piece = os.read(fd, 65536)
            except OSError:
                break
            if not piece:
                break
            seen += piece
    return seen


@contextlib.contextmanager
def chat_mid_reply(server: LoopbackServer) -> Iterator[tuple[subprocess.Popen[bytes], list[int]]]:
    """The real chat in a pseudo-terminal, a reply's first words on screen and the rest
    held back; yields the process and the terminal's side (a list: a test may close it)."""
    gate = held_reply(server, "words the user saw")
    master, slave = pty.openpty()
    os.set_blocking(master, True)
    env = env_for(server, TERM="xterm-256color", COLUMNS="100", LINES="30")
    proc = subprocess.Popen([sys.executable, "-m", "t502_tui"], stdin=slave, stdout=slave, stderr=slave,
                            env=env, start_new_session=True)
    os.close(slave)
    terminal = [master]
    try:
        read_until(master, b"sends,")
        os.write(master, b"tell me\r")
        assert gate.reached.wait(30)
        read_until(master, b"words the user saw")
        yield proc, terminal
    finally:
        gate.open()
        if proc.poll() is None:
            proc.kill()
        for fd in terminal:
            os.close(fd)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_the_chat_ended_by_sigterm_saves_the_reply_and_restores_the_terminal(server: LoopbackServer,
                                                                             signum: int) -> None:
    with chat_mid_reply(server) as (proc, [master]):
        proc.send_signal(signum)
        rest = read_until(master, b"\x1b[?25h")  # the cursor is shown again
        assert b"\x1b[?1049l" in rest and b"\x1b[?1000l" in rest  # main screen back, mouse reporting off
        code = proc.wait(30)
        log = Path(os.environ["XDG_STATE_HOME"]) / "t502" / "debug.log"
        assert code == 128 + signum, log.read_text() if log.exists() else f"exit {code}"
    assert latest_reply() == ("words the user saw", ReplyStatus.INTERRUPTED)


def test_the_chat_ends_when_its_terminal_goes_away_mid_reply(server: LoopbackServer) -> None:
    # As when a terminal window or a tmux session is closed: the terminal is gone (its
    # side closed) and t502 gets SIGHUP while it draws a reply.
    with chat_mid_reply(server) as (proc, terminal):
        os.close(terminal.pop())
        proc.send_signal(signal.SIGHUP)
        assert proc.wait(60) == 128 + signal.SIGHUP
    assert latest_reply() == ("words the user saw", ReplyStatus.INTERRUPTED)


async def test_keys_held_for_a_composer_when_t502_closes_are_let_go_quietly(server: LoopbackServer) -> None:
    # The look for a composer to take held keys runs on a timer: it came after the app
    # had closed (a loaded machine) and asked for a screen there was no longer.
    app = make_app(server)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: app.chat.active_pane is not None)
    app._typed_ahead = []
    app._hand_typed_ahead()
    assert app._typed_ahead is None
