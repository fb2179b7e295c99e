"""Convolution arithmetic read off real traces: one output value taken apart, formulas, receptive fields."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vision_core import load_model, preprocess, trace
from vision_core.cnn.convolution import (
    conv_breakdown,
    conv_formulas,
    conv_macs,
    conv_params,
    output_shape,
    output_size,
    receptive_fields,
    shape_table,
)
from vision_core.engine.encoders import seeded_model
from vision_core.samples import load_sample


@pytest.fixture(scope="module")
def lite0_and_trace():
    model = load_model("efficientnet_lite0")
    x = preprocess(load_sample("chelsea"), "efficientnet_lite0")
    return model, trace(model, x, stop_after=["_blocks.1._depthwise_conv"])


@pytest.mark.parametrize("channel,y,x", [(0, 0, 0), (5, 40, 77), (31, 111, 111), (12, 0, 111)])
def test_first_conv_value_is_patch_times_kernel(lite0_and_trace, channel, y, x):
    model, tr = lite0_and_trace
    b = conv_breakdown(model, tr, "_conv_stem", channel, y, x)
    assert b.patch.shape == b.kernel.shape == (3, 3, 3)
    assert b.value == pytest.approx(b.recorded, rel=1e-5, abs=1e-5)
    np.testing.assert_allclose(b.products, b.patch * b.kernel)
    assert b.value == pytest.approx(float((b.patch * b.kernel).sum()) + b.bias)
    assert b.difference == abs(b.value - b.recorded) < 1e-5


def test_same_padding_zeros_appear_at_the_bottom_right_edge(lite0_and_trace):
    model, tr = lite0_and_trace
    b = conv_breakdown(model, tr, "_conv_stem", 3, 111, 111)
    assert list(b.rows) == [222, 223, 224] and list(b.cols) == [222, 223, 224]
    assert np.all(b.patch[:, 2, :] == 0) and np.all(b.patch[:, :, 2] == 0)  # row/col 224 is padding


def test_depthwise_conv_reads_only_its_own_channel(lite0_and_trace):
    model, tr = lite0_and_trace
    b = conv_breakdown(model, tr, "_blocks.1._depthwise_conv", 17, 10, 20)
    assert list(b.in_channels) == [17] and b.patch.shape == (1, 3, 3)
    assert b.value == pytest.approx(b.recorded, rel=1e-5, abs=1e-5)


def test_resnet_first_conv_with_symmetric_padding():
    model = seeded_model("resnet18")
    tr = trace(model, torch.randn(1, 3, 64, 64), stop_after=["conv1"])
    b = conv_breakdown(model, tr, "conv1", 10, 0, 0)
    assert list(b.rows) == list(range(-3, 4))
    assert np.all(b.patch[:, :3, :] == 0) and b.value == pytest.approx(b.recorded, rel=1e-5, abs=1e-5)


def test_breakdown_refuses_a_step_that_is_not_a_convolution(lite0_and_trace):
    model, tr = lite0_and_trace
    with pytest.raises(ValueError, match="not a convolution"):
        conv_breakdown(model, tr, "_bn0", 0, 0, 0)


def test_formulas_agree_with_the_trace_meta():
    model = seeded_model("resnet50")
    tr = shape_table(model, 226)
    for step in tr.of_kind("conv"):
        m = step.meta
        _, c_out, h_out, w_out = step.shape
        h_in = tr[step.inputs[0]].shape[2]
        assert output_size(h_in, m["kernel"][0], m["stride"][0], m["padding"][:2], m["dilation"][0]) == h_out
        assert conv_params(m["in_channels"], c_out, m["kernel"], m["groups"], m["bias"]) == m["params"]
        assert conv_macs((c_out, h_out, w_out), m["in_channels"], m["kernel"], m["groups"]) == m["macs"]


def test_output_size_formula():
    assert output_size(32, 3, 1, 1) == 32
    assert output_size(226, 7, 2, 3) == 113
    assert output_size(113, 3, 2, 1) == 57
    assert output_size(10, 3, 1, 0, dilation=2) == 6


def test_receptive_field_grows_through_resnet50():
    tr = shape_table(seeded_model("resnet50"), 224)
    rf = receptive_fields(tr)
    assert rf["conv1"].size == 7 and rf["conv1"].jump == 2
    assert rf["maxpool"].size == 11 and rf["maxpool"].jump == 4
    sizes = [rf[s].size for s in ("layer1", "layer2", "layer3", "layer4")]
    assert sizes == sorted(sizes) and sizes[-1] > 224  # the last stage sees more than the photo
    assert [rf[s].jump for s in ("layer1", "layer2", "layer3", "layer4")] == [4, 8, 16, 32]
    # a residual add sees what the wider of its two inputs sees
    assert rf["layer1.0.add"].size == rf["layer1.0.bn3"].size > rf["layer1.0.downsample.1"].size


def test_conv_formulas_fill_in_the_layers_numbers():
    tr = shape_table(seeded_model("resnet50"), 226)
    for step in tr.of_kind("conv"):
        in_shape, out_shape = tr[step.inputs[0]].shape[1:], step.shape[1:]
        f = conv_formulas(step.meta, in_shape, out_shape)
        assert f["size"]["out"] == f["size"]["recorded"] == out_shape[1]
        assert f["params"]["params"] == f["params"]["recorded"] == step.meta["params"]
        assert f["macs"]["macs"] == f["macs"]["recorded"] == step.meta["macs"]
        assert f["macs"]["per_value"] * out_shape[0] * out_shape[1] * out_shape[2] == step.meta["macs"]
    stem = conv_formulas(tr["conv1"].meta, (3, 226, 226), tr["conv1"].shape[1:])
    assert (stem["size"]["k"], stem["size"]["s"], stem["size"]["top"], stem["size"]["size"]) == (7, 2, 3, 226)


def test_output_shape_is_the_formula_on_each_side():
    assert output_shape((4, 4), (2, 2)) == (3, 3)
    shape = output_shape((13, 9), (3, 2), stride=2, padding=1, dilation=2)
    assert shape == (output_size(13, 3, 2, 1, 2), output_size(9, 2, 2, 1, 2)) == (6, 5)
    with pytest.raises(ValueError, match="2-D"):
        output_shape((3, 4, 4), (2, 2))
