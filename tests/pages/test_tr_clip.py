"""Transformer 5 · CLIP's image towers, driven like a learner: the attention-pooling head, the random
toggle — RN50's pooling weights, ViT-B/32's ln_pre and both I_f checked against vision_core."""

from __future__ import annotations

import pytest
from conftest import assert_ok, assert_russian, open_page, wrong_then_right
from tr_expected import captions, markdown, model, traced, untrained_shown

from vision_core.embeddings.vectors import describe_vector
from vision_core.transformer.attention import attention_spread
from vision_core.transformer.attention_pool import KEEP, attention_pool
from vision_core.transformer.compare import clip_embedding_question
from vision_core.transformer.tokens import layer_norm_breakdown

PAGE = "pages/tr_clip.py"
VIT_KEEP = ("pos_added", "norm_pre", "cls", "head", "embedding", "blocks.11.attn.probs")


def test_attention_pooling_ln_pre_and_the_embeddings():
    at = open_page(PAGE)
    assert_ok(at)
    assert untrained_shown(at, "CLIP RN50") and untrained_shown(at, "CLIP ViT-B/32")
    assert "RN50.pt" in captions(at) and "ViT-B-32.pt" in captions(at)  # file names and sizes to get them
    assert at.button(key="tr_download_clip_rn50") is not None
    pool = attention_pool(model("clip_rn50"), traced("clip_rn50", KEEP, precision="float32"))
    text = markdown(at)
    assert f"1/49 = **{pool.uniform:.2%}**" in text and "each of **32** heads" in text
    assert f"matches the recorded one to **{pool.recomputed_max_difference:.1e}**" in text
    assert f"its cosine similarity with the real one is **{pool.cosine:.4f}**" in text
    s = attention_spread(pool.weights[0])
    assert f"Head 0 keeps {pool.mean_weight[0]:.1%} for the average token" in captions(at)
    assert f"its largest weight on one position is {s.top:.1%}" in captions(at)

    at.slider(key="tr_clip_head").set_value(17).run()
    assert_ok(at)
    s = attention_spread(pool.weights[17])
    assert f"Head 17 keeps {pool.mean_weight[17]:.1%} for the average token" in captions(at)
    assert f"largest weight on one position is {s.top:.1%}" in captions(at)

    tr = traced("clip_vit_b32", VIT_KEEP, precision="float32")
    ln = layer_norm_breakdown(model("clip_vit_b32"), tr, "norm_pre", 0)
    assert (
        "cuts the 224×224 photo into 32×32 patches — 7×7 of them" in text
        and "**50** tokens of **768**" in text
    )
    assert f"mean {ln.mean:.4f} and spread {ln.std:.4f} before" in text
    rn_if, vit_if = describe_vector(pool.embedding), describe_vector(tr.array("head")[0])
    assert f"**1024** numbers of length {rn_if.length:.3f}" in text
    assert f"**512** numbers of length {vit_if.length:.3f}" in text


def test_random_toggle_and_russian():
    at = open_page(PAGE)
    at.toggle(key="tr_clip_random").set_value(True).run()
    assert_ok(at)
    assert untrained_shown(at, "CLIP RN50")
    at = open_page(PAGE, lang="ru")
    assert_ok(at)
    assert at.title[0].value.startswith("Визуальные")


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_the_question_reveals_the_vit_towers_embedding_length(lang):
    at = open_page(PAGE, lang=lang)  # no CLIP weights here: both towers seeded
    assert_ok(at)
    tr = traced("clip_vit_b32", ("cls", "head"), precision="float32")
    pool = attention_pool(model("clip_rn50"), traced("clip_rn50", KEEP, precision="float32"))
    out, width = model("clip_vit_b32").head.weight.shape  # the projection: (I_f, CLS width)
    q = clip_embedding_question(tr["head"].shape[-1], tr["cls"].shape[-1], pool.embedding.size, pool.gap.size)
    assert q.correct == out and width in q.options
    said = wrong_then_right(at, "clip_if", q, f"{out}", lang)
    assert f"{width} × {out}" in said
    if lang == "ru":
        assert_russian(at)
