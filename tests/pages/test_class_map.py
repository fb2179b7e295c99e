"""Class · Run a class and Class map: a teacher starts a class, learners join by its code and add
their photo, every refusal is said in words, a learner removes their own photo, and ending the
class empties every map — against the real SQLite store in a test folder."""

from __future__ import annotations

import io
from typing import get_args

import numpy as np
import pytest
from conftest import APP, TIMEOUT, assert_ok, assert_russian, open_page, sample_photo
from PIL import Image
from streamlit.testing.v1 import AppTest

from lessons import lesson
from ui.session import DEFAULT_SAMPLE
from vision_core.classroom import THUMBNAIL_SIDE, ClassError, make_thumbnail, open_store
from vision_core.classroom.map import class_map, class_neighbours
from vision_core.classroom.records import Kind
from vision_core.classroom.store import DATA_DIR_ENV, DATABASE_URL_ENV
from vision_core.embeddings import vectors as embeddings
from vision_core.embeddings.gallery import item_from_bytes
from vision_core.engine import budget, encoders

TEACHER, LEARNER = "pages/class_teacher.py", "pages/class_map.py"
EN, RU = lesson("class_map", "en"), lesson("class_map", "ru")
TEACH = lesson("class_teacher", "en")


@pytest.fixture
def store(tmp_path, monkeypatch):
    """The app's store is the SQLite file in this test's folder (the app opens it by these
    variables; a test opens the same file beside it)."""
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path))
    monkeypatch.delenv(DATABASE_URL_ENV, raising=False)
    with open_store(data_dir=tmp_path) as s:
        yield s


def learner(code: str | None = None, *, sample: str = DEFAULT_SAMPLE, lang: str = "en") -> AppTest:
    """The learners' page opened by the join link ``?class=code`` (or with no code)."""
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.session_state["lang"] = lang
    at.session_state["photo"] = sample_photo(sample)
    at.session_state["photo_source_id"] = f"sample:{DEFAULT_SAMPLE}"  # the sidebar keeps this photo
    if code is not None:
        at.query_params["class"] = code
    at.switch_page(LEARNER)
    at.run()
    return at


def add_photo(at: AppTest, label: str = "") -> AppTest:
    at.text_input(key="class_label").input(label)
    at.checkbox(key="class_consent").check().run()
    at.button(key="class_add").click().run()
    assert_ok(at)
    return at


def errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def expected_vector(sample: str) -> np.ndarray:
    """The photo's embedding straight from vision_core: the class's encoder (the default) on it."""
    item = item_from_bytes(sample_photo(sample).data, sample, sample)
    model = encoders.load_model(encoders.DEFAULT)
    return embeddings.embed(model, [item.image()], encoders.DEFAULT)[0]


def test_a_teacher_starts_a_class_and_sees_its_code(store):
    at = open_page(TEACHER)
    assert_ok(at)
    assert at.selectbox(key="class_encoder").value == encoders.DEFAULT
    at.select_slider(key="class_hours").set_value(2.0)
    at.button(key="class_start").click().run()
    assert_ok(at)
    teaching = at.session_state["class_teaching"]
    code = teaching["code"]
    assert at.metric[0].value == code
    info = store.get_class(code)
    assert info.encoder == encoders.DEFAULT
    assert info.expires - info.created == pytest.approx(2 * 3600)
    # no browser told this run its address: the teacher is told to share the code, not a link
    assert TEACH("no_url") in [i.value for i in at.info]
    assert TEACH("entries_empty") in [c.value for c in at.caption]
    assert EN("map_empty") in [i.value for i in at.info]
    with pytest.raises(ClassError) as refused:
        store.end_class(code, "not the token")
    assert refused.value.kind == "not_teacher"


def test_a_learner_joins_by_the_link_and_adds_their_photo(store):
    info, _token = store.start_class(encoders.DEFAULT)
    at = learner(info.code)
    assert_ok(at)
    assert at.text_input(key="class_code").value == info.code
    assert at.button(key="class_add").disabled  # nothing is added before the learner agrees
    model = encoders.get(encoders.DEFAULT)
    consent = EN("consent", side=THUMBNAIL_SIDE, model=model.title, dim=model.embedding_dim)
    assert consent in [m.value for m in at.markdown]
    add_photo(at, "my cat")
    [entry] = store.entries(info.code)
    assert entry.owner == at.session_state["class_owner"] and entry.label == "my cat"
    np.testing.assert_allclose(entry.vector, expected_vector(DEFAULT_SAMPLE), rtol=1e-4, atol=1e-5)
    with Image.open(io.BytesIO(entry.thumbnail)) as thumb:
        assert max(thumb.size) <= THUMBNAIL_SIDE
    assert EN("yours", label="my cat") in [s.value for s in at.success]
    assert EN("map_single") in [c.value for c in at.caption]  # one photo: the photo alone
    assert at.button(key="class_remove_mine")


def test_an_unknown_code_is_refused_in_words(store):
    for typed, shown in (("zzzz zz", "ZZZZZZ"), ("hello", "HELLO")):
        at = learner(typed)
        assert_ok(at)
        assert EN("error_unknown_code", code=shown) in errors(at)
    at = learner()
    assert EN("no_code") in [i.value for i in at.info]


def test_a_second_photo_from_the_same_learner_is_refused(store):
    info, _token = store.start_class(encoders.DEFAULT)
    at = add_photo(learner(info.code), "first")
    # the page offers no second photo: it says why, and offers removing the first
    assert not [b for b in at.button if b.key == "class_add"]
    assert EN("one_photo") in [c.value for c in at.caption]
    # and the store refuses one however it is asked, which the page says in words
    owner = at.session_state["class_owner"]
    thumb = make_thumbnail(Image.new("RGB", (64, 64), "white"))
    with pytest.raises(ClassError) as refused:
        store.add_entry(info.code, owner, "second", thumb, np.ones(1280, np.float32))
    assert refused.value.kind == "already_joined"
    assert [e.label for e in store.entries(info.code)] == ["first"]


@pytest.mark.parametrize("kind", get_args(Kind))
def test_every_refusal_has_words_in_every_language(kind):
    for text in (EN, RU):
        said = text(f"error_{kind}", code="ABC234", max=7)
        assert said and "{{" not in said


def test_a_learner_removes_their_own_entry_and_only_theirs(store):
    info, _token = store.start_class(encoders.DEFAULT)
    other = store.add_entry(
        info.code,
        "a classmate",
        "tram",
        make_thumbnail(Image.new("RGB", (32, 32), "red")),
        expected_vector("coffee"),
    )
    at = add_photo(learner(info.code), "cat")
    entries = store.entries(info.code)
    assert len(entries) == 2
    # the map's neighbours: the classmate, at the cosine similarity vision_core gives
    vectors = np.stack([e.vector for e in entries])
    [hit] = class_neighbours(vectors, 1, 3)
    assert hit.index == 0
    captions = [c for im in at.image for c in im.captions]
    assert f"{hit.similarity:.3f} · tram" in captions
    assert class_map(vectors).method == "pca"
    at.button(key="class_remove_mine").click().run()
    assert_ok(at)
    assert [e.id for e in store.entries(info.code)] == [other.id]
    assert EN("removed") in [s.value for s in at.success]
    assert at.checkbox(key="class_consent")


def test_the_teacher_ends_the_class_and_the_map_empties(store):
    teacher = open_page(TEACHER)
    teacher.button(key="class_start").click().run()
    code = teacher.session_state["class_teaching"]["code"]
    pupil = add_photo(learner(code), "cat")
    assert len(pupil.get("plotly_chart")) == 1
    teacher.run()
    assert TEACH("entries_count", n=1, max=200) in [c.value for c in teacher.caption]
    teacher.button(key="class_end").click().run()
    assert TEACH("end_confirm", code=code, n=1) in [w.value for w in teacher.warning]
    teacher.button(key="class_end_yes").click().run()
    assert_ok(teacher)
    assert TEACH("ended", code=code) in [s.value for s in teacher.success]
    assert teacher.button(key="class_start")  # ready for the next class
    with pytest.raises(ClassError) as gone:
        store.get_class(code)
    assert gone.value.kind == "unknown_code"
    pupil.run()
    assert_ok(pupil)
    assert EN("ended") in [i.value for i in pupil.info]
    assert len(pupil.get("plotly_chart")) == 0


def test_the_teacher_removes_a_learners_photo(store):
    teacher = open_page(TEACHER)
    teacher.button(key="class_start").click().run()
    code = teacher.session_state["class_teaching"]["code"]
    pupil = add_photo(learner(code), "cat")
    [entry] = store.entries(code)
    teacher.run()
    teacher.button(key=f"class_remove_{entry.id}").click().run()
    assert_ok(teacher)
    assert store.entries(code) == []
    pupil.run()
    assert pupil.checkbox(key="class_consent")  # the learner may add a photo again


def test_a_full_server_refuses_the_photo_in_words_and_keeps_running(store):
    info, _token = store.start_class(encoders.DEFAULT)
    at = learner(info.code, sample="coffee")
    server = budget.server_budget()
    server.hold("another learner (class test)", "photo", server.free - 1024)
    try:
        add_photo(at, "cup")
    finally:
        server.drop("another learner (class test)")
    busy = lesson("server", "en")
    assert f"{busy('busy')} {busy('busy_hint')}" in errors(at)
    assert store.entries(info.code) == []
    add_photo(at, "cup")  # room again: it goes through
    assert len(store.entries(info.code)) == 1


def test_the_class_map_in_russian(store):
    info, _token = store.start_class(encoders.DEFAULT)
    for i, sample in enumerate(("coffee", "astronaut")):
        vector = expected_vector(sample)
        store.add_entry(info.code, f"learner {i}", sample, make_thumbnail(Image.new("RGB", (8, 8))), vector)
    at = add_photo(learner(info.code, lang="ru"), "кот")
    assert_russian(at)
    assert RU("yours", label="кот") in [s.value for s in at.success]
    assert RU(
        "map_pca",
        n=3,
        shown=class_map(np.stack([e.vector for e in store.entries(info.code)])).params["shown"],
        min_umap=5,
    ) in [m.value for m in at.markdown]
    bad = learner("ZZZZZZ", lang="ru")
    assert RU("error_unknown_code", code="ZZZZZZ") in errors(bad)


def test_the_teacher_page_in_russian(store):
    at = open_page(TEACHER, lang="ru")
    assert_russian(at)
    at.button(key="class_start").click().run()
    assert_russian(at)
    code = at.session_state["class_teaching"]["code"]
    assert at.metric[0].value == code
    assert lesson("class_teacher", "ru")("no_url") in [i.value for i in at.info]


def test_an_expired_class_is_deleted_from_the_store_without_anyone_starting_another(store, monkeypatch):
    import time

    from ui.cached import classroom as cached

    info, _ = store.start_class("efficientnet_lite0", hours=1, now=time.time() - 2 * 3600)  # ended 1 h ago
    with pytest.raises(ClassError) as expired:
        store.get_class(info.code)
    assert expired.value.kind == "expired"  # still in the store: refused, but not yet deleted
    monkeypatch.setitem(cached._purged, "at", 0.0)  # the last sweep was long ago
    cached.store()  # what every page of the class map calls
    with pytest.raises(ClassError) as gone:
        store.get_class(info.code)
    assert gone.value.kind == "unknown_code"  # deleted, with its photos
