"""The sidebar's encoder picker: weights with a published checksum can be downloaded from the app;
weights without one (DINO) are never fetched, and the learner is told where to put the file."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.pages.conftest import TIMEOUT, assert_ok, sample_photo
from vision_core.engine import encoders


@pytest.fixture
def nothing_on_disk(monkeypatch):
    monkeypatch.setattr(encoders, "available_offline", lambda name: encoders.get(name).weights.embedded)


def _sidebar_script() -> None:
    from ui.widgets import sidebar

    sidebar.render("transformer")


def _open_sidebar(model: str) -> AppTest:
    # AppTest runs a switched-to page on its own, without app.py's sidebar: run the sidebar itself
    at = AppTest.from_function(_sidebar_script, default_timeout=TIMEOUT)
    at.session_state["lang"] = "en"
    at.session_state["photo"] = sample_photo()
    at.session_state["model_transformer"] = model
    return at.run()


def _sidebar_text(at) -> str:
    return " ".join(w.value for w in at.sidebar.warning)


def test_a_file_with_a_checksum_gets_a_download_button(nothing_on_disk):
    at = _open_sidebar("vit_b_16")
    assert_ok(at)
    entry = encoders.get("vit_b_16").weights
    assert entry.sha256 is not None
    assert any(b.key == "download_vit_b_16" for b in at.sidebar.button)
    assert entry.filename in _sidebar_text(at)


def test_a_file_without_a_checksum_is_never_downloaded_only_placed(nothing_on_disk):
    at = _open_sidebar("dino_vits16")
    assert_ok(at)
    entry = encoders.get("dino_vits16").weights
    assert entry.sha256 is None
    assert not any(b.key == "download_dino_vits16" for b in at.sidebar.button)
    text = _sidebar_text(at)
    assert entry.filename in text and entry.url in text and "No checksum" in text
