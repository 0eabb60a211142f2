"""Saving what can still be read from a damaged store (``t502 history recover``).

SQLite's own ``.recover`` needs a ``sqlite3`` shell built with it, which many systems
(Debian's among them) lack, and ``.dump`` throws away everything when it meets a damaged
page. This reads each table in rowid order and, at a damaged stretch, searches for the
first row past it, so one bad page costs the rows on that page and no more. The
damaged file itself is never written: it is renamed aside, and a new store takes its
place.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from t502_tui.store import APPLICATION_ID, Store, StoreError

_SMALLEST, _LARGEST = -(2**63), 2**63 - 1


@dataclass(frozen=True)
class Recovery:
    """What a recovery saved, and where the damaged file went."""

    conversations: int
    messages: int
    images: int
    skipped: int
    """Damaged stretches passed over (each lost the rows it held)."""
    damaged_copy: Path


class _Reader:
    """Reads a table's rows past damaged pages, counting the stretches it skips."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.skipped = 0

    def _seek_works(self, table: str, after: int) -> bool:
        try:
            self.db.execute(f"SELECT rowid FROM {table} WHERE rowid > ? ORDER BY rowid LIMIT 1", (after,)).fetchall()
        except sqlite3.DatabaseError:
            return False
        return True

    def _past_damage(self, table: str, after: int) -> int | None:
        """The smallest rowid past ``after`` from which the table reads again, if any."""
        bad, step = after, 1
        while True:
            probe = min(after + step, _LARGEST)
            if self._seek_works(table, probe):
                break
            if probe == _LARGEST:
                return None
            bad, step = probe, step * 2
        good = probe
        while good - bad > 1:
            middle = (bad + good) // 2
            bad, good = (bad, middle) if self._seek_works(table, middle) else (middle, good)
        return good

    def rows(self, table: str) -> Iterator[sqlite3.Row]:
        """Every readable row of ``table``, in rowid order."""
        after = _SMALLEST
        while True:
            try:
                for row in self.db.execute(f"SELECT rowid AS _rowid, * FROM {table} WHERE rowid > ? ORDER BY rowid",
                                           (after,)):
                    after = row["_rowid"]
                    yield row
                return
            except sqlite3.DatabaseError:
                self.skipped += 1
                resume = self._past_damage(table, after)
                if resume is None:
                    return
                after = resume


def _columns(db: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in db.execute(f"PRAGMA table_info({table})")]


def _copy(reader: _Reader, target: sqlite3.Connection, table: str) -> None:
    """Copy ``table``'s readable rows (the columns both stores have)."""
    wanted = _columns(target, table)
    for row in reader.rows(table):
        names = [c for c in wanted if c in row.keys()]
        values = [row[c] for c in names]
        if table == "messages" and "parent_id" not in row.keys():
            names.append("parent_id")  # a schema-1 store: the parent is the message before
            values.append(0)
        target.execute(f"INSERT OR IGNORE INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
                       values)


_MEND = (
    # A message whose parent was lost follows the message before it instead.
    """UPDATE messages SET parent_id = (SELECT max(p.id) FROM messages p
           WHERE p.conversation_id = messages.conversation_id AND p.id < messages.id)
       WHERE parent_id IS NOT NULL AND parent_id NOT IN (SELECT id FROM messages)""",
    # Messages whose conversation was lost get one back, titled by their first question.
    """INSERT INTO conversations (id, created, updated, model)
       SELECT conversation_id, min(created), max(created), coalesce(max(model), '') FROM messages
       WHERE conversation_id NOT IN (SELECT id FROM conversations) GROUP BY conversation_id""",
    "UPDATE conversations SET leaf_id = NULL WHERE leaf_id NOT IN (SELECT id FROM messages)",
    "DELETE FROM attachments WHERE message_id NOT IN (SELECT id FROM messages)",
    # An image whose bytes were lost is dropped rather than shown empty.
    """DELETE FROM attachments WHERE length(data) = 0
       AND (sha256 IS NULL OR sha256 NOT IN (SELECT sha256 FROM blobs))""",
)


def _is_damaged(source: sqlite3.Connection) -> bool:
    try:
        return [row[0] for row in source.execute("PRAGMA quick_check")] != ["ok"]
    except sqlite3.DatabaseError:
        return True


def recover_store(path: Path, force: bool = False) -> Recovery | None:
    """Copy what can be read from the store at ``path`` into a new store in its place.

    Returns None (and changes nothing) when the store is not damaged, unless ``force``.
    The damaged file and its -wal/-shm files are kept beside it under a dated name.
    Raises StoreError when nothing can be read, OSError when the files cannot be moved.
    """
    if not path.exists():
        raise StoreError(f"there is no history database at {path}")
    fresh = path.with_name(path.name + ".recovering")
    try:
        source = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise StoreError(f"{path} cannot be read at all ({exc}); it was left as it is") from None
    try:
        source.row_factory = sqlite3.Row
        if source.execute("PRAGMA application_id").fetchone()[0] != APPLICATION_ID:
            raise StoreError(f"{path} is not a t502 database; it was left as it is")
        if not force and not _is_damaged(source):
            return None
        counts, skipped = _copy_into(source, fresh)
    except sqlite3.Error as exc:
        fresh.unlink(missing_ok=True)
        raise StoreError(f"could not recover {path} ({exc}); it was left as it is") from None
    finally:
        source.close()
    if not any(counts):
        fresh.unlink(missing_ok=True)
        raise StoreError(f"nothing could be read from {path}; it was left as it is")
    damaged_copy = path.with_name(f"{path.stem}-damaged-{datetime.now():%Y%m%d-%H%M%S}{path.suffix}")
    os.replace(path, damaged_copy)
    for extra in ("-wal", "-shm"):
        beside = path.with_name(path.name + extra)
        if beside.exists():
            os.replace(beside, damaged_copy.with_name(damaged_copy.name + extra))
    os.replace(fresh, path)
    return Recovery(*counts, skipped, damaged_copy)


def _copy_into(source: sqlite3.Connection, fresh: Path) -> tuple[tuple[int, int, int], int]:
    """Fill a new store at ``fresh`` from ``source``: (conversations, messages, images), skipped."""
    for leftover in (fresh, fresh.with_name(fresh.name + "-wal"), fresh.with_name(fresh.name + "-shm")):
        leftover.unlink(missing_ok=True)
    Store(fresh).close()
    target = sqlite3.connect(fresh, isolation_level=None)
    try:
        target.execute("BEGIN")
        reader = _Reader(source)
        tables = _tables(source)
        for table in ("conversations", "messages", "blobs", "attachments", "drafts", "preferences"):
            if table in tables:
                _copy(reader, target, table)
        for statement in _MEND:
            target.execute(statement)
        target.execute("COMMIT")
        conversations, messages, images = (
            target.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("conversations", "messages", "attachments"))
    finally:
        target.close()
    return (conversations, messages, images), reader.skipped


def _tables(db: sqlite3.Connection) -> set[str]:
    try:
        return {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError:
        return set()
