"""The CNN lessons' charts: a kernel's window taken apart as rows of number grids, a first layer's
filters beside its feature maps, the value computed by hand beside the recorded one, the
convolution sandbox's kernel, footprint and output, a channel's histogram under its activation
function, several activation functions side by side, the receptive field growing step by step, and
the GAP vector with the chosen channels marked.  Only arrays a page got from vision_core are drawn;
no number is made here."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import streamlit as st

from lessons import Lesson
from ui.charts.grids import number_grid
from ui.charts.layout import Built, figure, hline, png
from ui.charts.palette import HIGHLIGHT, MUTED, NEUTRAL, SIGNED, scale_for, shared_bound
from vision_core.cnn import conv_sandbox
from vision_core.cnn.conv_sandbox import SandboxConv, ShownBreakdown
from vision_core.cnn.convolution import ConvBreakdown
from vision_core.cnn.pocket import Window
from vision_core.cnn.stages import FieldGrowth

DASHES = ("solid", "dash", "dot", "dashdot", "longdash")


def grid_row(grids: Sequence[tuple[np.ndarray, dict]], container=st) -> None:
    """Number grids side by side in ``container``, one column each: (values, ``number_grid`` options)."""
    for col, (values, options) in zip(container.columns(len(grids)), grids, strict=True):
        with col:
            number_grid(values, **options)


def window_grids(
    picture: np.ndarray,
    kernel: np.ndarray,
    window: Window,
    so_far: np.ndarray,
    text: Lesson,
    name: str,
    bound: float,
) -> None:
    """One position of the pocket filter ``name``: the picture with the window outlined, the
    kernel, their products and the output so far with the window's cell outlined, on the scale
    ``bound`` that every pocket feature map shares (red positive, blue negative)."""
    cell = [(window.y, window.x, window.y, window.x, HIGHLIGHT)]
    box = [(*window.bounds, HIGHLIGHT)]
    output = {"fmt": "{:g}", "missing": "?", "boxes": cell, "title": text("grid_output", name=name)}
    output |= scale_for(so_far, bound)
    pixels = {"fmt": "{:g}", "boxes": box, "title": text("grid_picture")}
    grid_row(
        [
            (picture, pixels | scale_for(picture, shared_bound(picture))),
            (kernel, {"fmt": "{:g}", "title": text("grid_filter", name=name), **SIGNED}),
            (window.products, {"fmt": "{:g}", "title": text("grid_products"), **SIGNED}),
            (so_far, output),
        ]
    )


def filters_and_maps(
    text: Lesson,
    filters: np.ndarray,
    maps: np.ndarray,
    *,
    numbers: dict[str, int],
    channel: int,
    trained: bool,
) -> None:
    """A first layer's filters (a mosaic) beside the feature maps they make, ``channel`` outlined in
    both; ``numbers`` are the layer's filters, k, channels, height and width; the caption says
    whether the filters were learned or drawn at random."""
    left, right = st.columns(2)
    left.subheader(text("filters_heading"))
    left.image(png(filters), width="stretch")
    origin = text("filters_trained" if trained else "filters_random")
    left.caption(f"{text('filters_caption', channel=channel, **numbers)} {origin}")
    right.subheader(text("maps_heading"))
    right.image(maps, width="stretch")
    right.caption(text("maps_caption", channel=channel, **numbers))


def breakdown_grids(
    container, b: ShownBreakdown, pad: np.ndarray, names: Sequence[str], sums: np.ndarray, text: Lesson
) -> None:
    """A convolution's value taken apart, one row per input channel (``names``, each with its
    ``sums``): the patch under the kernel (padding cells blank), the kernel and their products,
    every number at the decimals of ``b`` (its products add up to its sums as written)."""
    fmt = f"{{:.{b.decimals}f}}"
    patch = {"fmt": fmt, "pad": pad, "missing": text("pad_cell"), **SIGNED}
    for i, (name, total) in enumerate(zip(names, sums, strict=True)):
        shown_sum = text.num(float(total), f".{b.decimals}f")
        grid_row(
            [
                (b.patch[i], {"title": text("grid_patch", channel=name), **patch}),
                (b.kernel[i], {"fmt": fmt, "title": text("grid_kernel"), **SIGNED}),
                (b.products[i], {"fmt": fmt, "title": text("grid_sum", sum=shown_sum), **SIGNED}),
            ],
            container,
        )


def computed_vs_recorded(b: ConvBreakdown, text: Lesson) -> None:
    """The value computed here by hand, the one the network recorded, and how far apart they are."""
    m1, m2, m3 = st.columns(3)
    m1.metric(text("metric_computed"), text.num(b.value, ".5f"))
    m2.metric(text("metric_recorded"), text.num(b.recorded, ".5f"))
    m3.metric(text("metric_difference"), text.num(b.difference, ".1e"))


def sandbox_output(
    container, output: np.ndarray, cell: tuple[int, int], *, signed: bool, factor: int, caption: str
) -> None:
    """The sandbox's output map: its numbers when few enough cells to write them in (8 a side), else
    a picture ``factor`` pixels a cell; the chosen cell outlined."""
    y, x = cell
    if max(output.shape) <= 8:
        with container:
            colours = SIGNED if signed else {"cmap": "gray"}
            number_grid(output, fmt="{:.2f}", boxes=[(y, x, y, x, HIGHLIGHT)], title=caption, **colours)
    else:
        picture = conv_sandbox.output_picture(output, signed=signed, y=y, x=x, factor=factor)
        container.image(png(picture), caption=caption)


def sandbox_cell(
    text: Lesson, image: np.ndarray, res: SandboxConv, cell: tuple[int, int], *, signed: bool
) -> None:
    """One output cell of the sandbox: the kernel's numbers, the padded input with the cells that
    output reads tinted, and the output with the cell outlined (one cell scale for input and output,
    so that their sizes compare)."""
    (y, x), k = cell, res.kernel.shape[0]
    factor = conv_sandbox.cell_scale(res.padded, 300)
    cols = st.columns([1, 2, 2])
    with cols[0]:
        number_grid(res.kernel, fmt="{:.2g}", title=text("grid_sb_kernel", k=k), **SIGNED)
    settings = {"stride": res.stride, "padding": res.padding, "dilation": res.dilation}
    footprint = conv_sandbox.footprint_picture(image, k, **settings, y=y, x=x, factor=factor)
    caption = text("footprint_caption", size=res.in_size[0], padded=res.padded, row=y, col=x)
    cols[1].image(png(footprint), caption=caption)
    assert res.output is not None  # a cell is only shown when the kernel fits
    out = {"out": res.out_size[0], "row": y, "col": x, "value": float(res.output[y, x])}
    caption = text(f"sb_out_caption_{'edges' if signed else 'average'}", **out)
    sandbox_output(cols[2], res.output, cell, signed=signed, factor=factor, caption=caption)


def _axes(x_title: str, y_title: str) -> dict:
    return {"xaxis": {"title": {"text": x_title}}, "yaxis": {"title": {"text": y_title}}}


def histogram_under_curve(
    hist: tuple[np.ndarray, np.ndarray, float],
    curve: tuple[np.ndarray, np.ndarray],
    names: tuple[str, str],
    titles: tuple[str, str, str],
    title: str,
    count_ticks: Sequence[tuple[float, str]] = (),
) -> Built:
    """A histogram (bar centres, counts, bar width) on a right-hand axis under a function's curve;
    ``titles`` are the input, output and count axes; ``count_ticks``, when given, the count axis's
    ticks as (value, label): round numbers, from ``activations.nice_ticks``."""
    (centres, counts, width), (xs, ys) = hist, curve
    bars = {
        "type": "bar",
        "x": centres,
        "y": counts,
        "width": width,
        "yaxis": "y2",
        "opacity": 0.6,
        "marker": {"color": MUTED},
        "name": names[0],
    }
    line = {"type": "scatter", "x": xs, "y": ys, "name": names[1], "line": {"color": HIGHLIGHT, "width": 3}}
    count_axis = {"overlaying": "y", "side": "right", "showgrid": False, "title": {"text": titles[2]}}
    if count_ticks:
        values, labels = zip(*count_ticks, strict=True)
        count_axis |= {"tickmode": "array", "tickvals": values, "ticktext": labels, "range": [0, max(values)]}
    axes = _axes(*titles[:2])
    return figure(
        [bars, line], 330, title, yaxis2=count_axis, legend={"orientation": "h", "y": -0.25}, **axes
    )


def function_curves(
    curves: Sequence[tuple[np.ndarray, np.ndarray]],
    names: Sequence[str],
    chosen: int,
    x_title: str,
    y_title: str,
    title: str,
) -> Built:
    """Several functions over one input range, each its own dash; the ``chosen`` one drawn thicker."""
    data = [
        {
            "type": "scatter",
            "x": xs,
            "y": ys,
            "name": name,
            "line": {"width": 4 if i == chosen else 2, "dash": DASHES[i % len(DASHES)]},
        }
        for i, ((xs, ys), name) in enumerate(zip(curves, names, strict=True))
    ]
    return figure(data, 380, title, legend={"orientation": "h", "y": -0.2}, **_axes(x_title, y_title))


def field_growth(growth: FieldGrowth, photo: int, line_label: str, y_title: str) -> Built:
    """The receptive field of each step as a bar, with the photo's side as a dashed line."""
    fields = [r.receptive_field for r in growth.rows]
    bars = {
        "type": "bar",
        "x": [r.name for r in growth.rows],
        "y": fields,
        "marker": {"color": NEUTRAL},
        "text": fields,
        "textposition": "outside",
    }
    shape, note = hline(photo, line_label, dash="dash", color=HIGHLIGHT, left=True)
    return figure([bars], 360, yaxis={"title": {"text": y_title}}).with_marks([shape], [note])


def marked_vector(values: np.ndarray, marked: Sequence[int], x_title: str, y_title: str) -> Built:
    """Every number of a vector as a bar, the ``marked`` ones in the highlight."""
    chosen = set(marked)
    colors = [HIGHLIGHT if c in chosen else NEUTRAL for c in range(len(values))]
    bars = {
        "type": "bar",
        "x": list(range(len(values))),
        "y": values,
        "marker": {"color": colors, "line": {"width": 0}},
    }
    return figure([bars], 300, bargap=0, **_axes(x_title, y_title))
