"""CNN 2 · Convolution: the pocket sandbox (editors, sliding window), the real first layer taken apart
at a chosen position, its formulas, and the stride / padding / dilation sandbox — every number on the
page checked against vision_core."""

from __future__ import annotations

import pytest
from conftest import assert_ok, markdown_with, open_page, plain, run_with_edits

from vision_core import load_model, preprocess, trace
from vision_core.cnn import conv_sandbox
from vision_core.cnn.convolution import conv_breakdown, conv_macs, conv_params, output_size
from vision_core.cnn.pocket import POCKET_FILTERS, POCKET_IMAGE, sliding_windows
from vision_core.engine import encoders
from vision_core.samples import load_sample

PAGE = "pages/cnn_convolution.py"


def window_line(at) -> str:
    return next(plain(m.value) for m in at.markdown if m.value.startswith("Output at row"))


@pytest.fixture(scope="module")
def lite0():
    model = load_model("efficientnet_lite0")
    tr = trace(model, preprocess(load_sample("chelsea"), "efficientnet_lite0"), stop_after=["_conv_stem"])
    return model, tr


def test_pocket_window_by_window():
    at = open_page(PAGE)
    assert_ok(at)
    for name in ("A", "B"):
        at.radio(key="conv_pocket_filter").set_value(name).run()
        windows = sliding_windows(POCKET_IMAGE, POCKET_FILTERS[name])
        for step in (1, 5, 9):
            at.slider(key="conv_pocket_step").set_value(step).run()
            w = windows[step - 1]
            kernel = POCKET_FILTERS[name]
            direct = sum(POCKET_IMAGE[w.y + i, w.x + j] * kernel[i, j] for i in range(2) for j in range(2))
            assert f"row {w.y}, column {w.x}:" in window_line(at)
            assert window_line(at).endswith(f"= **{direct:g}**")
    assert f"fits in {output_size(4, 2)} places" in markdown_with(at, "fits in")


def test_editing_the_pocket_picture_and_filter_recomputes_the_window():
    at = open_page(PAGE)
    edits = {"conv_pocket_picture_0": {"0": {"0": 7}}, "conv_pocket_filter_A_0": {"1": {"1": -2}}}
    run_with_edits(at, edits)
    assert_ok(at)
    picture, kernel = POCKET_IMAGE.copy(), POCKET_FILTERS["A"].copy()
    picture[0, 0], kernel[1, 1] = 7, -2
    expected = (picture[:2, :2] * kernel).sum()
    assert window_line(at).endswith(f"= **{expected:g}**")
    # the reset button gives fresh editors with the syllabus's numbers
    at.button(key="conv_pocket_reset").click().run()
    assert_ok(at)
    assert window_line(at).endswith(f"= **{(POCKET_IMAGE[:2, :2] * POCKET_FILTERS['A']).sum():g}**")


@pytest.mark.parametrize("channel,y,x", [(5, 40, 77), (17, 111, 111)])
def test_one_real_value_taken_apart(lite0, channel, y, x):
    model, tr = lite0
    at = open_page(PAGE)
    at.slider(key="conv_channel").set_value(channel).run()
    at.number_input(key="conv_pos_row").set_value(y).run()
    at.number_input(key="conv_pos_col").set_value(x).run()
    assert_ok(at)
    b = conv_breakdown(model, tr, "_conv_stem", channel, y, x)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Computed here, by hand"] == f"{b.value:.5f}"
    assert metrics["Recorded by the network"] == f"{b.recorded:.5f}"
    assert abs(b.value - b.recorded) < 1e-5
    shown = conv_sandbox.shown_breakdown(b)  # rounded so that the shown sums add up
    red = f"{shown.sums[0]:.{shown.decimals}f}"
    line = markdown_with(at, "Sums of the channels")
    assert f"red {red}" in line or f"red ({red})" in line
    assert f"**{b.value:.{shown.decimals}f}**" in line
    pad = conv_sandbox.padding_cells(b.rows, b.cols, 224, 224)
    notes = [i.value for i in at.info if "padding" in i.value]
    if pad.any():  # TF "SAME": the last row and column read zeros below and to the right
        cells = int(pad.sum())
        assert notes and f"Here {cells} {'cell' if cells == 1 else 'cells'} of the window" in notes[0]
        top, bottom = tr["_conv_stem"].meta["padding"][:2]
        assert f"{top} {'row' if top == 1 else 'rows'} on top, {bottom} below" in notes[0]
    else:
        assert not notes
    # at 224 Lite0 pads 0 on top and 1 below: only the last map row and column read padding
    assert "Windows in map rows 111 and columns 111 hang over the picture" in markdown_with(at, "Windows")


def test_resnet_pads_on_every_side_and_random_filters_are_called_random():
    at = open_page(PAGE, model_cnn="resnet18", conv_random=True)
    assert_ok(at)
    assert "These numbers are random" in "\n".join(c.value for c in at.caption)
    assert "learned in training" not in "\n".join(c.value for c in at.caption)
    # conv1: 7×7, stride 2, padding 3 on every side: the first two and the last map rows read zeros
    assert "Windows in map rows 0–1, 111 and columns 0–1, 111 hang over" in markdown_with(at, "Windows")
    at.number_input(key="conv_pos_row").set_value(0).run()
    notes = [i.value for i in at.info if "padding" in i.value]
    assert notes and "adds 3 rows of zeros above and below and 3 columns on the left and right" in notes[0]
    assert "SAME" not in notes[0]


def test_the_three_formulas_use_the_layers_numbers(lite0):
    model, tr = lite0
    at = open_page(PAGE)
    step, size = tr["_conv_stem"], tr["input"].shape[-1]
    meta, (_, f, h, w) = step.meta, step.shape
    top, bottom = meta["padding"][:2]
    (k, _), (s, _), (d, _) = meta["kernel"], meta["stride"], meta["dilation"]
    out = output_size(size, k, s, (top, bottom), d)
    assert out == h
    formula = f"⌊({size} + {top} + {bottom} − {d}·({k} − 1) − 1) / {s}⌋ + 1 = **{out}**"
    assert formula in markdown_with(at, "**Output size**")
    params = conv_params(3, f, (k, k), 1, bias=False)
    assert params == sum(p.numel() for p in model._conv_stem.parameters()) == meta["params"]
    assert f"= **{params:,}**" in markdown_with(at, "Parameters")
    macs = conv_macs((f, h, w), 3, (k, k))
    assert macs == meta["macs"] and f"= **{macs:,}**" in markdown_with(at, "multiply-accumulates")


def test_stride_padding_dilation_sandbox_on_the_photo():
    at = open_page(PAGE)
    settings = {"conv_sb_k": 3, "conv_sb_stride": 2, "conv_sb_padding": 1, "conv_sb_dilation": 2}
    for key, value in settings.items():
        at.slider(key=key).set_value(value).run()
    at.radio(key="conv_sb_kind").set_value("vertical_edges").run()
    at.slider(key="conv_sb_cell").set_value(20).run()
    assert_ok(at)
    out = output_size(32, 3, 2, 1, 2)
    assert f"⌊(32 + 2·1 − 2·(3 − 1) − 1) / 2⌋ + 1 = **{out}**" in markdown_with(at, "Output size = ⌊")
    steps = encoders.preprocess_photo(load_sample("chelsea"), "efficientnet_lite0")
    image = conv_sandbox.small_grayscale(steps.cropped, 32)
    kernel = conv_sandbox.sandbox_kernels(3)["vertical_edges"]
    res = conv_sandbox.sandbox_conv(image, kernel, stride=2, padding=1, dilation=2)
    cy, cx = divmod(20 - 1, out)
    captions = [c for image in at.image for c in image.captions]
    assert res.output.shape == (out, out)
    assert any(c.endswith(f"cell ({cy}, {cx}) = {res.output[cy, cx]:.3f}") for c in captions)


def test_sandbox_says_when_the_kernel_does_not_fit():
    at = open_page(PAGE)
    at.radio(key="conv_sb_source").set_value("pocket").run()
    at.slider(key="conv_sb_k").set_value(7).run()
    assert_ok(at)
    assert output_size(4, 7) < 1
    assert any("does not fit" in w.value for w in at.warning)
    at.slider(key="conv_sb_padding").set_value(2).run()  # 4 + 2·2 = 8 cells: now it fits, 2 per side
    assert not any("does not fit" in w.value for w in at.warning)
    assert f"= **{output_size(4, 7, 1, 2)}** per side" in markdown_with(at, "Output size = ⌊")


def test_random_weights_and_russian():
    at = open_page(PAGE, lang="ru")
    assert_ok(at)
    at.toggle(key="conv_random").set_value(True).run()
    assert_ok(at)
    assert at.warning, "an untrained network is labelled as such"
    metrics = [m.value for m in at.metric]
    assert metrics[0] == metrics[1] or abs(float(metrics[0]) - float(metrics[1])) < 2e-5


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_the_question_reveals_the_first_layers_own_shape(lite0, lang):
    from conftest import wrong_then_right

    from vision_core.cnn.convolution import conv_shape_question

    _, tr = lite0
    step = tr["_conv_stem"]
    q = conv_shape_question(step.meta, tuple(tr["input"].shape[1:]))
    assert q.correct == tuple(step.shape[1:]) == (32, 112, 112)  # what the network recorded
    at = open_page(PAGE, lang=lang)
    assert_ok(at)
    said = wrong_then_right(at, "conv_shape", q, "32 × 112 × 112", lang)
    assert ("⌊(224 + 0 + 1 − 1·(3 − 1) − 1) / 2⌋ + 1 = **112" in said) or lang == "ru"
