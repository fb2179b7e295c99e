"""Plotly pictures shared by the CNN pages 4–6: grids of numbers, maps with boxes, the photo with a
receptive field.  They only draw arrays a page got from vision_core; no number is made here."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from vision_core import figures

HIGHLIGHT = "#ff2d55"  # the same red as ui.show.clickable_map's selected cell
SECOND = "#ffb000"

# (top row, left col, bottom row, right col) inclusive, and a colour
CellBox = tuple[int, int, int, int, str]


def draw(container, fig: go.Figure, key: str) -> None:
    """Show a figure without Plotly's tool bar (these pictures are for looking, not zooming)."""
    container.plotly_chart(fig, key=key, config={"displayModeBar": False})


# Figures here are built in one go from plain dicts: Plotly validates each update_* call and
# add_shape on its own (10 ms for a 6×6 number grid), the dict in one pass (under 2 ms).


def _layout(height: int, title: str | None, shapes: list[dict] = (), **axes) -> dict:
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


def _boxes(boxes: Sequence[CellBox], scale: float = 1.0) -> list[dict]:
    return [
        {
            "type": "rect",
            "x0": left * scale - 0.5,
            "x1": (right + 1) * scale - 0.5,
            "y0": top * scale - 0.5,
            "y1": (bottom + 1) * scale - 0.5,
            "line": {"color": color, "width": 3},
        }
        for top, left, bottom, right, color in boxes
    ]


def number_grid(
    values: np.ndarray,
    *,
    fmt: str = "{:.2f}",
    boxes: Sequence[CellBox] = (),
    title: str | None = None,
    height: int = 260,
    colorscale: str = "Blues",
    symmetric: bool = False,
    pad: np.ndarray | None = None,
    missing: str = "pad",
) -> go.Figure:
    """A small 2-D array drawn as coloured cells with its numbers written in them; NaN cells and
    the cells where ``pad`` is True are drawn blank and labelled ``missing`` (padding)."""
    v = np.array(values, dtype=np.float64)
    if pad is not None:
        v[np.asarray(pad, dtype=bool)] = np.nan
    text = [[missing if np.isnan(a) else fmt.format(a) for a in row] for row in v]
    finite = v[np.isfinite(v)]
    bound = float(np.abs(finite).max()) if finite.size else 1.0
    scale = {"zmin": -bound, "zmax": bound} if symmetric else {}
    heatmap = {
        "type": "heatmap",
        "z": v,
        "text": text,
        "texttemplate": "%{text}",
        "textfont": {"size": 16},
        "colorscale": colorscale,
        "showscale": False,
        "hoverinfo": "skip",
        "xgap": 2,
        "ygap": 2,
        **scale,
    }
    return go.Figure({"data": [heatmap], "layout": _layout(height, title, _boxes(boxes))})


def map_image(
    values: np.ndarray,
    *,
    cmap: str = "viridis",
    side: int = 448,
    symmetric: bool = False,
    vmax: float | None = None,
) -> np.ndarray:
    """A feature map as an RGB picture about ``side`` pixels wide, each value a crisp square."""
    v = np.asarray(values, dtype=np.float64)
    rgb = figures.colorize(v, cmap, symmetric=symmetric, vmax=vmax)
    return figures.enlarge(rgb, max(1, side // max(v.shape)))


def enlarge_rgb(image: np.ndarray, width: int = 960) -> np.ndarray:
    """A small RGB picture blown up by a whole factor to about ``width`` pixels, so that the
    browser does not blur its cells."""
    return figures.enlarge(image, max(1, width // image.shape[1]))


def picture(
    image: np.ndarray,
    *,
    grid: tuple[int, int] | None = None,
    boxes: Sequence[CellBox] = (),
    title: str | None = None,
    height: int = 360,
) -> go.Figure:
    """An RGB picture with boxes given in the cells of ``grid`` (the picture's own pixels when None).
    Boxes may reach past the picture: the axes then widen to show all of them."""
    h, w = image.shape[:2]
    scale = h / (grid or (h, w))[0]
    axes = {}
    if boxes:
        lo = min(0.0, *(min(b[0], b[1]) * scale for b in boxes)) - 0.5
        hi = max(float(max(h, w)), *((max(b[2], b[3]) + 1) * scale for b in boxes)) - 0.5
        axes = {
            "xaxis": {"range": [lo - 2, hi + 2]},
            "yaxis": {"range": [hi + 2, lo - 2], "autorange": False},
        }
    layout = _layout(height, title, _boxes(boxes, scale), **axes)
    return go.Figure({"data": [{"type": "image", "z": image, "hoverinfo": "skip"}], "layout": layout})
