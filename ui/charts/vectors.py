"""A vector's numbers as bars — one bar per number, no gaps — and a few tokens' vectors as a heatmap:
the I_f, GAP and CLS vectors, a flattened patch by colour channel, the patch embedding computed two
ways, and one token's attention row with CLS marked.  Only arrays a page got from vision_core."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ui.charts.layout import Built, chart, figure, layout
from ui.charts.palette import CHANNELS, HIGHLIGHT, NEUTRAL

LEGEND_ABOVE = {"orientation": "h", "y": 1.15, "x": 0}


def _bars(x, y, color: str = NEUTRAL, **more) -> dict:
    return {"type": "bar", "x": x, "y": y, "marker": {"color": color, "line": {"width": 0}}, **more}


def _axes(x_title: str | None = None, y_title: str | None = None) -> dict:
    axes = {}
    if x_title:
        axes["xaxis"] = {"title": {"text": x_title}}
    if y_title:
        axes["yaxis"] = {"title": {"text": y_title}}
    return axes


def _legend_above(height: int, x_title: str, y_title: str) -> dict:
    """A layout with the legend above the plot and room for it."""
    return {
        **layout(height, None, bargap=0, legend=LEGEND_ABOVE, **_axes(x_title, y_title)),
        "margin": {"l": 0, "r": 0, "t": 30, "b": 0},
    }


def vector_bars(values: np.ndarray, title: str, height: int = 220) -> Built:
    """Every number of one vector as a bar."""
    return figure([_bars(np.arange(len(values)), values)], height, title, bargap=0)


def channel_bars(
    flat: np.ndarray, names: Sequence[str], x_title: str, y_title: str, height: int = 260
) -> Built:
    """A flattened patch (C·P² numbers, channel after channel) with each channel its own colour."""
    per_channel = len(flat) // len(names)
    data = [
        _bars(
            np.arange(i * per_channel, (i + 1) * per_channel),
            flat[i * per_channel : (i + 1) * per_channel],
            CHANNELS[i],
            name=name,
        )
        for i, name in enumerate(names)
    ]
    return chart(data, _legend_above(height, x_title, y_title))


def bars_and_points(
    bars: np.ndarray,
    points: np.ndarray,
    names: tuple[str, str],
    x_title: str,
    y_title: str,
    height: int = 280,
) -> Built:
    """One vector as bars and the same vector computed another way as points on them."""
    x = np.arange(len(bars))
    marks = {
        "type": "scatter",
        "x": x,
        "y": points,
        "name": names[1],
        "mode": "markers",
        "marker": {"size": 3, "color": HIGHLIGHT},
    }
    data = [_bars(x, bars, name=names[0]), marks]
    return chart(data, _legend_above(height, x_title, y_title))


def token_bars(values: np.ndarray, names: Sequence[str], title: str, fmt: str, x_title: str) -> Built:
    """One number per token of the sequence, the CLS token's bar (the first) in the highlight."""
    # CLS is a second trace: a per-bar colour list is validated one colour at a time, slowly
    values = np.asarray(values)
    bar = {"hovertemplate": "%{customdata}: %{y:" + fmt + "}<extra></extra>", "showlegend": False}
    data = [
        _bars(np.arange(1, len(values)), values[1:], customdata=list(names[1:]), **bar),
        _bars([0], values[:1], HIGHLIGHT, customdata=list(names[:1]), **bar),
    ]
    return figure(data, 240, title, bargap=0, **_axes(x_title))


def token_heatmap(values: np.ndarray, labels: Sequence[str], title: str, x_title: str) -> Built:
    """The first numbers of the first tokens, one row per token, red positive and blue negative."""
    heat = {
        "type": "heatmap",
        "z": values,
        "y": list(labels),
        "colorscale": "RdBu_r",
        "zmid": 0,
        "showscale": False,
        "hovertemplate": "%{y}, number %{x}: %{z:.3f}<extra></extra>",
    }
    more = _axes(x_title)
    more["yaxis"] = {"autorange": "reversed", "type": "category"}
    return figure([heat], 260, title, **more)
