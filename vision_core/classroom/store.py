"""The class map's storage: one :class:`Store` interface, two databases.

``open_store()`` picks PostgreSQL when ``ENCODER_LENS_DATABASE_URL`` names one (a server many app
processes share) and otherwise a SQLite file in the data folder (one machine).  Both hold the same
two tables, created on open::

    classroom_classes  code (the join code) · encoder · teacher_hash (SHA-256 of the token) ·
                       created · expires · dim (fixed by the first entry)
    classroom_entries  id · code → classes ON DELETE CASCADE · owner · label · thumbnail (PNG/JPEG
                       bytes) · vector (float32 bytes) · created;  UNIQUE (code, owner)

Every check runs before a write, and every write is one transaction that first locks its class
(SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: ``SELECT … FOR UPDATE``), so a class never holds more than
``MAX_ENTRIES`` and two tabs of one learner cannot both join: the unique constraint backs that up.
One store may be shared by threads (its calls take turns on its one connection); separate
processes each open their own.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from vision_core.classroom.records import (
    CODE_ATTEMPTS,
    DEFAULT_HOURS,
    MAX_ENTRIES,
    ClassError,
    ClassInfo,
    Entry,
    check_encoder,
    check_hours,
    check_label,
    check_owner,
    check_vector,
    new_code,
    new_teacher_token,
    normalize_code,
    token_hash,
    token_matches,
    vector_from_bytes,
)
from vision_core.classroom.thumbnails import check_thumbnail

PROJECT_DIR = Path(__file__).resolve().parents[2]
DATABASE_URL_ENV = "ENCODER_LENS_DATABASE_URL"
DATA_DIR_ENV = "ENCODER_LENS_DATA_DIR"
SQLITE_NAME = "classes.sqlite3"


class Cursor(Protocol):
    @property
    def rowcount(self) -> int: ...

    def execute(self, sql: Any, params: Sequence[Any] = ...) -> Any: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...


_CLASS_COLUMNS = "code, encoder, created, expires, teacher_hash, dim"
_ENTRY_COLUMNS = "id, code, owner, label, thumbnail, vector, created"


class Store:
    """The class map, whatever database holds it.  Subclasses supply the connection: ``_tx``
    (one transaction, writing or reading), ``_placeholder`` (``?`` → their parameter mark),
    ``_lock_suffix`` (how a read locks the class row) and ``_duplicate`` (the unique-violation
    error)."""

    _lock_suffix = ""
    _duplicate: type[BaseException] | tuple[type[BaseException], ...] = ()

    def __init__(self) -> None:
        self._lock = threading.RLock()

    # --- what subclasses supply ---------------------------------------------------------------
    def _tx(self, write: bool) -> AbstractContextManager[Cursor]:
        raise NotImplementedError

    def _placeholder(self, sql: str) -> str:
        return sql

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- the class ----------------------------------------------------------------------------
    def start_class(
        self, encoder: str, hours: float = DEFAULT_HOURS, now: float | None = None
    ) -> tuple[ClassInfo, str]:
        """A new class for ``hours``; returns it and the teacher token (shown once, never stored:
        only its SHA-256 is).  Expired classes are swept out on the way."""
        encoder, hours, now = check_encoder(encoder), check_hours(hours), _now(now)
        token = new_teacher_token()
        with self._lock:
            self.purge_expired(now)
            for _ in range(CODE_ATTEMPTS):
                info = ClassInfo(
                    code=self._new_code(), encoder=encoder, created=now, expires=now + hours * 3600
                )
                with self._tx(write=True) as cur:
                    self._run(
                        cur,
                        "INSERT INTO classroom_classes (code, encoder, teacher_hash, created, expires)"
                        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (code) DO NOTHING",
                        info.code,
                        info.encoder,
                        token_hash(token),
                        info.created,
                        info.expires,
                    )
                    if cur.rowcount == 1:
                        return info, token
        raise RuntimeError(f"no free join code after {CODE_ATTEMPTS} draws: the store is crowded or broken")

    def _new_code(self) -> str:
        return new_code()

    def get_class(self, code: str, now: float | None = None) -> ClassInfo:
        code, now = normalize_code(code), _now(now)
        with self._lock, self._tx(write=False) as cur:
            return self._live_class(cur, code, now)[0]

    def end_class(self, code: str, teacher_token: str) -> int:
        """Delete the class and every photo in it (an expired one too); returns how many photos."""
        code = normalize_code(code)
        with self._lock, self._tx(write=True) as cur:
            row = self._run(
                cur, f"SELECT teacher_hash FROM classroom_classes WHERE code = ?{self._lock_suffix}", code
            ).fetchone()
            if row is None:
                raise ClassError("unknown_code")
            if not token_matches(teacher_token, row[0]):
                raise ClassError("not_teacher")
            count = self._count(cur, code)
            self._run(cur, "DELETE FROM classroom_classes WHERE code = ?", code)  # entries: CASCADE
            return count

    def purge_expired(self, now: float | None = None) -> int:
        """Delete every expired class with its photos; returns how many classes."""
        now = _now(now)
        with self._lock, self._tx(write=True) as cur:
            self._run(cur, "DELETE FROM classroom_classes WHERE expires <= ?", now)
            return max(cur.rowcount, 0)

    # --- the photos ---------------------------------------------------------------------------
    def add_entry(
        self,
        code: str,
        owner: str,
        label: str,
        thumbnail: bytes,
        vector: np.ndarray,
        now: float | None = None,
    ) -> Entry:
        """One learner's photo on the map, or a :class:`ClassError` with nothing written."""
        code, owner, now = normalize_code(code), check_owner(owner), _now(now)
        label = check_label(label)
        check_thumbnail(thumbnail)
        stored = check_vector(vector, None)
        try:
            with self._lock, self._tx(write=True) as cur:
                _info, _hash, dim = self._live_class(cur, code, now, lock=True)
                stored = check_vector(vector, dim)
                mine = self._run(
                    cur, "SELECT 1 FROM classroom_entries WHERE code = ? AND owner = ?", code, owner
                ).fetchone()
                if mine is not None:
                    raise ClassError("already_joined")
                if self._count(cur, code) >= MAX_ENTRIES:
                    raise ClassError("class_full")
                if dim is None:
                    n = len(stored) // 4
                    self._run(cur, "UPDATE classroom_classes SET dim = ? WHERE code = ?", n, code)
                row = self._run(
                    cur,
                    "INSERT INTO classroom_entries (code, owner, label, thumbnail, vector, created)"
                    " VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                    code,
                    owner,
                    label,
                    bytes(thumbnail),
                    stored,
                    now,
                ).fetchone()
        except self._duplicate as exc:  # two joins raced past the check: the constraint decides
            raise ClassError("already_joined") from exc
        return Entry(
            id=int(row[0]),
            code=code,
            owner=owner,
            label=label,
            thumbnail=bytes(thumbnail),
            vector=vector_from_bytes(stored),
            created=now,
        )

    def entries(self, code: str, now: float | None = None) -> list[Entry]:
        """Every photo of the class, oldest first."""
        code, now = normalize_code(code), _now(now)
        with self._lock, self._tx(write=False) as cur:
            self._live_class(cur, code, now)
            rows = self._run(
                cur,
                f"SELECT {_ENTRY_COLUMNS} FROM classroom_entries WHERE code = ? ORDER BY created, id",
                code,
            ).fetchall()
        return [
            Entry(
                id=int(r[0]),
                code=r[1],
                owner=r[2],
                label=r[3],
                thumbnail=bytes(r[4]),
                vector=vector_from_bytes(r[5]),
                created=float(r[6]),
            )
            for r in rows
        ]

    def remove_entry(
        self,
        code: str,
        entry_id: int,
        *,
        owner: str | None = None,
        teacher_token: str | None = None,
        now: float | None = None,
    ) -> None:
        """The teacher (by token) removes any photo, a learner only their own (``not_yours``).
        A photo that is already gone is no error: a double click removes it once."""
        if owner is None and teacher_token is None:
            raise ValueError("remove_entry needs the learner's owner or the teacher's token")
        code, now = normalize_code(code), _now(now)
        with self._lock, self._tx(write=True) as cur:
            _info, stored_hash, _dim = self._live_class(cur, code, now, lock=True)
            row = self._run(
                cur, "SELECT owner FROM classroom_entries WHERE id = ? AND code = ?", int(entry_id), code
            ).fetchone()
            teacher = token_matches(teacher_token, stored_hash)
            if not teacher and owner is None:
                raise ClassError("not_teacher")
            if row is None:
                return
            if not teacher and row[0] != owner:
                raise ClassError("not_yours")
            self._run(cur, "DELETE FROM classroom_entries WHERE id = ? AND code = ?", int(entry_id), code)

    # --- shared steps -------------------------------------------------------------------------
    def _run(self, cur: Cursor, sql: str, *params: Any) -> Cursor:
        cur.execute(self._placeholder(sql), params)
        return cur

    def _count(self, cur: Cursor, code: str) -> int:
        return int(
            self._run(cur, "SELECT COUNT(*) FROM classroom_entries WHERE code = ?", code).fetchone()[0]
        )

    def _live_class(
        self, cur: Cursor, code: str, now: float, lock: bool = False
    ) -> tuple[ClassInfo, str, int | None]:
        suffix = self._lock_suffix if lock else ""
        row = self._run(
            cur, f"SELECT {_CLASS_COLUMNS} FROM classroom_classes WHERE code = ?{suffix}", code
        ).fetchone()
        if row is None:
            raise ClassError("unknown_code")
        info = ClassInfo(code=row[0], encoder=row[1], created=float(row[2]), expires=float(row[3]))
        if now >= info.expires:
            raise ClassError("expired")
        return info, row[4], None if row[5] is None else int(row[5])


def _now(now: float | None) -> float:
    return time.time() if now is None else float(now)


def resolve_data_dir(data_dir: str | Path | None = None) -> Path:
    """Where the SQLite file lives: the argument, else ``$ENCODER_LENS_DATA_DIR``, else ``data/``
    in the project folder (git ignores it)."""
    chosen = data_dir if data_dir is not None else os.environ.get(DATA_DIR_ENV) or PROJECT_DIR / "data"
    return Path(chosen)


def open_store(url: str | None = None, data_dir: str | Path | None = None) -> Store:
    """The class map's store: PostgreSQL for a ``postgresql://`` URL (``url``, else
    ``$ENCODER_LENS_DATABASE_URL``), otherwise SQLite at ``<data_dir>/classes.sqlite3``."""
    if url is None:
        url = os.environ.get(DATABASE_URL_ENV, "")
    url = url.strip()
    if url.startswith(("postgresql://", "postgres://")):
        from vision_core.classroom.postgres_store import PostgresStore

        return PostgresStore(url)
    if url:  # a typo in a deployment must not quietly fall back to a local file
        raise ValueError(f"{DATABASE_URL_ENV} must be a postgresql:// URL, or unset for SQLite")
    from vision_core.classroom.sqlite_store import SQLiteStore

    return SQLiteStore(resolve_data_dir(data_dir) / SQLITE_NAME)
