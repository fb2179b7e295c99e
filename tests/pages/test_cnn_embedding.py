"""CNN 6 · GAP → the embedding, driven like a learner: channels, another input size, a second photo
from the samples or an upload (good and bad) — every number checked against vision_core."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import assert_ok, markdown, open_page

from vision_core import load_model, preprocess, trace
from vision_core.embeddings.vectors import cosine_similarity, describe_vector, global_pools
from vision_core.predictions import top_k
from vision_core.samples import load_sample, sample_bytes

PAGE = "pages/cnn_embedding.py"


@pytest.fixture(scope="module")
def lite0():
    return load_model("efficientnet_lite0")


def embed(model, sample_id: str):
    return trace(model, preprocess(load_sample(sample_id), "efficientnet_lite0"))


def test_grid_vector_pools_l2_and_predictions(lite0):
    tr = embed(lite0, "chelsea")
    pools = global_pools(tr.array("relu_head"))
    at = open_page(PAGE)
    assert_ok(at)
    text = markdown(at)
    assert "leaves a grid of shape **1280×7×7**" in text
    strongest = list(np.argsort(-pools.gap, kind="stable")[:4])
    assert at.multiselect(key="emb_channels").value == strongest
    for c in strongest:
        assert f"average = **{pools.gap[c]:.3f}**" in text
    summary = describe_vector(pools.gap)
    assert (
        f"the largest is **{summary.max:.3f}** (channel {summary.argmax}), and {summary.zeros} of the 1280"
        in text
    )
    table = at.dataframe[0].value
    assert list(table["length"]) == [f"{n:,}" for n in (1280, 1280, 1280 * 7 * 7)]  # thousands grouped
    assert f"length |v| = √(v₁² + v₂² + … ) = **{summary.length:.3f}**" in text
    assert "a vector of length **1.000**" in text
    shown = [p.text for p in at.get("progress")]
    assert shown[:5] == [f"{p.label} — {p.probability:.1%}" for p in top_k(tr.array("probs")[0], 5)]

    at.multiselect(key="emb_channels").select(5).run()
    at.number_input(key="emb_size").set_value(352).run()
    assert_ok(at)
    assert f"average = **{pools.gap[5]:.3f}**" in markdown(at)
    assert "last grid would be **1280×11×11**: flatten would give **154,880** numbers" in markdown(at)


def test_second_photo_from_the_samples(lite0):
    at = open_page(PAGE)
    at.selectbox(key="emb_sample").set_value("astronaut").run()
    assert_ok(at)
    cos = cosine_similarity(
        embed(lite0, "chelsea").array("embedding"), embed(lite0, "astronaut").array("embedding")
    )
    assert f"Cosine similarity of the two embeddings: **{cos:.3f}**" in markdown(at)


def test_second_photo_uploaded_bad_then_good(lite0):
    at = open_page(PAGE)
    at.radio(key="emb_source__en").set_value("upload").run()
    assert_ok(at)
    at.file_uploader(key="emb_upload").set_value(("notes.png", b"%PDF-1.4 not a photo", "image/png")).run()
    assert_ok(at)
    assert any("**notes.png** cannot be used" in e.value for e in at.error)
    assert "Cosine similarity" not in markdown(at)

    at.file_uploader(key="emb_upload").set_value(("coffee.png", sample_bytes("coffee"), "image/png")).run()
    assert_ok(at)
    assert not at.error
    cos = cosine_similarity(
        embed(lite0, "chelsea").array("embedding"), embed(lite0, "coffee").array("embedding")
    )
    assert f"Cosine similarity of the two embeddings: **{cos:.3f}**" in markdown(at)


def test_russian_page_runs():
    at = open_page(PAGE, lang="ru")
    assert_ok(at)
    assert at.title[0].value.startswith("GAP")


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_the_questions_reveal_gaps_length_and_the_similarity(lite0, lang):
    import torch
    from conftest import wrong_then_right

    from vision_core.cnn import squeeze

    x = preprocess(load_sample("chelsea"), "efficientnet_lite0")
    big = trace(
        lite0, torch.nn.functional.interpolate(x, size=(352, 352), mode="bilinear"), keep=["relu_head"]
    )
    own = trace(lite0, x, keep=["relu_head"])
    q = squeeze.gap_length_question(big["relu_head"].shape, own["relu_head"].shape)
    assert q.correct == big["gap"].shape[-1] == 1280
    at = open_page(PAGE, lang=lang, emb_size=352)
    assert_ok(at)
    shown = "1,280" if lang == "en" else "1\u202f280"
    wrong_then_right(at, "emb_gap_length", q, shown, lang)

    cos = cosine_similarity(
        embed(lite0, "chelsea").array("embedding"), embed(lite0, "coffee").array("embedding")
    )
    q = squeeze.above_question(cos)
    yes = {"en": ("Yes, above 0.5", "No, 0.5 or below"), "ru": ("Да, больше 0,5", "Нет, 0,5 или меньше")}[
        lang
    ]
    said = wrong_then_right(at, "emb_cosine", q, yes[0] if cos > 0.5 else yes[1], lang)
    number = f"{cos:.3f}" if lang == "en" else f"{cos:.3f}".replace(".", ",")
    assert f"**{number}**" in said
