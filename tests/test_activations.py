"""Activation functions on real feature maps: each function against its formula written out here,
the shares of zeros and capped values against direct counts, and Lite0's own ReLU6 reproduced."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from vision_core import load_model, preprocess, trace
from vision_core.cnn import activations
from vision_core.samples import load_sample

X = np.array([-8.0, -6.0, -2.5, -1.0, -0.1, 0.0, 0.1, 1.0, 2.5, 5.99, 6.0, 6.5, 9.0], dtype=np.float32)
REFERENCE = {
    "relu": lambda x, s: max(0.0, x),
    "relu6": lambda x, s: min(max(0.0, x), 6.0),
    "leaky_relu": lambda x, s: x if x >= 0 else s * x,
    "gelu": lambda x, s: 0.5 * x * (1 + math.erf(x / math.sqrt(2))),
    "silu": lambda x, s: x / (1 + math.exp(-x)),
}


@pytest.mark.parametrize("name", activations.ACTIVATIONS)
@pytest.mark.parametrize("slope", [0.01, 0.2])
def test_each_function_matches_its_formula(name, slope):
    got = activations.apply(name, X, slope=slope)
    expected = [REFERENCE[name](float(v), slope) for v in X]
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6)
    assert got.dtype == np.float32 and got.shape == X.shape


def test_unknown_function_is_refused():
    with pytest.raises(ValueError, match="unknown activation"):
        activations.apply("tanhh", X)


def test_stats_count_zeros_negatives_and_caps():
    s = activations.activation_stats("relu6", X)
    assert s.size == X.size
    assert s.negatives == int((X < 0).sum()) == 5
    assert s.zeros == int((X <= 0).sum()) == 6  # the negatives and the zero itself
    assert s.zeroed == pytest.approx(6 / X.size)
    assert s.capped == pytest.approx(int((X >= 6).sum()) / X.size)  # 6.0, 6.5 and 9.0
    assert s.before == (X.min(), X.max()) and s.after == (0.0, 6.0)
    assert activations.activation_stats("relu", X).capped == 0.0  # no cap, nothing capped
    assert activations.activation_stats("leaky_relu", X).zeros == 1  # only the zero itself stays 0


def test_bound_is_the_largest_input_magnitude():
    assert activations.activation_stats("relu", X).bound == 9.0
    assert activations.activation_stats("relu", -X).bound == 9.0


@pytest.mark.parametrize("slope", [0.01, 0.3])
def test_every_activation_applies_each_function_with_its_stats(slope):
    every = activations.every_activation(X, slope=slope)
    assert tuple(every) == activations.ACTIVATIONS
    for name, (result, stats) in every.items():
        np.testing.assert_array_equal(result, activations.apply(name, X, slope=slope))
        assert stats == activations.activation_stats(name, X, result, slope=slope)
    assert every["leaky_relu"][1].after[0] == pytest.approx(slope * -8.0)


def test_zero_and_capped_fractions():
    v = np.array([[0.0, 1.0], [6.0, 0.0]], dtype=np.float32)
    assert activations.zero_fraction(v) == 0.5
    assert activations.capped_fraction(v, 6.0) == 0.25
    assert activations.capped_fraction(v, None) == 0.0


def test_channel_fractions_and_the_balanced_channel():
    after = np.zeros((3, 4, 4), dtype=np.float32)
    after[0] = 1.0  # no zeros
    after[1, :2] = 2.0  # half zeros
    after[2, 0, 0] = 6.0  # almost all zeros, one capped
    np.testing.assert_allclose(activations.channel_zero_fractions(after), [0.0, 0.5, 15 / 16])
    assert activations.balanced_channel(after) == 1
    np.testing.assert_allclose(activations.channel_capped_fractions(after, 6.0), [0, 0, 1 / 16])
    np.testing.assert_array_equal(activations.channel_capped_fractions(after, None), [0, 0, 0])


def test_curve_includes_zero_and_its_ends():
    x, y = activations.curve("relu", -3.3, 7.1, n=11)
    assert x[0] == -3.3 and x[-1] == 7.1 and 0.0 in x
    np.testing.assert_allclose(y, np.maximum(x, 0))


def test_curve_range_holds_the_values_and_the_cap():
    lo, hi = activations.curve_range(np.array([-1.0, 2.0]))
    assert lo < -3.0 and hi > activations.RELU6_CAP + 1
    lo, hi = activations.curve_range(np.array([-20.0, 30.0]))
    assert lo < -20.0 and hi > 30.0


def test_histogram_counts_every_value():
    v = np.linspace(-1, 1, 1001)
    centres, counts, width = activations.histogram(v, bins=10)
    assert counts.sum() == v.size and len(centres) == 10
    assert width == pytest.approx(0.2) and centres[0] == pytest.approx(-0.9)


def test_max_difference():
    assert activations.max_difference(np.array([1.0, 2.0]), np.array([1.5, 2.0])) == 0.5
    with pytest.raises(ValueError):
        activations.max_difference(np.zeros(2), np.zeros(3))


@pytest.fixture(scope="module")
def lite0_stem():
    model = load_model("efficientnet_lite0")
    tr = trace(model, preprocess(load_sample("chelsea"), "efficientnet_lite0"), stop_after=["relu_stem"])
    return tr


def test_lite0_stem_activation_is_relu6_of_its_batch_norm(lite0_stem):
    step = lite0_stem["relu_stem"]
    assert step.kind == "relu" and step.meta["function"] == "relu6" and step.inputs == ("_bn0",)
    before, after = lite0_stem.array("_bn0"), lite0_stem.array("relu_stem")
    np.testing.assert_array_equal(activations.apply("relu6", before), after)
    s = activations.activation_stats("relu6", before, after)
    assert s.zeroed == pytest.approx(float((before <= 0).mean()))
    assert s.capped == pytest.approx(float((before >= 6).mean()))
    assert 0 < s.zeroed < 1 and 0 < s.capped < s.zeroed  # a real photo: many zeros, a few capped


def test_one_outlier_does_not_set_the_colour_scale():
    rng = np.random.default_rng(0)
    values = rng.normal(scale=1.5, size=(112, 112))
    values[3, 4] = -21.5  # one extreme value, as on Lite0's stem
    bound = activations.colour_bound(values)
    assert bound == pytest.approx(
        np.percentile(np.abs(values), activations.ROBUST_PERCENTILE, method="higher")
    )
    assert bound < 6 < 21.5
    assert np.mean(np.abs(values) <= bound) >= activations.ROBUST_PERCENTILE / 100
    assert activations.colour_bound(np.zeros((3, 3))) == 1.0


@pytest.mark.parametrize("top", [7, 160, 1999, 2040, 12_345])
def test_count_ticks_are_round_numbers_from_zero(top):
    ticks = activations.nice_ticks(top)
    step = ticks[1] - ticks[0]
    mantissa = step / 10 ** math.floor(math.log10(step))
    assert ticks[0] == 0 and ticks[-1] >= top and mantissa in (1, 2, 5)
    assert all(b - a == step for a, b in itertools.pairwise(ticks)) and 3 <= len(ticks) <= 7


def test_the_functions_are_compared_where_they_differ():
    lo, hi = activations.COMPARE_RANGE
    assert lo <= -activations.RELU6_CAP and hi > activations.RELU6_CAP  # the cap shows
    _, gelu = activations.curve("gelu", lo, hi)
    _, silu = activations.curve("silu", lo, hi)
    assert np.abs(gelu - silu).max() > 0.1  # the two smooth functions visibly part
