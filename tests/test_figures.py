"""Colour maps read from their table give exactly matplotlib's colours."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib import colormaps

from vision_core import figures


@pytest.mark.parametrize("name", ["viridis", "gray", "RdBu_r", "magma"])
def test_the_table_gives_matplotlibs_colours_edges_included(name):
    values = np.random.default_rng(0).random((64, 80))
    values.flat[:6] = [0.0, 1.0, 0.99999, 1 / 256, -0.1, 1.2]  # the ends, a boundary, outside [0, 1]
    expected = (colormaps[name](values)[..., :3] * 255).round().astype(np.uint8)
    np.testing.assert_array_equal(figures.colorize(values, name, vmin=0.0, vmax=1.0)[1:], expected[1:])
    np.testing.assert_array_equal(figures._through(name, values), expected)


def test_a_mosaic_keeps_its_padding_white():
    maps = np.random.default_rng(1).random((5, 4, 4))
    rgb = figures.colorize_mosaic(figures.mosaic(maps, pad=2))
    assert (rgb[:, 4:6] == 255).all()  # the gap between the first and second tile
