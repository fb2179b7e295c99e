"""The embedding lab's maps: photos as points in 2-D or 3-D, one colour per group, the chosen photo
ringed with lines to its nearest neighbours, a new photo placed as a star."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from ui import presenter
from ui.charts.palette import HIGHLIGHT, PLACED, label_colours

MAX_LEGEND = 30  # groups a map's legend lists


def scatter(
    coords: np.ndarray,
    groups: Sequence[str],
    hover: Sequence[str],
    *,
    key: str,
    selected: int | None = None,
    links: Sequence[int] = (),
    placed: np.ndarray | None = None,
    placed_name: str = "",
    height: int = 520,
    title: str | None = None,
    clickable: bool = True,
    legend: bool = True,
) -> int | None:
    """A 2-D or 3-D scatter of the photos, one colour per group; the selected photo ringed, lines
    to ``links`` (its nearest neighbours in the embedding), a star at ``placed``.  Returns the
    index of a photo clicked on this run (2-D only; plotly reports no clicks in 3-D)."""
    dims = coords.shape[1]
    kind = "scatter3d" if dims == 3 else "scatter"

    def xyz(points: np.ndarray) -> dict:
        return dict(zip("xyz", np.asarray(points, dtype=np.float64).T, strict=False))

    # traces and layout as plain dicts, validated once when the figure is made (add_trace and
    # update_* calls are each validated on their own, several times slower)
    data: list[dict] = []
    groups = list(groups)
    palette = label_colours(groups)
    idx = np.arange(len(coords))
    for g, colour in palette.items():
        members = idx[np.array([x == g for x in groups])]
        marker = (
            {"size": 4, "color": colour}
            if dims == 3
            else {"size": 9, "color": colour, "line": {"width": 0.5, "color": "white"}}
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
    }
    if dims == 2:
        layout.update(dragmode="pan", xaxis=plain_axis, yaxis=plain_axis)
    else:
        layout["scene"] = {f"{a}axis": {"showticklabels": False, "title": {"text": ""}} for a in "xyz"}
    fig = presenter.figure(go.Figure({"data": data, "layout": layout}))
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
