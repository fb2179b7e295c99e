"""Transformer 6 · CNN vs ViT, driven like a learner: the CNN picker (one without its weights), the
random toggle — feature maps, vectors, the facts table and predictions checked against vision_core."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import assert_ok, assert_russian, open_page, wrong_then_right
from tr_expected import (
    ATTENTION_KEEP,
    IMG_FOCUS,
    captions,
    image_captions,
    markdown,
    model,
    prepared,
    traced,
    trained,
    untrained_shown,
)

from vision_core import load_model, trace
from vision_core.cnn.convolution import shape_table
from vision_core.cnn.stages import strongest_channels
from vision_core.embeddings.vectors import describe_vector
from vision_core.engine import encoders
from vision_core.predictions import top_k
from vision_core.transformer import compare
from vision_core.transformer.compare import count_parameters

PAGE = "pages/tr_compare.py"
CNN_KEEP = ("relu_head", "gap", "embedding", "probs")


def lite0_trace(trained: bool):
    m = load_model("efficientnet_lite0") if trained else model("efficientnet_lite0")
    return trace(m, prepared("efficientnet_lite0").tensor, keep=CNN_KEEP).compact(np.float32)


def shown_predictions(at) -> list[str]:
    return [p.text for p in at.get("progress")]


def test_lite0_against_trained_img_focus():
    at = open_page(PAGE)  # the section's default: trained, embedded
    assert_ok(at)
    assert not untrained_shown(at, "img-focus") and not untrained_shown(at, "EfficientNet")
    cls = describe_vector(traced(IMG_FOCUS, ATTENTION_KEEP, official=True).array("cls")[0])
    text = markdown(at)
    assert f"Length {cls.length:.3f}, largest {cls.max:.3f} (number {cls.argmax})" in text
    assert "the average of 6 heads over the 16×16 patches" in image_captions(at)
    assert any("has no ImageNet head: here its CLS vector is the product" in i.value for i in at.info)
    assert not any("DINO was trained without labels" in i.value for i in at.info)
    table = at.dataframe[0].value
    title = "img-focus ViT-S/14 (DINOv2-style)"
    assert list(table[title])[1] == "patch_embed.proj: 14×14 kernel, stride 14"
    assert list(table[title])[2] == "patch_grid: 384×16×16"
    assert list(table[title])[-1] == f"{count_parameters(trained(IMG_FOCUS)):,}"


def test_lite0_against_dino():
    at = open_page(PAGE, model_transformer="dino_vits16")  # the untrained path: DINO has no weights here
    assert_ok(at)
    assert untrained_shown(at, "DINO ViT-S/16") and not untrained_shown(at, "EfficientNet")
    tr = lite0_trace(trained=True)
    gap = describe_vector(tr.array("gap")[0])
    text = markdown(at)
    assert (
        f"**1280** numbers, one per channel — each the average of a channel over the whole photo. "
        f"Length {gap.length:.3f}, largest {gap.max:.3f} (channel {gap.argmax}), {gap.zeros} exactly zero"
        in text
    )
    cls = describe_vector(traced("dino_vits16", ATTENTION_KEEP).array("cls")[0])
    assert "**384** numbers" in text and f"Length {cls.length:.3f}, largest {cls.max:.3f}" in text
    strongest = [int(c) for c in strongest_channels(tr.array("relu_head")[0], 8)]
    assert f"The strongest channel ({strongest[0]}) of `relu_head`" in image_captions(at)
    assert ", ".join(str(c) for c in strongest) in image_captions(at)
    assert "the average of 6 heads over the 14×14 patches" in image_captions(at)
    expected = [f"{p.label} — {p.probability:.1%}" for p in top_k(tr.array("probs")[0], 5)]
    assert shown_predictions(at) == expected
    assert any("DINO ViT-S/16 has no ImageNet head" in i.value for i in at.info)
    table = at.dataframe[0].value
    assert list(table["EfficientNet-Lite0"])[-1] == f"{count_parameters(model('efficientnet_lite0')):,}"
    assert list(table["DINO ViT-S/16"])[1] == "patch_embed.proj: 16×16 kernel, stride 16"
    assert list(table["DINO ViT-S/16"])[2] == "patch_grid: 384×14×14"


def test_missing_cnn_weights_and_the_random_toggle():
    at = open_page(PAGE, model_transformer="dino_vits16")  # the untrained path: DINO has no weights here
    at.selectbox(key="tr_compare_cnn").set_value("resnet50").run()
    assert_ok(at)
    assert any("ResNet-50" in w.value and "EfficientNet-Lite0" in w.value for w in at.warning)  # the fallback
    assert "resnet50-0676ba61.pth" in captions(at)
    assert at.button(key="tr_download_resnet50") is not None
    forced = at.toggle(key="tr_compare_random__forced")  # DINO's weights are absent: untrained already
    assert forced.value is True and forced.disabled
    at.session_state["random_weights"] = True  # what another page's random toggle leaves: one choice
    at.run()
    assert_ok(at)
    assert untrained_shown(at, "ResNet-50") and untrained_shown(at, "DINO ViT-S/16")
    rn = trace(model("resnet50"), prepared("resnet50").tensor, keep=("layer4", "gap", "embedding", "probs"))
    expected = [f"{p.label} — {p.probability:.1%}" for p in top_k(rn.array("probs")[0], 5)]
    assert shown_predictions(at) == expected
    assert any("as good as a dice roll" in c.value for c in at.caption)


def test_deit_has_a_head_and_russian():
    at = open_page(PAGE, model_transformer="deit_tiny")
    assert_ok(at)
    probs = traced("deit_tiny", ATTENTION_KEEP).array("probs")[0]
    expected = [f"{p.label} — {p.probability:.1%}" for p in top_k(probs, 5)]
    assert shown_predictions(at)[5:] == expected
    at = open_page(PAGE, lang="ru")
    assert_ok(at)
    assert at.title[0].value.startswith("CNN против ViT")


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_the_question_reveals_the_longer_vector(lang):
    at = open_page(PAGE, lang=lang)  # trained EfficientNet-Lite0 against trained img-focus ViT-S/14
    assert_ok(at)
    gap = describe_vector(lite0_trace(True).array("gap")[0])
    cls = describe_vector(traced(IMG_FOCUS, ATTENTION_KEEP, official=True).array("cls")[0])
    cnn, vit = (
        compare.encoder_facts(m, shape_table(m, 224)) for m in (load_model("efficientnet_lite0"), trained())
    )
    q = compare.longer_vector_question(cnn, vit)
    assert q.correct == ("cnn" if gap.dim > cls.dim else "vit" if cls.dim > gap.dim else "same")
    title = {"cnn": "efficientnet_lite0", "vit": IMG_FOCUS}[q.correct]
    title = encoders.get(title).title
    said = wrong_then_right(at, "longer_vector", q, title, lang)
    assert f"**{gap.dim}" in said and f"**{cls.dim}" in said
    if lang == "ru":
        assert_russian(at)
