"""Every class-map test runs twice: on a SQLite file in the test's folder and on a real
PostgreSQL server (tests/pg_server.py, one per session, its tables dropped before each test).

``store`` is an open store; ``opener`` opens more stores on the same database (each its own
connection, as separate app processes would); ``raw`` reads the tables with the database's own
driver, to see what was really written."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.pg_server import PostgresMissing, bin_dir, postgres_server
from vision_core.classroom import Store, open_store


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    try:
        bin_dir()
    except PostgresMissing as exc:  # a failure, never a skip: the PostgreSQL path must be tested
        pytest.fail(str(exc), pytrace=False)
    with postgres_server() as pg:
        yield pg.url


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path) -> dict[str, Any]:
    if request.param == "sqlite":
        return {"name": "sqlite", "url": "", "data_dir": tmp_path}
    import psycopg

    url = request.getfixturevalue("postgres_url")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS classroom_entries, classroom_classes")
    return {"name": "postgres", "url": url, "data_dir": None}


@pytest.fixture
def opener(backend: dict[str, Any]) -> Iterator[Callable[[], Store]]:
    opened: list[Store] = []

    def open_one() -> Store:
        store = open_store(url=backend["url"], data_dir=backend["data_dir"])
        opened.append(store)
        return store

    yield open_one
    for store in opened:
        store.close()


@pytest.fixture
def store(opener: Callable[[], Store]) -> Store:
    return opener()


@pytest.fixture
def raw(backend: dict[str, Any], store: Store) -> Callable[..., list[tuple[Any, ...]]]:
    """``raw(sql, *params)`` → rows (none for a write, which is committed), on a connection of its
    own (``?`` marks parameters)."""

    def query(sql: str, *params: Any) -> list[tuple[Any, ...]]:
        if backend["name"] == "sqlite":
            conn = sqlite3.connect(backend["data_dir"] / "classes.sqlite3")
            try:
                conn.execute("PRAGMA foreign_keys = ON")
                with conn:
                    cur = conn.execute(sql, params)
                    return [tuple(r) for r in cur.fetchall()]
            finally:
                conn.close()
        import psycopg

        with psycopg.connect(backend["url"], autocommit=True) as conn:
            cur = conn.execute(sql.replace("?", "%s"), params)
            return [] if cur.description is None else [tuple(r) for r in cur.fetchall()]

    return query
