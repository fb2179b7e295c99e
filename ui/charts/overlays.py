"""Maps and pictures: a feature map as a crisp picture, the photo with boxes on it, a patch-grid map
laid over the photo.  Only arrays a page got from vision_core are drawn; no number is made here."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import numpy as np

from ui.charts.layout import Built, CellBox, chart, image_layout, image_trace, png_uri
from ui.charts.layout import boxes as cell_boxes
from vision_core import figures
from vision_core.transformer import attention


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
) -> Built:
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
    layout = image_layout(height, title, cell_boxes(boxes, scale), **axes)
    return chart([image_trace(image)], layout)


OVERLAY_ALPHA = 0.75  # how much colour covers the photo where a map is at its highest


def over_photo(pixels: np.ndarray, grid_map: np.ndarray, alpha: float = OVERLAY_ALPHA) -> np.ndarray:
    """A patch-grid map laid over the photo, each patch one crisp colour square, blended in
    proportion to its value (the photo shows through where the map is at its lowest)."""
    h, w = pixels.shape[:2]
    rows, cols = grid_map.shape
    if h % rows == 0 and w % cols == 0:  # the usual case: colour the grid, not every pixel
        return figures.overlay_grid(pixels, grid_map, alpha=alpha)
    return figures.overlay(pixels, attention.upsample(grid_map, (h, w), mode="nearest"), alpha=alpha)


@cache
def over_photo_key() -> str:
    """The colour key of :func:`over_photo`: a map's lowest value (left) to its highest (right), as
    a PNG data URI made once (for a row of maps, each on its own range)."""
    return png_uri(figures.overlay_key(alpha=OVERLAY_ALPHA))


def value_range(grid_map: np.ndarray) -> tuple[float, float]:
    """The lowest and highest value of a drawn map: the two ends of its colour key."""
    return float(np.min(grid_map)), float(np.max(grid_map))
