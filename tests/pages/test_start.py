"""The start page: the journey line and the first prediction come from the real network."""

from __future__ import annotations

from tests.pages.conftest import assert_ok, open_page, plain, sample_photo
from vision_core import load_model, preprocess, trace
from vision_core.predictions import top_k
from vision_core.samples import load_sample


def expected(sample_id: str):
    model = load_model("efficientnet_lite0")
    tr = trace(model, preprocess(load_sample(sample_id), "efficientnet_lite0"), keep=["probs"])
    return top_k(tr.array("probs")[0], 3)


def test_start_page_shows_the_real_journey_and_prediction():
    at = open_page("pages/start.py", photo=sample_photo("coffee"))
    assert_ok(at)
    best = expected("coffee")
    text = " ".join(plain(m.value) for m in at.markdown)
    assert "3×224×224 → 32×112×112" in text and "320×7×7 → 1280" in text
    assert f"**{best[0].label}** ({best[0].probability:.1%} sure)" in text
    bars = [p.proto.text for p in at.get("progress")]
    assert bars == [f"{p.label} — {p.probability:.1%}" for p in best]


def test_start_page_in_russian():
    at = open_page("pages/start.py", photo=sample_photo("chelsea"), lang="ru")
    assert_ok(at)
    best = expected("chelsea")
    text = " ".join(plain(m.value) for m in at.markdown)
    assert "Весь путь в одной строке" in text
    assert f"уверенность {best[0].probability:.1%}".replace(".", ",") in text
