"""A damaged or read-only store: one clear line, never a traceback, and nothing written to it."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from loopback import LoopbackServer, text_stream
from t502_tui.conversation import ChatMessage, Conversation
from t502_tui.store import Store, StoreError, default_path
from store_helpers import append
from test_cli import env_for, t502
from t502_tui.ui.screens.dialogs import Confirm
from tui_helpers import make_app, pane, settle, until

PAGE = 4096


def fill(path: Path, conversations: int = 30) -> None:
    """A real store whose messages span many pages."""
    store = Store(path)
    for n in range(conversations):
        conversation = Conversation(model="m")
        for i in range(6):
            append(store, conversation, ChatMessage("user" if i % 2 == 0 else "assistant",
                                                    f"message {n} {i} " + "words " * 200))
    store.save_drafts({"f" * 32: "words not sent yet"})
    store.close()


def damage(path: Path, marker: bytes) -> None:
    """Write garbage over the page that holds ``marker`` (the store must be closed)."""
    data = path.read_bytes()
    page = data.index(marker) // PAGE
    with path.open("r+b") as file:
        file.seek(page * PAGE)
        file.write(b"\xde\xad\xbe\xef" * (PAGE // 4))


def digest(folder: Path) -> dict[str, str]:
    """The content of every t502.db* file (the -shm index is SQLite's scratch space)."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.glob("t502.db*")
            if not p.name.endswith("-shm")}


@pytest.fixture
def damaged() -> Path:
    """The default store, its newest conversation on a damaged page."""
    path = default_path()
    fill(path)
    damage(path, b"message 29 0 ")
    return path


def test_reads_fail_as_one_store_error_and_nothing_is_written(damaged: Path) -> None:
    before = digest(damaged.parent)
    store = Store(damaged)
    with pytest.raises(StoreError, match=r"t502\.db is damaged \(database disk image is malformed\)"):
        store.list_conversations()
    assert store.damaged
    latest = store.latest_conversation_id() or ""
    with pytest.raises(StoreError, match="is damaged"):
        store.load_conversation(latest)
    conversation = Conversation(model="m")
    with pytest.raises(StoreError, match="t502 will not write to it"):
        store.add_message(conversation, ChatMessage("user", "new words"))
    with pytest.raises(StoreError, match="is damaged"):
        store.rename(latest, "new title")
    store.close()
    assert digest(damaged.parent) == before


def test_every_read_error_is_a_store_error(tmp_path: Path) -> None:
    store = Store(tmp_path / "t502.db")
    conversation = Conversation(model="m")
    store.add_message(conversation, ChatMessage("user", "hello"))
    store._db.execute("DROP TABLE attachments")  # any failure SQLite reports while reading
    for read in (lambda: store.load_conversation(conversation.id), lambda: store.all_messages(conversation.id)):
        with pytest.raises(StoreError, match=r"could not read .*t502\.db \(a conversation\): no such table"):
            read()
    store.close()


def test_shell_says_damaged_where_and_what_to_do(damaged: Path, server: LoopbackServer) -> None:
    before = digest(damaged.parent)
    listing = t502("history", "list")
    assert listing.returncode == 1 and listing.stdout == ""
    assert listing.stderr == (
        f"error: the history database {damaged} is damaged (database disk image is malformed); t502 will not "
        "write to it. `t502 history recover` copies what can still be read into a new one\n")
    continued = t502("ask", "-c", "and then?", server=server)
    assert continued.returncode != 0 and "is damaged" in continued.stderr
    assert "Traceback" not in continued.stderr and server.chat_requests() == []
    assert digest(damaged.parent) == before


def test_recover_keeps_every_readable_row_and_the_damaged_file(damaged: Path) -> None:
    original = hashlib.sha256(damaged.read_bytes()).hexdigest()
    result = t502("history", "recover")
    assert result.returncode == 0, result.stderr
    [kept] = damaged.parent.glob("t502-damaged-*.db")
    assert hashlib.sha256(kept.read_bytes()).hexdigest() == original
    store = Store(damaged)
    rows = store.list_conversations()
    messages = sum(r.message_count for r in rows)
    assert len(rows) == 30 and 170 <= messages < 180  # only the rows on the damaged page are lost
    assert result.stderr == (
        f"recovered 30 conversations, {messages} messages and 0 images into {damaged}; 1 damaged part could "
        f"not be read; the damaged file is kept as {kept}\n")
    older = store.load_conversation(rows[1].id).messages
    assert [m.content.split(" words")[0] for m in older][:1] == ["message 28 0"]
    assert store.search("message 27 3")  # the search index is rebuilt
    assert store.unsent_drafts() == [("f" * 32, "words not sent yet")]
    store.add_message(Conversation(model="m"), ChatMessage("user", "writing works again"))
    store.close()
    again = t502("history", "recover")
    assert again.returncode == 0 and again.stderr == f"{damaged} is not damaged; nothing to recover\n"


def test_recover_with_no_store() -> None:
    result = t502("history", "recover")
    assert result.returncode == 1 and result.stderr == f"error: there is no history database at {default_path()}\n"


async def test_chat_says_the_store_is_damaged(damaged: Path, server: LoopbackServer) -> None:
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app)
        await pilot.pause()
        notices = [n.message for n in app._notifications]
        assert any("is damaged" in n and "t502 history recover" in n for n in notices), notices


async def test_with_the_history_off_quitting_asks_before_words_are_lost(server: LoopbackServer) -> None:
    path = default_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"not a database " * 100)  # the history cannot be opened at all
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app)
        await until(pilot, lambda: app.history_off)
        await pilot.press("ctrl+q")  # nothing typed or said yet: quits at once
        await until(pilot, lambda: app.return_code is not None)
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app)
        await until(pilot, lambda: app.history_off)
        await pilot.press(*"my words")
        await pilot.press("ctrl+q")
        await until(pilot, lambda: isinstance(app.screen, Confirm))
        assert app.screen.question.startswith("History is off, so nothing on screen or typed is kept")
        await pilot.press("escape")  # stays
        await until(pilot, lambda: not isinstance(app.screen, Confirm))
        assert app.is_running and pane(app).composer.text == "my words"
        await pilot.press("ctrl+q", "ctrl+q")  # asked, then sure
        await until(pilot, lambda: app.return_code is not None)


# -- read-only ---------------------------------------------------------------------------------


def plain_user() -> list[str]:
    """A command prefix that takes away root's power to write whatever the file modes say."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: file modes cannot make anything read-only")
    return [setpriv, "--bounding-set=-dac_override,-dac_read_search"]


def run_as_plain_user(*args: str, server: LoopbackServer | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*plain_user(), sys.executable, "-m", "t502_tui", *args], input="", capture_output=True,
                          text=True, env=env_for(server), timeout=60)


def test_read_only_folder_is_reported_as_read_only() -> None:
    path = default_path()
    fill(path, conversations=1)
    os.chmod(path.parent, 0o555)
    try:
        result = run_as_plain_user("history", "list")
    finally:
        os.chmod(path.parent, 0o700)
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: {path.parent} is read-only: ")
    assert result.stderr.endswith(f"make it writable to keep the history in {path}\n")


def test_read_only_file_is_read_but_not_written(server: LoopbackServer) -> None:
    path = default_path()
    fill(path, conversations=1)
    os.chmod(path, 0o444)
    server.script("/chat/completions", text_stream("An answer."))
    try:
        listing = run_as_plain_user("history", "list")
        asked = run_as_plain_user("ask", "a question", server=server)
    finally:
        os.chmod(path, 0o600)
    assert listing.returncode == 0 and "message 0 0" in listing.stdout
    assert asked.returncode == 0 and asked.stdout == "An answer.\n"
    assert asked.stderr.startswith(f"warning: not saved: {path} is read-only: attempt to write a readonly database")


@pytest.mark.parametrize("kind", ["fifo", "folder"])
def test_a_store_that_is_a_pipe_or_a_folder_is_one_line_not_a_hang(kind: str, server: LoopbackServer) -> None:
    path = default_path()
    path.parent.mkdir(parents=True)
    os.mkfifo(path) if kind == "fifo" else path.mkdir()
    listing = t502("history", "list")
    assert listing.returncode == 1 and "Traceback" not in listing.stderr
    assert listing.stderr.startswith(f"error: cannot open the history database {path}: ")
    assert ("a folder, not a file" if kind == "folder" else "a pipe or a device") in listing.stderr
    server.script("/chat/completions", text_stream("still answered"))
    asked = t502("ask", "hi", server=server)
    assert asked.returncode == 0 and asked.stdout == "still answered\n" and "cannot open" in asked.stderr


async def test_search_before_the_history_is_open_does_not_say_it_is_off(server: LoopbackServer) -> None:
    app = make_app(server)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.session.history is not None)
        history, app.session.history = app.session.history, None  # as in the first moments after start
        app.chat.action_search()
        await until(pilot, lambda: any(str(n.message).startswith("The history is still being opened")
                                       for n in app._notifications))
        assert not any("History is off" in str(n.message) for n in app._notifications)
        app.history_off = True
        app.chat.action_search()
        await until(pilot, lambda: any(str(n.message) == "History is off, so there is nothing to search."
                                       for n in app._notifications))
        app.session.history, app.history_off = history, False
