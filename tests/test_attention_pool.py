"""CLIP RN50's attention pooling read off a trace, recomputed, and set against GAP's weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vision_core import trace
from vision_core.engine.encoders import seeded_model
from vision_core.transformer.attention_pool import KEEP, attention_pool


@pytest.fixture(scope="module")
def rn50():
    return seeded_model("clip_rn50")


@pytest.mark.parametrize(("height", "width", "grid"), [(224, 224, (7, 7)), (224, 288, (7, 9))])
def test_weights_recomputation_and_gap_weights(rn50, height, width, grid):
    x = torch.randn(1, 3, height, width, generator=torch.Generator().manual_seed(7))
    tr = trace(rn50, x, keep=(*KEEP, "layer4"))
    pool = attention_pool(rn50, tr)
    h, w = grid
    assert pool.grid == grid and pool.heads == 32 and pool.positions == h * w and pool.head_dim == 64
    assert pool.weights.shape == (32, h, w) and pool.mean_weight.shape == (32,)
    np.testing.assert_allclose(pool.weights.sum(axis=(1, 2)) + pool.mean_weight, 1.0, atol=1e-5)
    np.testing.assert_allclose(pool.average, pool.weights.mean(axis=0))
    assert pool.uniform == pytest.approx(1 / (h * w))
    np.testing.assert_allclose(pool.uniform_weights, np.full(grid, 1 / (h * w)))
    assert pool.mean_weight_average == pytest.approx(pool.mean_weight.mean())
    assert pool.recomputed_max_difference < 1e-4
    np.testing.assert_allclose(pool.gap, tr.array("layer4")[0].mean(axis=(1, 2)), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(pool.embedding, tr.array("attnpool.c_proj")[0])
    # GAP's weights, done with torch: the value projection of the grid tokens' mean, then c_proj
    tokens = torch.from_numpy(tr.array("attnpool.tokens")[0]).double()
    ap = rn50.attnpool
    with torch.no_grad():
        pooled = tokens[1:].mean(0) @ ap.v_proj.weight.double().T + ap.v_proj.bias.double()
        expected = pooled @ ap.c_proj.weight.double().T + ap.c_proj.bias.double()
    np.testing.assert_allclose(pool.uniform_embedding, expected.numpy(), rtol=1e-6, atol=1e-9)
    cos = (
        expected.numpy()
        @ pool.embedding
        / (np.linalg.norm(expected.numpy()) * np.linalg.norm(pool.embedding))
    )
    assert pool.cosine == pytest.approx(cos)
