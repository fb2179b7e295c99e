"""Down-sampling window by window: checked against torch's own pooling and against the pocket CNN."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn import functional as F

from vision_core.cnn.convolution import shape_table
from vision_core.cnn.pocket import POCKET_IMAGE, pool2d, run_pocket_cnn
from vision_core.cnn.pooling import (
    depthwise_count,
    downsampling_steps,
    edge_never_read,
    first_pool,
    padding_mask,
    pool_window,
    pool_windows,
    window_place,
)
from vision_core.engine import encoders
from vision_core.engine.layers import AvgPool2d, Conv2dSame, MaxPool2d
from vision_core.engine.trace import trace

GRIDS = [POCKET_IMAGE, run_pocket_cnn().relu["A"], run_pocket_cnn().relu["B"], np.arange(30.0).reshape(5, 6)]


@pytest.mark.parametrize("grid", GRIDS)
@pytest.mark.parametrize("op,stride", [("max", 2), ("avg", 2), ("max", 1), ("avg", 1), ("stride2", None)])
def test_windows_reproduce_pocket_pooling(grid, op, stride):
    windows = pool_windows(grid, op, kernel=2, stride=stride)
    expected = pool2d(grid, op, kernel=2, stride=stride)
    assert [(w.y, w.x) for w in windows] == [
        (y, x) for y in range(expected.shape[0]) for x in range(expected.shape[1])
    ]
    np.testing.assert_allclose([w.value for w in windows], expected.ravel())
    for w in windows:
        np.testing.assert_array_equal(w.patch, grid[np.ix_(w.rows, w.cols)])


def test_syllabus_picture_pooled_two_by_two():
    max_w, avg_w, sum_w = (pool_windows(POCKET_IMAGE, op) for op in ("max", "avg", "stride2"))
    # the top-left 2×2 block of the picture is [[1, 2], [0, 1]]
    assert (max_w[0].value, avg_w[0].value, sum_w[0].value) == (2.0, 1.0, 4.0)
    assert max_w[0].source == (0, 1) and max_w[0].source_in_window == (0, 1)
    for a, s in zip(avg_w, sum_w, strict=True):
        assert s.value == pytest.approx(4 * a.value)  # the filter of ones adds the four numbers
    assert all(POCKET_IMAGE[w.source] == w.value for w in max_w)


def test_a_three_wide_map_loses_its_last_row_and_column():
    relu = run_pocket_cnn().relu["A"]
    windows = pool_windows(relu, "max")
    assert len(windows) == 1 and list(windows[0].rows) == [0, 1]
    assert edge_never_read(3, 2, 2) == 1
    assert edge_never_read(4, 2, 2) == 0 and edge_never_read(7, 3, 2) == 0 and edge_never_read(8, 3, 2) == 1


def test_padding_mask_marks_cells_past_the_edge():
    mask = padding_mask(np.array([-1, 0, 1]), np.array([4, 5, 6]), (10, 6))
    np.testing.assert_array_equal(mask, [[True, True, True], [False, False, True], [False, False, True]])


def test_downsampling_steps_of_resnet50_and_lite0():
    r50 = shape_table(encoders.build_model("resnet50"), 224)
    steps = {d.name: d for d in downsampling_steps(r50)}
    pool = steps["maxpool"]
    assert (pool.kind, pool.kernel, pool.stride, pool.padding) == ("max-pool", (3, 3), (2, 2), (1, 1, 1, 1))
    assert pool.input == "relu" and pool.in_shape == (64, 112, 112) and pool.out_shape == (64, 56, 56)
    assert pool.per_channel and not steps["conv1"].per_channel
    assert set(steps) == {"conv1", "maxpool"} | {
        f"layer{i}.0.{s}" for i in (2, 3, 4) for s in ("conv2", "downsample.0")
    }

    lite = downsampling_steps(shape_table(encoders.build_model("efficientnet_lite0"), 224))
    assert [d.name for d in lite] == ["_conv_stem"] + [f"_blocks.{i}._depthwise_conv" for i in (1, 3, 5, 11)]
    assert [d.kind for d in lite] == ["conv"] + ["depthwise conv"] * 4
    assert all(d.out_shape[1] * 2 == d.in_shape[1] for d in lite)  # 224 halves evenly every time


def test_downsampling_rows_and_kind_ids():
    r50 = {d.name: d for d in downsampling_steps(shape_table(encoders.build_model("resnet50"), 224))}
    assert r50["maxpool"].row() == {
        "step": "maxpool",
        "kind": "max_pool",
        "kernel": "3×3",
        "stride": 2,
        "padding": "(1, 1, 1, 1)",
        "in": "64×112×112",
        "out": "64×56×56",
    }
    assert r50["maxpool"].label == "maxpool · 64×112×112 → 64×56×56"
    lite = downsampling_steps(shape_table(encoders.build_model("efficientnet_lite0"), 224))
    assert [d.kind_id for d in lite] == ["conv"] + ["depthwise_conv"] * 4


def test_window_place_spans_the_windows_rows_and_columns():
    w = pool_windows(POCKET_IMAGE, "max")[3]  # output (1, 1) of a 2×2, stride-2 pooling
    assert w.bounds == (2, 2, 3, 3)
    place = window_place(0, 5, np.array([-1, 0, 1]), np.array([9, 10, 11]))
    assert place == {"row": 0, "col": 5, "rows": "-1–1", "cols": "9–11"}


class _Tiny(nn.Module):
    """conv → max-pool → avg-pool, to check windows against torch on a known input."""

    def __init__(self):
        super().__init__()
        self.conv = Conv2dSame(1, 2, 3, stride=2, bias=False)
        self.pool = MaxPool2d(3, stride=2, padding=1)
        self.avg = AvgPool2d(2)

    def forward(self, x):
        return self.avg(self.pool(self.conv(x)))


def test_real_pool_windows_match_torch():
    torch.manual_seed(0)
    model = _Tiny().eval()
    x = torch.randn(1, 1, 21, 21)
    tr = trace(model, x)
    conv_out = model.conv(x).detach()
    expected_max = F.max_pool2d(conv_out, 3, 2, 1)[0].numpy()
    inp = tr.array("conv")[0]
    for c, y, xx in [(0, 0, 0), (1, 2, 3), (0, 5, 5), (1, 5, 0)]:
        w = pool_window(tr, "pool", c, y, xx)
        assert w.value == pytest.approx(float(expected_max[c, y, xx]))
        assert np.nanmax(w.patch) == pytest.approx(w.value)
        assert inp[c][w.source] == pytest.approx(w.value)
        assert list(w.rows) == [2 * y - 1, 2 * y, 2 * y + 1]
        np.testing.assert_array_equal(np.isnan(w.patch), padding_mask(w.rows, w.cols, inp.shape[1:]))
    a = pool_window(tr, "avg", 1, 1, 2)
    assert a.source is None and a.value == pytest.approx(float(np.mean(tr.array("pool")[0, 1, 2:4, 4:6])))
    with pytest.raises(ValueError, match="not a pooling"):
        pool_window(tr, "conv", 0, 0, 0)
    kinds = {d.name: d.kind for d in downsampling_steps(tr)}
    assert kinds == {"conv": "conv", "pool": "max-pool", "avg": "avg-pool"}


def test_resnet_maxpool_window_on_a_photo_like_input():
    model = encoders.seeded_model("resnet18")
    tr = trace(model, torch.randn(1, 3, 64, 64), stop_after=["maxpool"])
    w = pool_window(tr, "maxpool", 3, 0, 0)
    assert list(w.rows) == [-1, 0, 1] and np.isnan(w.patch[0]).all() and np.isnan(w.patch[:, 0]).all()
    assert w.value == pytest.approx(float(np.nanmax(w.patch)))
    assert w.value == pytest.approx(float(F.max_pool2d(tr["relu"].value, 3, 2, 1)[0, 3, 0, 0]))


def test_first_pool_and_depthwise_count():
    r50 = downsampling_steps(shape_table(encoders.build_model("resnet50"), 224))
    pool = first_pool(r50)
    assert pool is not None and pool.name == "maxpool" and pool.pooling
    assert not any(d.pooling for d in r50 if d.name != "maxpool") and depthwise_count(r50) == 0
    lite = downsampling_steps(shape_table(encoders.build_model("efficientnet_lite0"), 224))
    assert first_pool(lite) is None and depthwise_count(lite) == 4


def test_the_grid_shrinks_five_times_in_resnet50_and_lite0_and_shortcuts_are_not_counted():
    """ResNet-50 has 8 layers with a stride (3 of them the blocks' downsample.0 shortcuts, in
    parallel with the blocks' strided convolutions), but its grid halves 5 times: 224 → 7."""
    from vision_core.cnn.pooling import grid_sizes, parallel_steps

    r50 = downsampling_steps(shape_table(encoders.build_model("resnet50"), 224))
    assert len(r50) == 8
    assert grid_sizes(r50) == [(224, 224), (112, 112), (56, 56), (28, 28), (14, 14), (7, 7)]
    assert [d.name for d in parallel_steps(r50)] == [f"layer{i}.0.downsample.0" for i in (2, 3, 4)]
    lite = downsampling_steps(shape_table(encoders.build_model("efficientnet_lite0"), 224))
    assert len(grid_sizes(lite)) - 1 == len(lite) == 5
    assert parallel_steps(lite) == []
