"""A real first convolution slid over the photo (every cell's channel sums, the play-back path) and
one photo point followed through the stages: checked against conv_breakdown, the recorded trace and
receptive_box."""

from __future__ import annotations

import numpy as np
import pytest

from vision_core import load_model, preprocess
from vision_core.cnn import conv_sandbox
from vision_core.cnn.convolution import conv_breakdown
from vision_core.cnn.sliding import (
    cell_over,
    centre,
    conv_cells,
    filled_map,
    filled_mask,
    side_by_side,
    sweep,
    unfilled_boxes,
    window_box,
)
from vision_core.cnn.stages import receptive_box
from vision_core.engine.encoders import seeded_model
from vision_core.engine.trace import trace
from vision_core.samples import load_sample


@pytest.fixture(scope="module")
def lite0():
    model = load_model("efficientnet_lite0")
    x = preprocess(load_sample("chelsea"), "efficientnet_lite0")
    return model, trace(model, x, stop_after=["_conv_stem"])


@pytest.fixture(scope="module")
def resnet18():
    model = seeded_model("resnet18")
    x = preprocess(load_sample("chelsea"), "resnet18")
    return model, trace(model, x, keep=["input", "conv1", "layer1", "layer2", "layer3", "layer4"])


@pytest.mark.parametrize("which", ["lite0", "resnet18"])
def test_every_cell_is_the_breakdown_of_that_cell(request, which):
    model, tr = request.getfixturevalue(which)
    step = "_conv_stem" if which == "lite0" else "conv1"
    cells = conv_cells(model, tr, step, 5)
    assert cells.sums.shape == (3, *tr[step].shape[2:])
    np.testing.assert_allclose(cells.value, cells.recorded, atol=1e-4)
    np.testing.assert_array_equal(cells.recorded, tr[step].numpy()[0, 5])
    h, w = cells.recorded.shape
    for y, x in ((0, 0), (h - 1, w - 1), (0, w - 1), (17, 40)):  # corners read padding
        b = conv_breakdown(model, tr, step, 5, y, x)
        np.testing.assert_allclose(cells.sums[:, y, x], conv_sandbox.channel_sums(b), atol=1e-12)
        assert cells.bias == b.bias
        assert cells.value[y, x] == pytest.approx(b.value, abs=1e-12)


def test_conv_cells_refuses_a_step_that_is_not_a_convolution(resnet18):
    model, tr = resnet18
    with pytest.raises(ValueError, match="not a convolution"):
        conv_cells(model, tr, "layer1", 0)


def test_the_window_box_is_the_receptive_box_of_a_first_conv(lite0, resnet18):
    for (_, tr), step in ((lite0, "_conv_stem"), (resnet18, "conv1")):
        meta = tr[step].meta
        for y, x in ((0, 0), (3, 7), (111, 111)):
            assert window_box(meta, y, x) == receptive_box(tr, step, y, x)
    b = window_box(resnet18[1]["conv1"].meta, 0, 0)  # 7×7, stride 2, padding 3
    assert (b.top, b.left, b.size) == (-3, -3, 7)


def test_the_sweep_fills_the_map_block_by_block_in_reading_order(resnet18):
    _, tr = resnet18
    meta = tr["conv1"].meta
    plan = sweep((112, 112), meta, frames=64)
    assert plan.block == 14 and len(plan.frames) == 64
    assert [f.cells.left for f in plan.frames[:9]] == [0, 14, 28, 42, 56, 70, 84, 98, 0]
    values = tr["conv1"].numpy()[0, 0]
    done = 0
    for f in plan.frames:
        mask = filled_mask(plan, f.index)
        done += (f.cells.bottom - f.cells.top + 1) * (f.cells.right - f.cells.left + 1)
        assert mask.sum() == done
        shown = filled_map(values, plan, f.index)
        np.testing.assert_array_equal(shown[mask], values[mask])
        assert np.isnan(shown[~mask]).all()
        covered = np.zeros_like(mask)
        for b in unfilled_boxes(plan, f.index):
            covered[b.top : b.bottom + 1, b.left : b.right + 1] = True
        np.testing.assert_array_equal(covered, ~mask)  # the cover hides exactly what is not computed
        assert f.window == window_box(meta, f.cells.top, f.cells.left)
        last = window_box(meta, f.cells.bottom, f.cells.right)
        assert (f.span.top, f.span.left, f.span.bottom, f.span.right) == (
            f.window.top,
            f.window.left,
            last.bottom,
            last.right,
        )
    assert done == 112 * 112


def test_a_map_that_does_not_divide_evenly_still_ends_full():
    meta = {"kernel": (3, 3), "stride": (2, 2), "dilation": (1, 1), "padding": (0, 1, 0, 1)}
    plan = sweep((57, 45), meta, frames=20)
    assert len(plan.frames) <= 20
    assert filled_mask(plan, len(plan.frames) - 1).all()
    assert unfilled_boxes(plan, len(plan.frames) - 1) == []


def test_cell_over_inverts_the_receptive_box(resnet18):
    _, tr = resnet18
    for stage in ("conv1", "layer1", "layer2", "layer3", "layer4"):
        h, w = tr[stage].shape[2:]
        for y, x in ((0, 0), (h // 2, w // 3), (h - 1, w - 1)):
            assert cell_over(tr, stage, *centre(receptive_box(tr, stage, y, x))) == (y, x)
    assert cell_over(tr, "layer4", -500, 10_000) == (0, 6)  # kept inside the grid


def test_side_by_side_follows_one_point_through_the_stages(resnet18):
    _, tr = resnet18
    field = receptive_box(tr, "layer2", 10, 20)
    views = side_by_side(tr, ["layer1", "layer2", "layer4"], *centre(field))
    assert [v.stage for v in views] == ["layer1", "layer2", "layer4"]
    assert views[1].cell == (10, 20) and views[1].field == field
    for v in views:
        column = tr.array(v.stage)[0, :, v.cell[0], v.cell[1]]
        assert v.value == float(column.max()) and column[v.channel] == column.max()
        assert v.field == receptive_box(tr, v.stage, *v.cell)
    assert views[0].field.size < views[1].field.size < views[2].field.size
