"""Lines and points on two axes: every token's spread before and after a LayerNorm, an activation
function with the values that went through it, and every head's mean attention distance layer by
layer.  Only arrays a page got from vision_core are drawn; no number is made here."""

from __future__ import annotations

import numpy as np

from ui.charts.layout import Built, figure
from ui.charts.palette import GUIDE, HIGHLIGHT


def _titles(x_title: str, y_title: str) -> dict:
    return {"xaxis": {"title": {"text": x_title}}, "yaxis": {"title": {"text": y_title}}}


def spread_lines(
    before: np.ndarray, after: np.ndarray, names: tuple[str, str], x_title: str, y_title: str, markers: bool
) -> Built:
    """Every token's standard deviation before and after a LayerNorm, as two lines."""
    mode = "lines+markers" if markers else "lines"
    data = [
        {"type": "scatter", "y": y, "mode": mode, "name": n}
        for y, n in zip((before, after), names, strict=True)
    ]
    return figure(data, 260, legend={"orientation": "h"}, **_titles(x_title, y_title))


def curve_and_points(
    curve: tuple[np.ndarray, np.ndarray],
    points: tuple[np.ndarray, np.ndarray],
    names: tuple[str, str],
    x_title: str,
    y_title: str,
) -> Built:
    """A function drawn as a line and the values that went through it as points on it."""
    line = {
        "type": "scatter",
        "x": curve[0],
        "y": curve[1],
        "mode": "lines",
        "name": names[0],
        "line": {"color": GUIDE},
    }
    marks = {
        "type": "scatter",
        "x": points[0],
        "y": points[1],
        "mode": "markers",
        "name": names[1],
        "marker": {"size": 4, "color": HIGHLIGHT},
    }
    return figure([line, marks], 300, legend={"orientation": "h"}, **_titles(x_title, y_title))


def distance_by_layer(
    distance: np.ndarray,
    uniform: float,
    chosen: tuple[int, int],
    head_names: list[str],
    uniform_name: str,
    hover: str,
    x_title: str,
    y_title: str,
) -> Built:
    """Every head's mean attention distance (layers, heads) as points per layer, an even head's as a
    dashed line, and the chosen (layer, head) ringed."""
    layers = distance.shape[0]
    heads = [
        {
            "type": "scatter",
            "x": np.arange(layers),
            "y": distance[:, h],
            "mode": "markers",
            "name": name,
            "marker": {"size": 8},
            "hovertemplate": hover + "<extra></extra>",
        }
        for h, name in enumerate(head_names)
    ]
    even = {
        "type": "scatter",
        "x": [-0.5, layers - 0.5],
        "y": [uniform] * 2,
        "mode": "lines",
        "name": uniform_name,
        "hoverinfo": "skip",
        "line": {"dash": "dash", "color": GUIDE},
    }
    layer, head = chosen
    ring = {
        "type": "scatter",
        "x": [layer],
        "y": [distance[layer, head]],
        "mode": "markers",
        "showlegend": False,
        "hoverinfo": "skip",
        "marker": {"size": 16, "color": "rgba(0,0,0,0)", "line": {"color": HIGHLIGHT, "width": 3}},
    }
    top = max(float(distance.max()), uniform) * 1.1  # from 0: local and global heads on one scale
    axes = _titles(x_title, y_title)
    axes["yaxis"]["range"] = [0, top]
    return figure([*heads, even, ring], 360, **axes)
