"""What CNN Explainer's users love, on our pages: the real first layer's window played across the
photo (the frames follow the layer's own windows and uncover the recorded map), every output cell's
hover label (the trace's numbers), a clicked cell's receptive patch outlined on the photo on both
pages, and the same photo point in several stages side by side."""

from __future__ import annotations

import base64
import io
import json

import numpy as np
import pytest
from conftest import assert_ok, markdown, open_page
from PIL import Image

from vision_core import figures, load_model, preprocess, trace
from vision_core.cnn import conv_sandbox
from vision_core.cnn.convolution import conv_breakdown
from vision_core.cnn.sliding import cell_over, centre, filled_mask, spread, sweep, window_box
from vision_core.cnn.stages import receptive_box
from vision_core.engine import encoders
from vision_core.samples import load_sample

CONV, DEEPER = "pages/cnn_convolution.py", "pages/cnn_deeper.py"


@pytest.fixture(scope="module")
def lite0():
    model = load_model("efficientnet_lite0")
    tr = trace(model, preprocess(load_sample("chelsea"), "efficientnet_lite0"), stop_after=["_conv_stem"])
    return model, tr


def chart(at, key: str) -> dict:
    return json.loads(next(el for el in at.get("plotly_chart") if el.key == key).proto.spec)


def array(values) -> np.ndarray:
    """A NumPy array as Plotly writes it into a figure (base64 with dtype and shape), or a list."""
    if isinstance(values, dict):
        flat = np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"])
        return flat.reshape([int(n) for n in str(values.get("shape", len(flat))).split(",")])
    return np.asarray(values, dtype=np.float64)


def png(uri: str) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))).convert("RGB"))


def outline(xs, ys, scale: float = 1.0) -> tuple[int, int, int, int]:
    """(top, left, bottom, right) cells of a closed outline drawn around cells ``scale`` px wide."""
    x = [v for v in xs if v is not None]
    y = [v for v in ys if v is not None]
    to_cell = lambda v: round((v + 0.5) / scale)  # noqa: E731
    return to_cell(min(y)), to_cell(min(x)), to_cell(max(y)) - 1, to_cell(max(x)) - 1


def covered(xs, ys, shape: tuple[int, int], scale: float) -> np.ndarray:
    """The cells under the grey cover's outlines (separated by None)."""
    mask = np.zeros(shape, dtype=bool)
    parts, current = [], ([], [])
    for x, y in zip(xs, ys, strict=True):
        if x is None:
            parts.append(current)
            current = ([], [])
        else:
            current[0].append(x)
            current[1].append(y)
    for px, py in parts:
        top, left, bottom, right = outline(px, py, scale)
        mask[max(top, 0) : bottom + 1, max(left, 0) : right + 1] = True
    return mask


def test_the_play_back_moves_the_real_window_and_uncovers_the_recorded_map(lite0):
    _, tr = lite0
    at = open_page(CONV)
    at.slider(key="conv_channel").set_value(5).run()
    assert_ok(at)
    fig = chart(at, "conv_sweep")
    meta, recorded = tr["_conv_stem"].meta, tr["_conv_stem"].numpy()[0, 5]
    plan = sweep(recorded.shape, meta)
    assert len(fig["frames"]) == len(plan.frames) == 64
    # Play runs the frames from the current one; each slider step shows one frame
    play, _pause = fig["layout"]["updatemenus"][0]["buttons"]
    assert play["args"][0] is None and play["args"][1]["fromcurrent"]
    assert [s["args"][0] for s in fig["layout"]["sliders"][0]["steps"]] == [
        [f["name"]] for f in fig["frames"]
    ]
    # the map under the cover is the page's own picture of the recorded values
    image = png(fig["layout"]["images"][1]["source"])
    factor = image.shape[0] // recorded.shape[0]
    shown = image[::factor, ::factor]
    np.testing.assert_array_equal(shown, figures.colorize(tr.array("_conv_stem")[0, 5].astype(np.float16)))
    np.testing.assert_array_equal(png(fig["layout"]["images"][0]["source"]), at_pixels())
    windows = []
    for frame, step in zip(fig["frames"], plan.frames, strict=True):
        cover, span, window, cells = frame["data"]
        assert frame["traces"] == [0, 1, 2, 3]
        # the red box is the layer's window at the block's first cell: it moves as the layer moves
        top, left, bottom, right = outline(window["x"], window["y"])
        assert (top, left, bottom, right) == tuple(
            vars(window_box(meta, step.cells.top, step.cells.left)).values()
        )
        assert (top, left) == (receptive_box(tr, "_conv_stem", step.cells.top, step.cells.left).top, left)
        windows.append((top, left))
        assert outline(span["x"], span["y"]) == tuple(vars(step.span).values())
        assert outline(cells["x"], cells["y"]) == tuple(vars(step.cells).values())
        # what is not covered is exactly what the convolution has computed so far
        hidden = covered(cover["x"], cover["y"], recorded.shape, 1.0)
        np.testing.assert_array_equal(~hidden, filled_mask(plan, step.index))
    assert windows[0] == (0, 0) and windows[1] == (0, 14 * 2) and windows[8] == (14 * 2, 0)
    assert "64 steps cover the whole map" in markdown(at)


def at_pixels() -> np.ndarray:
    return encoders.preprocess_photo(load_sample("chelsea"), "efficientnet_lite0").pixels


def test_every_cell_s_hover_label_holds_the_trace_s_numbers(lite0):
    model, tr = lite0
    at = open_page(CONV)
    at.slider(key="conv_channel").set_value(17).run()
    assert_ok(at)
    points = chart(at, "conv_pos_map")["data"][1]
    data = array(points["customdata"])  # row, col, value, red, green, blue sums
    recorded = tr["_conv_stem"].numpy()[0, 17]
    h, w = recorded.shape
    assert data.shape == (h * w, 6)
    # the network's own float32 values (JSON writes each one in the digits float32 needs)
    np.testing.assert_array_equal(data[:, 2].reshape(h, w).astype(np.float32), recorded)
    for y, x in ((0, 0), (40, 77), (111, 111)):
        row = data[y * w + x]
        assert (row[0], row[1]) == (y, x)
        sums = conv_sandbox.channel_sums(conv_breakdown(model, tr, "_conv_stem", 17, y, x))
        np.testing.assert_allclose(row[3:], sums, rtol=1e-6, atol=1e-6)
    template = points["hovertemplate"]
    assert "%{customdata[2]:.4f} = %{customdata[3]:+.5f} (red) %{customdata[4]:+.5f} (green)" in template
    assert "no bias" in template  # Lite0's stem has none: a batch norm follows


def test_the_hover_label_writes_russian_numbers_and_words():
    at = open_page(CONV, lang="ru")
    assert_ok(at)
    fig = chart(at, "conv_pos_map")
    assert fig["layout"]["separators"] == ",\u202f"
    assert "(красный)" in fig["data"][1]["hovertemplate"]


@pytest.mark.parametrize("y,x", [(40, 77), (111, 0)])
def test_a_clicked_cell_outlines_its_window_on_the_photo(lite0, y, x):
    _, tr = lite0
    at = open_page(CONV)
    at.number_input(key="conv_pos_row").set_value(y).run()
    at.number_input(key="conv_pos_col").set_value(x).run()
    assert_ok(at)
    rect = next(s for s in chart(at, "conv_pos_photo")["layout"]["shapes"] if s["type"] == "rect")
    box = receptive_box(tr, "_conv_stem", y, x)
    assert outline([rect["x0"], rect["x1"]], [rect["y0"], rect["y1"]]) == (
        box.top,
        box.left,
        box.bottom,
        box.right,
    )
    assert box.size == 3


def test_going_deeper_uses_the_same_widget_and_puts_stages_side_by_side():
    model = load_model("efficientnet_lite0")
    stages = list(model.stages)
    tr = trace(model, preprocess(load_sample("chelsea"), "efficientnet_lite0"), keep=stages)
    at = open_page(DEEPER)
    stage = stages[3]
    at.select_slider(key="deeper_stage").set_value(stage).run()
    h, w = tr[stage].shape[2:]
    y, x = 2 * h // 3, w // 3
    at.number_input(key="deeper_pos_row").set_value(y).run()
    at.number_input(key="deeper_pos_col").set_value(x).run()
    assert_ok(at)
    rect = next(s for s in chart(at, "deeper_pos_photo")["layout"]["shapes"] if s["type"] == "rect")
    box = receptive_box(tr, stage, y, x)
    assert outline([rect["x0"], rect["x1"]], [rect["y0"], rect["y1"]]) == (
        box.top,
        box.left,
        box.bottom,
        box.right,
    )
    assert at.multiselect(key="deeper_side").value == spread(stages)
    point = centre(box)
    for name in spread(stages):
        cell = cell_over(tr, name, *point)
        field = receptive_box(tr, name, *cell)
        shapes = chart(at, f"side_photo_{name}")["layout"]["shapes"]
        rect = next(s for s in shapes if s["type"] == "rect")
        assert outline([rect["x0"], rect["x1"]], [rect["y0"], rect["y1"]]) == (
            field.top,
            field.left,
            field.bottom,
            field.right,
        )
        column = tr.array(name)[0, :, cell[0], cell[1]].astype(np.float16)  # the page keeps float16
        channel = int(np.argmax(column))
        title = chart(at, f"side_map_{name}")["layout"]["title"]["text"]
        assert title == f"{name}, channel {channel}, cell ({cell[0]}, {cell[1]})"
        assert (
            f"In {name}, channel {channel} is the strongest at this cell: **{column.max():.3f}**"
            in markdown(at)
        )
    # choosing two stages shows two
    at.multiselect(key="deeper_side").set_value([stages[0], stage]).run()
    assert_ok(at)
    assert {el.key for el in at.get("plotly_chart") if el.key and el.key.startswith("side_map_")} == {
        f"side_map_{stages[0]}",
        f"side_map_{stage}",
    }
