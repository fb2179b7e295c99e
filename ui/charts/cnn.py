"""The CNN lessons' charts: a kernel's window taken apart as rows of number grids, the convolution
sandbox's output, a channel's histogram under its activation function, several activation functions
side by side, the receptive field growing step by step, and the GAP vector with the chosen channels
marked.  Only arrays a page got from vision_core are drawn; no number is made here."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from ui.charts.grids import number_grid
from ui.charts.layout import figure
from ui.charts.palette import HIGHLIGHT, MUTED, NEUTRAL, SIGNED
from vision_core.cnn import conv_sandbox
from vision_core.cnn.convolution import ConvBreakdown
from vision_core.cnn.pocket import Window

DASHES = ("solid", "dash", "dot", "dashdot", "longdash")


def grid_row(grids: Sequence[tuple[np.ndarray, dict]], container=st) -> None:
    """Number grids side by side in ``container``, one column each: (values, ``number_grid`` options)."""
    for col, (values, options) in zip(container.columns(len(grids)), grids, strict=True):
        with col:
            number_grid(values, **options)


def window_grids(
    picture: np.ndarray, kernel: np.ndarray, window: Window, so_far: np.ndarray, titles: Sequence[str]
) -> None:
    """One position of a sliding kernel: the picture with the window outlined, the kernel, their
    products and the output so far with the window's cell outlined (``titles`` in that order)."""
    cell = (window.y, window.x, window.y, window.x, HIGHLIGHT)
    grid_row(
        [
            (picture, {"fmt": "{:g}", "boxes": [(*window.bounds, HIGHLIGHT)], "title": titles[0]}),
            (kernel, {"fmt": "{:g}", "title": titles[1], **SIGNED}),
            (window.products, {"fmt": "{:g}", "title": titles[2], **SIGNED}),
            (so_far, {"fmt": "{:g}", "missing": "?", "boxes": [cell], "title": titles[3]}),
        ]
    )


def breakdown_grids(
    container, b: ConvBreakdown, pad: np.ndarray, pad_label: str, titles: Sequence[tuple[str, str, str]]
) -> None:
    """A convolution's value taken apart, one row per input channel: the patch under the kernel
    (padding cells blank, labelled ``pad_label``), the kernel and their products."""
    patch = {"fmt": "{:.2f}", "pad": pad, "missing": pad_label, **SIGNED}
    for i, (patch_title, kernel_title, sum_title) in enumerate(titles):
        grid_row(
            [
                (b.patch[i], {"title": patch_title, **patch}),
                (b.kernel[i], {"fmt": "{:.2f}", "title": kernel_title, **SIGNED}),
                (b.products[i], {"fmt": "{:.3f}", "title": sum_title, **SIGNED}),
            ],
            container,
        )


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
        container.image(picture, caption=caption, output_format="PNG")


def _axes(x_title: str, y_title: str) -> dict:
    return {"xaxis": {"title": {"text": x_title}}, "yaxis": {"title": {"text": y_title}}}


def histogram_under_curve(
    hist: tuple[np.ndarray, np.ndarray, float],
    curve: tuple[np.ndarray, np.ndarray],
    names: tuple[str, str],
    titles: tuple[str, str, str],
    title: str,
) -> go.Figure:
    """A histogram (bar centres, counts, bar width) on a right-hand axis under a function's curve;
    ``titles`` are the input, output and count axes."""
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
) -> go.Figure:
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


def field_growth(names: Sequence[str], fields: Sequence[int], photo: int, line_label: str, y_title: str):
    """The receptive field of each step as a bar, with the photo's side as a dashed line."""
    bars = {
        "type": "bar",
        "x": list(names),
        "y": list(fields),
        "marker": {"color": NEUTRAL},
        "text": list(fields),
        "textposition": "outside",
    }
    fig = figure([bars], 360, yaxis={"title": {"text": y_title}})
    fig.add_hline(
        y=photo,
        line_dash="dash",
        line_color=HIGHLIGHT,
        annotation_text=line_label,
        annotation_position="top left",
    )
    return fig


def marked_vector(values: np.ndarray, marked: Sequence[int], x_title: str, y_title: str) -> go.Figure:
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
