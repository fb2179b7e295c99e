"""Helpers for AppTests: open one page of the real app with a chosen photo and encoder."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ui.session import Photo
from vision_core import samples

APP = Path(__file__).resolve().parents[2] / "app.py"  # from_file resolves relative paths against this file
TIMEOUT = 180  # seconds; a first trace on 2 CPU cores, with models loading, can take a while


def sample_photo(sample_id: str = "chelsea") -> Photo:
    return Photo.from_bytes(samples.sample_bytes(sample_id), samples.get_sample(sample_id).title)


def open_page(page_file: str, *, photo: Photo | None = None, lang: str = "en", **session) -> AppTest:
    """Run ``app.py`` once, then switch to ``page_file`` with the given session state."""
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.session_state["lang"] = lang
    at.session_state["photo"] = photo or sample_photo()
    for key, value in session.items():
        at.session_state[key] = value
    at.switch_page(page_file)
    at.run()
    return at


def assert_ok(at: AppTest) -> None:
    """No exception on the page, and no error box other than expected ones."""
    assert not at.exception, [e.value for e in at.exception]


@pytest.fixture
def chelsea() -> Photo:
    return sample_photo("chelsea")
