"""The class map: the method the number of photos allows, the same map for the same photos, and
neighbours found by cosine similarity in the embedding."""

from __future__ import annotations

import numpy as np
import pytest

from vision_core.classroom.map import (
    MIN_UMAP,
    THUMB_SHARE,
    class_map,
    class_neighbours,
    minutes_ago,
    minutes_left,
)
from vision_core.embeddings import projection


def vectors(n: int, d: int = 64, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, d)).astype(np.float32)


def test_no_photo_gives_an_empty_map_and_one_photo_sits_alone_at_the_centre():
    empty = class_map(vectors(0))
    assert empty.method == "empty" and empty.coords.shape == (0, 2)
    one = class_map(vectors(1))
    assert one.method == "single"
    np.testing.assert_array_equal(one.coords, [[0.0, 0.0]])
    assert one.thumb_side == 1.0  # a map with no extent draws its photo one unit wide
    (x0, x1), (y0, y1) = one.ranges()
    assert x0 < 0 < x1 and y0 < 0 < y1


@pytest.mark.parametrize("n", [2, 3, MIN_UMAP - 1])
def test_a_few_photos_are_laid_out_by_pca(n):
    x = vectors(n)
    m = class_map(x)
    assert m.method == "pca" and m.coords.shape == (n, 2)
    pca = projection.pca_map(x, 2)
    np.testing.assert_allclose(m.coords[:, : pca.coords.shape[1]], pca.coords, atol=1e-6)
    assert m.params["shown"] == pytest.approx(sum(pca.params["variance"]))
    # the pairwise distances on a two-photo map are the photos' own distance after L2 normalisation
    if n == 2:
        unit = x / np.linalg.norm(x, axis=1, keepdims=True)
        assert np.linalg.norm(m.coords[0] - m.coords[1]) == pytest.approx(np.linalg.norm(unit[0] - unit[1]))


def test_enough_photos_are_laid_out_by_umap_the_same_way_every_time():
    x = vectors(12)
    a, b = class_map(x), class_map(x)
    assert a.method == "umap" and a.coords.shape == (12, 2)
    assert a.params["n_neighbors"] == 11  # at most the other photos of the class
    np.testing.assert_array_equal(a.coords, b.coords)  # seeded: every learner sees the same map


def test_umap_keeps_two_groups_of_photos_apart():
    rng = np.random.default_rng(1)
    centres = rng.normal(size=(2, 64)) * 4
    x = np.concatenate([centres[0] + rng.normal(size=(6, 64)), centres[1] + rng.normal(size=(6, 64))])
    m = class_map(x.astype(np.float32))
    a, b = m.coords[:6], m.coords[6:]
    within = max(np.ptp(a, axis=0).max(), np.ptp(b, axis=0).max())
    between = np.linalg.norm(a.mean(axis=0) - b.mean(axis=0))
    assert between > within


def test_photos_are_drawn_a_share_of_the_map_wide_and_the_view_holds_them_whole():
    m = class_map(vectors(3))
    span = np.ptp(m.coords, axis=0).max()
    assert m.thumb_side == pytest.approx(span * THUMB_SHARE)
    (x0, x1), (y0, y1) = m.ranges()
    assert x1 == pytest.approx(m.coords[:, 0].max() + m.thumb_side)
    assert y0 == pytest.approx(m.coords[:, 1].min() - m.thumb_side)
    assert x0 == pytest.approx(m.coords[:, 0].min() - m.thumb_side)
    assert y1 == pytest.approx(m.coords[:, 1].max() + m.thumb_side)


def test_neighbours_across_the_class_are_ranked_by_cosine_similarity_without_the_photo_itself():
    x = vectors(7)
    hits = class_neighbours(x, 2, k=3)
    unit = x / np.linalg.norm(x, axis=1, keepdims=True)
    cos = unit @ unit[2]
    expected = [i for i in np.argsort(-cos) if i != 2][:3]
    assert [h.index for h in hits] == expected
    np.testing.assert_allclose([h.similarity for h in hits], cos[expected], rtol=1e-5)
    assert len(class_neighbours(x[:2], 0, k=3)) == 1  # a class of two: one classmate
    assert class_neighbours(x[:1], 0) == []
    with pytest.raises(IndexError):
        class_neighbours(x, 7)


def test_minutes_left_round_up_and_minutes_ago_round_down():
    assert minutes_left(1000.0 + 3 * 3600, 1000.0) == 180
    assert minutes_left(1000.0 + 61, 1000.0) == 2  # 1 min 1 s left: "ends in 2 minutes"
    assert minutes_left(1000.0, 1000.0 + 5) == 0
    assert minutes_ago(1000.0, 1000.0 + 59) == 0
    assert minutes_ago(1000.0, 1000.0 + 60) == 1
    assert minutes_ago(1000.0, 1000.0 - 5) == 0  # a clock a little behind never says "-1"
