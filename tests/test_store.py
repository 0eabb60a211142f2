"""The conversation store: schema, write-ahead turns, search, bad files, two processes."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from t502_tui.conversation import ChatMessage, Conversation, ReplyStatus
from t502_tui.service import Usage
from t502_tui import store as store_module
from t502_tui.store import HIT_END, HIT_START, SCHEMA_VERSION, Store, StoreError
from store_helpers import append


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(tmp_path / "t502.db")
    yield s
    s.close()


def chat(store: Store, *texts: str, model: str = "gpt-5") -> Conversation:
    conversation = Conversation(model=model)
    for i, text in enumerate(texts):
        role = "user" if i % 2 == 0 else "assistant"
        message = ChatMessage(role, text, model=model if role == "assistant" else None,
                              usage=Usage(1, 2, 3) if role == "assistant" else None)
        conversation.messages.append(message)
        append(store, conversation, message)
    return conversation


def test_a_conversation_is_called_the_same_in_the_list_in_search_and_when_open(store: Store) -> None:
    long = "How do I configure nginx to serve static files from a directory outside the root?"
    conversation = chat(store, long, "use alias", "and caching?", "add expires")
    titles = lambda: ({s.title for s in store.list_conversations()}  # noqa: E731
                      | {hit.title for hit in store.search("caching")}
                      | {store.load_conversation(conversation.id).display_title})
    assert titles() == {conversation.display_title} and conversation.display_title.endswith("…")
    store.delete_message(conversation.messages[0])  # named by the next question now
    assert titles() == {"and caching?"}


def test_the_list_says_which_conversations_keep_a_draft(store: Store) -> None:
    kept, other = chat(store, "hello", "hi"), chat(store, "another", "ok")
    store.save_drafts({kept.id: "typed, not sent"})
    assert {s.id: s.drafted for s in store.list_conversations()} == {kept.id: True, other.id: False}
    store.take_draft(kept.id)  # it opened: the draft is in its composer now
    assert not any(s.drafted for s in store.list_conversations())


def test_deleting_a_conversation_deletes_its_draft(store: Store) -> None:
    conversation = chat(store, "hello", "hi")
    store.save_drafts({conversation.id: "typed, not sent"})
    store.delete(conversation.id)
    # It would have come back at the next start as a new conversation's draft.
    assert store.unsent_drafts() == [] and store.take_draft(conversation.id) == ""


def test_round_trip(store: Store) -> None:
    conversation = chat(store, "hello", "hi there", "how are you?", "fine")
    loaded = store.load_conversation(conversation.id)
    assert [m.content for m in loaded.messages] == ["hello", "hi there", "how are you?", "fine"]
    assert loaded.messages[1].usage == Usage(1, 2, 3) and loaded.messages[1].model == "gpt-5"
    summary = store.list_conversations()[0]
    assert (summary.title, summary.message_count, summary.model) == ("hello", 4, "gpt-5")


def test_newest_first_and_paging(store: Store) -> None:
    ids = [chat(store, f"conversation {i}").id for i in range(5)]
    listed = store.list_conversations(limit=2)
    assert [c.id for c in listed] == ids[::-1][:2]
    assert [c.id for c in store.list_conversations(offset=4)] == [ids[0]]


def test_newest_messages_then_older(store: Store) -> None:
    conversation = chat(store, *[f"m{i}" for i in range(10)])
    loaded = store.load_conversation(conversation.id, newest=3)
    assert [m.content for m in loaded.messages] == ["m7", "m8", "m9"] and loaded.has_older
    older, more = store.older_messages(conversation.id, loaded.messages[0].id, 5)
    assert [m.content for m in older] == ["m2", "m3", "m4", "m5", "m6"] and more
    rest, more = store.older_messages(conversation.id, older[0].id, None)
    assert [m.content for m in rest] == ["m0", "m1"] and not more
    # Named by its first message, as the list names it, not by the first one loaded.
    assert loaded.display_title == store.list_conversations()[0].title == "m0"


def test_streaming_reply_updates_and_interrupted_on_reopen(tmp_path: Path) -> None:
    path = tmp_path / "t502.db"
    store = Store(path)
    conversation = chat(store, "question")
    reply = ChatMessage("assistant", "par", model="m", status=ReplyStatus.STREAMING)
    append(store, conversation, reply)
    reply.content = "partial text"
    store.update_message(reply)
    store._db.execute("UPDATE messages SET writer_pid = 999999999 WHERE id = ?", (reply.id,))
    store.close()
    reopened = Store(path)
    last = reopened.load_conversation(conversation.id).messages[-1]
    assert last.status is ReplyStatus.INTERRUPTED and last.content == "partial text"
    reopened.close()


def test_live_writer_is_not_marked_interrupted(store: Store, tmp_path: Path) -> None:
    conversation = chat(store, "q")
    reply = ChatMessage("assistant", "live", status=ReplyStatus.STREAMING)
    append(store, conversation, reply)
    other = Store(tmp_path / "t502.db")
    assert other.load_conversation(conversation.id).messages[-1].status is ReplyStatus.STREAMING
    other.close()


def test_search_with_snippets_and_prefix(store: Store) -> None:
    chat(store, "how do I bake sourdough bread?", "Use a starter and patience.")
    chat(store, "python generators", "They yield values lazily.")
    hits = store.search("sourd")
    assert len(hits) == 1 and f"{HIT_START}sourdough{HIT_END}" in hits[0].snippet
    assert store.search("yield lazi")[0].role == "assistant"
    assert store.search('"quoted') == [] and store.search("   ") == []


def test_a_message_too_long_for_fts5_snippets_gets_one_cut_around_the_word(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_module, "SNIPPET_MAX_CHARS", 100)  # snippet() would take minutes on 50 MB
    chat(store, "the start " + "filler words here " * 50 + "the Needle in the middle " + "and more " * 50)
    [hit] = store.search("needle")
    assert f"{HIT_START}Needle{HIT_END} in the middle" in hit.snippet and len(hit.snippet) < 250
    chat(store, "short: a needle")
    assert f"{HIT_START}needle{HIT_END}" in store.search("needle")[0].snippet  # FTS5's own, as before


def test_search_follows_updates_and_deletes(store: Store) -> None:
    conversation = chat(store, "alpha")
    message = conversation.messages[0]
    message.content = "omega"
    store.update_message(message)
    assert not store.search("alpha") and store.search("omega")
    store.delete(conversation.id)
    assert not store.search("omega") and not store.list_conversations()


def test_rename_archive_find(store: Store) -> None:
    conversation = chat(store, "something")
    store.rename(conversation.id, "My title")
    assert store.list_conversations()[0].title == "My title"
    store.set_archived(conversation.id, True)
    assert not store.list_conversations() and store.list_conversations(archived=True)
    assert store.find_conversation(conversation.id[:6]) == conversation.id
    with pytest.raises(StoreError, match="no conversation"):
        store.find_conversation("zzzz")


def test_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "t502.db"
    path.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(StoreError, match="not a usable t502 database"):
        Store(path)
    assert path.read_bytes().startswith(b"this is not sqlite")


def test_foreign_sqlite_database(tmp_path: Path) -> None:
    path = tmp_path / "t502.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE other (x)")
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="not a t502 database"):
        Store(path)


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "t502.db"
    Store(path).close()
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(StoreError, match="newer t502"):
        Store(path)


def test_read_only_database_reports_error(tmp_path: Path) -> None:
    path = tmp_path / "t502.db"
    store = Store(path)
    conversation = chat(store, "q")
    store._db.execute("PRAGMA query_only = ON")
    with pytest.raises(StoreError, match="is read-only"):
        append(store, conversation, ChatMessage("user", "more"))
    store.close()


def test_full_disk_is_a_store_error(tmp_path: Path) -> None:
    store = Store(tmp_path / "t502.db")
    conversation = chat(store, "q")
    page_count = store._db.execute("PRAGMA page_count").fetchone()[0]
    store._db.execute(f"PRAGMA max_page_count = {page_count}")
    with pytest.raises(StoreError, match="full"):
        append(store, conversation, ChatMessage("user", "x" * 200_000))
    store.close()


def test_two_processes_write_at_once(tmp_path: Path) -> None:
    path = tmp_path / "t502.db"
    Store(path).close()
    writer = textwrap.dedent(f"""
        from pathlib import Path
        from t502_tui.conversation import ChatMessage, Conversation
        from t502_tui.store import Store
        store = Store(Path({str(path)!r}))
        for n in range(40):
            c = Conversation(model="m")
            for i in range(5):
                store.add_message(c, ChatMessage("user", f"message {{n}} {{i}}"))
        print("ok")
    """)
    procs = [subprocess.Popen([sys.executable, "-c", writer], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0 and out.strip() == "ok", err
    store = Store(path)
    assert store._db.execute("SELECT count(*) FROM messages").fetchone()[0] == 400
    store.close()


def test_migration_from_empty_older_file(tmp_path: Path) -> None:
    path = tmp_path / "t502.db"
    sqlite3.connect(path).close()  # an empty file, schema 0
    store = Store(path)
    assert store._db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    store.close()


def test_migration_from_schema_1_links_the_history(tmp_path: Path) -> None:
    from t502_tui.store import _MIGRATIONS, APPLICATION_ID

    path = tmp_path / "t502.db"
    db = sqlite3.connect(path)
    db.executescript(_MIGRATIONS[1] + f";PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = 1;")
    db.execute("INSERT INTO conversations VALUES ('c1', '', 1, 2, '', 'm', 0)")
    for n, role in enumerate(["user", "assistant", "user", "assistant"]):
        db.execute("INSERT INTO messages (conversation_id, role, content, status, created) VALUES (?, ?, ?, 'complete', ?)",
                   ("c1", role, f"m{n}", n))
    db.commit()
    db.close()
    store = Store(path)
    conversation = store.load_conversation("c1")
    assert [m.content for m in conversation.messages] == ["m0", "m1", "m2", "m3"]
    assert [m.parent_id for m in conversation.messages] == [None, 1, 2, 3]
    assert store.search("m2")[0].message_id == 3
    store.close()


def test_regenerate_keeps_alternatives_and_switching_branches(store: Store) -> None:
    conversation = chat(store, "question", "first answer")
    first = conversation.messages[1]
    second = ChatMessage("assistant", "second answer", model="other", parent_id=first.parent_id)
    conversation.messages[1] = second
    append(store, conversation, second)
    assert second.alternatives == [first.id, second.id] and second.alternative_label == "2/2"
    loaded = store.load_conversation(conversation.id)
    assert [m.content for m in loaded.messages] == ["question", "second answer"]
    assert loaded.messages[1].alternative_label == "2/2"
    branch = store.branch_from(conversation.id, first.id or 0)
    assert [m.content for m in branch] == ["first answer"]
    assert store.load_conversation(conversation.id).messages[1].content == "first answer"


def test_edit_makes_a_branch_and_both_are_searchable(store: Store) -> None:
    conversation = chat(store, "hello", "hi", "tell me about cats", "cats purr")
    old_question = conversation.messages[2]
    edited = ChatMessage("user", "tell me about dogs", parent_id=old_question.parent_id)
    conversation.messages[2:] = [edited]
    append(store, conversation, edited)
    answer = ChatMessage("assistant", "dogs bark", model="m")
    conversation.messages.append(answer)
    append(store, conversation, answer)
    loaded = store.load_conversation(conversation.id)
    assert [m.content for m in loaded.messages] == ["hello", "hi", "tell me about dogs", "dogs bark"]
    assert loaded.messages[2].alternative_label == "2/2"
    assert store.search("cats") and store.search("dogs")
    through = store.load_conversation(conversation.id, through=store.search("purr")[0].message_id)
    assert [m.content for m in through.messages] == ["hello", "hi", "tell me about cats", "cats purr"]


def test_deleting_a_message_keeps_what_followed(store: Store) -> None:
    conversation = chat(store, "a", "b", "c", "d")
    store.delete_message(conversation.messages[1])
    assert [m.content for m in store.load_conversation(conversation.id).messages] == ["a", "c", "d"]
    store.delete_message(conversation.messages[3])
    assert [m.content for m in store.load_conversation(conversation.id).messages] == ["a", "c"]


def test_attachments_are_stored_with_the_message(store: Store) -> None:
    from t502_tui.attachments import Attachment

    conversation = Conversation(model="m")
    image = Attachment("dot.png", "image/png", b"\x89PNG\r\n\x1a\n" + b"\0" * 20, 1, 1)
    message = ChatMessage("user", "look", attachments=[image])
    conversation.messages.append(message)
    append(store, conversation, message)
    loaded = store.load_conversation(conversation.id).messages[0]
    assert loaded.attachments == [image]


def test_json_round_trip_keeps_branches_and_images(store: Store) -> None:
    from t502_tui.attachments import Attachment
    from t502_tui.export import read_export, to_json

    conversation = chat(store, "q", "answer one")
    first = conversation.messages[1]
    image = Attachment("a.gif", "image/gif", b"GIF89a\x02\x00\x03\x00" + b"\0" * 10, 2, 3)
    conversation.messages[0].attachments = [image]
    second = ChatMessage("assistant", "answer two", model="x", parent_id=first.parent_id)
    conversation.messages[1] = second
    append(store, conversation, second)
    store.switch_branch(conversation.id, first.id or 0)
    loaded = store.load_conversation(conversation.id)
    text = to_json(loaded, store.all_messages(conversation.id))
    store.delete(conversation.id)
    exported = read_export(text)
    store.import_conversation(exported.conversation, exported.leaf, exported.updated)
    [summary] = store.list_conversations()
    again = store.load_conversation(summary.id)
    assert [m.content for m in again.messages] == ["q", "answer one"]
    assert again.messages[1].alternative_label == "1/2"
    assert len(store.all_messages(summary.id)) == 3


def test_json_keeps_attachments_and_markdown_names_them() -> None:
    from t502_tui.attachments import Attachment
    from t502_tui.export import read_export, to_json, to_markdown

    image = Attachment("a.gif", "image/gif", b"GIF89a\x02\x00\x03\x00" + b"\0" * 10, 2, 3)
    conversation = Conversation(model="m", messages=[ChatMessage("user", "see", attachments=[image])])
    assert read_export(to_json(conversation)).conversation.messages[0].attachments == [image]
    assert "Attached image: a.gif" in to_markdown(conversation)


def test_a_markdown_transcript_shows_escapes_from_a_reply_rather_than_holding_them() -> None:
    from t502_tui.export import to_markdown

    reply = ChatMessage("assistant", "see\x1b]0;PWNED\x07 and \x1b[2J\ttab\nnext line", model="m",
                        reasoning="\x1b[31mred", error="\x1b[41m")
    text = to_markdown(Conversation(model="m", messages=[ChatMessage("user", "q"), reply]))
    assert "\x1b" not in text and "\x07" not in text  # `cat transcript.md` must not retitle or clear
    assert "see^[]0;PWNED^G and ^[[2J\ttab\nnext line" in text


def test_a_markdown_transcript_keeps_whatever_the_thinking_holds_inside_its_fold() -> None:
    from markdown_it import MarkdownIt

    from t502_tui.export import to_markdown

    reply = ChatMessage("assistant", "The answer.", model="m",
                        reasoning="First line.\nUse </details> to close.\n\n```python\nnever closed\n")
    html = MarkdownIt().render(to_markdown(Conversation(model="m", messages=[ChatMessage("user", "q"), reply])))
    fold = html[html.index("<details>"):html.index("</details>") + len("</details>")]
    assert "First line.<br />\nUse &lt;/details&gt; to close" in fold and "never closed" in fold
    assert "<p>The answer.</p>" in html[html.index(fold) + len(fold):]


def test_a_markdown_transcript_keeps_the_lines_of_a_system_prompt() -> None:
    from markdown_it import MarkdownIt

    from t502_tui.export import to_markdown

    prompt = "You are terse.\n\n- Answer in French.\n- Never use lists."
    html = MarkdownIt().render(to_markdown(Conversation(model="m", system_prompt=prompt)))
    quote = html[html.index("<blockquote>"):]
    assert "<p>You are terse.</p>" in quote and "<li>Answer in French.</li>\n<li>Never use lists.</li>" in quote
    assert "- System prompt: Be brief.\n" in to_markdown(Conversation(model="m", system_prompt=" Be brief. "))


def test_code_blocks_to_copy_are_listed_newest_first_each_once() -> None:
    def reply(text: str) -> ChatMessage:
        return ChatMessage("assistant", text, model="m")

    conversation = Conversation(model="m", messages=[
        ChatMessage("user", "```\nnot a reply's\n```"), reply("```py\nx = 1\n```\n\n```sh\nls\n```"),
        ChatMessage("user", "again"), reply("Same:\n\n```py\nx = 1\n```")])
    assert conversation.code_blocks() == ["x = 1\n", "ls\n"]


def test_a_markdown_transcript_puts_a_replys_own_headings_under_its_message() -> None:
    from markdown_it import MarkdownIt

    from t502_tui.export import to_markdown

    reply = ChatMessage("assistant", "# Plan\n## Step 1\n```sh\n# a comment, not a heading\n```\n###### deep", model="m")
    question = ChatMessage("user", "## my own heading")
    html = MarkdownIt().render(to_markdown(Conversation(model="m", messages=[question, reply])))
    headings = [line for line in html.splitlines() if line.startswith("<h")]
    assert [h[:4] for h in headings] == ["<h1>", "<h2>", "<h4>", "<h2>", "<h3>", "<h4>", "<h6>"]
    assert "# a comment, not a heading" in html  # code stays as written
