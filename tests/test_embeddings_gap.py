"""GAP → embedding helpers used by the CNN page 6: vector summaries and pooled lengths, checked on
the real last grid of EfficientNet-Lite0."""

from __future__ import annotations

import numpy as np
import pytest

from vision_core import load_model, preprocess, trace
from vision_core.embeddings.vectors import (
    describe_vector,
    global_pools,
    l2_normalize,
    pooled_lengths,
    vector_length,
)
from vision_core.samples import load_sample


def test_vector_length_and_summary():
    assert vector_length(np.array([3.0, 4.0])) == 5.0
    assert vector_length(np.zeros((2, 2))) == 0.0
    s = describe_vector(np.array([0.0, 2.0, 0.0, 2.0, -1.0]))
    assert (s.dim, s.max, s.argmax, s.zeros) == (5, 2.0, 1, 2)
    assert s.length == pytest.approx(3.0)


def test_pooled_lengths():
    assert pooled_lengths((2048, 7, 7)) == {"gap": 2048, "gmp": 2048, "flatten": 100352}
    assert pooled_lengths((1, 1280, 10, 10))["flatten"] == 128000


def test_on_the_real_last_grid():
    model = load_model("efficientnet_lite0")
    tr = trace(model, preprocess(load_sample("coffee"), "efficientnet_lite0"))
    grid = tr.array("relu_head")
    pools = global_pools(grid)
    np.testing.assert_allclose(pools.gap, tr.array("gap")[0], rtol=1e-5, atol=1e-6)
    lengths = pooled_lengths(grid.shape)
    assert lengths == {"gap": pools.gap.size, "gmp": pools.gmp.size, "flatten": pools.flatten.size}
    before = describe_vector(pools.gap)
    assert before.zeros == int(
        np.sum(grid[0].max(axis=(1, 2)) == 0)
    )  # a zero average means a zero map (ReLU6)
    assert vector_length(tr.array("embedding")) == pytest.approx(1.0, abs=1e-6)
    np.testing.assert_allclose(l2_normalize(pools.gap), tr.array("embedding")[0], atol=1e-6)


def test_first_numbers_pool_summary_and_bar_share():
    from vision_core.cnn import squeeze

    assert squeeze.first_numbers(np.array([0.125, -0.5, 2.0, 9.0])) == "0.125, -0.500, 2.000, …"
    grid = np.arange(2 * 3 * 4, dtype=np.float64).reshape(2, 3, 4)
    summary = squeeze.pool_summary(global_pools(grid))
    assert [(m, n) for m, n, _ in summary] == [("gap", 2), ("gmp", 2), ("flatten", 24)]
    assert summary[0][2] == "5.500, 17.500, …" and summary[1][2] == "11.000, 23.000, …"
    assert squeeze.bar_share(-0.2) == 0.0 and squeeze.bar_share(0.4) == 0.4 and squeeze.bar_share(1.2) == 1.0
