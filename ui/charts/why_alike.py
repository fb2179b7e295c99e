"""The pictures of "why these two look alike": a grid of values laid over each of the two photos
on one shared colour range (with its colour bar), and the two photos side by side with lines from
patches of one to their best matches in the other.  Only arrays a page got from vision_core are
drawn; no number is made here."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ui.charts.layout import Built, chart, draw, image_layout
from ui.charts.palette import HIGHLIGHT, SECOND
from vision_core.why.alike import Match

SCALE = "Inferno"  # the colour map of the maps laid over photos (vision_core.figures.overlay)
GAP = 12  # white pixels between the two photos


def _grid_axis(pixels: int, cells: int) -> dict:
    """Where a grid's cells sit on a picture's pixel axis (pixel i is centred at i)."""
    step = pixels / cells
    return {"start": step / 2 - 0.5, "step": step}


def _over_photo(pixels: np.ndarray, values: np.ndarray, zmin: float, zmax: float, scale: str) -> dict:
    h, w = pixels.shape[:2]
    rows, cols = values.shape
    x, y = _grid_axis(w, cols), _grid_axis(h, rows)
    heat = {
        "type": "heatmap", "z": np.round(values, 4), "x0": x["start"], "dx": x["step"], "y0": y["start"],
        "dy": y["step"], "zmin": zmin, "zmax": zmax, "colorscale": SCALE, "opacity": 0.6,
        "colorbar": {"title": {"text": scale}, "thickness": 14}, "hovertemplate": "%{z:.3f}<extra></extra>",
    }  # fmt: skip
    return heat


def pair_over_photos(
    columns: Sequence, pictures: Sequence[np.ndarray], maps: Sequence[np.ndarray], titles: Sequence[str],
    scale: str, key: str, height: int = 360,
) -> None:  # fmt: skip
    """Two grids of values, each over its photo, in two columns, on one colour range spanning both
    (the same colour bar beside each, so that the two pictures are drawn the same size).  Hovering a
    cell shows its value."""
    zmin = float(min(np.min(m) for m in maps))
    zmax = float(max(np.max(m) for m in maps))
    for i, (column, pixels, values, title) in enumerate(zip(columns, pictures, maps, titles, strict=True)):
        heat = _over_photo(pixels, values, zmin, zmax, scale)
        hover = {"type": "image", "z": pixels, "hoverinfo": "skip"}
        layout = image_layout(height, title)
        draw(column, chart([hover, heat], layout), f"{key}_{i}")


def _side_by_side(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    h = max(a.shape[0], b.shape[0])
    out = np.full((h, a.shape[1] + GAP + b.shape[1], 3), 255, dtype=np.uint8)
    out[: a.shape[0], : a.shape[1]] = a
    out[: b.shape[0], a.shape[1] + GAP :] = b
    return out


def _centre(cell: tuple[int, int], grid: tuple[int, int], pixels: np.ndarray, offset: float = 0.0):
    rows, cols = grid
    h, w = pixels.shape[:2]
    return offset + (cell[1] + 0.5) * w / cols - 0.5, (cell[0] + 0.5) * h / rows - 0.5


def matches_figure(
    a: np.ndarray, b: np.ndarray, matches: Sequence[Match], grids: tuple[tuple[int, int], tuple[int, int]],
    names: tuple[str, str], title: str, height: int = 380,
) -> Built:  # fmt: skip
    """Photo A and photo B side by side, a line from each listed patch of A to its best match in B:
    mutual matches (B's patch picks A's back) in the highlight colour, one-way matches in the second."""
    data: list[dict] = [{"type": "image", "z": _side_by_side(a, b), "hoverinfo": "skip"}]
    shown: set[bool] = set()
    for m in matches:
        (xa, ya), (xb, yb) = _centre(m.a, grids[0], a), _centre(m.b, grids[1], b, a.shape[1] + GAP)
        colour = HIGHLIGHT if m.mutual else SECOND
        line = {
            "type": "scatter", "x": [xa, xb], "y": [ya, yb], "mode": "lines+markers",
            "line": {"color": colour, "width": 2}, "marker": {"color": colour, "size": 7},
            "name": names[0] if m.mutual else names[1], "legendgroup": str(m.mutual),
            "showlegend": m.mutual not in shown, "hovertemplate": f"{m.a} → {m.b}<extra></extra>",
        }  # fmt: skip
        data.append(line)
        shown.add(m.mutual)
    layout = image_layout(height, title)
    layout |= {"showlegend": True, "legend": {"orientation": "h", "y": -0.05}}
    return chart(data, layout)
