"""The class map's store, on both databases: what it keeps, and every refusal (with nothing written)."""

from __future__ import annotations

import hashlib
import io

import numpy as np
import pytest
from PIL import Image, PngImagePlugin

from vision_core.classroom import (
    CODE_ALPHABET,
    CODE_LENGTH,
    DEFAULT_HOURS,
    MAX_ENTRIES,
    MAX_LABEL,
    MAX_THUMBNAIL_BYTES,
    MAX_VECTOR,
    ClassError,
    make_thumbnail,
    open_store,
)

T0 = 1_800_000_000.0  # a fixed "now" for the tests that pass one
HOUR = 3600.0
THUMB = make_thumbnail(Image.new("RGB", (40, 30), (30, 120, 200)))


def vec(n: int = 8, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(n).astype(np.float32)


def entry_count(raw) -> int:
    return raw("SELECT COUNT(*) FROM classroom_entries")[0][0]


def refused(kind: str, call, *args, **kwargs) -> ClassError:
    with pytest.raises(ClassError) as info:
        call(*args, **kwargs)
    assert info.value.kind == kind
    assert str(info.value).endswith(".") and str(info.value)[0].isupper()  # an English sentence
    return info.value


def png(side: tuple[int, int], **save) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", side, (200, 40, 40)).save(out, format="PNG", **save)
    return out.getvalue()


# --- the class --------------------------------------------------------------------------------


def test_a_class_has_a_short_code_and_a_token_stored_only_as_its_hash(store, raw):
    info, token = store.start_class("efficientnet_lite0", now=T0)
    assert len(info.code) == CODE_LENGTH and set(info.code) <= set(CODE_ALPHABET)
    assert not set("0O1IL") & set(CODE_ALPHABET)
    assert (info.encoder, info.created, info.expires) == ("efficientnet_lite0", T0, T0 + DEFAULT_HOURS * HOUR)
    assert len(token) == 32  # token_urlsafe(24): 24 random bytes
    rows = raw("SELECT code, encoder, teacher_hash, created, expires FROM classroom_classes")
    assert rows == [
        (info.code, "efficientnet_lite0", hashlib.sha256(token.encode()).hexdigest(), T0, info.expires)
    ]
    assert store.get_class(info.code, now=T0) == info


def test_codes_ignore_case_and_spaces(store):
    info, _ = store.start_class("resnet50", now=T0)
    typed = " " + " ".join(info.code[:3].lower()) + "  " + info.code[3:].lower() + "\t"
    assert store.get_class(typed, now=T0) == info
    entry = store.add_entry(typed, "ann", "cat", THUMB, vec(), now=T0)
    assert entry.code == info.code
    assert [e.id for e in store.entries(info.code.lower(), now=T0)] == [entry.id]


def test_codes_are_distinct_and_a_taken_code_is_drawn_again(store):
    infos = [store.start_class("resnet50", now=T0)[0] for _ in range(40)]
    assert len({i.code for i in infos}) == 40
    fresh = next(c * CODE_LENGTH for c in CODE_ALPHABET if c * CODE_LENGTH not in {i.code for i in infos})
    draws = iter([infos[0].code, infos[1].code, fresh])
    store._new_code = lambda: next(draws)  # the draw repeats two live codes, then a free one
    again, _ = store.start_class("dino_vits16", now=T0)
    assert again.code == fresh
    assert store.get_class(infos[0].code, now=T0).encoder == "resnet50"  # the taken one is untouched


def test_an_unknown_code_is_refused_and_nothing_is_written(store, raw):
    info, _ = store.start_class("resnet50", now=T0)
    other = next(c * CODE_LENGTH for c in CODE_ALPHABET if c * CODE_LENGTH != info.code)
    for code in (other, "0O1IL0", "ABC", "", info.code + "X"):
        refused("unknown_code", store.get_class, code, now=T0)
        refused("unknown_code", store.add_entry, code, "ann", "cat", THUMB, vec(), now=T0)
        refused("unknown_code", store.entries, code, now=T0)
    assert entry_count(raw) == 0


def test_a_class_expires_by_itself_and_purge_removes_it(store, raw):
    info, token = store.start_class("resnet50", hours=2, now=T0)
    live, _ = store.start_class("resnet50", hours=3, now=T0)
    store.add_entry(info.code, "ann", "cat", THUMB, vec(), now=T0 + HOUR)
    store.add_entry(live.code, "ann", "cat", THUMB, vec(), now=T0 + HOUR)
    end = T0 + 2 * HOUR
    assert store.get_class(info.code, now=end - 1) == info
    refused("expired", store.get_class, info.code, now=end)
    refused("expired", store.entries, info.code, now=end)
    refused("expired", store.add_entry, info.code, "bob", "dog", THUMB, vec(), now=end)
    entry_id = raw("SELECT id FROM classroom_entries WHERE code = ?", info.code)[0][0]
    refused("expired", store.remove_entry, info.code, entry_id, teacher_token=token, now=end)
    assert entry_count(raw) == 2  # the refusals wrote nothing, removed nothing
    assert store.purge_expired(now=end) == 1
    assert raw("SELECT code FROM classroom_classes") == [(live.code,)]
    assert raw("SELECT code FROM classroom_entries") == [(live.code,)]  # CASCADE took its photos
    refused("unknown_code", store.get_class, info.code, now=end)
    assert len(store.entries(live.code, now=end)) == 1


def test_starting_a_class_sweeps_out_expired_ones(store, raw):
    old, _ = store.start_class("resnet50", hours=1, now=T0)
    store.add_entry(old.code, "ann", "cat", THUMB, vec(), now=T0)
    store.start_class("resnet50", now=T0 + HOUR)
    assert old.code not in {r[0] for r in raw("SELECT code FROM classroom_classes")}
    assert entry_count(raw) == 0


def test_end_class_deletes_the_class_and_every_photo(store, raw):
    info, token = store.start_class("resnet50")
    other, other_token = store.start_class("resnet50")
    for owner in ("ann", "bob", "cem"):
        store.add_entry(info.code, owner, owner, THUMB, vec())
    store.add_entry(other.code, "ann", "mine", THUMB, vec())
    for wrong in ("not-the-token", "", other_token):  # the last: a real token, of another class
        refused("not_teacher", store.end_class, info.code, wrong)
    assert entry_count(raw) == 4
    assert store.end_class(info.code.lower(), token) == 3
    assert raw("SELECT code FROM classroom_entries") == [(other.code,)]
    assert raw("SELECT code FROM classroom_classes") == [(other.code,)]
    refused("unknown_code", store.get_class, info.code)
    refused("unknown_code", store.end_class, info.code, token)


# --- the photos -------------------------------------------------------------------------------


def test_entries_come_back_oldest_first_with_what_was_stored(store):
    info, _ = store.start_class("resnet50", now=T0)
    a = store.add_entry(info.code, "ann", "  my cat ", THUMB, vec(seed=1), now=T0 + 30)
    b = store.add_entry(info.code, "bob", "a dog", THUMB, vec(seed=2), now=T0 + 10)
    c = store.add_entry(info.code, "cem", "", THUMB, vec(seed=3), now=T0 + 20)
    got = store.entries(info.code, now=T0 + 40)
    assert [e.owner for e in got] == ["bob", "cem", "ann"]
    assert got == [b, c, a]  # every field but the vector; the vectors below
    assert a.label == "my cat" and a.thumbnail == THUMB and a.created == T0 + 30
    for e, seed in zip(got, (2, 3, 1), strict=True):
        np.testing.assert_array_equal(e.vector, vec(seed=seed))


def test_vectors_round_trip_exactly(store):
    info, _ = store.start_class("resnet50")
    bits = np.random.default_rng(7).integers(0, 2**32, size=MAX_VECTOR, dtype=np.uint32)
    v = bits.view(np.float32).copy()
    v[~np.isfinite(v)] = 1.0
    v[:6] = [-0.0, 1e-45, -1e-45, np.finfo(np.float32).max, np.finfo(np.float32).tiny, np.pi]
    store.add_entry(info.code, "ann", "x", THUMB, v)
    back = store.entries(info.code)[0].vector
    assert back.dtype == np.float32 and back.shape == (MAX_VECTOR,) and not back.flags.writeable
    assert np.array_equal(back.view(np.uint32), v.view(np.uint32))  # bit for bit, -0.0 included


def test_one_photo_per_learner(store, raw):
    info, _ = store.start_class("resnet50")
    first = store.add_entry(info.code, "ann", "cat", THUMB, vec())
    refused("already_joined", store.add_entry, info.code, "ann", "dog", THUMB, vec(seed=5))
    assert [(e.id, e.label) for e in store.entries(info.code)] == [(first.id, "cat")]
    assert entry_count(raw) == 1
    store.remove_entry(info.code, first.id, owner="ann")
    second = store.add_entry(info.code, "ann", "dog", THUMB, vec(seed=5))
    assert second.id > first.id  # an id is never reused
    assert [e.label for e in store.entries(info.code)] == ["dog"]


def test_a_learner_removes_only_their_own_photo(store, raw):
    info, _ = store.start_class("resnet50")
    ann = store.add_entry(info.code, "ann", "cat", THUMB, vec())
    bob = store.add_entry(info.code, "bob", "dog", THUMB, vec())
    refused("not_yours", store.remove_entry, info.code, ann.id, owner="bob")
    refused("not_yours", store.remove_entry, info.code, ann.id, owner="bob", teacher_token="guess")
    assert entry_count(raw) == 2
    store.remove_entry(info.code, ann.id, owner="ann")
    store.remove_entry(info.code, ann.id, owner="ann")  # a double click: already gone, no error
    assert [e.id for e in store.entries(info.code)] == [bob.id]
    with pytest.raises(ValueError):
        store.remove_entry(info.code, bob.id)


def test_the_teacher_removes_any_photo(store, raw):
    info, token = store.start_class("resnet50")
    other, _ = store.start_class("resnet50")
    ids = [store.add_entry(info.code, o, o, THUMB, vec()).id for o in ("ann", "bob", "cem")]
    elsewhere = store.add_entry(other.code, "ann", "x", THUMB, vec())
    refused("not_teacher", store.remove_entry, info.code, ids[0], teacher_token="guess")
    store.remove_entry(info.code, elsewhere.id, teacher_token=token)  # another class's photo: untouched
    assert entry_count(raw) == 4
    store.remove_entry(info.code, ids[0], teacher_token=token)
    store.remove_entry(info.code, ids[2], teacher_token=token, owner="ann")
    assert [e.id for e in store.entries(info.code)] == [ids[1]]
    assert [e.id for e in store.entries(other.code)] == [elsewhere.id]


def _big_png() -> bytes:
    meta = PngImagePlugin.PngInfo()
    meta.add_text("padding", "x" * MAX_THUMBNAIL_BYTES)
    data = png((16, 16), pnginfo=meta)
    Image.open(io.BytesIO(data)).load()  # a real, readable PNG: only its size is wrong
    return data


def _gif() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (16, 16)).save(out, format="GIF")
    return out.getvalue()


BAD_PHOTOS = {
    "wider than 128 px": lambda: png((129, 20)),
    "taller than 128 px": lambda: png((20, 300)),
    "over 64 KB": _big_png,
    "a GIF": _gif,
    "a truncated PNG": lambda: png((100, 100))[:200],
    "a PNG signature then noise": lambda: b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4,
    "not bytes": lambda: "a string",
    "empty": lambda: b"",
}


@pytest.mark.parametrize("name", list(BAD_PHOTOS))
def test_a_bad_thumbnail_is_refused(store, raw, name):
    info, _ = store.start_class("resnet50")
    refused("bad_photo", store.add_entry, info.code, "ann", "cat", BAD_PHOTOS[name](), vec())
    assert entry_count(raw) == 0


def test_thumbnails_at_the_limits_are_taken(store):
    info, _ = store.start_class("resnet50")
    jpeg = io.BytesIO()
    Image.new("RGB", (128, 128), (1, 2, 3)).save(jpeg, format="JPEG")
    store.add_entry(info.code, "ann", "jpeg", jpeg.getvalue(), vec())
    store.add_entry(info.code, "bob", "png", png((128, 7)), vec())
    assert [e.thumbnail for e in store.entries(info.code)] == [jpeg.getvalue(), png((128, 7))]


@pytest.mark.parametrize(
    "label",
    ["x" * (MAX_LABEL + 1), "two\nlines", "tab\there", "nul\x00", "bell\x07", "\u202eevil", "a\u2028b"],
)
def test_a_bad_label_is_refused(store, raw, label):
    info, _ = store.start_class("resnet50")
    refused("bad_label", store.add_entry, info.code, "ann", label, THUMB, vec())
    assert entry_count(raw) == 0


def test_labels_at_the_limit_and_with_emoji_are_taken(store):
    info, _ = store.start_class("resnet50")
    labels = ["y" * MAX_LABEL, "мой кот 🐈‍⬛", "  padded  "]
    for i, label in enumerate(labels):
        store.add_entry(info.code, f"o{i}", label, THUMB, vec())
    assert [e.label for e in store.entries(info.code)] == [labels[0], labels[1], "padded"]


BAD_VECTORS = {
    "2-D": lambda: np.zeros((2, 4), np.float32),
    "integers": lambda: np.arange(8),
    "a NaN": lambda: np.array([0.0, np.nan, 1.0], np.float32),
    "an infinity": lambda: np.array([0.0, -np.inf], np.float32),
    "too big for float32": lambda: np.array([1e39, 0.0]),
    "empty": lambda: np.zeros(0, np.float32),
    "too long": lambda: np.zeros(MAX_VECTOR + 1, np.float32),
    "strings": lambda: np.array(["1.0", "2.0"]),
}


@pytest.mark.parametrize("name", list(BAD_VECTORS))
def test_a_bad_vector_is_refused(store, raw, name):
    info, _ = store.start_class("resnet50")
    refused("bad_vector", store.add_entry, info.code, "ann", "cat", THUMB, BAD_VECTORS[name]())
    assert entry_count(raw) == 0
    store.add_entry(info.code, "ann", "cat", THUMB, vec(3))  # the refusal fixed no dimension


def test_the_first_photo_fixes_the_dimension(store, raw):
    info, token = store.start_class("resnet50")
    first = store.add_entry(info.code, "ann", "cat", THUMB, vec(16).astype(np.float64))
    assert first.vector.dtype == np.float32
    error = refused("bad_vector", store.add_entry, info.code, "bob", "dog", THUMB, vec(15))
    assert "16" in str(error) and "15" in str(error)
    assert entry_count(raw) == 1
    store.remove_entry(info.code, first.id, teacher_token=token)
    refused("bad_vector", store.add_entry, info.code, "bob", "dog", THUMB, vec(15))  # still 16
    store.add_entry(info.code, "bob", "dog", THUMB, vec(16))


def test_a_full_class_refuses_one_more(store, raw):
    info, _ = store.start_class("resnet50")
    for i in range(MAX_ENTRIES):
        store.add_entry(info.code, f"learner-{i}", str(i), THUMB, vec(4, seed=i))
    refused("class_full", store.add_entry, info.code, "late", "x", THUMB, vec(4))
    assert entry_count(raw) == MAX_ENTRIES
    assert len(store.entries(info.code)) == MAX_ENTRIES


def test_the_database_itself_keeps_one_photo_per_learner_and_cascades(store, raw):
    """The constraints behind the checks: a writer that skipped them still could not double-join."""
    info, _ = store.start_class("resnet50")
    store.add_entry(info.code, "ann", "cat", THUMB, vec())
    columns = "INSERT INTO classroom_entries (code, owner, label, thumbnail, vector, created)"
    with pytest.raises(Exception, match=r"(?i)unique"):
        raw(columns + " VALUES (?, ?, ?, ?, ?, ?)", info.code, "ann", "dup", THUMB, vec().tobytes(), T0)
    with pytest.raises(Exception, match=r"(?i)foreign key"):
        raw(columns + " VALUES (?, ?, ?, ?, ?, ?)", "NOSUCH", "bob", "x", THUMB, vec().tobytes(), T0)
    raw("DELETE FROM classroom_classes WHERE code = ?", info.code)
    assert entry_count(raw) == 0


# --- opening ----------------------------------------------------------------------------------


def test_open_store_reads_the_environment(backend, tmp_path, monkeypatch):
    monkeypatch.setenv("ENCODER_LENS_DATABASE_URL", backend["url"])
    monkeypatch.setenv("ENCODER_LENS_DATA_DIR", str(tmp_path / "elsewhere"))
    with open_store() as store:
        assert type(store).__name__ == {"sqlite": "SQLiteStore", "postgres": "PostgresStore"}[backend["name"]]
        info, _ = store.start_class("resnet50")
    if backend["name"] == "sqlite":
        assert (tmp_path / "elsewhere" / "classes.sqlite3").is_file()
    with open_store() as again:
        assert again.get_class(info.code) == info  # the same database, opened anew


def test_open_store_refuses_a_url_it_cannot_use(tmp_path):
    with pytest.raises(ValueError, match="postgresql://"):
        open_store(url="mysql://class@db/lens", data_dir=tmp_path)


def test_sqlite_uses_wal_and_foreign_keys(tmp_path):
    with open_store(url="", data_dir=tmp_path) as store:
        assert store._conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert store._conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert store._conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 1000
