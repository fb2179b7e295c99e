"""The perturbation lab's pictures: the first feature maps before and after, each channel's pair on
one colour range, and the embedding's similarity against a shift or an angle, with the threshold
the prose reads it at.  Only arrays a page got from vision_core are drawn; no number is made here."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import streamlit as st

from ui.charts.layout import Built, figure
from ui.charts.palette import GUIDE, HIGHLIGHT, NEUTRAL
from vision_core import figures
from vision_core.why.perturb import Reading, Sweep

MAP_SIDE = 224  # screen pixels of one feature map


def maps_before_after(
    before: np.ndarray, after: np.ndarray, titles: Sequence[str], rows: Sequence[str]
) -> None:
    """(n, h, w) maps before and after in n columns, the original on top; each channel's two maps
    share one colour range, so that brighter means a larger value in both."""
    for column, b, a, title in zip(st.columns(len(titles)), before, after, titles, strict=True):
        lo = float(min(b.min(), a.min()))
        hi = float(max(b.max(), a.max()))
        column.markdown(title)
        for values, caption in ((b, rows[0]), (a, rows[1])):
            rgb = figures.colorize(np.asarray(values, np.float64), "viridis", vmin=lo, vmax=hi)
            column.image(figures.enlarge(rgb, max(1, MAP_SIDE // max(values.shape))), caption=caption)


def similarity_curve(
    s: Sweep, reading: Reading, threshold: float, names: tuple[str, str, str], x_title: str, y_title: str
) -> Built:
    """The embedding's cosine similarity to the original's at every value of the sweep, the
    threshold as a dashed line and the first value under it marked."""
    curve = {
        "type": "scatter", "x": s.values, "y": s.cosines, "mode": "lines+markers", "name": names[0],
        "line": {"color": NEUTRAL}, "hovertemplate": "%{x:g}: %{y:.3f}<extra></extra>",
    }  # fmt: skip
    line = {
        "type": "scatter", "x": [s.values.min(), s.values.max()], "y": [threshold, threshold],
        "mode": "lines", "name": names[1], "line": {"color": GUIDE, "dash": "dash"}, "hoverinfo": "skip",
    }  # fmt: skip
    data = [curve, line]
    if reading.below_at is not None:
        data.append(
            {
                "type": "scatter",
                "x": [reading.below_at],
                "y": [reading.below_cosine],
                "mode": "markers",
                "name": names[2],
                "marker": {"color": HIGHLIGHT, "size": 12, "symbol": "circle-open", "line": {"width": 3}},
            }
        )
    axes = {"xaxis": {"title": {"text": x_title}}, "yaxis": {"title": {"text": y_title}}}
    return figure(data, 300, legend={"orientation": "h", "y": -0.3}, **axes)
