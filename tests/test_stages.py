"""Stage by stage: the stage table, receptive boxes, channel ranking and the residual add."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from vision_core import load_model, preprocess
from vision_core.cnn.convolution import output_size, receptive_fields, shape_table
from vision_core.cnn.stages import (
    Box,
    consumers,
    field_growth,
    format_shape,
    peak_position,
    receptive_box,
    residual_add,
    residual_adds,
    shape_rows,
    shown_channels,
    stage_of_steps,
    strongest_cell,
    strongest_channels,
    total_params,
)
from vision_core.engine import encoders
from vision_core.engine.layers import AvgPool2d, Conv2d, Conv2dSame
from vision_core.engine.trace import trace
from vision_core.samples import load_sample


@pytest.fixture(scope="module")
def resnet50_226():
    model = encoders.build_model("resnet50")
    return model, shape_table(model, 226)


@pytest.fixture(scope="module")
def lite0_chelsea():
    model = load_model("efficientnet_lite0")
    x = preprocess(load_sample("chelsea"), "efficientnet_lite0")
    return model, trace(model, x)


def test_the_syllabus_table_for_226_pixels_comes_out_of_resnet50(resnet50_226):
    _, tr = resnet50_226
    rows = shape_rows(tr)
    assert [(r.name, format_shape(r.shape)) for r in rows] == [
        ("input", "3×226×226"),
        ("conv1", "64×113×113"),
        ("maxpool", "64×57×57"),
        ("layer1", "256×57×57"),
        ("layer2", "512×29×29"),
        ("layer3", "1024×15×15"),
        ("layer4", "2048×8×8"),
        ("gap", "2048"),
        ("embedding", "2048"),
    ]
    # the sides follow the output-size formula with the layers' own kernels, strides and paddings
    assert output_size(226, 7, 2, 3) == 113 and output_size(113, 3, 2, 1) == 57
    assert [r.numbers for r in rows[:2]] == [3 * 226 * 226, 64 * 113 * 113]


def test_table_fields_and_parameters_add_up(resnet50_226):
    model, tr = resnet50_226
    rows = shape_rows(tr)
    fields = receptive_fields(tr)
    for r in rows:
        if r.receptive_field is not None:
            assert (r.receptive_field, r.jump) == (fields[r.name].size, fields[r.name].jump)
    assert rows[1].params == 64 * 3 * 7 * 7 + 2 * 64  # conv1 and the batch norm after it
    assert rows[1].kind_id == "conv_bn"  # and the table says so (the convolution page counts conv1 alone)
    assert rows[2].params == 0  # max-pooling learns nothing
    backbone = sum(p.numel() for n, p in model.named_parameters() if not n.startswith("fc."))
    assert sum(r.params for r in rows) == backbone == total_params(rows)
    layer1 = sum(p.numel() for n, p in model.named_parameters() if n.startswith("layer1."))
    assert {r.name: r.params for r in rows}["layer1"] == layer1


def test_lite0_table_ends_with_a_1280_grid(lite0_chelsea):
    model, tr = lite0_chelsea
    rows = shape_rows(tr)
    assert [r.name for r in rows] == ["input", "_conv_stem", *model.stages, "_conv_head", "gap", "embedding"]
    assert rows[-3].shape == (1280, 7, 7) and rows[-1].shape == (1280,)
    head = sum(p.numel() for n, p in model.named_parameters() if not n.startswith("_fc."))
    assert sum(r.params for r in rows) == head


def test_stage_of_steps(resnet50_226, lite0_chelsea):
    model, tr = resnet50_226
    owner = stage_of_steps(tr, model.stages)
    for name, stage in owner.items():
        assert name == stage or name.startswith(stage + ".")
    assert "conv1" not in owner and "maxpool" not in owner and "gap" not in owner
    assert owner["layer3.5.add"] == "layer3"
    lite, ltr = lite0_chelsea
    lowner = stage_of_steps(ltr, lite.stages)
    assert {n: s for n, s in lowner.items() if n.endswith(".add")} == {
        "_blocks.2.add": "stage2",
        "_blocks.4.add": "stage3",
        "_blocks.6.add": "stage4",
        "_blocks.7.add": "stage4",
        "_blocks.9.add": "stage5",
        "_blocks.10.add": "stage5",
        "_blocks.12.add": "stage6",
        "_blocks.13.add": "stage6",
        "_blocks.14.add": "stage6",
    }
    assert "_conv_stem" not in lowner and "_conv_head" not in lowner
    with pytest.raises(KeyError):
        stage_of_steps(ltr, ["stage9"])


class _Stack(nn.Module):
    """Convolutions and an average pool with positive weights and no activation: then every input
    pixel inside the receptive field moves the output, and none outside it does."""

    def __init__(self):
        super().__init__()
        self.a = Conv2d(1, 1, 7, stride=2, padding=3, bias=False)
        self.b = AvgPool2d(3, stride=2, padding=1)
        self.c = Conv2dSame(1, 1, 3, stride=2, bias=False)
        self.d = Conv2d(1, 1, 3, padding=1, dilation=1, bias=False)
        for conv in (self.a, self.c, self.d):
            nn.init.constant_(conv.weight, 1.0)

    def forward(self, x):
        return self.d(self.c(self.b(self.a(x))))


@pytest.mark.parametrize(
    "step,y,x", [("a", 0, 0), ("a", 5, 9), ("b", 3, 4), ("c", 0, 0), ("c", 4, 2), ("d", 1, 3)]
)
def test_receptive_box_is_where_the_gradient_reaches(step, y, x):
    model = _Stack().eval()
    image = torch.ones(1, 1, 61, 61, requires_grad=True)
    tr = trace(model, image.detach())
    outputs = {}
    h = image
    for name in "abcd":
        h = getattr(model, name)(h)
        outputs[name] = h
    outputs[step][0, 0, y, x].backward()
    reached = np.argwhere(image.grad[0, 0].numpy() != 0)
    box = receptive_box(tr, step, y, x)
    seen = box.clipped(61, 61)
    assert (reached[:, 0].min(), reached[:, 1].min()) == (seen.top, seen.left)
    assert (reached[:, 0].max(), reached[:, 1].max()) == (seen.bottom, seen.right)
    assert box.size == receptive_fields(tr)[step].size


def test_receptive_box_of_resnet_first_value_hangs_over_the_edge(resnet50_226):
    _, tr = resnet50_226
    assert receptive_box(tr, "conv1", 0, 0) == Box(-3, -3, 3, 3)
    assert receptive_box(tr, "conv1", 1, 2) == Box(-1, 1, 5, 7)
    last = receptive_box(tr, "layer4", 0, 0)
    assert last.size == receptive_fields(tr)["layer4"].size and last.clipped(226, 226) == Box(
        0, 0, last.bottom, last.bottom
    )
    with pytest.raises(KeyError):
        receptive_box(tr, "gap", 0, 0)


def test_peak_position():
    m = np.zeros((3, 4))
    m[2, 1] = 7.0
    m[0, 3] = 7.0
    assert peak_position(m) == (0, 3)


def test_strongest_channels():
    m = np.zeros((4, 2, 2))
    m[2] = 5.0
    m[0] = 1.0
    m[3] = 1.0
    assert list(strongest_channels(m, 3)) == [2, 0, 3]
    assert list(strongest_channels(m[None], 1)) == [2]


def test_residual_add_of_lite0_is_shortcut_plus_branch(lite0_chelsea):
    _, tr = lite0_chelsea
    res = residual_add(tr, "_blocks.7.add")
    assert (res.identity_step, res.branch_step) == ("_blocks.6.add", "_blocks.7._bn2")
    assert not res.projected
    np.testing.assert_array_equal(res.identity + res.branch, res.output)
    a, b, out = res.at(11, 3, 9)
    assert a + b == pytest.approx(out, abs=1e-6) and out == float(tr.array("_blocks.7.add")[0, 11, 3, 9])
    assert res.scale(11) == pytest.approx(
        max(np.abs(m[11]).max() for m in (res.identity, res.branch, res.output))
    )
    busiest = res.most_changed_channel()
    changes = np.abs(res.output - res.identity).mean(axis=(1, 2))
    assert changes[busiest] == pytest.approx(changes.max(), rel=1e-5)
    assert consumers(tr, "_blocks.7.add") == ["stage4"]
    with pytest.raises(ValueError, match="not a residual add"):
        residual_add(tr, "stage4")


def test_resnet_projection_shortcut():
    model = encoders.seeded_model("resnet18")
    tr = trace(model, torch.randn(1, 3, 64, 64), stop_after=["layer2.0.relu2"])
    res = residual_add(tr, "layer2.0.add")
    assert res.identity_step == "layer2.0.downsample.1" and res.projected
    assert residual_add(tr, "layer1.1.add").projected is False
    np.testing.assert_allclose(res.identity + res.branch, res.output, rtol=0, atol=0)
    assert consumers(tr, "layer2.0.add") == ["layer2.0.relu2"]


def test_table_rows_and_field_growth(resnet50_226):
    model, tr = resnet50_226
    rows = shape_rows(tr)
    conv1 = next(r for r in rows if r.name == "conv1")
    line = conv1.row()
    assert line["step"] == "conv1" and line["kind"] == conv1.kind and line["params"] == conv1.params
    assert line["shape"] == format_shape(conv1.shape) and line["field"] == str(conv1.receptive_field)
    growth = field_growth(tr, model.stages)
    assert all(r.receptive_field for r in growth.rows)
    assert growth.first == growth.rows[1].receptive_field == conv1.receptive_field
    assert growth.last == next(r for r in rows if r.name == model.stages[-1]).receptive_field
    assert growth.times == growth.last / growth.first > 10


def test_shown_channels_first_or_strongest():
    fmap = np.zeros((5, 2, 2))
    fmap[3] = 9.0
    fmap[1] = 4.0
    assert shown_channels(fmap, 3, strongest=False) == [0, 1, 2]
    assert shown_channels(fmap, 9, strongest=False) == [0, 1, 2, 3, 4]
    assert shown_channels(fmap, 2, strongest=True) == [3, 1]


def test_strongest_cell_is_the_strongest_channels_peak():
    m = np.zeros((3, 4, 5))
    m[1] = 2.0
    m[1, 3, 2] = 9.0
    m[2, 0, 0] = 20.0  # a higher peak, but a weaker channel on average (20/20 = 1 < 2.35)
    assert strongest_cell(m) == (1, 3, 2) == strongest_cell(m[None])


def test_residual_adds_of_a_stage(lite0_chelsea):
    model, tr = lite0_chelsea
    assert residual_adds(tr, model.stages, "stage4") == ["_blocks.6.add", "_blocks.7.add"]
    assert residual_adds(tr, model.stages, "stage1") == []  # one block, no shortcut
    every = [a for stage in model.stages for a in residual_adds(tr, model.stages, stage)]
    assert every == [s.name for s in tr.of_kind("add")]


def test_box_spanning_a_window():
    box = Box.spanning(np.array([-1, 0, 1]), np.array([9, 10, 11]))
    assert box == Box(-1, 9, 1, 11) and box.size == 3
    assert box.clipped(8, 11) == Box(0, 9, 1, 10)
