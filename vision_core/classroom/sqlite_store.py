"""The class map in one SQLite file: WAL mode (readers never wait for a writer), a busy timeout
(writers queue instead of failing), foreign keys on (SQLite leaves them off per connection)."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from vision_core.classroom.store import Cursor, Store

# A write holds the file for a millisecond or two; thirty seconds of queueing means something is
# wrong (a stuck process), and the caller then gets sqlite3.OperationalError ("database is locked").
BUSY_TIMEOUT_S = 30.0

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS classroom_classes (
        code TEXT PRIMARY KEY,
        encoder TEXT NOT NULL,
        teacher_hash TEXT NOT NULL,
        created REAL NOT NULL,
        expires REAL NOT NULL,
        dim INTEGER
    )""",
    # AUTOINCREMENT: an id is never reused, so a stale "remove" button cannot hit a newer photo
    """CREATE TABLE IF NOT EXISTS classroom_entries (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        code TEXT NOT NULL REFERENCES classroom_classes (code) ON DELETE CASCADE,
        owner TEXT NOT NULL,
        label TEXT NOT NULL,
        thumbnail BLOB NOT NULL,
        vector BLOB NOT NULL,
        created REAL NOT NULL,
        UNIQUE (code, owner)
    )""",
    "CREATE INDEX IF NOT EXISTS classroom_classes_expires ON classroom_classes (expires)",
)


class SQLiteStore(Store):
    _duplicate = sqlite3.IntegrityError

    def __init__(self, path: str | Path) -> None:
        super().__init__()
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: no hidden BEGINs; _tx says BEGIN IMMEDIATE / BEGIN itself
        self._conn = sqlite3.connect(
            self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
        )
        self._conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        self._conn.execute("PRAGMA foreign_keys = ON")
        self._conn.execute("PRAGMA journal_mode = WAL")
        self._conn.execute("PRAGMA synchronous = NORMAL")  # WAL's durable-enough setting
        with self._tx(write=True) as cur:
            for statement in SCHEMA:
                cur.execute(statement)

    @contextlib.contextmanager
    def _tx(self, write: bool) -> Iterator[Cursor]:
        cur = self._conn.cursor()
        # IMMEDIATE takes the write lock at once: the checks that follow see what the write will
        cur.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        try:
            yield cur
        except BaseException:
            cur.execute("ROLLBACK")
            raise
        else:
            cur.execute("COMMIT")
        finally:
            cur.close()

    def close(self) -> None:
        with self._lock:
            self._conn.close()
