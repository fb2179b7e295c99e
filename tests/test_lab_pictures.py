"""The lab's and the attention page's pictures: label colours told apart, legends in order, cluster
outlines round their photos, matrix separators and colour range from the data, overlays that leave
the photo visible where a map is at its lowest."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest
from matplotlib.path import Path
from plotly.colors import hex_to_rgb

from ui.charts import lab as lab_charts
from ui.charts.palette import LABELS, label_styles
from ui.charts.scatter import scatter_figure
from vision_core import figures
from vision_core.embeddings import neighbours, projection


def cielab(hex_colour: str) -> np.ndarray:
    """sRGB → CIELAB (D65), by the CIE formulas."""
    c = np.array(hex_to_rgb(hex_colour)) / 255
    c = np.where(c > 0.04045, ((c + 0.055) / 1.055) ** 2.4, c / 12.92)
    m = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
    xyz = m @ c / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def test_label_colours_are_told_apart_and_styles_never_repeat_within_sixty_labels():
    lab = np.array([cielab(c) for c in LABELS])
    distance = np.linalg.norm(lab[:, None] - lab[None], axis=2)
    np.fill_diagonal(distance, np.inf)
    assert distance.min() > 20  # CIE76 ΔE; the old 48 colours had pairs under 10
    styles = label_styles([f"label {i}" for i in range(60)])
    assert len(set(styles.values())) == 60


def test_legend_in_natural_order_and_same_style_whatever_the_gallery_order():
    groups = ["tulip", "cluster 10", "Daisy", "cluster 2", "tulip", "daisy"]
    fig = go.Figure(scatter_figure(np.random.default_rng(0).normal(size=(6, 2)), groups, groups).to_dict())
    names = [t.name for t in fig.data if t.showlegend is not False]
    assert names == ["cluster 2", "cluster 10", "Daisy", "daisy", "tulip"]
    assert label_styles(groups) == label_styles(list(reversed(groups)))


def test_cluster_outlines_go_round_their_photos_and_are_drawn_under_label_colours():
    rng = np.random.default_rng(1)
    coords = rng.normal(size=(40, 2))
    clusters = np.array([0] * 20 + [1] * 15 + [2] * 4 + [-1])
    clusters[38] = 3  # a cluster of one photo gets an outline too
    rings = projection.cluster_outlines(coords, clusters)
    assert sorted(rings) == [0, 1, 2, 3]  # noise has none
    for c, ring in rings.items():
        assert np.allclose(ring[0], ring[-1])
        assert Path(ring).contains_points(coords[clusters == c]).all()
    labels = [f"l{i % 3}" for i in range(40)]
    outlines = {f"cluster {c}": r for c, r in rings.items()}
    fig = go.Figure(scatter_figure(coords, labels, labels, outlines=outlines).to_dict())
    outline_traces = [t for t in fig.data if t.legendgroup == "outlines"]
    assert len(outline_traces) == 4 and sum(bool(t.showlegend) for t in outline_traces) == 1
    label_traces = [t for t in fig.data if t.legendgroup != "outlines"]
    assert [t.name for t in label_traces] == ["l0", "l1", "l2"]
    assert len({t.marker.color for t in label_traces}) == 3


def test_matrix_groups_range_and_separators():
    labels = ["b", "a", "c", "a", "b", "a"]
    order = neighbours.label_order(labels)
    groups = neighbours.label_groups([labels[i] for i in order])
    assert groups == [("a", 0, 3), ("b", 3, 5), ("c", 5, 6)]
    sims = neighbours.similarities(np.random.default_rng(2).normal(size=(6, 5)))
    lo, hi = neighbours.off_diagonal_range(sims)
    off = sims[~np.eye(6, dtype=bool)]
    assert (lo, hi) == (off.min(), off.max()) and hi < 1
    names = [str(i) for i in range(6)]
    fig = go.Figure(lab_charts.similarity_matrix(sims, names, groups, (lo, hi), "cos").to_dict())
    heat = fig.data[0]
    assert (heat.zmin, heat.zmax) == (lo, hi) and heat.colorbar.title.text == "cos"
    lines = {(s.y0 if s.xref == "paper" else s.x0) for s in fig.layout.shapes}
    assert lines == {2.5, 4.5} and len(fig.layout.shapes) == 4  # rows and columns
    many = [f"p{i}" for i in range(80)]
    big = go.Figure(
        lab_charts.vectors_heatmap(np.zeros((80, 3)), many, [("a", 0, 50), ("b", 50, 80)], "x").to_dict()
    )
    assert [s.y0 for s in big.layout.shapes] == [49.5]  # a separator past 60 rows too
    assert list(big.layout.yaxis.ticktext) == ["a", "b"]


@pytest.mark.parametrize("shape", [(4, 4), (3, 5)])
def test_overlay_leaves_the_photo_where_the_map_is_lowest(shape):
    rng = np.random.default_rng(3)
    photo = rng.integers(0, 256, size=(60, 60, 3), dtype=np.uint8)
    grid = rng.random(shape)
    if 60 % shape[0] == 0 and 60 % shape[1] == 0:
        out = figures.overlay_grid(photo, grid, alpha=0.75)
    else:
        up = np.repeat(np.repeat(grid, 60 // shape[0] + 1, axis=0), 60 // shape[1] + 1, axis=1)[:60, :60]
        grid = up
        out = figures.overlay(photo, up, alpha=0.75)
    weights = figures.overlay_weights(grid, 0.75)
    assert weights.min() == 0.0 and weights.max() == 0.75
    low = np.unravel_index(np.argmin(grid), grid.shape)
    rows, cols = grid.shape
    cell = (
        slice(low[0] * 60 // rows, (low[0] + 1) * 60 // rows),
        slice(low[1] * 60 // cols, (low[1] + 1) * 60 // cols),
    )
    np.testing.assert_array_equal(out[cell], photo[cell])  # the photo as it is
    high = np.unravel_index(np.argmax(grid), grid.shape)
    top = figures.colorize(grid, "inferno")[high].astype(float)
    y, x = high[0] * 60 // rows, high[1] * 60 // cols
    expected = np.round(0.25 * photo[y, x] + 0.75 * top)
    np.testing.assert_array_equal(out[y, x], expected)
    key = figures.overlay_key(width=100, height=14)
    assert set(key[:, 0].ravel()) == {200, 240}  # the low end: the checkerboard ground, uncovered
    assert set(key[:, -1].ravel()) != set(key[:, 0].ravel())  # the high end: covered by colour


def test_head_maps_fill_their_rows_four_at_most():
    from ui.charts.attention import per_row

    assert [per_row(n) for n in (3, 4, 6, 8, 12, 16)] == [3, 4, 3, 4, 4, 4]
