"""The pictures of "Why this prediction": a map laid over the network's input picture, with its
colour bar and a square marked on it.  Only arrays a page got from vision_core are drawn."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ui.charts.layout import Built, boxes, chart, draw, image_layout
from ui.charts.palette import HIGHLIGHT, SIGNED

CAM_SCALE = "Inferno"  # the maps laid over photos elsewhere (vision_core.figures.overlay)
DROP_SCALE = SIGNED["cmap"]  # a drop can be negative (covering raised the score): red up, blue down


def map_over_photo(
    pixels: np.ndarray,
    values: np.ndarray,
    *,
    title: str,
    scale_title: str,
    square: tuple[int, int, int] | None = None,
    signed: bool = False,
    height: int = 380,
) -> Built:
    """A (H, W) map of the picture's own size over it; ``square`` = (top, left, side) outlined.
    An unsigned map is drawn on 0…1, a signed one on ±its largest magnitude around white zero."""
    v = np.asarray(values, dtype=np.float32)
    if signed:
        m = float(np.abs(v).max()) or 1.0
        zrange, colours = (-m, m), DROP_SCALE
    else:
        zrange, colours = (0.0, 1.0), CAM_SCALE
    heat = {
        "type": "heatmap", "z": np.round(v, 4), "zmin": zrange[0], "zmax": zrange[1],
        "colorscale": colours, "opacity": 0.55, "hovertemplate": "%{z:.3f}<extra></extra>",
        "colorbar": {"title": {"text": scale_title, "side": "right"}, "thickness": 12},
    }  # fmt: skip
    marks = []
    if square is not None:
        top, left, side = square
        marks = boxes([(top, left, top + side - 1, left + side - 1, HIGHLIGHT)])
    photo = {"type": "image", "z": pixels, "hoverinfo": "skip"}
    return chart([photo, heat], image_layout(height, title, marks))


def maps_side_by_side(
    columns: Sequence, pixels: np.ndarray, maps: Sequence[np.ndarray], titles: Sequence[str],
    scale_title: str, key: str,
) -> None:  # fmt: skip
    """Unsigned maps of the same picture, one to a column, each over the picture on 0…1."""
    for i, (column, values, title) in enumerate(zip(columns, maps, titles, strict=True)):
        draw(column, map_over_photo(pixels, values, title=title, scale_title=scale_title), f"{key}_{i}")
