"""The shell and the history: ask saves, -c continues, history verbs, import/export, kill -9."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from loopback import LoopbackServer, text_stream
from t502_tui import cli
from t502_tui.conversation import ChatMessage, Conversation, ReplyStatus
from t502_tui.store import Store, default_path
from test_cli import KEY, ask_held_open, env_for, t502


def stored() -> Store:
    return Store(default_path())


def test_ask_saves_and_continue_sends_history(server: LoopbackServer) -> None:
    server.script("/chat/completions", text_stream("Paris."), text_stream("About 2 million."))
    assert t502("ask", "capital of France?", server=server).returncode == 0
    result = t502("ask", "-c", "how many people live there?", server=server)
    assert result.returncode == 0, result.stderr
    second = server.chat_requests()[1].json["messages"]
    assert [m["content"] for m in second] == ["capital of France?", "Paris.", "how many people live there?"]
    store = stored()
    [summary] = store.list_conversations()
    assert summary.message_count == 4 and summary.title == "capital of France?"
    store.close()


def test_continue_a_given_id_with_another_model(server: LoopbackServer) -> None:
    t502("ask", "first", server=server)
    t502("ask", "second", server=server)
    store = stored()
    older = store.list_conversations()[1].id
    store.close()
    t502("ask", "--continue", older[:6], "-m", "claude-x", "more", server=server)
    last = server.chat_requests()[-1].json
    assert last["model"] == "claude-x" and last["messages"][0]["content"] == "first"


def test_no_save(server: LoopbackServer) -> None:
    t502("ask", "--no-save", "secret question", server=server)
    store = stored()
    assert store.list_conversations() == []
    store.close()


def test_continue_with_no_history(server: LoopbackServer) -> None:
    result = t502("ask", "-c", "hello", server=server)
    assert result.returncode == 2 and "no conversation to continue" in result.stderr


def test_history_verbs_and_round_trip(server: LoopbackServer, tmp_path: Path) -> None:
    server.script("/chat/completions", text_stream("Use a **starter** for sourdough.", reasoning="bread"))
    t502("ask", "how to bake bread?", server=server)
    listing = t502("history", "list")
    ident = listing.stdout.split()[0]
    assert listing.returncode == 0 and "how to bake bread?" in listing.stdout and "gpt-5" in listing.stdout
    assert t502("history", "list", "--archived").stderr == "no archived conversations\n"
    shown = t502("history", "show", ident)
    assert "## You" in shown.stdout and "sourdough" in shown.stdout and "total" in shown.stdout
    found = t502("history", "search", "sourd")
    assert found.returncode == 0 and ident in found.stdout and "sourdough" in found.stdout
    assert t502("history", "search", "nothingmatches").returncode == 1
    out = tmp_path / "c.json"
    assert t502("history", "export", ident, "-o", str(out)).returncode == 0  # JSON, as its name says
    data = json.loads(out.read_text())
    assert data["messages"][1]["reasoning"] == "bread"
    md = t502("history", "export", ident)
    assert md.stdout.startswith("# how to bake bread?")
    short = t502("history", "delete", ident[:1])  # unique, but a stray key: refused
    assert short.returncode == 2 and "at least 4 characters" in short.stderr
    assert t502("history", "delete", ident).returncode == 0
    assert "no saved" in t502("history", "list").stderr
    imported = t502("import", str(out))
    assert imported.returncode == 0, imported.stderr
    again = t502("history", "show", ident)
    assert "sourdough" in again.stdout and "bread" in again.stdout
    for result in (listing, shown, found, md, imported):
        assert KEY not in result.stdout + result.stderr


def test_an_export_that_cannot_be_written_leaves_nothing_behind(server: LoopbackServer, tmp_path: Path) -> None:
    t502("ask", "hello", server=server)
    ident = t502("history", "list").stdout.split()[0]
    nowhere = tmp_path / "no" / "such" / "folder" / "chat.md"
    result = t502("history", "export", ident, "-o", str(nowhere))
    assert result.returncode == 1 and "cannot write" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "no").exists()  # no folders made on the way
    if os.path.exists("/dev/full"):  # a full disk, as standard output
        with open("/dev/full", "w") as full:
            result = subprocess.run([sys.executable, "-m", "t502_tui", "history", "export", ident], stdout=full,
                                    stderr=subprocess.PIPE, text=True, env=env_for(server), timeout=60)
        assert result.returncode == 1
        assert result.stderr == "error: cannot write the output: No space left on device\n"


def test_a_list_length_is_one_or_more_and_any_size(server: LoopbackServer) -> None:
    t502("ask", "hello", server=server)
    for bad, said in (("0", "must be 1 or more, not 0"), ("-1", "must be 1 or more"), ("x", "not a whole number")):
        result = t502("history", "list", "-n", bad)
        assert result.returncode == 2 and said in result.stderr and "Traceback" not in result.stderr
    result = t502("history", "list", "-n", "9" * 20)
    assert result.returncode == 0 and "hello" in result.stdout


def test_bad_import_and_unknown_id(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"hello": 1}')
    result = t502("import", str(bad))
    assert result.returncode == 1 and "not a t502 conversation export" in result.stderr
    result = t502("history", "show", "nope")
    assert result.returncode == 1 and "no conversation with id 'nope'" in result.stderr
    assert "Traceback" not in result.stderr


def test_corrupt_database_is_reported_not_overwritten(server: LoopbackServer) -> None:
    path = default_path()
    path.parent.mkdir(parents=True)
    path.write_bytes(b"garbage" * 1000)
    result = t502("history", "list")
    assert result.returncode == 1 and "not a usable t502 database" in result.stderr
    asked = t502("ask", "still works?", server=server)
    assert asked.returncode == 0 and "warning:" in asked.stderr and asked.stdout
    assert path.read_bytes().startswith(b"garbage")


def test_sigkill_mid_reply_leaves_an_interrupted_partial_reply(server: LoopbackServer) -> None:
    # The row is written with the first token, before it is printed.
    proc, gate = ask_held_open(server, "The first words\n", "tell me a story")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    gate.open()
    store = stored()
    conversation = store.load_conversation(store.latest_conversation_id() or "")
    user, reply = conversation.messages
    assert user.content == "tell me a story"
    assert reply.status is ReplyStatus.INTERRUPTED and reply.content == "The first words\n"
    store.close()


@pytest.mark.parametrize("command", [
    ["history", "list"], ["history", "show", "ID"], ["history", "search", "saved"], ["history", "export", "ID"],
    ["ask", "hello"],
    ["models"], ["config", "show"],
])
def test_a_closed_stdout_ends_quietly(server: LoopbackServer, command: list[str]) -> None:
    """`t502 history list | head -1`: once the reader is gone, stop without a word, exit 0."""
    store = stored()
    conversation = Conversation(model="m")
    store.add_message(conversation, ChatMessage("user", "saved words"))
    store.close()
    server.script("/chat/completions", text_stream("An answer."))
    args = [conversation.id if part == "ID" else part for part in command]
    proc = subprocess.Popen([sys.executable, "-m", "t502_tui", *args], env=env_for(server), text=True,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader is gone before the first line is written
    err = proc.stderr.read()
    assert proc.wait(timeout=60) == 0
    assert "Broken pipe" not in err and "Traceback" not in err and "Exception ignored" not in err


@pytest.mark.parametrize(("first", "title"), [
    ("What is 2+2?", "What is 2+2?"),
    ("Explain how   the TCP three-way handshake works in detail", "Explain how the TCP three-way handshake…"),
    ("x" * 50, "x" * 40 + "…"),
])
def test_an_untitled_conversation_is_named_by_its_first_words_cut_at_a_word(first: str, title: str) -> None:
    conversation = Conversation(model="gpt-5", messages=[ChatMessage("user", first)])
    assert conversation.display_title == title


@pytest.mark.parametrize("argv", [["history", "search", "word"], ["import", "big.json"],
                                  ["history", "export", "abc", "-o", "x.md"]])
def test_ctrl_c_in_a_history_command_says_stopped_not_a_traceback(
        argv: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    def interrupted(args: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "run_history_command", interrupted)
    assert cli.main(argv) == 130
    assert capsys.readouterr().err.strip() == "stopped"
