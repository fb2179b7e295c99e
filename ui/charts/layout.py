"""One house layout for every Plotly figure: margins, titles, legends and how a figure is drawn.

Figures are built in one go from plain dicts: Plotly validates each ``update_*`` call and
``add_shape`` on its own (10 ms for a 6×6 number grid), the dict in one pass (under 2 ms).
"""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

from ui import presenter

# (top row, left col, bottom row, right col) inclusive, and a colour
CellBox = tuple[int, int, int, int, str]


def draw(container, fig: go.Figure | dict, key: str) -> None:
    """Show a figure without Plotly's tool bar (these pictures are for looking, not zooming)."""
    container.plotly_chart(presenter.figure(fig), key=key, config={"displayModeBar": False})


def layout(height: int, title: str | None = None, **more) -> dict:
    """The house layout of a chart: no outer margins, room for a title only when there is one."""
    return {
        "height": height,
        "margin": {"l": 0, "r": 0, "t": 30 if title else 10, "b": 0},
        **({"title": {"text": title}} if title else {}),
        **more,
    }


def figure(data: Sequence[dict], height: int, title: str | None = None, **more) -> go.Figure:
    """A figure from trace dicts and the house layout."""
    return go.Figure({"data": list(data), "layout": layout(height, title, **more)})


def image_layout(height: int, title: str | None, shapes: Sequence[dict] = (), **axes) -> dict:
    """An image-like layout: no axes, y pointing down, square cells."""
    return {
        "xaxis": {"visible": False, **axes.get("xaxis", {})},
        "yaxis": {"autorange": "reversed", "scaleanchor": "x", "visible": False, **axes.get("yaxis", {})},
        "height": height,
        "margin": {"l": 0, "r": 0, "t": 30 if title else 0, "b": 0},
        "title": {"text": title} if title else {},
        "showlegend": False,
        "dragmode": False,
        "shapes": list(shapes),
    }


def boxes(cells: Sequence[CellBox], scale: float = 1.0, width: int = 3) -> list[dict]:
    """Rectangles around cells of a grid drawn ``scale`` pixels to a cell."""
    return [
        {
            "type": "rect",
            "x0": left * scale - 0.5,
            "x1": (right + 1) * scale - 0.5,
            "y0": top * scale - 0.5,
            "y1": (bottom + 1) * scale - 0.5,
            "line": {"color": color, "width": width},
        }
        for top, left, bottom, right, color in cells
    ]
