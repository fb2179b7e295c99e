"""The embedding lab's maps: photos as points in 2-D or 3-D, one colour (and shape) per group, the
chosen photo ringed with lines to its nearest neighbours, a new photo placed as a star, clusters
outlined."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import streamlit as st

from ui import presenter
from ui.charts.layout import Built, chart, separators
from ui.charts.palette import HIGHLIGHT, OUTLINE, PLACED, label_styles

MAX_LEGEND = 30  # groups a map's legend lists
# the label shapes a 3-D map can draw (plotly's scatter3d has fewer symbols)
SYMBOLS_3D = {"triangle-up": "cross", "triangle-down": "circle-open"}


def scatter(
    coords: np.ndarray,
    groups: Sequence[str],
    hover: Sequence[str],
    *,
    key: str,
    clickable: bool = True,
    **figure_options,
) -> int | None:
    """Draw :func:`scatter_figure`; return the index of a photo clicked on this run (2-D only;
    plotly reports no clicks in 3-D)."""
    dims = coords.shape[1]
    fig = scatter_figure(coords, groups, hover, **figure_options)
    if not clickable or dims == 3:
        st.plotly_chart(fig, key=key, config={"displayModeBar": dims == 3})
        return None
    event = st.plotly_chart(
        fig,
        key=key,
        on_select="rerun",
        selection_mode="points",
        config={"displayModeBar": False, "scrollZoom": True},
    )
    for point in event["selection"]["points"] if event else []:
        data = point.get("customdata")
        if data is not None:
            return int(data[0] if isinstance(data, (list, tuple)) else data)
    return None


def scatter_figure(
    coords: np.ndarray,
    groups: Sequence[str],
    hover: Sequence[str],
    *,
    selected: int | None = None,
    links: Sequence[int] = (),
    placed: np.ndarray | None = None,
    placed_name: str = "",
    outlines: Mapping[str, np.ndarray] | None = None,
    outline_name: str = "",
    height: int = 520,
    title: str | None = None,
    legend: bool = True,
) -> Built:
    """A 2-D or 3-D scatter of the photos, one colour (and past ten groups, one shape) per group,
    the legend in natural order; the selected photo ringed, lines to ``links`` (its nearest
    neighbours in the embedding), a star at ``placed``; on a 2-D map, ``outlines`` (name → closed
    polygon) drawn around the photos they hold, named in the legend as ``outline_name``."""
    dims = coords.shape[1]
    kind = "scatter3d" if dims == 3 else "scatter"

    def xyz(points: np.ndarray) -> dict:
        return dict(zip("xyz", np.asarray(points, dtype=np.float64).T, strict=False))

    # traces and layout as plain dicts, validated once when the figure is made (add_trace and
    # update_* calls are each validated on their own, several times slower)
    data: list[dict] = []
    groups = list(groups)
    palette = label_styles(groups)
    idx = np.arange(len(coords))
    for n, (name, outline) in enumerate((outlines or {}).items() if dims == 2 else ()):
        data.append(
            {
                "type": "scatter",
                "x": outline[:, 0],
                "y": outline[:, 1],
                "mode": "lines+text",
                "line": {"color": OUTLINE, "width": 1.5},
                "fill": "toself",
                "fillcolor": "rgba(0,0,0,0.04)",
                # the cluster's name once, at its outline's top point
                "text": [name if i == int(np.argmax(outline[:, 1])) else "" for i in range(len(outline))],
                "textposition": "top center",
                "name": outline_name,
                "legendgroup": "outlines",
                "showlegend": n == 0,
                "hoverinfo": "skip",
            }
        )
    for g, style in palette.items():
        members = idx[np.array([x == g for x in groups])]
        marker = (
            {"size": 4, "color": style.colour, "symbol": SYMBOLS_3D.get(style.symbol, style.symbol)}
            if dims == 3
            else {
                "size": 9,
                "color": style.colour,
                "symbol": style.symbol,
                "line": {"width": 0.5, "color": "white"},
            }
        )
        data.append(
            {
                "type": kind,
                **xyz(coords[members]),
                "name": g,
                "mode": "markers",
                "marker": marker,
                "customdata": members.tolist(),  # plain ints: a clicked point hands back its index
                "text": [hover[i] for i in members],
                "hovertemplate": "%{text}<extra></extra>",
            }
        )
    quiet = {"hoverinfo": "skip", "showlegend": False}
    if selected is not None:
        line = {"color": "rgba(40,40,40,0.55)", "width": 1.5}
        for j in links:
            data.append({"type": kind, **xyz(coords[[selected, j]]), "mode": "lines", "line": line, **quiet})
        ring = {
            "size": 18 if dims == 2 else 9,
            "color": "rgba(0,0,0,0)",
            "line": {"width": 3, "color": HIGHLIGHT},
        }
        data.append({"type": kind, **xyz(coords[[selected]]), "mode": "markers", "marker": ring, **quiet})
    if placed is not None:
        star = {
            "size": 22 if dims == 2 else 10,
            "color": PLACED,
            "symbol": "star" if dims == 2 else "diamond",
            "line": {"width": 1.5, "color": "black"},
        }
        data.append(
            {
                "type": kind,
                **xyz(np.atleast_2d(placed)),
                "mode": "markers",
                "marker": star,
                "name": placed_name,
                "hovertemplate": f"{placed_name}<extra></extra>",
            }
        )
    plain_axis = {"showticklabels": False, "title": {"text": ""}, "zeroline": False}
    layout = {
        "height": height,
        "margin": {"l": 0, "r": 0, "t": 30 if title else 0, "b": 0},
        "title": {"text": title} if title else {},
        # below the map, so that the map keeps the width; too many groups to list: hover instead
        "showlegend": legend and len(palette) <= MAX_LEGEND,
        "legend": {"itemsizing": "constant", "orientation": "h", "yanchor": "top", "y": -0.02, "x": 0},
        "clickmode": "event+select",
        **separators(),
    }
    if dims == 2:
        layout.update(dragmode="pan", xaxis=plain_axis, yaxis=plain_axis)
    else:
        layout["scene"] = {f"{a}axis": {"showticklabels": False, "title": {"text": ""}} for a in "xyz"}
    return presenter.figure(chart(data, layout))
