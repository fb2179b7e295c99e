"""Small grids of numbers: a coloured cell per value with the value written in it — as HTML
(:func:`number_grid`, well under a millisecond each, so a page with a dozen of them still reruns
quickly) or as a Plotly figure (:func:`number_grid_figure`, for grids that sit beside other
figures).  Colours come from ``vision_core.figures``; no number is made here."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

import numpy as np
import streamlit as st

from ui.charts.layout import Built, CellBox, chart, image_layout
from ui.charts.layout import boxes as cell_boxes
from vision_core import figures
from vision_core.cnn import conv_sandbox

CELL = "display:flex;align-items:center;justify-content:center;aspect-ratio:1"
MISSING = "background:#eef2fb;color:#778;font-style:italic;font-size:0.8em"  # padding, not reached yet
TITLE = "font-weight:600;margin:0 0 4px;min-height:2.6em;line-height:1.3em"


def _colors(
    v: np.ndarray, cmap: str, symmetric: bool, vmin: float | None = None, vmax: float | None = None
) -> np.ndarray:
    """Cell colours on the grid's own range, or on ``vmin`` … ``vmax`` when given (a range shared
    with the grids it is compared with)."""
    finite = v[np.isfinite(v)]
    if not finite.size:
        return np.full((*v.shape, 3), 255, dtype=np.uint8)
    filled = np.where(np.isfinite(v), v, 0.0)
    if symmetric:
        top = float(np.abs(finite).max()) if vmax is None else vmax
        return figures.colorize(filled, cmap, symmetric=True, vmax=top)
    lo = float(finite.min()) if vmin is None else vmin
    hi = float(finite.max()) if vmax is None else vmax
    return figures.colorize(filled, cmap, vmin=lo, vmax=hi)


def cell_label(fmt: str, value: float) -> str:
    """A cell's number as written: never a "-0" (a negative zero, or a tiny negative rounded away)."""
    return conv_sandbox.unsigned_zero(fmt.format(value + 0.0))


def grid_html(
    values: np.ndarray,
    *,
    fmt: str = "{:g}",
    cmap: str = "Blues",
    symmetric: bool = False,
    vmin: float | None = None,
    vmax: float | None = None,
    boxes: Sequence[CellBox] = (),
    pad: np.ndarray | None = None,
    missing: str = "",
    title: str | None = None,
    cell: int = 52,
) -> str:
    """``values`` (2-D) as an HTML grid of ``cell``-pixel cells (so that grids drawn side by side
    keep their sizes in proportion); NaN cells and cells where ``pad`` is True are left white and
    labelled ``missing``; each box is outlined on its outer edges."""
    v = np.array(values, dtype=np.float64)
    if pad is not None:
        v[np.asarray(pad, dtype=bool)] = np.nan
    rows, cols = v.shape
    rgb = _colors(v, cmap, symmetric, vmin, vmax)
    font = 15 if cols <= 4 else 12
    cells = []
    for r in range(rows):
        for c in range(cols):
            shadows = ["inset 0 0 0 1px rgba(255,255,255,0.9)"]
            for top, left, bottom, right, color in boxes:
                if top <= r <= bottom and left <= c <= right:
                    shadows += [f"inset 0 3px 0 0 {color}"] if r == top else []
                    shadows += [f"inset 0 -3px 0 0 {color}"] if r == bottom else []
                    shadows += [f"inset 3px 0 0 0 {color}"] if c == left else []
                    shadows += [f"inset -3px 0 0 0 {color}"] if c == right else []
            if np.isnan(v[r, c]):
                style, label = MISSING, escape(missing)
            else:
                red, green, blue = (int(x) for x in rgb[r, c])
                ink = "#fff" if 0.299 * red + 0.587 * green + 0.114 * blue < 140 else "#222"
                style = f"background:rgb({red},{green},{blue});color:{ink}"
                label = escape(cell_label(fmt, v[r, c]))
            cells.append(f'<div style="{style};box-shadow:{",".join(shadows)};{CELL}">{label}</div>')
    # titles keep room for two lines, so that grids side by side stay level when one title wraps; a
    # title may be wider than its grid (a 1×1 grid is one cell wide)
    heading = f'<div style="{TITLE}">{escape(title)}</div>' if title else ""
    grid = f"max-width:{cols * cell}px;display:grid;grid-template-columns:repeat({cols},1fr)"
    return (
        f'<div style="font-size:{font}px;font-variant-numeric:tabular-nums">'
        f'{heading}<div style="{grid}">{"".join(cells)}</div></div>'
    )


def number_grid(values: np.ndarray, **kw) -> None:
    """Draw :func:`grid_html` on the page."""
    st.html(grid_html(values, **kw))


def number_grid_figure(
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
) -> Built:
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
    return chart([heatmap], image_layout(height, title, cell_boxes(boxes)))
