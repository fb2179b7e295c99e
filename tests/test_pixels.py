"""Photo → tensor number by number: one pixel's journey, value ranges, corners and the lesson's pictures,
checked against the prepared tensor itself and against arithmetic done independently here."""

from __future__ import annotations

import numpy as np
import pytest

from vision_core.cnn import pixels
from vision_core.engine import encoders
from vision_core.engine.preprocess import PreprocessSteps
from vision_core.samples import load_sample


@pytest.fixture(scope="module", params=["efficientnet_lite0", "resnet50"])
def steps(request) -> PreprocessSteps:
    # preprocessing needs no weights: ResNet-50's ImageNet mean/std are checked on this machine too
    return encoders.preprocess_photo(load_sample("chelsea"), request.param)


@pytest.mark.parametrize("y,x", [(0, 0), (112, 112), (223, 5), (17, 200)])
def test_pixel_journey_ends_at_the_tensor_value(steps, y, x):
    prep = steps.preprocessing
    journey = pixels.pixel_journey(steps, y, x)
    assert [j.channel for j in journey] == ["R", "G", "B"]
    for c, j in enumerate(journey):
        assert j.raw == steps.pixels[y, x, c]
        assert j.value == j.tensor == float(steps.tensor[0, c, y, x])  # bit for bit, torchvision's order
        assert j.scaled == pytest.approx(j.raw / 255, abs=1e-7)
        assert j.centred == pytest.approx(j.raw / 255 - prep.mean[c], abs=1e-6)
        assert j.value == pytest.approx((j.raw / 255 - prep.mean[c]) / prep.std[c], abs=1e-5)


def test_lite0_rule_is_minus_127_over_128():
    steps = encoders.preprocess_photo(load_sample("coffee"), "efficientnet_lite0")
    for a, b in pixels.scale_formula(steps):
        assert (a, b) == (pytest.approx(127), pytest.approx(128))
    for j in pixels.pixel_journey(steps, 50, 60):
        assert j.value == pytest.approx((j.raw - 127) / 128, abs=1e-6)


def test_pixel_outside_the_picture_is_refused(steps):
    with pytest.raises(IndexError):
        pixels.pixel_journey(steps, steps.pixels.shape[0], 0)


def test_value_ranges_and_limits(steps):
    r = pixels.value_ranges(steps)
    t = steps.tensor[0].numpy()
    assert r.raw == (steps.pixels.min(), steps.pixels.max())
    assert r.normalised == (t.min(), t.max())
    prep = steps.preprocessing
    for c, (lo, hi) in enumerate(r.limits):
        assert lo == pytest.approx((0 - prep.mean[c]) / prep.std[c], abs=1e-6)
        assert hi == pytest.approx((1 - prep.mean[c]) / prep.std[c], abs=1e-6)
        assert lo <= t[c].min() and t[c].max() <= hi
    assert r.possible == (min(lo for lo, _ in r.limits), max(hi for _, hi in r.limits))


def test_corner_is_the_top_left_block_of_one_channel(steps):
    raw, normalised = pixels.corner(steps, 1, 4)
    np.testing.assert_array_equal(raw, steps.pixels[:4, :4, 1])
    np.testing.assert_array_equal(normalised, steps.tensor[0, 1, :4, :4].numpy())


def test_channel_planes_stack_back_into_the_picture(steps):
    planes = pixels.channel_planes(steps.pixels)
    assert list(planes) == ["R", "G", "B"]
    np.testing.assert_array_equal(np.stack(list(planes.values()), axis=-1), steps.pixels)


def test_the_network_view_is_the_cropped_picture(steps):
    np.testing.assert_array_equal(pixels.network_view(steps), steps.pixels)
    assert pixels.roundtrip_error(steps) == 0


def test_draw_box_outlines_only_the_box():
    image = np.zeros((20, 30, 3), dtype=np.uint8)
    out = pixels.draw_box(image, (5, 2, 15, 12), color=(255, 0, 0), width=1)
    assert image.max() == 0  # the input is not changed
    red = (out == (255, 0, 0)).all(axis=-1)
    assert red[2, 5:15].all() and red[11, 5:15].all() and red[2:12, 5].all() and red[2:12, 14].all()
    assert not red[3:11, 6:14].any() and not red[:2].any() and not red[:, 15:].any()
    assert red.sum() == 2 * 10 + 2 * 8
    # a box reaching past the picture is clipped, not wrapped
    clipped = pixels.draw_box(image, (-5, -5, 10, 10), width=1)
    assert clipped[0, :10].any() and not clipped[:, 10:].any()


def test_zoom_outlines_the_chosen_pixel_and_stays_inside():
    image = np.arange(40 * 50 * 3, dtype=np.uint8).reshape(40, 50, 3)
    z = pixels.zoom(image, 0, 49, radius=3, factor=4)
    assert z.shape == (7 * 4, 7 * 4, 3)
    # the window slid to the top-right corner: its last column is the image's last column
    np.testing.assert_array_equal(z[1, -3], image[0, 49])  # inside the outlined cell, off the outline


def test_normalisation_rule_is_one_formula_for_lite0_and_three_for_imagenet(steps):
    rule = pixels.normalisation_rule(steps)
    if steps.preprocessing.mean[0] == steps.preprocessing.mean[1] == steps.preprocessing.mean[2]:
        assert rule == "(x − 127) / 128"
    else:
        assert rule.startswith("R: (x − ") and "; G: (x − " in rule and "; B: (x − " in rule
        a, b = pixels.scale_formula(steps)[0]
        assert rule.split(";")[0] == f"R: (x − {a:g}) / {b:g}"


def test_preparation_sizes_match_the_pictures():
    steps = encoders.preprocess_photo(load_sample("chelsea"), "resnet50", size=200)
    p = pixels.preparation(steps)
    assert (p.width, p.height) == steps.original.size
    assert (p.resized_w, p.resized_h) == steps.resized.size
    assert p.short == min(steps.resized.size)
    assert p.crop == 200 == steps.cropped.size[0]
    assert (p.left, p.top) == steps.crop_box[:2]
