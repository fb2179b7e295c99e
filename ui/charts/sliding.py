"""A real convolution sliding over the photo as a Plotly animation, the hover label of every output
cell, and the same photo point in several stages side by side.  Only arrays a page got from
vision_core are drawn; no number is made here.

The play-back runs in the browser: one figure carries every frame (a few boxes each, about 60
frames), and Plotly's own Play / Pause buttons and step slider move through them. The server sends
the figure once and does nothing while it plays — on a 2-core machine shared by a class, a
``st.fragment(run_every=...)`` that re-ran the script ten times a second for every learner who
pressed Play would not keep time (and would starve the others)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from lessons import Lesson
from ui.charts.layout import SEPARATORS, CellBox, draw, png_uri
from ui.charts.overlays import enlarge_rgb, picture
from ui.charts.palette import HIGHLIGHT, PENDING, SECOND
from vision_core.cnn.sliding import ConvCells, Frame, StageView, Sweep, unfilled_boxes
from vision_core.cnn.stages import Box

RING_PX = 22  # a ring this wide on screen around a box too small to see (a 3×3 window on a photo)
FRAME_MS = 110  # one step of the play-back: ~60 steps in about 7 s
INK_DARK = "#31333f"  # Streamlit's text colour, for the slider's "step" label


def _rect(box: Box, scale: float = 1.0) -> tuple[list[float], list[float]]:
    """A closed outline around cells ``box`` of a grid drawn ``scale`` pixels a cell."""
    x0, x1 = box.left * scale - 0.5, (box.right + 1) * scale - 0.5
    y0, y1 = box.top * scale - 0.5, (box.bottom + 1) * scale - 0.5
    return [x0, x1, x1, x0, x0], [y0, y0, y1, y1, y0]


def _cover(plan: Sweep, frame: Frame, scale: float) -> dict:
    """The grey cover over the cells not computed yet: always two outlines (an empty one where
    there is nothing left to cover), so that every frame has the same number of points."""
    xs: list[float | None] = []
    ys: list[float | None] = []
    boxes = unfilled_boxes(plan, frame.index)
    corner = Box(plan.out_shape[0], plan.out_shape[1], plan.out_shape[0] - 1, plan.out_shape[1] - 1)
    for box in (*boxes, *[corner] * (2 - len(boxes))):
        bx, by = _rect(box, scale)
        xs += [*bx, None]
        ys += [*by, None]
    return {"x": xs, "y": ys}


def _frame_data(plan: Sweep, frame: Frame, scale: float) -> list[dict]:
    """The moving parts of one frame: the cover, the block's span and the kernel's window on the
    photo, the block on the map (traces 0–3)."""
    span, window, cells = _rect(frame.span), _rect(frame.window), _rect(frame.cells, scale)
    return [
        _cover(plan, frame, scale),
        {"x": span[0], "y": span[1]},
        {"x": window[0], "y": window[1]},
        {"x": cells[0], "y": cells[1]},
    ]


def sweep_figure(pixels: np.ndarray, map_rgb: np.ndarray, plan: Sweep, text: Lesson) -> dict:
    """The photo the network saw (left) and one filter's output map (right, ``map_rgb``: the page's
    picture of the recorded values), with the window's path in ``plan`` as animation frames."""
    h, w = pixels.shape[:2]
    scale = map_rgb.shape[0] / plan.out_shape[0]
    windows = [f.span for f in plan.frames]
    lo = min(0, *(b.top for b in windows), *(b.left for b in windows)) - 1.5
    hi = max(h, w, *(b.bottom + 1 for b in windows), *(b.right + 1 for b in windows)) + 0.5
    line = {"mode": "lines", "hoverinfo": "skip", "showlegend": False}
    first = _frame_data(plan, plan.frames[0], scale)
    photo, photo_axes = {"xaxis": "x", "yaxis": "y"}, {"xref": "x", "yref": "y"}
    on_map, map_axes = {"xaxis": "x2", "yaxis": "y2"}, {"xref": "x2", "yref": "y2"}
    data = [
        {**first[0], **line, **on_map, "fill": "toself", "fillcolor": PENDING, "line": {"width": 0}},
        {**first[1], **line, **photo, "line": {"color": SECOND, "width": 2}},
        {**first[2], **line, **photo, "line": {"color": HIGHLIGHT, "width": 3}},
        {**first[3], **line, **on_map, "line": {"color": HIGHLIGHT, "width": 2}},
    ]
    # the two pictures are layout images, not image traces: a frame then moves only the four
    # outlines (no redraw), and Plotly does not drop image traces from a frame drawn without one
    images = [
        {"source": png_uri(pixels), **photo_axes, "sizex": w, "sizey": h},
        {
            "source": png_uri(enlarge_rgb(map_rgb, 448)),
            **map_axes,
            "sizex": map_rgb.shape[1],
            "sizey": map_rgb.shape[0],
        },
    ]
    for image in images:
        image.update(x=-0.5, y=-0.5, xanchor="left", yanchor="top", sizing="stretch", layer="below")
    names = [str(f.index + 1) for f in plan.frames]
    frames = [
        {"name": n, "data": _frame_data(plan, f, scale), "traces": [0, 1, 2, 3]}
        for n, f in zip(names, plan.frames, strict=True)
    ]
    still = {"mode": "immediate", "frame": {"duration": 0, "redraw": False}, "transition": {"duration": 0}}
    play = {
        "frame": {"duration": FRAME_MS, "redraw": False},
        "fromcurrent": True,
        "transition": {"duration": 0},
    }
    buttons = [
        {"label": text("sweep_play"), "method": "animate", "args": [None, play]},
        {"label": text("sweep_pause"), "method": "animate", "args": [[None], still]},
    ]
    steps = [{"label": n, "method": "animate", "args": [[n], still]} for n in names]
    hidden = "rgba(0,0,0,0)"
    axis = {"visible": False, "showgrid": False, "zeroline": False}
    layout = {
        "height": 520,
        "margin": {"l": 0, "r": 0, "t": 30, "b": 90},
        "showlegend": False,
        "dragmode": False,
        "hovermode": False,
        "xaxis": {**axis, "domain": [0, 0.49], "range": [lo, hi], "constrain": "domain"},
        "yaxis": {**axis, "range": [hi, lo], "scaleanchor": "x"},
        "xaxis2": {
            **axis,
            "domain": [0.51, 1],
            "range": [-0.5, map_rgb.shape[1] - 0.5],
            "constrain": "domain",
        },
        "yaxis2": {**axis, "range": [map_rgb.shape[0] - 0.5, -0.5], "scaleanchor": "x2"},
        "images": images,
        "annotations": [
            {"text": text("sweep_photo_title"), "xref": "x domain", "yref": "y domain"},
            {"text": text("sweep_map_title"), "xref": "x2 domain", "yref": "y2 domain"},
        ],
        "updatemenus": [
            {
                "type": "buttons",
                "direction": "left",
                "showactive": False,
                "x": 0,
                "y": -0.04,
                "buttons": buttons,
            }
        ],
        "sliders": [
            {
                "active": 0,
                "steps": steps,
                "x": 0.18,
                "len": 0.82,
                "y": -0.02,
                "font": {"color": hidden},  # 60 tick labels would overlap: the current one is named
                "currentvalue": {
                    "prefix": text("sweep_step", frames=len(plan.frames)),
                    "font": {"size": 14, "color": INK_DARK},
                },
                "transition": {"duration": 0},
            }
        ],
    }
    for note in layout["annotations"]:
        note.update(x=0.5, y=1.0, showarrow=False, yanchor="bottom", font={"size": 14})
    return {
        "data": data,
        "layout": layout,
        "frames": frames,
    }  # a dict: 64 frames validated by Plotly cost ~0.3 s


def cell_hover(cells: ConvCells, names: Sequence[str], text: Lesson) -> tuple[np.ndarray, str]:
    """Each output cell's value and the start of its arithmetic, for the clickable map's hover
    label: (H·W, 1 + C_in [+ 1]) columns (the recorded value, one sum per input channel, the bias
    when the layer has one) and the template that writes them after the row and column (columns 0
    and 1).  The sums get one decimal more than the value, so that they add up to it as shown."""
    h, w = cells.recorded.shape
    columns = [cells.recorded.reshape(-1), *cells.sums.reshape(len(cells.sums), -1)]
    terms = " ".join(f"%{{customdata[{3 + i}]:+.5f}} ({n})" for i, n in enumerate(names))
    if cells.has_bias:
        columns.append(np.full(h * w, cells.bias))
        template = text("hover_cell", terms=terms, bias=f"%{{customdata[{3 + len(names)}]:+.5f}}")
    else:
        template = text("hover_cell_nobias", terms=terms)
    return np.stack(columns, axis=1).astype(np.float32), template + "<extra></extra>"


def separators(lang: str) -> dict:
    """A layout entry that makes Plotly write numbers the way the lesson's language does."""
    return {"separators": SEPARATORS[lang]} if lang in SEPARATORS else {}


def ring(box: Box, scale: float, side: int, height: int) -> list[dict]:
    """A ring around ``box`` (cells of a grid drawn ``scale`` pixels a cell, on a picture ``side``
    pixels wide shown ``height`` screen pixels tall) when the box itself is drawn smaller than
    the ring; else nothing."""
    units = RING_PX * side / height  # the ring's width in the picture's pixels
    if box.size * scale >= units:
        return []
    y, x = (box.top + box.bottom + 1) * scale / 2 - 0.5, (box.left + box.right + 1) * scale / 2 - 0.5
    line = {"color": HIGHLIGHT, "width": 3}
    return [
        {
            "type": "circle",
            "x0": x - units / 2,
            "x1": x + units / 2,
            "y0": y - units / 2,
            "y1": y + units / 2,
            "line": line,
        }
    ]


def stage_views(
    columns: Sequence, views: Sequence[StageView], maps: Sequence[np.ndarray], pixels, text
) -> None:
    """One column per stage: its map of the strongest channel at the cell (``maps``: the page's
    pictures of them) with the cell outlined, and the photo with that cell's receptive field."""
    for col, view, image in zip(columns, views, maps, strict=True):
        y, x = view.cell
        title = text("side_map_title", stage=view.stage, channel=view.channel, row=y, col=x)
        marked: list[CellBox] = [(y, x, y, x, HIGHLIGHT)]
        fig = picture(image, grid=view.grid, boxes=marked, title=title, height=300)
        fig = fig.with_marks(ring(Box(y, x, y, x), image.shape[0] / view.grid[0], image.shape[0], 300))
        draw(col, fig, f"side_map_{view.stage}")
        box = view.field
        field: list[CellBox] = [(box.top, box.left, box.bottom, box.right, HIGHLIGHT)]
        fig = picture(pixels, boxes=field, title=text("side_photo_title", size=box.size), height=300)
        fig = fig.with_marks(ring(box, 1.0, pixels.shape[0], 300))
        draw(col, fig, f"side_photo_{view.stage}")
        col.markdown(
            text("side_value", stage=view.stage, channel=view.channel, value=view.value, size=box.size)
        )
