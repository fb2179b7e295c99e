"""The class map as a picture: every learner's photo drawn at its place, the learner's own framed
in the house highlight, each photo's label under the pointer."""

from __future__ import annotations

from collections.abc import Sequence

from ui.charts.layout import Built, chart, layout
from ui.charts.palette import HIGHLIGHT
from vision_core.classroom.map import ClassMap


def class_figure(
    cmap: ClassMap, pictures: Sequence[str], names: Sequence[str], own: int | None = None, height: int = 560
) -> Built:
    """``pictures`` (``data:`` URIs, one per photo in map order) drawn at ``cmap.coords``, a square
    ``cmap.thumb_side`` wide; hovering a photo shows its entry of ``names``; photo ``own`` framed."""
    side = cmap.thumb_side
    xs, ys = cmap.coords[:, 0].tolist(), cmap.coords[:, 1].tolist()
    images = [
        {
            "source": uri,
            "xref": "x",
            "yref": "y",
            "x": x,
            "y": y,
            "sizex": side,
            "sizey": side,
            "xanchor": "center",
            "yanchor": "middle",
            "layer": "above",
        }
        for uri, x, y in zip(pictures, xs, ys, strict=True)
    ]
    shapes = []
    if own is not None:
        x, y, half = xs[own], ys[own], side * 0.58
        frame = {"color": HIGHLIGHT, "width": 4}
        shapes.append(
            {"type": "rect", "x0": x - half, "x1": x + half, "y0": y - half, "y1": y + half, "line": frame}
        )
    # invisible markers under the pictures: plotly reports hovers on points, not on images
    points = {
        "type": "scatter",
        "x": xs,
        "y": ys,
        "mode": "markers",
        "marker": {"size": 40, "color": "rgba(0,0,0,0)"},
        "text": list(names),
        "hovertemplate": "%{text}<extra></extra>",
    }
    (x0, x1), (y0, y1) = cmap.ranges()
    axis = {"visible": False, "zeroline": False, "fixedrange": True}
    more = {
        "images": images,
        "shapes": shapes,
        "showlegend": False,
        "dragmode": False,
        "xaxis": {**axis, "range": [x0, x1]},
        "yaxis": {**axis, "range": [y0, y1], "scaleanchor": "x"},
        "plot_bgcolor": "rgba(240,242,246,0.7)",
    }
    return chart([points], layout(height, **more))
