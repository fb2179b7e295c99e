"""CNN 4 · Pooling, driven like a learner: the pocket grids and windows, the real down-sampling
steps, a channel and a position — every number checked against vision_core."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest
from conftest import assert_ok, markdown, open_page
from number_grids import grid_titled

from vision_core import load_model, preprocess, trace
from vision_core.cnn.convolution import conv_breakdown, shape_table
from vision_core.cnn.pocket import POCKET_IMAGE, pool2d, run_pocket_cnn
from vision_core.cnn.pooling import downsampling_steps, pool_window, pool_windows
from vision_core.cnn.stages import format_shape
from vision_core.engine import encoders
from vision_core.samples import load_sample

PAGE = "pages/cnn_pooling.py"


def chart(at, title_start: str) -> np.ndarray:
    """The z values of the first trace of the Plotly chart whose title starts with ``title_start``."""
    for el in at.get("plotly_chart"):
        spec = json.loads(el.proto.spec)
        if spec["layout"].get("title", {}).get("text", "").startswith(title_start):
            z = spec["data"][0]["z"]
            if isinstance(z, dict):  # Plotly's binary array encoding
                shape = tuple(int(s) for s in str(z["shape"]).split(","))
                return np.frombuffer(base64.b64decode(z["bdata"]), dtype=z["dtype"]).reshape(shape)
            return np.array(z, dtype=float)
    raise AssertionError(f"no chart titled {title_start!r}")


def test_pocket_pooling_three_ways():
    at = open_page(PAGE)
    assert_ok(at)
    for op, title in (("max", "Max-pool"), ("avg", "Average pool"), ("stride2", "2×2 ones")):
        np.testing.assert_array_equal(
            grid_titled(at, title).values, pool2d(POCKET_IMAGE, op, kernel=2, stride=2)
        )
    np.testing.assert_array_equal(grid_titled(at, "Input").values, POCKET_IMAGE)

    at.button_group(key="pool_pocket_cell").set_value("(1, 1)").run()
    assert_ok(at)
    windows = {op: pool_windows(POCKET_IMAGE, op)[3] for op in ("max", "avg", "stride2")}
    numbers = ", ".join(f"{v:g}" for v in windows["max"].patch.ravel())
    expected = (
        f"The window at output (1, 1) holds {numbers}. Max: **{windows['max'].value:g}** · "
        f"average: **{windows['avg'].value:g}** · sum: **{windows['stride2'].value:g}**."
    )
    assert expected in markdown(at)

    at.radio(key="pool_pocket_map__en").set_value("map_relu_b").run()
    assert_ok(at)
    relu_b = run_pocket_cnn().relu["B"]
    np.testing.assert_array_equal(grid_titled(at, "Max-pool · 1×1").values, pool2d(relu_b, "max"))
    assert "1 row and 1 column at the far edge are never read" in "\n".join(i.value for i in at.info)


def test_lite0_strided_convolutions_window_by_window():
    at = open_page(PAGE)
    steps = downsampling_steps(shape_table(encoders.build_model("efficientnet_lite0"), 224))
    table = at.dataframe[0].value
    assert list(table["step"]) == [d.name for d in steps]
    assert list(table["after"]) == [format_shape(d.out_shape) for d in steps]
    assert "has **no pooling layer at all**" in markdown(at)

    at.selectbox(key="pool_step").set_value("_blocks.3._depthwise_conv").run()
    at.slider(key="pool_channel").set_value(7).run()
    at.number_input(key="pool_pos_row").set_value(27).run()
    at.number_input(key="pool_pos_col").set_value(3).run()
    assert_ok(at)

    model = load_model("efficientnet_lite0")
    tr = trace(
        model,
        preprocess(load_sample("chelsea"), "efficientnet_lite0"),
        stop_after=["_blocks.3._depthwise_conv"],
    )
    b = conv_breakdown(model, tr, "_blocks.3._depthwise_conv", 7, 27, 3)
    assert f"**{b.value:.4f}** (the network recorded {b.recorded:.4f})" in markdown(at)
    assert f"rows {b.rows[0]}–{b.rows[-1]} and columns {b.cols[0]}–{b.cols[-1]}" in markdown(at)
    np.testing.assert_allclose(chart(at, "Learned kernel"), b.kernel[0], rtol=1e-6)


@pytest.mark.slow
def test_resnet_maxpool_with_random_weights():
    at = open_page(PAGE, model_cnn="resnet18", pool_random=True)
    assert_ok(at)
    assert any("Untrained network" in w.value for w in at.warning)
    assert "`maxpool` (max-pool): 3×3 windows, stride 2, padding 1" in markdown(at)
    assert "shrinks its grid 5 times: 224×224 → 112×112 → 56×56 → 28×28 → 14×14 → 7×7." in markdown(at)
    shortcuts = "`layer2.0.downsample.0`, `layer3.0.downsample.0`, `layer4.0.downsample.0`"
    assert f"The table has 8 layers with a stride above 1 for 5 steps: {shortcuts} shrink" in markdown(at)
    at.slider(key="pool_channel").set_value(10).run()
    at.number_input(key="pool_pos_row").set_value(0).run()
    at.number_input(key="pool_pos_col").set_value(5).run()
    assert_ok(at)

    model = encoders.seeded_model("resnet18", seed=0)
    tr = trace(model, preprocess(load_sample("chelsea"), "resnet18"), stop_after=["maxpool"])
    w = pool_window(tr, "maxpool", 10, 0, 5)
    assert f"**{w.value:.3f}**, found at input ({w.source[0]}, {w.source[1]})" in markdown(at)
    assert "rows -1–1 and columns 9–11" in markdown(at)
    window = chart(at, "Input window")
    np.testing.assert_allclose(window[1:], w.patch[1:], rtol=1e-6)
    assert np.isnan(window[0]).all()  # the padding row above the map


def test_russian_page_runs():
    at = open_page(PAGE, lang="ru")
    assert_ok(at)
    assert at.title[0].value.startswith("Пулинг")
    assert "уменьшает сетку 5 раз (224×224 → 112×112" in markdown(at)


@pytest.mark.parametrize("name,lang", [("efficientnet_lite0", "en"), ("resnet18", "ru")])
def test_the_question_reveals_how_often_the_grid_shrinks(name, lang):
    from conftest import wrong_then_right

    from vision_core.cnn.pooling import grid_sizes, shrink_count_question

    tr = shape_table(encoders.build_model(name), 224)
    sides = {s.shape[-1] for s in tr if len(s.shape) == 4}  # every grid the network makes
    q = shrink_count_question(grid_sizes(downsampling_steps(tr)))
    assert q.correct == len(sides) - 1
    at = open_page(PAGE, lang=lang, model_cnn=name, pool_random=name != "efficientnet_lite0")
    assert_ok(at)
    shown = f"{q.correct} {'times' if lang == 'en' else 'раз'}"
    said = wrong_then_right(at, "pool_shrinks", q, str(q.correct), lang)
    assert f"**{shown}**" in said and "224×224 → 112×112 → 56×56 → 28×28 → 14×14 → 7×7" in said
