"""Linked views: a feature map whose clicked cell outlines, on the photo beside it, the pixels that
value can see — the same widget on every page that lets a learner click a map (the convolution's
first layer, any stage of a deeper network)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ui.charts.layout import draw
from ui.charts.overlays import picture
from ui.charts.palette import HIGHLIGHT
from ui.charts.sliding import ring
from ui.widgets.pickers import position_picker
from vision_core.cnn.stages import Box, receptive_box
from vision_core.engine.trace import Trace


def cell_and_field(
    map_container,
    photo_container,
    image: np.ndarray,
    tr: Trace,
    step: str,
    pixels: np.ndarray,
    *,
    key: str,
    photo_title: Callable[[int, int], str],
    photo_height: int = 470,
    **picker,
) -> tuple[int, int, Box]:
    """A clickable map of ``step`` (``image``, one picture of its grid) in ``map_container``, and in
    ``photo_container`` the photo the network saw (``pixels``) with the chosen cell's receptive
    field outlined (it may reach past the edge, into the padding).  ``picker`` goes to
    :func:`position_picker` (labels, title, height, hover...).  Returns the row, column and box."""
    grid = tuple(int(n) for n in tr[step].shape[2:])
    with map_container:
        y, x = position_picker(image, (grid[0], grid[1]), key, **picker)
    box = receptive_box(tr, step, y, x)
    marked = [(box.top, box.left, box.bottom, box.right, HIGHLIGHT)]
    fig = picture(pixels, boxes=marked, title=photo_title(y, x), height=photo_height)
    fig = fig.with_marks(ring(box, 1.0, pixels.shape[0], photo_height))  # a 3×3 window is a dot
    draw(photo_container, fig, f"{key}_photo")
    return y, x, box
