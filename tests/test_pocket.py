"""The syllabus's pocket-size CNN, computed, and checked against arithmetic done independently here."""

from __future__ import annotations

import numpy as np

from vision_core.cnn.pocket import (
    POCKET_FILTERS,
    POCKET_IMAGE,
    is_syllabus,
    pool2d,
    run_pocket_cnn,
    sliding_windows,
)


def direct_conv(image, kernel, stride=1):
    kh, kw = kernel.shape
    out_h = (image.shape[0] - kh) // stride + 1
    out_w = (image.shape[1] - kw) // stride + 1
    return np.array(
        [
            [
                sum(
                    image[y * stride + i, x * stride + j] * kernel[i, j] for i in range(kh) for j in range(kw)
                )
                for x in range(out_w)
            ]
            for y in range(out_h)
        ]
    )


def test_pocket_convolution_equals_the_window_sums():
    result = run_pocket_cnn()
    for name, kernel in POCKET_FILTERS.items():
        np.testing.assert_array_equal(result.conv[name], direct_conv(POCKET_IMAGE, kernel))
        assert result.conv[name].shape == (3, 3)


def test_relu_pool_and_gap_follow_from_the_maps():
    result = run_pocket_cnn(pool="max", pool_kernel=2, pool_stride=1)
    for name in POCKET_FILTERS:
        np.testing.assert_array_equal(result.relu[name], np.maximum(result.conv[name], 0))
        r = result.relu[name]
        expected = np.array([[r[y : y + 2, x : x + 2].max() for x in range(2)] for y in range(2)])
        np.testing.assert_array_equal(result.pooled[name], expected)
    np.testing.assert_allclose(result.vector, [result.pooled[n].mean() for n in POCKET_FILTERS])


def test_sliding_windows_cover_every_output_in_reading_order():
    windows = sliding_windows(POCKET_IMAGE, POCKET_FILTERS["A"])
    assert [(w.y, w.x) for w in windows] == [(y, x) for y in range(3) for x in range(3)]
    conv = direct_conv(POCKET_IMAGE, POCKET_FILTERS["A"])
    assert [w.value for w in windows] == list(conv.ravel())
    w = windows[4]
    np.testing.assert_array_equal(w.patch, POCKET_IMAGE[1:3, 1:3])


def test_padding_and_stride_in_the_sliding_window():
    windows = sliding_windows(POCKET_IMAGE, POCKET_FILTERS["B"], stride=2, padding=1)
    assert len(windows) == 9  # (4 + 2 - 2) // 2 + 1 = 3 per side
    first = windows[0]
    assert list(first.rows) == [-1, 0] and first.patch[0, 0] == 0 and first.patch[1, 1] == POCKET_IMAGE[0, 0]


def test_pool_variants():
    m = np.array([[1.0, 2.0, 0.0], [3.0, 0.0, 5.0], [4.0, 1.0, 2.0]])
    np.testing.assert_array_equal(pool2d(m, "max", kernel=2, stride=1), [[3, 5], [4, 5]])
    np.testing.assert_array_equal(pool2d(m, "avg", kernel=2, stride=1), [[1.5, 1.75], [2.0, 2.0]])
    np.testing.assert_array_equal(pool2d(m, "stride2"), [[6.0]])


def test_the_lessons_pooling_is_two_by_two_stride_two_and_gap_averages_what_it_leaves():
    edited = POCKET_IMAGE.copy()
    edited[0, 0] = 9
    filters = {"A": POCKET_FILTERS["A"], "B": -POCKET_FILTERS["B"]}
    result = run_pocket_cnn(edited, filters)
    for i, (name, kernel) in enumerate(filters.items()):
        relu = np.maximum(direct_conv(edited, kernel), 0)
        pooled = np.array([[relu[:2, :2].max()]])  # one 2×2 window fits a 3×3 map at stride 2
        np.testing.assert_array_equal(result.pooled[name], pooled)
        assert result.vector[i] == pooled.mean()


def test_is_syllabus_tells_an_edited_grid():
    assert is_syllabus(POCKET_IMAGE, POCKET_FILTERS)
    edited = POCKET_IMAGE.copy()
    edited[3, 3] = 0
    assert not is_syllabus(edited, POCKET_FILTERS)
    assert not is_syllabus(POCKET_IMAGE, {**POCKET_FILTERS, "B": np.zeros((2, 2))})
