"""A full server says so, in the learner's language, and keeps running; what anyone holds stays.

The server's budget is filled by "another learner" (a hold as big as all but 1 KiB of it); then a
learner's new photo (on a page, or offered by the sidebar) and a zip for the lab's gallery are
refused in words, and go through once the other learner's hold has gone.  A learner who already
holds results goes on by giving up their own oldest ones.  A session's results leave when
Streamlit releases the session (what it runs when the learner's tab disconnects).
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image
from streamlit.runtime import caching
from streamlit.testing.v1 import AppTest

from lessons import lesson
from tests.pages.conftest import TIMEOUT, assert_ok, open_page
from ui.cached import core
from ui.session import Photo
from vision_core import samples
from vision_core.engine import budget

PAGE = "pages/cnn_convolution.py"
OTHER = "another learner (test)"
APPTEST_SESSION = "test session id"  # the session id of every AppTest


def fresh_photo(seed: int) -> Photo:
    """A photo no cache has seen and no sample is: a sample with a few pixels changed, as a PNG."""
    image = np.array(samples.load_sample("coffee"))
    rng = np.random.default_rng(seed)
    for _ in range(3):
        image[rng.integers(image.shape[0]), rng.integers(image.shape[1])] = rng.integers(0, 256, 3)
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return Photo.from_bytes(buffer.getvalue(), f"mine-{seed}.png")


def busy_words(lang: str) -> tuple[str, str]:
    text = lesson("server", lang)
    return text("busy"), text("busy_hint")


@pytest.fixture
def server():
    """The process's budget; whatever the test made "another learner" hold is let go after it."""
    b = budget.server_budget()
    yield b
    b.drop(OTHER)


def fill(b: budget.Budget) -> int:
    """Another learner holds all but 1 KiB of the budget; returns what they hold."""
    b.hold(OTHER, "photo", b.free - 1024)
    return b.held_by(OTHER)


def open_with(photo: Photo, **session):
    """The page with ``photo`` in use (the sidebar's sample box left on its default: it does not
    replace the photo)."""
    return open_page(PAGE, photo=photo, **{"photo_source_id": "sample:chelsea", **session})


def errors(at) -> list[str]:
    return [e.value for e in at.error]


def test_a_new_photo_on_a_full_server_is_refused_in_words_and_runs_once_there_is_room(server):
    core.STORE.drop_owner(APPTEST_SESSION)  # a learner who holds nothing yet (AppTests share one id)
    held = fill(server)
    photo = fresh_photo(1)
    at = open_with(photo)
    assert_ok(at)  # the app keeps running: no traceback
    busy, hint = busy_words("en")
    assert any(busy in e and hint in e for e in errors(at))
    assert "Try again in a minute" in hint
    assert server.held_by(OTHER) == held and server.used <= server.limit  # nothing held was lost

    server.drop(OTHER)  # the other learner's results leave
    at.run()
    assert_ok(at)
    assert not any(busy in e for e in errors(at))
    assert at.session_state["photo"] == photo  # the photo is in use
    assert at.slider(key="conv_channel").value == 0  # and the page ran to its end


def test_a_learner_already_working_goes_on_in_a_full_server_with_their_own_room(server):
    """New work of a learner who holds results makes room among their own least recently used
    ones: the ceiling holds and nobody else's results go."""
    at = open_with(fresh_photo(3))
    assert_ok(at)
    held = fill(server)
    slider = at.slider(key="conv_channel")
    slider.set_value(slider.value + 1).run()  # another feature map: a new breakdown to compute
    assert_ok(at)
    busy, _ = busy_words("en")
    assert not any(busy in e for e in errors(at))
    assert at.slider(key="conv_channel").value == 1
    assert server.used <= server.limit and server.held_by(OTHER) == held
    assert {k[0].rsplit(".", 1)[1] for k in core.STORE._entries if k[1] == APPTEST_SESSION} >= {"breakdown"}


def _choose_coffee() -> None:
    """A script that offers the sidebar's photo choice a new photo, as the sidebar does."""
    import streamlit as st

    from ui import session
    from vision_core import samples

    error = session.use_photo(samples.sample_bytes("coffee"), "coffee.png")
    if error is not None:
        st.error(f"{error.message} {error.hint}")
    st.write(f"in use: {session.current_photo().label}")


def test_a_photo_refused_by_a_full_server_keeps_the_old_one_and_says_so_in_russian(server):
    photo = fresh_photo(4)
    at = AppTest.from_function(_choose_coffee, default_timeout=TIMEOUT)
    at.session_state["lang"], at.session_state["photo"] = "ru", photo
    fill(server)
    at.run()
    assert_ok(at)
    busy, hint = busy_words("ru")
    assert busy.startswith("Сервер сейчас занят") and "через минуту" in hint
    assert errors(at) == [f"{busy} {hint}"]
    assert at.markdown[0].value == "in use: mine-4.png" and at.session_state["photo"] == photo

    server.drop(OTHER)  # room again: the same choice now goes through
    at.run()
    assert_ok(at)
    assert at.markdown[0].value == "in use: coffee.png" and not errors(at)
    assert server.held_by(APPTEST_SESSION) >= len(samples.sample_bytes("coffee"))  # held for the session


def test_a_sessions_results_and_holds_leave_when_streamlit_releases_the_session(server):
    at = open_with(fresh_photo(2))
    assert_ok(at)
    session_id = APPTEST_SESSION
    assert session_id in core.STORE.owners()
    server.hold(session_id, "photo", 12345)  # what use_photo holds for an uploaded photo
    assert core.STORE.owners() - {core.SHARED} == {session_id}
    shared = {k for k in core.STORE._entries if k[1] == core.SHARED}

    caching.clear_session_resource_cache(session_id)  # what Streamlit runs when the tab disconnects
    assert core.STORE.owners() <= {core.SHARED}
    assert server.held_by(session_id) == 0
    assert shared <= set(core.STORE._entries)  # the samples' shared results stay for everyone


def _gallery_upload() -> None:
    """A script that gives the embedding lab's upload step one zip of two photos."""
    from dataclasses import dataclass

    from tests.pages.test_server_busy import fresh_photo
    from ui import gallery
    from vision_core.embeddings.gallery import make_zip

    @dataclass
    class Upload:  # what st.file_uploader hands over: an id, a name, a size and the bytes
        file_id: str
        name: str
        data: bytes

        @property
        def size(self) -> int:
            return len(self.data)

        def getvalue(self) -> bytes:
            return self.data

    data = make_zip({f"cups/{i}.png": fresh_photo(10 + i).data for i in range(2)})  # not in the gallery yet
    gallery.add_uploads([Upload("zip-1", "class.zip", data)])


def test_a_zip_refused_by_a_full_server_is_read_once_there_is_room(server):
    at = AppTest.from_function(_gallery_upload, default_timeout=TIMEOUT)
    at.session_state["lang"] = "en"
    fill(server)
    at.run()
    assert_ok(at)
    busy, hint = busy_words("en")
    assert errors(at) == [f"{busy} {hint}"]
    lab = at.session_state["lab"]
    assert lab.uploads == [] and lab.seen_files == set()  # nothing read: tried again next time

    server.drop(OTHER)
    at.run()
    assert_ok(at)
    assert not errors(at)
    lab = at.session_state["lab"]
    assert [it.label for it in lab.uploads] == ["cups", "cups"] and lab.seen_files == {"zip-1"}
    assert server.held_by(APPTEST_SESSION) >= sum(len(it.data) for it in lab.uploads)
