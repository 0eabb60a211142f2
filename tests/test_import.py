"""`t502 import`: all of a file or nothing, its own times, and one clear line for a bad file."""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from t502_tui.conversation import ChatMessage, Conversation, ReplyStatus
from t502_tui.export import ImportError_, read_export, to_json
from t502_tui.service import Usage
from t502_tui.store import Store, StoreError, default_path
from store_helpers import append
from test_cli import t502


def export_file(messages: list[dict[str, Any]], **head: Any) -> dict[str, Any]:
    return {"t502_export": 1, "conversation": {"title": "", "model": "m", **head}, "messages": messages}


def turns(count: int) -> list[dict[str, Any]]:
    return [{"role": "user" if i % 2 == 0 else "assistant", "content": f"turn {i}",
             "created": f"2024-03-0{1 + i // 4}T10:00:0{i % 4}"} for i in range(count)]


def store_rows() -> tuple[int, int]:
    store = Store(default_path())
    try:
        counts = store._db.execute("SELECT (SELECT count(*) FROM conversations), (SELECT count(*) FROM messages)")
        return tuple(counts.fetchone())  # type: ignore[return-value]
    finally:
        store.close()


def test_a_store_failure_half_way_leaves_nothing_behind(tmp_path: Path) -> None:
    store = Store(tmp_path / "t502.db")
    messages = [ChatMessage("user" if i % 2 == 0 else "assistant", f"m{i}") for i in range(6)]
    messages[3].usage = Usage(2**70, 1, 2)  # more than SQLite can hold
    conversation = Conversation(model="m", messages=messages)
    with pytest.raises(StoreError, match=r"could not save to .* \(import\)"):
        store.import_conversation(conversation)
    with pytest.raises(StoreError):
        store.import_conversation(conversation)
    assert store.list_conversations() == [] and store._db.execute("SELECT count(*) FROM messages").fetchone()[0] == 0
    store.close()


BAD_MESSAGES = {
    "usage 1e29": ({"usage": {"prompt_tokens": 1e29, "completion_tokens": 1, "total_tokens": 1}},
                   "message 4: usage 'prompt_tokens' must be a whole number from 0 to 1000000000000"),
    "negative usage": ({"usage": {"prompt_tokens": -5}}, "message 4: usage 'prompt_tokens' must be"),
    "id 2**70": ({"id": 2**70}, "message 4: 'id' must be a whole number from 0 to 9223372036854775807"),
    "parent as text": ({"parent": "3"}, "message 4: 'parent' must be a whole number"),
    "year 1": ({"created": "0001-01-01T00:00:00"}, "message 4: '0001-01-01T00:00:00' is not a date and time"),
    "date as number": ({"created": 1700000000}, "message 4: '1700000000' is not a date and time"),
    "content as number": ({"content": 5}, "message 4: 'content' must be text"),
    "model as list": ({"model": ["x"]}, "message 4: 'model' must be text"),
    "huge image": ({"attachments": [{"name": "a.png", "mime": "image/png", "data": "", "width": 2**70}]},
                   "message 4: an attachment is damaged"),
    "usage details as text": ({"usage": {"prompt_tokens": 1, "prompt_tokens_details": "x"}},
                              "message 4: 'prompt_tokens_details' must be an object"),
    "cost NaN": ({"cost": float("nan")}, "message 4: 'cost' must be a number from 0 to 1e+09"),
    "in_context as text": ({"in_context": "yes"}, "message 4: 'in_context' must be true, false or null"),
    "its own parent": ({"id": 4, "parent": 4}, "message 4: its 'parent' (4) is not a message before it"),
    "a parent after it": ({"parent": 99}, "message 4: its 'parent' (99) is not a message before it"),
}


def test_a_bad_message_half_way_is_one_line_and_the_store_is_unchanged(tmp_path: Path) -> None:
    t502("history", "list")  # an empty store
    messages = turns(6)
    messages[3]["usage"] = {"prompt_tokens": 1e29, "completion_tokens": 1, "total_tokens": 1}
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(export_file(messages)))
    for _ in range(2):
        result = t502("import", str(path))
        assert result.returncode == 1 and result.stdout == ""
        assert result.stderr == (f"error: {path} cannot be imported: message 4: usage 'prompt_tokens' must be "
                                 "a whole number from 0 to 1000000000000\n")
    assert store_rows() == (0, 0)


@pytest.mark.parametrize("change", BAD_MESSAGES.values(), ids=BAD_MESSAGES.keys())
def test_bad_messages_are_refused_before_the_store(change: tuple[dict[str, Any], str]) -> None:
    fields, reason = change
    messages = turns(6)
    messages[3].update(fields)
    with pytest.raises(ImportError_) as refused:
        read_export(json.dumps(export_file(messages)))
    assert str(refused.value).startswith(reason)


@pytest.mark.parametrize("text, reason", [
    ("[" * 200_000, "not a t502 conversation export (nested too deeply)"),
    ('{"t502_export": ' + "9" * 5_000 + "}", "not a t502 conversation export (a number in it is too long)"),
    ('{"t502_export": true, "conversation": {}, "messages": []}', "not a t502 conversation export"),
    ('{"t502_export": 1, "conversation": {"title": ["x"]}, "messages": []}', "conversation: 'title' must be text"),
    ('{"t502_export": 1, "conversation": {"archived": "no"}, "messages": []}', "conversation: 'archived' must be"),
    ('{"t502_export": 1, "conversation": {"created": "2024-13-45"}, "messages": []}', "conversation: '2024-13-45'"),
    ('{"t502_export": 1, "conversation": {"leaf": 1e300}, "messages": []}', "conversation: 'leaf' must be"),
    ('{"t502_export": 1, "conversation": {"settings": [1]}, "messages": []}', "conversation: 'settings' must be"),
    ('{"t502_export": 1, "conversation": {"settings": {"temperature": 5}}, "messages": []}',
     "conversation: 'settings.temperature' must be a number from 0 to 2"),
    ('{"t502_export": 1, "conversation": {"settings": {"reasoning_effort": "\\u001b[2J"}}, "messages": []}',
     "conversation: 'settings.reasoning_effort' must be one line without control characters"),
], ids=["deep and broken", "a long number", "version true", "title list", "archived text", "bad date", "leaf float",
        "settings list", "temperature out of range", "effort not one"])
def test_bad_files_are_refused(text: str, reason: str) -> None:
    with pytest.raises(ImportError_) as refused:
        read_export(text)
    assert str(refused.value).startswith(reason)


def test_deep_nesting_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text('{"t502_export": 1, "conversation": {}, "messages": [' + "[" * 200_000 + "]" * 200_000 + "]}")
    result = t502("import", str(path))
    assert result.returncode == 1
    assert result.stderr == f"error: {path} cannot be imported: not a t502 conversation export (nested too deeply)\n"


def test_half_a_surrogate_pair_is_kept_as_a_replacement_character(tmp_path: Path) -> None:
    half = "a\ud800b"
    messages = [{**turn, "content": half, "model": half} for turn in turns(2)]
    path = tmp_path / "half.json"
    path.write_text(json.dumps(export_file(messages, title=half, system_prompt=half)))  # ASCII: "\\ud800"
    result = t502("import", str(path))
    assert result.returncode == 0, result.stderr
    shown = t502("history", "show", result.stderr.split()[1])
    assert shown.returncode == 0 and shown.stdout.count("a\ufffdb") >= 3, shown.stderr


def test_not_a_regular_file_or_not_utf8(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)  # opening it would wait for a writer forever
    result = t502("import", str(fifo))
    assert result.returncode == 1 and result.stderr == f"error: {fifo} cannot be imported: not a regular file\n"
    latin = tmp_path / "latin.json"
    latin.write_bytes(b'{"t502_export": 1, "title": "caf\xe9"}')
    result = t502("import", str(latin))
    assert result.returncode == 1 and result.stderr == f"error: {latin} cannot be imported: not UTF-8 text\n"
    missing = t502("import", str(tmp_path / "nothing.json"))
    assert missing.returncode == 1 and "No such file" in missing.stderr and "Traceback" not in missing.stderr


def test_import_says_what_the_list_shows(tmp_path: Path) -> None:
    # Two branches: 10 messages in all, 4 on the branch in view; no title of its own.
    messages = [dict(m, id=i + 1, parent=i or None) for i, m in enumerate(turns(8))]
    messages += [{"id": 9, "parent": 2, "role": "user", "content": "another way", "created": "2024-03-02T11:00:00"},
                 {"id": 10, "parent": 9, "role": "assistant", "content": "sure", "created": "2024-03-02T11:00:01"}]
    path = tmp_path / "zoo.json"
    path.write_text(json.dumps(export_file(messages, id="4399e2a2" + "0" * 24, leaf=10)))
    result = t502("import", str(path))
    assert result.returncode == 0 and result.stderr == "imported 4399e2a2 (turn 0, 10 messages)\n"
    listing = t502("history", "list")
    assert listing.stdout.split()[:5] == ["4399e2a2", "2024-03-02", "11:00", "10", "msgs"]
    assert listing.stdout.rstrip().endswith("turn 0")
    again = t502("import", str(path))
    assert again.returncode == 0
    assert again.stderr.endswith("(turn 0, 10 messages); 4399e2a2 was already in the history, so this is a copy\n")
    shown = t502("history", "show", again.stderr.split()[1])
    assert "another way" in shown.stdout and "turn 7" not in shown.stdout


def test_imported_conversations_keep_their_times(tmp_path: Path) -> None:
    store = Store(default_path())
    conversation = Conversation(model="m", created=datetime(2023, 5, 1, 9, 30))
    for i, when in enumerate([datetime(2023, 5, 1, 9, 31), datetime(2023, 5, 1, 9, 32, 5, 250000)]):
        message = ChatMessage("user" if i == 0 else "assistant", f"said {i}", created=when)
        append(store, conversation, message)
    store.rename(conversation.id, "Dated")
    updated = store.summary(conversation.id).updated
    store.close()
    out = tmp_path / "dated.json"
    assert t502("history", "export", conversation.id[:8], "--format", "json", "-o", str(out)).returncode == 0
    before = t502("history", "list").stdout
    assert t502("history", "delete", conversation.id[:8]).returncode == 0
    assert t502("import", str(out)).returncode == 0
    assert t502("history", "list").stdout == before
    store = Store(default_path())
    loaded = store.load_conversation(conversation.id)
    assert loaded.created == datetime(2023, 5, 1, 9, 30)
    assert [m.created for m in loaded.messages] == [datetime(2023, 5, 1, 9, 31), datetime(2023, 5, 1, 9, 32, 5, 250000)]
    assert store.summary(conversation.id).updated == updated
    store.close()


def test_delete_says_the_title_the_list_shows() -> None:
    store = Store(default_path())
    conversation = Conversation(model="m")
    for role, text in (("user", "What is 2+2?"), ("assistant", "4")):
        message = ChatMessage(role, text)
        append(store, conversation, message)
    store.close()
    result = t502("history", "delete", conversation.id[:4])
    assert result.returncode == 0 and result.stderr == f"deleted {conversation.id[:8]} (What is 2+2?)\n"


def test_old_exports_without_updated_take_the_newest_message_time(tmp_path: Path) -> None:
    conversation = Conversation(model="m", created=datetime(2022, 1, 1, 8, 0),
                                messages=[ChatMessage("user", "old", created=datetime(2022, 1, 1, 8, 5))])
    path = tmp_path / "old.json"
    path.write_text(to_json(conversation))
    assert "updated" not in json.loads(path.read_text())["conversation"]
    assert t502("import", str(path)).returncode == 0
    assert t502("history", "list").stdout.split()[1:3] == ["2022-01-01", "08:05"]


def test_everything_t502_keeps_comes_back(tmp_path: Path) -> None:
    conversation = Conversation(model="m", settings={"temperature": 0.2, "stop": ["##"]}, preset="coder",
                                provider="relay-b")
    store = Store(default_path())
    append(store, conversation, ChatMessage("user", "question"))
    append(store, conversation, ChatMessage("assistant", "cut off", status=ReplyStatus.ERROR, error="dropped",
                                            in_context=True, cost=0.0123, provider="relay-b", model="m"))
    original = store.load_conversation(conversation.id)
    text = to_json(original, store.all_messages(conversation.id), store.summary(conversation.id).updated)
    store.delete(conversation.id)
    exported = read_export(text)
    again = store.load_conversation(store.import_conversation(exported.conversation, exported.leaf, exported.updated))
    store.close()
    assert (again.settings, again.preset, again.provider) == (original.settings, "coder", "relay-b")
    reply = again.messages[1]
    assert (reply.in_context, reply.cost, reply.provider, reply.status, reply.error) == (
        True, 0.0123, "relay-b", ReplyStatus.ERROR, "dropped")
