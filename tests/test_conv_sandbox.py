"""The convolution lesson's sandboxes, checked against sums written out window by window here, and the
helpers that read the real first layer checked against the network's own numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from vision_core import figures, load_model, preprocess, trace
from vision_core.cnn import conv_sandbox
from vision_core.cnn.convolution import conv_breakdown, output_size
from vision_core.cnn.pocket import POCKET_FILTERS, POCKET_IMAGE, sliding_windows
from vision_core.samples import load_sample


def direct_conv(image, kernel, stride=1, padding=0, dilation=1):
    """Cross-correlation by its definition: out[y, x] = Σ in[y·s + i·d, x·s + j·d] · k[i, j], zero-padded."""
    img = np.pad(np.asarray(image, dtype=np.float64), padding)
    k = np.asarray(kernel, dtype=np.float64)
    kh, kw = k.shape
    out_h = (img.shape[0] - dilation * (kh - 1) - 1) // stride + 1
    out_w = (img.shape[1] - dilation * (kw - 1) - 1) // stride + 1
    out = np.zeros((out_h, out_w))
    for y in range(out_h):
        for x in range(out_w):
            out[y, x] = sum(
                img[y * stride + i * dilation, x * stride + j * dilation] * k[i, j]
                for i in range(kh)
                for j in range(kw)
            )
    return out


@pytest.mark.parametrize("name", list(POCKET_FILTERS))
def test_pocket_output_grows_window_by_window_into_the_direct_sums(name):
    kernel = POCKET_FILTERS[name]
    windows = sliding_windows(POCKET_IMAGE, kernel)
    expected = direct_conv(POCKET_IMAGE, kernel)
    for done in range(len(windows) + 1):
        so_far = conv_sandbox.output_so_far(windows, done, expected.shape)
        filled = ~np.isnan(so_far)
        assert filled.sum() == done
        assert filled.ravel()[:done].all()  # reading order
        np.testing.assert_array_equal(so_far[filled], expected[filled])
    # every window's value is the sum of its products, which are its patch times the filter
    for w in windows:
        np.testing.assert_array_equal(w.patch, POCKET_IMAGE[w.y : w.y + 2, w.x : w.x + 2])
        assert w.value == (w.patch * kernel).sum() == expected[w.y, w.x]


def test_an_edited_pocket_picture_changes_only_the_windows_that_read_it():
    edited = POCKET_IMAGE.copy()
    edited[0, 0] = 7
    before = direct_conv(POCKET_IMAGE, POCKET_FILTERS["A"])
    after = conv_sandbox.sandbox_conv(edited, POCKET_FILTERS["A"]).output
    assert after[0, 0] - before[0, 0] == (7 - POCKET_IMAGE[0, 0]) * POCKET_FILTERS["A"][0, 0]
    np.testing.assert_array_equal(after.ravel()[1:], before.ravel()[1:])


def test_grid_from_table_turns_blanks_into_zeros():
    table = pd.DataFrame({"0": [1.0, None], "1": [2.5, np.nan]})
    np.testing.assert_array_equal(conv_sandbox.grid_from_table(table), [[1.0, 2.5], [0.0, 0.0]])
    np.testing.assert_array_equal(conv_sandbox.grid_from_table(np.eye(2)), np.eye(2))


def test_small_grayscale_uses_luma_and_block_averages():
    solid = Image.new("RGB", (64, 64), (200, 100, 50))
    grey = conv_sandbox.small_grayscale(solid, 16)
    assert grey.shape == (16, 16)
    luma = round((200 * 299 + 100 * 587 + 50 * 114) / 1000)  # ITU-R 601, as PIL's "L"
    np.testing.assert_allclose(grey, luma / 255)
    halves = Image.new("L", (4, 4), 0)
    halves.paste(255, (0, 0, 2, 4))  # left half white
    np.testing.assert_allclose(conv_sandbox.small_grayscale(halves, 2), [[1, 0], [1, 0]])


@pytest.mark.parametrize("k", range(1, 8))
def test_sandbox_kernels(k):
    kernels = conv_sandbox.sandbox_kernels(k)
    assert kernels["average"].sum() == pytest.approx(1) and kernels["average"].shape == (k, k)
    if k == 1:
        assert list(kernels) == ["average"]
        return
    v, h = kernels["vertical_edges"], kernels["horizontal_edges"]
    assert v.sum() == 0 and h.sum() == 0
    np.testing.assert_array_equal(v, h.T)
    np.testing.assert_array_equal(v[:, 0], -1) and np.testing.assert_array_equal(v[:, -1], 1)


@pytest.mark.parametrize("k,s,p,d", [(3, 1, 0, 1), (3, 2, 1, 1), (2, 3, 2, 2), (5, 1, 0, 2), (1, 4, 3, 1)])
def test_sandbox_conv_matches_the_formula_and_the_direct_sums(k, s, p, d):
    rng = np.random.default_rng(k * 100 + s * 10 + p)
    image = rng.random((13, 13))
    kernel = rng.standard_normal((k, k))
    res = conv_sandbox.sandbox_conv(image, kernel, stride=s, padding=p, dilation=d)
    assert res.fits
    assert res.out_size == (output_size(13, k, s, p, d),) * 2 == res.output.shape
    assert res.span == d * (k - 1) + 1
    np.testing.assert_allclose(res.output, direct_conv(image, kernel, s, p, d), atol=1e-12)


def test_a_kernel_that_does_not_fit_gives_no_output():
    res = conv_sandbox.sandbox_conv(POCKET_IMAGE, np.ones((3, 3)), dilation=3)  # spans 7 cells of 4
    assert not res.fits and res.output is None and res.out_size[0] <= 0 and res.span == 7
    with pytest.raises(ValueError):
        conv_sandbox.sandbox_conv(POCKET_IMAGE, np.ones((2, 2)), stride=0)


def test_footprint_marks_the_cells_one_output_reads():
    image = np.linspace(0, 1, 36).reshape(6, 6)
    factor = 5
    pic = conv_sandbox.footprint_picture(image, 3, stride=2, padding=1, dilation=2, y=1, x=0, factor=factor)
    assert pic.shape == (8 * factor, 8 * factor, 3)
    centres = pic[
        factor // 2 :: factor, factor // 2 :: factor
    ]  # one pixel inside each cell, off the grid lines
    rgb = centres.astype(int)
    red = rgb[..., 0] - rgb[..., 1] > 60  # grey cells have R = G, padding has R < G
    rows, cols = conv_sandbox.window_cells(3, 2, 2, 1, 0)
    expected = np.zeros((8, 8), dtype=bool)
    expected[np.ix_(rows, cols)] = True
    np.testing.assert_array_equal(red, expected)
    ring = np.ones((8, 8), dtype=bool)
    ring[1:7, 1:7] = False
    blue = (centres == conv_sandbox.PADDING_COLOR).all(axis=-1)
    np.testing.assert_array_equal(blue, ring & ~expected)


def test_output_picture_keeps_the_cell_scale():
    out = np.arange(12.0).reshape(3, 4) - 5
    pic = conv_sandbox.output_picture(out, signed=True, y=0, x=0, factor=6)
    assert pic.shape == (18, 24, 3)
    assert conv_sandbox.cell_scale(32, 300) == 9 and conv_sandbox.cell_scale(400, 300) == 1


def test_padding_cells():
    mask = conv_sandbox.padding_cells(np.array([-1, 0, 1]), np.array([3, 4, 5]), 5, 5)
    np.testing.assert_array_equal(mask, [[True, True, True], [False, False, True], [False, False, True]])


def test_tile_box_finds_each_tile_of_a_mosaic():
    maps = np.random.default_rng(0).random((7, 5, 4))
    mosaic = figures.mosaic(maps, pad=2)
    for i in range(7):
        left, top, right, bottom = conv_sandbox.tile_box(i, 7, (5, 4), pad=2)
        np.testing.assert_allclose(mosaic[top:bottom, left:right], figures.normalize(maps[i]))
    assert conv_sandbox.tile_box(3, 7, (5, 4), pad=2, scale=3) == tuple(
        3 * v for v in conv_sandbox.tile_box(3, 7, (5, 4), pad=2)
    )
    with pytest.raises(IndexError):
        conv_sandbox.tile_box(7, 7, (5, 4))


@pytest.fixture(scope="module")
def lite0():
    model = load_model("efficientnet_lite0")
    tr = trace(model, preprocess(load_sample("chelsea"), "efficientnet_lite0"), stop_after=["_conv_stem"])
    return model, tr


def test_channel_sums_add_up_to_the_recorded_value(lite0):
    model, tr = lite0
    b = conv_breakdown(model, tr, "_conv_stem", 9, 111, 111)
    sums = conv_sandbox.channel_sums(b)
    assert sums.shape == (3,)
    np.testing.assert_allclose(sums, (b.patch * b.kernel).sum(axis=(1, 2)))
    assert sums.sum() + b.bias == pytest.approx(b.recorded, abs=1e-5)
    # TF "SAME" padding of the 224-pixel input: one zero row below and one zero column on the right
    pad = conv_sandbox.padding_cells(b.rows, b.cols, 224, 224)
    assert pad.sum() == 5 and pad[2].all() and pad[:, 2].all()
    assert np.all(b.patch[:, pad] == 0)


def test_layer_weights_and_the_filters_mosaic(lite0):
    model, _ = lite0
    w = conv_sandbox.layer_weights(model, "_conv_stem")
    assert w.shape == (32, 3, 3, 3)
    np.testing.assert_array_equal(w, model._conv_stem.weight.detach().double().numpy())
    tiles = figures.filters_mosaic(w)
    left, top, right, bottom = conv_sandbox.tile_box(31, 32, (3, 3))
    assert tiles[top:bottom, left:right].shape == (3, 3, 3)


def test_sum_terms_brackets_the_negative_terms():
    assert conv_sandbox.sum_terms([1.0, -2.0, 0.5]) == "1 + (-2) + 0.5"
    assert conv_sandbox.sum_terms([0.25, -0.125], "{:.4f}", names=["red", "green"]) == (
        "red 0.2500 + green (-0.1250)"
    )


def test_filters_and_maps_pictures_outline_the_chosen_tile(lite0):
    model, tr = lite0
    w = conv_sandbox.layer_weights(model, "_conv_stem")
    picture = conv_sandbox.filters_picture(w, 5, side=480)
    tiles = figures.filters_mosaic(w)
    scale = conv_sandbox.cell_scale(tiles.shape[1], 480)
    assert picture.shape[:2] == (tiles.shape[0] * scale, tiles.shape[1] * scale)
    left, top, right, bottom = conv_sandbox.tile_box(5, 32, (3, 3), scale=scale)
    red = (255, 45, 85)
    assert tuple(picture[top, left]) == red and tuple(picture[bottom - 1, right - 1]) == red
    maps = tr.array("_conv_stem")[0]
    mosaic = conv_sandbox.outline_map(conv_sandbox.maps_mosaic(maps), 0, len(maps), maps.shape[1:])
    left, top, right, bottom = conv_sandbox.tile_box(0, len(maps), maps.shape[1:], pad=3)
    assert tuple(mosaic[top, left]) == (255, 45, 85)
    plain = figures.colorize_mosaic(figures.mosaic(maps, pad=3))
    assert mosaic.shape == plain.shape
    np.testing.assert_array_equal(
        mosaic[top + 4 : bottom - 4, left + 4 : right - 4], plain[top + 4 : bottom - 4, left + 4 : right - 4]
    )


def test_sandbox_counts_its_cells_in_reading_order():
    res = conv_sandbox.sandbox_conv(np.zeros((7, 7)), np.ones((3, 3)), stride=2, padding=1)
    assert res.out_size == (4, 4) and res.cells == 16 and res.padded == 9
    assert [res.cell(n) for n in (1, 4, 5, 16)] == [(0, 0), (0, 3), (1, 0), (3, 3)]
    with pytest.raises(ValueError):
        res.cell(17)
    none = conv_sandbox.sandbox_conv(POCKET_IMAGE, np.ones((7, 7)))
    assert not none.fits and none.cells == 0 and none.padded == 4
    with pytest.raises(ValueError, match="2-D"):
        conv_sandbox.sandbox_conv(np.zeros((2, 4, 4)), np.ones((2, 2, 2)))


def adds_up(terms: list[str], total: str) -> bool:
    """Whether the written terms add up to the written total, digit for digit (no float error)."""
    from decimal import Decimal

    return sum(Decimal(t.strip("()")) for t in terms) == Decimal(total)


def test_sum_terms_never_writes_a_negative_zero():
    written = conv_sandbox.sum_terms([0.0, -0.0, 1.0, -0.00001, -2.0], "{:.3f}")
    assert written == "0.000 + 0.000 + 1.000 + 0.000 + (-2.000)"
    assert "-0" not in conv_sandbox.sum_terms([0.0, -0.0, 1.0])
    assert "+ -" not in written and "(-0" not in written


@pytest.mark.parametrize("n", [3, 9, 27, 49])
def test_rounded_terms_add_up_to_the_rounded_total(n):
    rng = np.random.default_rng(n)
    for _ in range(200):
        x = rng.normal(scale=0.3, size=n)
        x[0] = 0.0  # a padding product: exact, must stay 0
        shown = conv_sandbox.rounded_to_sum(x, x.sum(), 3)
        assert adds_up([f"{v:.3f}" for v in shown], f"{x.sum():.3f}")
        assert np.abs(shown - np.round(x, 3)).max() <= 0.001 + 1e-12  # at most one unit in the last place
        assert shown[0] == 0.0


def test_plain_rounding_would_not_add_up_but_the_shown_terms_do():
    x = np.array([0.1234, 0.1234, 0.1234, 0.1234])  # 0.123 × 4 = 0.492, the sum rounds to 0.494
    assert not adds_up([f"{v:.3f}" for v in x], f"{x.sum():.3f}")
    shown = conv_sandbox.rounded_to_sum(x, x.sum(), 3)
    assert adds_up([f"{v:.3f}" for v in shown], f"{x.sum():.3f}")


def test_a_real_breakdown_is_shown_so_that_every_sum_adds_up(lite0):
    model, tr = lite0
    for channel, y, x in [(9, 111, 111), (5, 40, 77), (0, 0, 0), (31, 57, 12)]:
        b = conv_breakdown(model, tr, "_conv_stem", channel, y, x)
        s = conv_sandbox.shown_breakdown(b)
        fmt = f"{{:.{s.decimals}f}}".format
        for products, total in zip(s.products, s.sums, strict=True):
            assert adds_up([fmt(v) for v in products.ravel()], fmt(total))
        assert adds_up([fmt(v) for v in [*s.sums, s.bias]], fmt(s.value))
        assert fmt(s.value) == fmt(b.value)  # the total is the value's own rounding
        np.testing.assert_allclose(s.products, b.products, atol=10.0**-s.decimals + 1e-12)
