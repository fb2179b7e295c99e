"""Feature maps of the deeper CNN lessons: a stage's channels as a mosaic, the two inputs of a
residual add, the pocket grid pooled three ways and its GAP, and a real down-sampling window
over the map it reads (one value's receptive field on the photo is ui/widgets/linked.py).  Only
arrays a page got from vision_core are drawn; no number is made here."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import streamlit as st

from lessons import Lesson
from ui.charts.grids import number_grid, number_grid_figure
from ui.charts.layout import draw
from ui.charts.overlays import enlarge_rgb, map_image, picture
from ui.charts.palette import HIGHLIGHT, SECOND, SIGNED, scale_for, shared_bound
from vision_core import figures
from vision_core.cnn import conv_sandbox
from vision_core.cnn.convolution import ConvBreakdown
from vision_core.cnn.pocket import POOL_KERNEL, POOL_STRIDE, PocketCNN, Pooling
from vision_core.cnn.pooling import PoolWindow
from vision_core.cnn.stages import Box, ResidualAdd, format_shape

POCKET_CELL = 52  # pixels a pocket grid's cell is drawn: every pocket grid at one scale


def _box(box: Box) -> tuple[int, int, int, int, str]:
    return (box.top, box.left, box.bottom, box.right, HIGHLIGHT)


def channel_mosaic(fmap: np.ndarray, shown: Sequence[int], text: Lesson, stage: str) -> None:
    """The ``shown`` channels of a (C, H, W) stage output side by side, eight a row, with a caption
    that lists them."""
    st.image(enlarge_rgb(figures.colorize_mosaic(figures.mosaic(fmap[list(shown)], cols=8))), width="stretch")
    mosaic = {"n": len(shown), "channels": len(fmap), "shape": format_shape(fmap.shape)}
    st.caption(text("mosaic_caption", stage=stage, list=", ".join(str(c) for c in shown), **mosaic))


def residual_inputs(
    columns: Sequence, res: ResidualAdd, channel: int, cell: tuple[int, int], text: Lesson
) -> None:
    """The shortcut and the branch of a residual add, one channel each on the add's colour scale,
    with the chosen cell outlined."""
    y, x = cell
    vmax = res.scale(channel)
    for col, values, label, step in (
        (columns[0], res.identity, "identity_title", res.identity_step),
        (columns[1], res.branch, "branch_title", res.branch_step),
    ):
        image = map_image(values[channel], vmax=vmax, cmap=str(SIGNED["cmap"]), symmetric=True)
        marked = [(y, x, y, x, HIGHLIGHT)]
        fig = picture(image, grid=values.shape[1:], boxes=marked, title=text(label, step=step), height=340)
        draw(col, fig, f"deeper_{label}")


def pocket_pooling(
    grid: np.ndarray,
    window: PoolWindow,
    pooled: Mapping[Pooling, np.ndarray],
    text: Lesson,
    kernel: int,
    stride: int,
) -> None:
    """The pocket grid with one window outlined, beside its max-pool, average pool and 2×2 sum with
    stride 2 (``pooled`` keyed "max", "avg", "stride2"), the window's output cell outlined: one
    colour range for all four, and one cell size, so that a smaller grid is drawn smaller."""
    columns = st.columns(4)
    bound = shared_bound(grid, *pooled.values())
    in_title = text("input_title", shape=format_shape(grid.shape))
    with columns[0]:
        box = [(*window.bounds, HIGHLIGHT)]
        number_grid(grid, fmt="{:g}", boxes=box, title=in_title, cell=POCKET_CELL, **scale_for(grid, bound))
    cell = (window.y, window.x, window.y, window.x, HIGHLIGHT)
    methods: tuple[tuple[Pooling, str], ...] = (
        ("max", "max_title"),
        ("avg", "avg_title"),
        ("stride2", "sum_title"),
    )
    for col, (op, heading) in zip(columns[1:], methods, strict=True):
        title = text(heading, shape=format_shape(pooled[op].shape), kernel=kernel, stride=stride)
        with col:
            scale = scale_for(pooled[op], bound)
            number_grid(pooled[op], fmt="{:g}", boxes=[cell], title=title, cell=POCKET_CELL, **scale)


def window_on_map(container, before: np.ndarray, box: Box, title: str) -> None:
    """The map a down-sampling step reads, with the part of one window that lies on it outlined."""
    fig = picture(map_image(before), grid=before.shape, height=420, boxes=[_box(box)], title=title)
    draw(container, fig, "pool_before")


def pooled_window(container, window: PoolWindow, pad: np.ndarray, text: Lesson) -> None:
    """A pooling window's numbers (padding blank), the one max-pooling kept marked."""
    src = window.source_in_window
    marks = [] if src is None else [(*src, *src, SECOND)]
    missing: dict[str, Any] = {"pad": pad, "missing": text("pad_label"), "height": 300}
    fig = number_grid_figure(window.patch, fmt="{:.3f}", boxes=marks, title=text("window_title"), **missing)
    draw(container, fig, "pool_window")


def strided_window(window: ConvBreakdown, pad: np.ndarray, text: Lesson) -> None:
    """A strided convolution's window over one channel: its numbers (padding blank), the learned
    kernel and their products, side by side."""
    a, k_col, p_col = st.columns(3)
    missing: dict[str, Any] = {"pad": pad, "missing": text("pad_label"), "height": 300}
    signed: dict[str, Any] = {"fmt": "{:.2f}", "colorscale": SIGNED["cmap"], "symmetric": True}
    patch = number_grid_figure(window.patch[0], fmt="{:.2f}", title=text("window_title"), **missing)
    draw(a, patch, "pool_window")
    kernel = number_grid_figure(window.kernel[0], title=text("kernel_title"), height=300, **signed)
    draw(k_col, kernel, "pool_kernel")
    products = number_grid_figure(window.products[0], title=text("products_title"), **missing, **signed)
    draw(p_col, products, "pool_products")


def pocket_gap(pocket: PocketCNN, text: Lesson, *, edited: bool) -> None:
    """The pocket example's last step: each filter's pooled map beside the vector GAP makes of
    them (one number per filter), each number's average written out, and what the vector says.
    Every grid on the scale the pocket's feature maps share on the pages before."""
    bound, names = shared_bound(*pocket.conv.values()), list(pocket.pooled)
    source = text("numbers_edited" if edited else "numbers_original")
    shape = format_shape(next(iter(pocket.pooled.values())).shape)
    st.markdown(text("pocket_intro", source=source, kernel=POOL_KERNEL, stride=POOL_STRIDE, shape=shape))
    columns = st.columns(len(names) + 2)
    for col, name in zip(columns, names, strict=False):
        with col:
            grid, title = pocket.pooled[name], text("pooled_title", name=name, shape=shape)
            number_grid(grid, fmt="{:g}", title=title, cell=POCKET_CELL, **scale_for(grid, bound))
    with columns[len(names)]:
        vector = pocket.vector[None, :]  # (1, filters)
        title = text("vector_title", count=len(names))
        number_grid(vector, fmt="{:g}", title=title, cell=POCKET_CELL, **scale_for(vector, bound))
    num = lambda v: text.num(v, "g")  # noqa: E731
    for name, value in zip(names, pocket.vector, strict=True):
        grid = pocket.pooled[name]
        terms = conv_sandbox.sum_terms(grid.ravel(), num)
        st.markdown(text("gap_line", name=name, terms=terms, n=grid.size, value=float(value)))
    top = max(range(len(names)), key=lambda i: pocket.vector[i])
    ties = int((pocket.vector == pocket.vector[top]).sum())
    verdict = text("pocket_equal") if ties > 1 else text("pocket_larger", top=names[top])
    values = text("vector_sep").join(num(v) for v in pocket.vector)
    st.markdown(text("pocket_vector", values=values, count=len(names), verdict=verdict))
    if all(g.size == 1 for g in pocket.pooled.values()):
        st.markdown(text("pocket_single"))
