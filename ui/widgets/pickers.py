"""Pickers that a click on a picture also sets: a cell of a map (with row and column inputs that
always agree), a photo of the gallery."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import streamlit as st

from ui import presenter
from ui.charts.layout import built, image_trace
from ui.charts.palette import HIGHLIGHT
from vision_core.embeddings.gallery import GalleryItem

RING_PX = 18  # the selected cell's ring on a fine map, in screen pixels
BOX_LINES = ({"color": "white", "width": 7}, {"color": HIGHLIGHT, "width": 4})  # the chosen cell's box


def clickable_map(
    image: np.ndarray,
    grid: tuple[int, int],
    key: str,
    *,
    selected: tuple[int, int] | None = None,
    colorscale: str = "gray",
    height: int = 420,
    title: str | None = None,
    hover: tuple[np.ndarray, str] | None = None,
    layout_extra: dict | None = None,
    source: str | None = None,
) -> tuple[int, int] | None:
    """Draw ``image`` (H×W values or H×W×3 uint8) with an invisible point on each of ``grid``'s
    cells; return the (row, col) the learner clicked on this run, else None.

    Plotly heatmaps do not report single clicks, so the clicks land on scatter points laid over
    the cells' centres. Plotly gives a click to the point nearest the pointer, and with no limit on
    that distance the nearest centre is the centre of the cell under the pointer: the whole cell
    takes the click, corners included. The selected cell gets a box, and on a fine map (cells a few
    screen pixels wide) a ring around it that stays visible.

    ``hover`` = (rows·cols × n values, template): more numbers for each cell's hover label, after its
    row and column (``customdata[2]`` on); ``layout_extra`` adds to the figure's layout (its
    number separators, say); ``source``, the RGB ``image`` already written as a data URI (by a
    cache, say: a page that redraws the same picture on every run need not write it again).
    """
    rows, cols = grid
    h, w = image.shape[:2]
    if image.ndim == 3:
        base = image_trace(image, source)  # a PNG: the browser draws it at once
    else:
        base = {
            "type": "heatmap",
            "z": image,
            "colorscale": colorscale,
            "showscale": False,
            "hoverinfo": "skip",
        }
    cy, cx = np.meshgrid(
        (np.arange(rows) + 0.5) * h / rows - 0.5, (np.arange(cols) + 0.5) * w / cols - 0.5, indexing="ij"
    )
    rr, cc = np.meshgrid(np.arange(rows), np.arange(cols), indexing="ij")
    customdata = np.stack([rr.ravel(), cc.ravel()], axis=1)
    template = "row %{customdata[0]}, col %{customdata[1]}<extra></extra>"
    if hover is not None:
        customdata, template = np.concatenate([customdata, hover[0]], axis=1, dtype=np.float32), hover[1]
    points = {
        "type": "scattergl",
        "x": cx.ravel(),
        "y": cy.ravel(),
        "mode": "markers",
        "marker": {"size": max(4, min(30, int(600 / max(rows, cols)))), "opacity": 0.01, "color": "white"},
        "customdata": customdata,  # for the hover label only
        "hovertemplate": template,
    }
    shapes = []
    cell_px = height / max(rows, cols)  # about how wide a cell is drawn (the map is height tall)
    if selected is not None and cell_px < RING_PX:
        r, c = selected
        y, x = (r + 0.5) * h / rows - 0.5, (c + 0.5) * w / cols - 0.5
        half = RING_PX * max(h, w) / height / 2  # RING_PX on screen, in the picture's units
        ring = {"color": HIGHLIGHT, "width": 3}
        shapes.append(
            {"type": "circle", "x0": x - half, "x1": x + half, "y0": y - half, "y1": y + half, "line": ring}
        )
    if selected is not None:  # a white halo under a thick box: it stands out on dark and light photos
        r, c = selected
        box = {"x0": c * w / cols - 0.5, "x1": (c + 1) * w / cols - 0.5}
        box |= {"y0": r * h / rows - 0.5, "y1": (r + 1) * h / rows - 0.5}
        for line in BOX_LINES:
            shapes.append({"type": "rect", **box, "line": line})
    layout = {  # one dict: Plotly validates each update_* call on its own, slowly
        "xaxis": {"visible": False},
        "yaxis": {"autorange": "reversed", "scaleanchor": "x", "visible": False},
        "height": height,
        "margin": {"l": 0, "r": 0, "t": 30 if title else 0, "b": 0},
        "title": {"text": title} if title else {},
        "dragmode": False,
        "clickmode": "event+select",
        "hovermode": "closest",
        "hoverdistance": -1,  # no limit: a click anywhere in a cell picks that cell's centre point
        "showlegend": False,
        "shapes": shapes,
        **(layout_extra or {}),
    }
    fig = presenter.figure(built({"data": [base, points], "layout": layout}))
    event = st.plotly_chart(
        fig, key=key, on_select="rerun", selection_mode="points", config={"displayModeBar": False}
    )
    points = event["selection"]["points"] if event else []
    for p in points:
        # the point's index in the overlay (trace 1), not its customdata: plotly.js hands a 2-D
        # NumPy customdata row back as an object keyed "0", "1", and lists make Plotly slow
        index = p.get("point_index")
        if p.get("curve_number") == 1 and index is not None and 0 <= int(index) < rows * cols:
            return divmod(int(index), cols)
    return None


def position_picker(
    image: np.ndarray,
    grid: tuple[int, int],
    key: str,
    *,
    labels: tuple[str, str] = ("row", "column"),
    default: tuple[int, int] | None = None,
    **map_kwargs,
) -> tuple[int, int]:
    """A clickable map with two number inputs that always agree: click a cell, or type its
    row and column.  Returns the chosen (row, col)."""
    rows, cols = grid
    row_key, col_key, click_key = f"{key}_row", f"{key}_col", f"{key}_last_click"
    if row_key not in st.session_state:
        r0, c0 = default if default is not None else (rows // 2, cols // 2)
        st.session_state[row_key], st.session_state[col_key] = r0, c0
    # a grid that shrank (another model or input size) must not leave the position outside it
    st.session_state[row_key] = min(int(st.session_state[row_key]), rows - 1)
    st.session_state[col_key] = min(int(st.session_state[col_key]), cols - 1)
    selected = (st.session_state[row_key], st.session_state[col_key])
    clicked = clickable_map(image, grid, key=f"{key}_map", selected=selected, **map_kwargs)
    if clicked is not None and clicked != st.session_state.get(click_key):
        st.session_state[click_key] = clicked
        if clicked != selected:
            st.session_state[row_key], st.session_state[col_key] = clicked
            st.rerun()
    a, b = st.columns(2)
    row = a.number_input(labels[0], 0, rows - 1, step=1, key=row_key)
    col = b.number_input(labels[1], 0, cols - 1, step=1, key=col_key)
    return int(row), int(col)


def focus_picker(items: Sequence[GalleryItem], key: str, label: str, clicked: int | None = None) -> int:
    """A select box of the gallery's photos that a click on a map also sets; returns the index."""
    n = len(items)
    if key not in st.session_state or not 0 <= st.session_state[key] < n:
        st.session_state[key] = 0
    last = f"{key}_last_click"
    if clicked is not None and clicked != st.session_state.get(last):
        st.session_state[last] = clicked
        st.session_state[key] = clicked
    return st.selectbox(label, range(n), format_func=lambda i: f"{items[i].name} — {items[i].label}", key=key)
