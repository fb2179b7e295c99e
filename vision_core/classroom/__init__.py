"""The class map: a teacher starts a class, learners add their photo's embedding to one shared
map.  Storage only (the pages live in ui/ and pages/)::

    from vision_core.classroom import open_store, make_thumbnail
    store = open_store()                         # $ENCODER_LENS_DATABASE_URL, else data/classes.sqlite3
    info, token = store.start_class("efficientnet_lite0")
    store.add_entry(info.code, owner, "my cat", make_thumbnail(photo), embedding)
    store.entries(info.code)                      # oldest first
"""

from vision_core.classroom.records import (
    CODE_ALPHABET,
    CODE_LENGTH,
    DEFAULT_HOURS,
    MAX_ENTRIES,
    MAX_LABEL,
    MAX_THUMBNAIL_BYTES,
    MAX_VECTOR,
    THUMBNAIL_SIDE,
    ClassError,
    ClassInfo,
    Entry,
)
from vision_core.classroom.store import Store, open_store
from vision_core.classroom.thumbnails import make_thumbnail


def __getattr__(name: str) -> type[Store]:
    # the backends load on first use: PostgresStore imports psycopg, which SQLite users never need
    if name == "SQLiteStore":
        from vision_core.classroom.sqlite_store import SQLiteStore

        return SQLiteStore
    if name == "PostgresStore":
        from vision_core.classroom.postgres_store import PostgresStore

        return PostgresStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CODE_ALPHABET",
    "CODE_LENGTH",
    "DEFAULT_HOURS",
    "MAX_ENTRIES",
    "MAX_LABEL",
    "MAX_THUMBNAIL_BYTES",
    "MAX_VECTOR",
    "THUMBNAIL_SIDE",
    "ClassError",
    "ClassInfo",
    "Entry",
    "PostgresStore",
    "SQLiteStore",
    "Store",
    "make_thumbnail",
    "open_store",
]
