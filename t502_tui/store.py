"""The conversation store: SQLite in WAL mode, safe for two t502 processes at once.

Turns are written ahead: the user's message before the request is sent, the reply's
row at its first token and its text again as it streams, so a crash loses at most the
last flush. A reply still marked ``streaming`` whose writing process is gone is marked
``interrupted`` the next time the store opens. The API key is never stored.

Every method blocks; the event loop's side uses them through
:class:`t502_tui.history.History`, which runs them in order on one thread of their own.
Methods read the objects they are given and never change them (they may belong to the
screen): what the store decides, like a new message's id, is returned.

Every failure, reading or writing, is a :class:`StoreError` with one line saying what
happened and what to do. A damaged store is never written: damage found while opening
keeps it closed, and damage found by a later read makes every later write fail, so
``t502 history recover`` (store_recovery.py) can still save what is readable.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import sqlite3
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Concatenate, Literal, ParamSpec, TypeVar

from t502_tui import paths
from t502_tui.attachments import Attachment
from t502_tui.conversation import ChatMessage, Conversation, ReplyStatus, Tally, shown_title, writer_name
from t502_tui.service.events import Usage

T = TypeVar("T")
P = ParamSpec("P")

SCHEMA_VERSION = 4
APPLICATION_ID = 0x74353032  # "t502"

_MIGRATIONS: dict[int, str] = {
    1: """
    CREATE TABLE conversations (
        id TEXT PRIMARY KEY,
        title TEXT NOT NULL DEFAULT '',
        created REAL NOT NULL,
        updated REAL NOT NULL,
        system_prompt TEXT NOT NULL DEFAULT '',
        model TEXT NOT NULL DEFAULT '',
        archived INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX conversations_by_update ON conversations(archived, updated DESC);
    CREATE TABLE messages (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
        role TEXT NOT NULL,
        content TEXT NOT NULL DEFAULT '',
        reasoning TEXT NOT NULL DEFAULT '',
        model TEXT,
        status TEXT NOT NULL,
        error TEXT,
        finish_reason TEXT,
        prompt_tokens INTEGER,
        completion_tokens INTEGER,
        total_tokens INTEGER,
        reasoning_tokens INTEGER,
        cached_tokens INTEGER,
        created REAL NOT NULL,
        writer_pid INTEGER
    );
    CREATE INDEX messages_by_conversation ON messages(conversation_id, id);
    CREATE INDEX messages_streaming ON messages(status) WHERE status = 'streaming';
    CREATE VIRTUAL TABLE messages_fts USING fts5(
        content, content='messages', content_rowid='id', tokenize='unicode61 remove_diacritics 2'
    );
    CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
        INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content);
    END;
    CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
        INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
    END;
    CREATE TRIGGER messages_fts_update AFTER UPDATE OF content ON messages BEGIN
        INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
        INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content);
    END;
    """,
    2: """
    ALTER TABLE messages ADD COLUMN parent_id INTEGER;
    ALTER TABLE conversations ADD COLUMN leaf_id INTEGER;
    CREATE INDEX messages_by_parent ON messages(conversation_id, parent_id);
    CREATE TABLE attachments (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        mime TEXT NOT NULL,
        width INTEGER,
        height INTEGER,
        data BLOB NOT NULL
    );
    CREATE INDEX attachments_by_message ON attachments(message_id);
    UPDATE messages SET parent_id = (
        SELECT max(p.id) FROM messages p
        WHERE p.conversation_id = messages.conversation_id AND p.id < messages.id);
    UPDATE conversations SET leaf_id = (
        SELECT max(m.id) FROM messages m WHERE m.conversation_id = conversations.id);
    """,
    3: """
    ALTER TABLE messages ADD COLUMN in_context INTEGER;
    ALTER TABLE messages ADD COLUMN cost REAL;
    ALTER TABLE messages ADD COLUMN provider TEXT;
    ALTER TABLE conversations ADD COLUMN settings TEXT NOT NULL DEFAULT '{}';
    ALTER TABLE conversations ADD COLUMN preset TEXT NOT NULL DEFAULT '';
    ALTER TABLE conversations ADD COLUMN provider TEXT NOT NULL DEFAULT '';
    ALTER TABLE attachments ADD COLUMN kind TEXT NOT NULL DEFAULT 'image';
    CREATE TABLE preferences (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE drafts (conversation_id TEXT PRIMARY KEY, text TEXT NOT NULL, saved REAL NOT NULL);
    """,
    # Images are kept once however many messages carry them (a generated image sent back,
    # a conversation imported twice); rows written before keep their bytes in `data`.
    4: """
    CREATE TABLE blobs (sha256 TEXT PRIMARY KEY, data BLOB NOT NULL);
    ALTER TABLE attachments ADD COLUMN sha256 TEXT;
    ALTER TABLE attachments ADD COLUMN source TEXT;
    CREATE INDEX attachments_by_blob ON attachments(sha256) WHERE sha256 IS NOT NULL;
    CREATE TRIGGER blobs_unused AFTER DELETE ON attachments
    WHEN old.sha256 IS NOT NULL AND NOT EXISTS (SELECT 1 FROM attachments WHERE sha256 = old.sha256)
    BEGIN DELETE FROM blobs WHERE sha256 = old.sha256; END;
    """,
}

SQLITE_READONLY, SQLITE_CORRUPT, SQLITE_FULL, SQLITE_CANTOPEN, SQLITE_NOTADB = 8, 11, 13, 14, 26

HIT_START, HIT_END = "\x02", "\x03"
"""Markers around matched words in search snippets."""
SNIPPET_MAX_CHARS = 20_000
"""FTS5's ``snippet()`` costs the square of a message's length (300 KB: 45 s); a longer
message gets a snippet cut from its text around the first word searched for."""
SNIPPET_SCAN_CHARS = 2_000_000
"""How far into such a message that word is looked for."""


class StoreError(Exception):
    """The store cannot be used or written; the message says why in one line."""


@dataclass(frozen=True)
class ConversationSummary:
    """One row of the history list."""

    id: str
    title: str
    updated: datetime
    model: str
    message_count: int
    archived: bool
    drafted: bool = False
    """Words typed in it and not sent are kept for it (they come back when it opens)."""
    provider: str = ""
    """The provider of its newest reply (or its own), "" for the default one."""

    @property
    def writer(self) -> str:
        """Its model as the user names it: ``gpt-5``, or ``local/llama3`` from another provider."""
        return writer_name(self.provider, self.model)


@dataclass(frozen=True)
class SavedMessage:
    """What the store gave a new message: its id, and the ids of it and its siblings."""

    id: int
    alternatives: list[int]


@dataclass(frozen=True)
class SearchHit:
    """A message matching a search, with a snippet marked by HIT_START/HIT_END."""

    conversation_id: str
    message_id: int
    title: str
    role: str
    model: str | None
    created: datetime
    snippet: str
    provider: str = ""
    """The provider of the model that wrote it, "" for the default one."""

    @property
    def writer(self) -> str:
        """Who wrote it, as the chat names them: "you", ``gpt-5`` or ``local/llama3``."""
        return "you" if self.role == "user" else writer_name(self.provider, self.model or "") or "assistant"


def default_path() -> Path:
    """``$XDG_DATA_HOME/t502/t502.db``."""
    return paths.data_dir() / "t502.db"


def _process_alive(pid: int | None) -> bool:
    if not pid:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _error_code(exc: Exception) -> int:
    """SQLite's primary result code of ``exc`` (0 when it is not from SQLite)."""
    return (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF


def _read_only_part(path: Path) -> Path | None:
    """The file, or the nearest existing folder, that keeps t502 from writing ``path``."""
    if path.exists():
        if not os.access(path, os.W_OK):
            return path
        folder = path.parent
    else:
        folder = path.parent
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent
    return None if os.access(folder, os.W_OK) else folder


def _reads(what: str) -> Callable[[Callable[Concatenate[Store, P], T]], Callable[Concatenate[Store, P], T]]:
    """Make a public read method turn SQLite's failures into one StoreError."""

    def decorate(method: Callable[Concatenate[Store, P], T]) -> Callable[Concatenate[Store, P], T]:
        @functools.wraps(method)
        def read(self: Store, /, *args: P.args, **kwargs: P.kwargs) -> T:
            try:
                return method(self, *args, **kwargs)
            except sqlite3.Error as exc:
                if self._db.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        self._db.execute("ROLLBACK")
                raise self._failure(exc, "read", what) from None

        return read

    return decorate


_DRAFT_HEAD = "draft-head:"
"""The preference keeping a new conversation's system prompt, settings and model beside
its draft (a preference: no new table for what a few closed conversations leave)."""

_SUMMARIES = """SELECT c.id, c.title, c.updated, c.archived,
       (SELECT count(*) FROM messages m WHERE m.conversation_id = c.id) AS n,
       COALESCE((SELECT m.model FROM messages m WHERE m.conversation_id = c.id
                 AND m.role = 'assistant' ORDER BY m.id DESC LIMIT 1), c.model) AS model,
       COALESCE((SELECT IFNULL(m.provider, '') FROM messages m WHERE m.conversation_id = c.id
                 AND m.role = 'assistant' ORDER BY m.id DESC LIMIT 1), c.provider) AS provider,
       (SELECT substr(m.content, 1, 200) FROM messages m WHERE m.conversation_id = c.id
        AND m.role = 'user' ORDER BY m.id LIMIT 1) AS first_words,
       EXISTS (SELECT 1 FROM drafts d WHERE d.conversation_id = c.id) AS drafted
   FROM conversations c"""


def _usage(row: sqlite3.Row) -> Usage | None:
    if row["total_tokens"] is None:
        return None
    return Usage(row["prompt_tokens"] or 0, row["completion_tokens"] or 0, row["total_tokens"],
                 row["reasoning_tokens"], row["cached_tokens"])


def _status(row: sqlite3.Row) -> ReplyStatus:
    try:
        return ReplyStatus(row["status"])
    except ValueError:
        return ReplyStatus.ERROR


def _summary(row: sqlite3.Row) -> ConversationSummary:
    return ConversationSummary(
        row["id"], shown_title(row["title"], row["first_words"] or ""),
        datetime.fromtimestamp(row["updated"]), row["model"] or "", row["n"], bool(row["archived"]),
        bool(row["drafted"]), row["provider"] or "",
    )


def _fts_query(text: str) -> str:
    """User words as an FTS5 query: every word must match, the last one as a prefix."""
    words = [w.replace('"', '""') for w in text.split()]
    if not words:
        return ""
    quoted = [f'"{w}"' for w in words]
    quoted[-1] += "*"
    return " ".join(quoted)


def _flag(value: bool | None) -> int | None:
    return None if value is None else int(value)


def _settings(text: str) -> dict[str, Any]:
    """A conversation's own settings, as stored (JSON); a damaged value counts as none."""
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _usage_columns(usage: Usage | None) -> tuple[int | None, ...]:
    if usage is None:
        return (None, None, None, None, None)
    return (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens,
            usage.reasoning_tokens, usage.cached_tokens)


class Store:
    """A t502 database. Raises :class:`StoreError` for anything it cannot work with."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.damaged = False
        """True once a read met a damaged page; from then on nothing is written."""
        self._damage_note = ""
        try:
            # SQLite gives the -wal and -shm files the database's own mode.
            paths.private_dir(path.parent)
            paths.create_private(path)
            for extra in ("-wal", "-shm"):
                paths.tighten(path.with_name(path.name + extra))
            self._db = sqlite3.connect(path, timeout=10, check_same_thread=False, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise self._failure(exc, "open") from None
        self._db.row_factory = sqlite3.Row
        try:
            self._prepare()
        except StoreError:
            self._db.close()
            raise
        except sqlite3.Error as exc:
            self._db.close()
            raise self._failure(exc, "open") from None

    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    # -- schema -----------------------------------------------------------------------------

    def _prepare(self) -> None:
        db = self._db
        db.execute("PRAGMA busy_timeout = 10000")
        version = db.execute("PRAGMA user_version").fetchone()[0]
        app_id = db.execute("PRAGMA application_id").fetchone()[0]
        tables = db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        if app_id not in (0, APPLICATION_ID) or (app_id == 0 and tables and version == 0):
            raise StoreError(f"{self.path} is not a t502 database; it was left untouched")
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} was written by a newer t502 (schema {version}, this one knows "
                f"{SCHEMA_VERSION}); upgrade t502 to use it. It was left untouched"
            )
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")
        db.execute("PRAGMA foreign_keys = ON")
        for target in range(version + 1, SCHEMA_VERSION + 1):
            self._write(f"migrate to schema {target}", lambda t=target: self._migrate(t))
        self._write("mark interrupted replies", self._mark_interrupted)

    def _migrate(self, target: int) -> None:
        self._db.executescript(
            "BEGIN IMMEDIATE;"
            + _MIGRATIONS[target]
            + f";PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = {target}; COMMIT;"
        )

    def _mark_interrupted(self) -> None:
        rows = self._db.execute(
            "SELECT id, writer_pid FROM messages WHERE status = 'streaming'"
        ).fetchall()
        dead = [(row["id"],) for row in rows if not _process_alive(row["writer_pid"])]
        if dead:
            self._db.executemany("UPDATE messages SET status = 'interrupted' WHERE id = ?", dead)

    def _write(self, what: str, action: Callable[[], Any]) -> Any:
        """Run a write; any failure (full disk, read-only, damage) becomes a StoreError."""
        if self.damaged:
            raise StoreError(self._damage_note)
        try:
            return action()
        except (sqlite3.Error, OverflowError) as exc:
            if self._db.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    self._db.execute("ROLLBACK")
            raise self._failure(exc, "save", what) from None

    def _failure(self, exc: Exception, doing: Literal["open", "read", "save"], what: str = "") -> StoreError:
        """The one place where SQLite's and the file system's errors become a StoreError."""
        path, code = self.path, _error_code(exc)
        if code == SQLITE_CORRUPT:
            self.damaged = True
            self._damage_note = (
                f"the history database {path} is damaged ({exc}); t502 will not write to it. "
                "`t502 history recover` copies what can still be read into a new one"
            )
            return StoreError(self._damage_note)
        if code == SQLITE_NOTADB:
            return StoreError(f"{path} is not a usable t502 database ({exc}); it was left untouched")
        locked = _read_only_part(path)
        if code == SQLITE_READONLY or (locked and (code == SQLITE_CANTOPEN or isinstance(exc, PermissionError))):
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            where = "" if locked in (None, path) else f" in {path}"
            return StoreError(f"{locked or path} is read-only: {reason}; make it writable to keep the history{where}")
        if doing == "open":
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            return StoreError(f"cannot open the history database {path}: {reason}")
        hint = "; free some disk space and try again" if code == SQLITE_FULL else ""
        if doing == "read":
            return StoreError(f"could not read {path} ({what}): {exc}{hint}")
        return StoreError(f"could not save to {path} ({what}): {exc}{hint}")

    # -- conversations ----------------------------------------------------------------------

    def save_conversation(self, conversation: Conversation) -> None:
        """Create or update the conversation's own row (not its messages); the caller marks
        the conversation saved."""
        now = time.time()

        def write() -> None:
            self._db.execute(
                """INSERT INTO conversations (id, title, created, updated, system_prompt, model, archived,
                   settings, preset, provider) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT(id) DO UPDATE SET title = excluded.title, updated = excluded.updated,
                   system_prompt = excluded.system_prompt, model = excluded.model,
                   archived = excluded.archived, settings = excluded.settings,
                   preset = excluded.preset, provider = excluded.provider""",
                (conversation.id, conversation.title, conversation.created.timestamp(), now,
                 conversation.system_prompt, conversation.model, int(conversation.archived),
                 json.dumps(conversation.settings), conversation.preset, conversation.provider),
            )

        self._write("conversation", write)

    @_reads("the history list")
    def list_conversations(self, offset: int = 0, limit: int = 100, archived: bool = False) -> list[ConversationSummary]:
        """Newest first; titles fall back to the first user message."""
        rows = self._db.execute(
            _SUMMARIES + " WHERE c.archived = ? ORDER BY c.updated DESC LIMIT ? OFFSET ?",
            (int(archived), limit, offset),
        ).fetchall()
        return [_summary(row) for row in rows]

    @_reads("a conversation")
    def summary(self, conversation_id: str) -> ConversationSummary:
        """The conversation's row as the history list shows it."""
        row = self._db.execute(_SUMMARIES + " WHERE c.id = ?", (conversation_id,)).fetchone()
        if row is None:
            raise StoreError(f"no conversation with id {conversation_id!r}")
        return _summary(row)

    @_reads("finding a conversation")
    def find_conversation(self, prefix: str) -> str:
        """The full id of the conversation whose id starts with ``prefix``."""
        rows = self._db.execute(
            "SELECT id FROM conversations WHERE id LIKE ? ESCAPE '\\' LIMIT 2",
            (prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%",),
        ).fetchall()
        if not rows or not prefix:
            raise StoreError(f"no conversation with id {prefix!r}")
        if len(rows) > 1:
            raise StoreError(f"several conversations start with {prefix!r}; give more of the id")
        return str(rows[0]["id"])

    @_reads("the latest conversation")
    def latest_conversation_id(self) -> str | None:
        """The most recently updated conversation that is not archived."""
        row = self._db.execute(
            "SELECT id FROM conversations WHERE archived = 0 ORDER BY updated DESC LIMIT 1"
        ).fetchone()
        return row["id"] if row else None

    def _leaf(self, conversation_id: str) -> int | None:
        row = self._db.execute(
            "SELECT coalesce(c.leaf_id, (SELECT max(id) FROM messages WHERE conversation_id = c.id)) AS leaf"
            " FROM conversations c WHERE c.id = ?", (conversation_id,)).fetchone()
        return row["leaf"] if row else None

    def _path_up(self, start: int | None, limit: int | None) -> list[ChatMessage]:
        """Messages from ``start`` up towards the root (at most ``limit``), oldest first."""
        if start is None:
            return []
        rows = self._db.execute(
            """WITH RECURSIVE path(id, depth) AS (
                   SELECT ?, 0
                   UNION ALL
                   SELECT m.parent_id, path.depth + 1 FROM messages m JOIN path ON m.id = path.id
                   WHERE m.parent_id IS NOT NULL AND path.depth + 1 < ?)
               SELECT messages.* FROM path JOIN messages ON messages.id = path.id ORDER BY path.depth DESC""",
            (start, 1 << 62 if limit is None else limit),
        ).fetchall()
        return self._annotated([self._message(r) for r in rows])

    def _annotated(self, messages: list[ChatMessage]) -> list[ChatMessage]:
        """Fill in each message's alternatives and attachments."""
        if not messages:
            return messages
        ids = [m.id for m in messages]
        marks = ",".join("?" * len(ids))
        conversation = self._db.execute("SELECT conversation_id FROM messages WHERE id = ?", (ids[0],)).fetchone()[0]
        parents = {m.parent_id for m in messages}
        known = sorted(p for p in parents if p is not None)
        clauses = [f"parent_id IN ({','.join('?' * len(known))})"] if known else []
        if None in parents:
            clauses.append("parent_id IS NULL")
        siblings: dict[tuple[int | None, str], list[int]] = {}
        rows = self._db.execute(
            f"SELECT id, parent_id, role FROM messages WHERE conversation_id = ? AND ({' OR '.join(clauses)})"
            " ORDER BY id", (conversation, *known),
        ).fetchall()
        for row in rows:
            siblings.setdefault((row["parent_id"], row["role"]), []).append(row["id"])
        images: dict[int, list[Attachment]] = {}
        rows = self._db.execute(
            "SELECT a.message_id, a.name, a.mime, a.width, a.height, a.kind, a.source, coalesce(b.data, a.data) AS bytes"
            f" FROM attachments a LEFT JOIN blobs b ON b.sha256 = a.sha256 WHERE a.message_id IN ({marks})"
            " ORDER BY a.id", ids)
        for row in rows:
            images.setdefault(row["message_id"], []).append(
                Attachment(row["name"], row["mime"], bytes(row["bytes"]), row["width"], row["height"],
                           "text" if row["kind"] == "text" else "image", source=row["source"]))
        for message in messages:
            message.alternatives = siblings.get((message.parent_id, message.role), [])
            message.attachments = images.get(message.id or -1, [])
        return messages

    @_reads("a conversation")
    def has_conversation(self, conversation_id: str) -> bool:
        """Whether the conversation is stored (another t502, or ``t502 history delete``,
        may have deleted one open here)."""
        return self._db.execute("SELECT 1 FROM conversations WHERE id = ?", (conversation_id,)).fetchone() is not None

    @_reads("a conversation")
    def load_conversation(self, conversation_id: str, newest: int | None = None,
                          through: int | None = None) -> Conversation:
        """A conversation along its current branch, with its newest ``newest`` messages
        (all when None). With ``through``, the branch holding that message becomes the
        current one, and everything from that message on is loaded."""
        row = self._db.execute("SELECT * FROM conversations WHERE id = ?", (conversation_id,)).fetchone()
        if row is None:
            raise StoreError(f"no conversation with id {conversation_id!r}")
        if through is not None:
            leaf = self.switch_branch(conversation_id, through)
            depth = self._db.execute(
                """WITH RECURSIVE path(id, depth) AS (SELECT ?, 0 UNION ALL
                   SELECT m.parent_id, path.depth + 1 FROM messages m JOIN path ON m.id = path.id
                   WHERE m.parent_id IS NOT NULL AND m.id != ?)
                   SELECT max(depth) FROM path""", (leaf, through)).fetchone()[0]
            if newest is not None:
                newest = max(newest, (depth or 0) + 1)
        messages = self._path_up(self._leaf(conversation_id), newest)
        has_older = bool(messages) and messages[0].parent_id is not None
        # Named as the list names it: by its first message ever (not the first loaded, nor
        # that of the branch shown).
        first = self._db.execute("SELECT substr(content, 1, 200) FROM messages WHERE conversation_id = ?"
                                 " AND role = 'user' ORDER BY id LIMIT 1", (conversation_id,)).fetchone()
        return Conversation(
            model=row["model"], system_prompt=row["system_prompt"], title=row["title"],
            messages=messages, id=row["id"], created=datetime.fromtimestamp(row["created"]),
            archived=bool(row["archived"]), settings=_settings(row["settings"]), preset=row["preset"],
            provider=row["provider"], has_older=has_older, saved=True,
            older_tally=self.tally_above(messages[0]) if has_older else None, first_words=first[0] if first else "",
        )

    @_reads("a conversation's totals")
    def tally_above(self, message: ChatMessage) -> Tally:
        """What the replies above ``message`` on its branch spent, read without their text."""
        rows = self._db.execute(
            """WITH RECURSIVE path(id) AS (
                   SELECT ?
                   UNION ALL
                   SELECT m.parent_id FROM messages m JOIN path ON m.id = path.id WHERE m.parent_id IS NOT NULL)
               SELECT m.role, m.status, m.prompt_tokens, m.completion_tokens, m.total_tokens,
                      m.reasoning_tokens, m.cached_tokens, m.cost, m.content != '' AS has_text
               FROM path JOIN messages m ON m.id = path.id""",
            (message.parent_id,),
        ).fetchall()
        # Messages of the counts alone: a stand-in character tells a reply with text.
        return Tally().add(ChatMessage(row["role"], "…" if row["has_text"] else "", usage=_usage(row),
                                       status=_status(row), cost=row["cost"]) for row in rows)

    @_reads("older messages")
    def older_messages(self, conversation_id: str, before: int, limit: int | None) -> tuple[list[ChatMessage], bool]:
        """Messages above the one with id ``before`` on its branch (the nearest ``limit``),
        and whether still older ones remain."""
        row = self._db.execute("SELECT parent_id FROM messages WHERE id = ?", (before,)).fetchone()
        messages = self._path_up(row["parent_id"] if row else None, limit)
        return messages, bool(messages) and messages[0].parent_id is not None

    @_reads("a branch")
    def switch_branch(self, conversation_id: str, message_id: int) -> int:
        """Make the branch through ``message_id`` current, following its newest replies
        down to a leaf; returns that leaf's id."""
        leaf = message_id
        while child := self._db.execute(
            "SELECT max(id) FROM messages WHERE conversation_id = ? AND parent_id = ?",
            (conversation_id, leaf)).fetchone()[0]:
            leaf = child
        self._write("switch branch", lambda: self._db.execute(
            "UPDATE conversations SET leaf_id = ? WHERE id = ?", (leaf, conversation_id)))
        return leaf

    @_reads("a branch")
    def branch_from(self, conversation_id: str, message_id: int) -> list[ChatMessage]:
        """The current branch from ``message_id`` on (after switching to it)."""
        leaf = self.switch_branch(conversation_id, message_id)
        path = self._path_up(leaf, None)
        index = next((i for i, m in enumerate(path) if m.id == message_id), 0)
        return path[index:]

    def rename(self, conversation_id: str, title: str) -> None:
        """Give a conversation a title of its own."""
        self._write("rename", lambda: self._db.execute(
            "UPDATE conversations SET title = ? WHERE id = ?", (title, conversation_id)))

    def set_archived(self, conversation_id: str, archived: bool) -> None:
        """Hide (or show again) a conversation in the list."""
        self._write("archive", lambda: self._db.execute(
            "UPDATE conversations SET archived = ? WHERE id = ?", (int(archived), conversation_id)))

    def delete(self, conversation_id: str) -> None:
        """Remove a conversation, its messages and its draft for good (a draft left behind
        would come back at the next start as a new conversation's)."""

        def write() -> None:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))
            self._db.execute("DELETE FROM drafts WHERE conversation_id = ?", (conversation_id,))
            self._db.execute("COMMIT")

        self._write("delete", write)

    # -- messages ---------------------------------------------------------------------------

    def add_message(self, conversation: Conversation, message: ChatMessage) -> SavedMessage:
        """Insert ``message`` under its ``parent_id`` (None: a first message), creating the
        conversation's row if needed, and make it the end of the current branch.

        Neither object is changed: this runs on the store's thread and they may belong to
        the screen, so the caller applies the returned id and versions on its own side.
        """

        def write() -> SavedMessage:
            self._db.execute("BEGIN IMMEDIATE")
            now = time.time()
            self._db.execute(
                """INSERT OR IGNORE INTO conversations (id, title, created, updated, system_prompt, model,
                   archived, settings, preset, provider) VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, ?)""",
                (conversation.id, conversation.title, conversation.created.timestamp(), now,
                 conversation.system_prompt, conversation.model, json.dumps(conversation.settings),
                 conversation.preset, conversation.provider),
            )
            cursor = self._db.execute(
                """INSERT INTO messages (conversation_id, role, content, reasoning, model, status, error,
                   finish_reason, prompt_tokens, completion_tokens, total_tokens, reasoning_tokens,
                   cached_tokens, created, writer_pid, parent_id, in_context, cost, provider)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (conversation.id, message.role, message.content, message.reasoning, message.model,
                 message.status.value, message.error, message.finish_reason,
                 *_usage_columns(message.usage), message.created.timestamp(), os.getpid(),
                 message.parent_id, _flag(message.in_context), message.cost, message.provider),
            )
            message_id = int(cursor.lastrowid or 0)
            self._insert_attachments(message_id, message.attachments)
            self._db.execute(
                "UPDATE conversations SET updated = ?, model = ?, leaf_id = ? WHERE id = ?",
                (now, conversation.model, message_id, conversation.id),
            )
            siblings = self._db.execute(
                "SELECT id FROM messages WHERE conversation_id = ? AND parent_id IS ? AND role = ? ORDER BY id",
                (conversation.id, message.parent_id, message.role)).fetchall()
            self._db.execute("COMMIT")
            return SavedMessage(message_id, [r["id"] for r in siblings])

        return self._write("message", write)

    def import_conversation(self, conversation: Conversation, leaf: int | None = None,
                            updated: datetime | None = None) -> str:
        """Store a conversation read from a file, all of it or nothing, with the file's
        times; returns the id it was stored under (a new one if its own is taken).

        Its messages carry the file's ids and parents; they get new ids here, the tree
        keeps its shape, and the branch ending at the file's ``leaf`` is the current one.
        """
        messages = conversation.messages
        if updated is None:
            updated = max([conversation.created, *(m.created for m in messages)])

        def write() -> str:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            ident = conversation.id
            if db.execute("SELECT 1 FROM conversations WHERE id = ?", (ident,)).fetchone():
                ident = uuid.uuid4().hex
            db.execute(
                """INSERT INTO conversations (id, title, created, updated, system_prompt, model, archived,
                   settings, preset, provider) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (ident, conversation.title, conversation.created.timestamp(), updated.timestamp(),
                 conversation.system_prompt, conversation.model, int(conversation.archived),
                 json.dumps(conversation.settings), conversation.preset, conversation.provider),
            )
            new_ids: dict[int, int] = {}
            previous: int | None = None
            for message in messages:
                if message.parent_id is not None:
                    parent = new_ids.get(message.parent_id)
                else:
                    parent = previous if message.id is None else None  # no ids: one straight line
                cursor = db.execute(
                    """INSERT INTO messages (conversation_id, role, content, reasoning, model, status, error,
                       finish_reason, prompt_tokens, completion_tokens, total_tokens, reasoning_tokens,
                       cached_tokens, created, parent_id, in_context, cost, provider)
                       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                    (ident, message.role, message.content, message.reasoning, message.model,
                     message.status.value, message.error, message.finish_reason,
                     *_usage_columns(message.usage), message.created.timestamp(), parent,
                     _flag(message.in_context), message.cost, message.provider),
                )
                new_id = int(cursor.lastrowid or 0)
                self._insert_attachments(new_id, message.attachments)
                if message.id is not None:
                    new_ids[message.id] = new_id
                previous = new_id
            db.execute("UPDATE conversations SET leaf_id = ? WHERE id = ?",
                       (new_ids.get(leaf, previous) if leaf is not None else previous, ident))
            db.execute("COMMIT")
            return ident

        return str(self._write("import", write))

    def _insert_attachments(self, message_id: int, attachments: list[Attachment]) -> None:
        """Attach images to a message inside the caller's transaction, each image's bytes
        kept once (by their SHA-256) however many messages carry them."""
        for image in attachments:
            digest = hashlib.sha256(image.data).hexdigest()
            self._db.execute("INSERT OR IGNORE INTO blobs (sha256, data) VALUES (?, ?)", (digest, image.data))
            self._db.execute(
                "INSERT INTO attachments (message_id, name, mime, width, height, data, kind, sha256, source)"
                " VALUES (?, ?, ?, ?, ?, x'', ?, ?, ?)",
                (message_id, image.name, image.mime, image.width, image.height, image.kind, digest, image.source))

    def add_attachments(self, message_id: int, attachments: list[Attachment]) -> None:
        """Add images to a saved message, after the ones it has (a reply's generated or
        downloaded images, which come after its row was written)."""

        def write() -> None:
            self._db.execute("BEGIN IMMEDIATE")
            if self._db.execute("SELECT 1 FROM messages WHERE id = ?", (message_id,)).fetchone() is None:
                self._db.execute("ROLLBACK")
                raise StoreError("the message was deleted before its images could be kept")
            self._insert_attachments(message_id, attachments)
            self._db.execute("COMMIT")

        self._write("images", write)

    def update_message(self, message: ChatMessage) -> None:
        """Write the message's text, status, usage and flags as they are now (give it a
        copy if the original may change meanwhile)."""
        if message.id is None:
            raise StoreError("the message was never saved")
        self._write("message", lambda: self._db.execute(
            """UPDATE messages SET content = ?, reasoning = ?, model = ?, status = ?, error = ?,
               finish_reason = ?, prompt_tokens = ?, completion_tokens = ?, total_tokens = ?,
               reasoning_tokens = ?, cached_tokens = ?, in_context = ?, cost = ?, provider = ?
               WHERE id = ?""",
            (message.content, message.reasoning, message.model, message.status.value, message.error,
             message.finish_reason, *_usage_columns(message.usage), _flag(message.in_context),
             message.cost, message.provider, message.id),
        ))

    def delete_message(self, message: ChatMessage, with_branch: bool = False) -> None:
        """Remove one message; what followed it now follows its parent, or, ``with_branch``
        (one version of several), goes with it (the other versions and theirs stay)."""
        if message.id is None:
            return
        following = """WITH RECURSIVE branch(id) AS (SELECT ? UNION SELECT m.id FROM messages m
                           JOIN branch ON m.parent_id = branch.id) SELECT id FROM branch""" if with_branch else "?"

        def write() -> None:
            self._db.execute("BEGIN IMMEDIATE")
            row = self._db.execute("SELECT conversation_id, parent_id FROM messages WHERE id = ?",
                                   (message.id,)).fetchone()
            if row is not None:
                if not with_branch:
                    self._db.execute("UPDATE messages SET parent_id = ? WHERE parent_id = ?",
                                     (row["parent_id"], message.id))
                self._db.execute(f"UPDATE conversations SET leaf_id = ? WHERE id = ? AND leaf_id IN ({following})",
                                 (row["parent_id"], row["conversation_id"], message.id))
                self._db.execute(f"DELETE FROM messages WHERE id IN ({following})", (message.id,))
            self._db.execute("COMMIT")

        self._write("delete a version" if with_branch else "delete message", write)

    @_reads("a conversation")
    def all_messages(self, conversation_id: str) -> list[ChatMessage]:
        """Every message of every branch, oldest first (for a complete export)."""
        rows = self._db.execute("SELECT * FROM messages WHERE conversation_id = ? ORDER BY id",
                                (conversation_id,)).fetchall()
        messages = [self._message(r) for r in rows]
        for chunk in range(0, len(messages), 500):
            self._annotated(messages[chunk:chunk + 500])
        return messages

    @staticmethod
    def _message(row: sqlite3.Row) -> ChatMessage:
        return ChatMessage(
            role=row["role"], content=row["content"], model=row["model"], reasoning=row["reasoning"],
            usage=_usage(row), status=_status(row), error=row["error"], finish_reason=row["finish_reason"],
            created=datetime.fromtimestamp(row["created"]), id=row["id"], parent_id=row["parent_id"],
            in_context=None if row["in_context"] is None else bool(row["in_context"]),
            cost=row["cost"], provider=row["provider"],
        )

    # -- preferences ------------------------------------------------------------------------

    @_reads("preferences")
    def preference(self, key: str) -> str | None:
        """A value t502 remembers between runs (the model used last), or None."""
        row = self._db.execute("SELECT value FROM preferences WHERE key = ?", (key,)).fetchone()
        return row["value"] if row else None

    def set_preference(self, key: str, value: str) -> None:
        """Remember ``value`` under ``key``."""
        self._write("preference", lambda: self._db.execute(
            "INSERT INTO preferences (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value)))

    # -- drafts -------------------------------------------------------------------------------

    def save_drafts(self, drafts: dict[str, str], heads: dict[str, str] | None = None) -> None:
        """Keep what was typed but not sent, per conversation (empty text and no head:
        nothing kept). ``heads``: for new conversations (not saved yet), what else the user
        set in them (see Conversation.head_text), kept beside the draft."""
        now = time.time()
        heads = heads or {}

        def write() -> None:
            self._db.execute("BEGIN IMMEDIATE")
            for conversation_id, text in drafts.items():
                head_key = _DRAFT_HEAD + conversation_id
                if text.strip() or conversation_id in heads:
                    self._db.execute(
                        "INSERT INTO drafts (conversation_id, text, saved) VALUES (?, ?, ?) ON CONFLICT(conversation_id)"
                        " DO UPDATE SET text = excluded.text, saved = excluded.saved", (conversation_id, text, now))
                else:
                    self._db.execute("DELETE FROM drafts WHERE conversation_id = ?", (conversation_id,))
                if conversation_id in heads:
                    self._db.execute("INSERT INTO preferences (key, value) VALUES (?, ?) ON CONFLICT(key)"
                                     " DO UPDATE SET value = excluded.value", (head_key, heads[conversation_id]))
                else:
                    self._db.execute("DELETE FROM preferences WHERE key = ?", (head_key,))
            self._db.execute("COMMIT")

        self._write("drafts", write)

    @_reads("drafts")
    def draft_heads(self, conversation_ids: list[str]) -> dict[str, str]:
        """What was kept beside the drafts of these new conversations (see save_drafts)."""
        heads = {}
        for conversation_id in conversation_ids:
            row = self._db.execute("SELECT value FROM preferences WHERE key = ?",
                                   (_DRAFT_HEAD + conversation_id,)).fetchone()
            if row is not None:
                heads[conversation_id] = row[0]
        return heads

    @_reads("drafts")
    def unsent_drafts(self) -> list[tuple[str, str]]:
        """(conversation id, text) of drafts whose conversation has no saved message yet,
        newest first: new conversations t502 closed on."""
        rows = self._db.execute(
            "SELECT conversation_id, text FROM drafts WHERE conversation_id NOT IN (SELECT id FROM conversations)"
            " ORDER BY saved DESC").fetchall()
        return [(row["conversation_id"], row["text"]) for row in rows]

    @_reads("drafts")
    def take_draft(self, conversation_id: str) -> str:
        """The draft of a conversation (empty if none), which is then forgotten."""
        row = self._db.execute("SELECT text FROM drafts WHERE conversation_id = ?", (conversation_id,)).fetchone()
        if row is not None:
            self._write("drafts", lambda: self._db.execute(
                "DELETE FROM drafts WHERE conversation_id = ?", (conversation_id,)))
        return row["text"] if row else ""

    # -- search -----------------------------------------------------------------------------

    @_reads("search")
    def search(self, text: str, limit: int = 50) -> list[SearchHit]:
        """Messages containing every word of ``text`` (the last as a prefix), newest first.

        Newest first, not by relevance: ranking every match of a common word costs a
        full scan, and the conversation one is looking for is usually a recent one.
        """
        query = _fts_query(text)
        if not query:
            return []
        try:
            rows = self._db.execute(
                f"""SELECT m.id, m.conversation_id, m.role, m.model, m.provider, m.created,
                          CASE WHEN length(m.content) <= {SNIPPET_MAX_CHARS} THEN
                              snippet(messages_fts, 0, '{HIT_START}', '{HIT_END}', '…', 16) END AS snippet,
                          c.title, (SELECT substr(u.content, 1, 200) FROM messages u WHERE u.conversation_id = c.id
                                    AND u.role = 'user' ORDER BY u.id LIMIT 1) AS first_words
                   FROM messages_fts JOIN messages m ON m.id = messages_fts.rowid
                   JOIN conversations c ON c.id = m.conversation_id
                   WHERE messages_fts MATCH ? ORDER BY messages_fts.rowid DESC LIMIT ?""",
                (query, limit),
            ).fetchall()
        except sqlite3.OperationalError as exc:
            raise StoreError(f"search failed: {exc}") from None
        return [
            SearchHit(row["conversation_id"], row["id"], shown_title(row["title"], row["first_words"] or ""),
                      row["role"], row["model"], datetime.fromtimestamp(row["created"]),
                      row["snippet"] if row["snippet"] is not None else self._long_snippet(row["id"], text),
                      row["provider"] or "")
            for row in rows
        ]

    def _long_snippet(self, message_id: int, text: str) -> str:
        """A snippet of a message too long for FTS5's ``snippet()``: the words around the
        first word searched for, found in its first SNIPPET_SCAN_CHARS characters."""
        word = text.split()[0].lower()
        row = self._db.execute(
            f"""SELECT substr(content, max(1, instr(lower(substr(content, 1, {SNIPPET_SCAN_CHARS})), ?) - 80), 200)
                FROM messages WHERE id = ?""", (word, message_id)).fetchone()
        window = " ".join((row[0] if row else "").split())
        at = window.lower().find(word)
        if at < 0:
            return f"{window}…"
        return f"…{window[:at]}{HIT_START}{window[at:at + len(word)]}{HIT_END}{window[at + len(word):]}…"
