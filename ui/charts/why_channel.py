"""Pictures of "What a channel looks for": the top photos with their squares outlined, the crops
blown up, and the feature visualisation's climb.  Only arrays a page got from vision_core are
drawn; no number is made here."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import streamlit as st
from plotly.colors import hex_to_rgb

from ui.charts.layout import draw, figure
from ui.charts.palette import HIGHLIGHT, NEUTRAL
from vision_core import figures
from vision_core.cnn.stages import Box

PER_ROW = 4
CROP_SIDE = 160  # pixels a crop is blown up to (by a whole factor: no blur)


def outlined(pixels: np.ndarray, box: Box, width: int = 2) -> np.ndarray:
    """A copy of an (H, W, 3) picture with ``box`` (clipped to it) outlined in the house highlight."""
    out = pixels.copy()
    colour = np.array(hex_to_rgb(HIGHLIGHT), dtype=np.uint8)
    top, left, bottom, right = box.top, box.left, box.bottom, box.right
    out[top : min(top + width, bottom + 1), left : right + 1] = colour
    out[max(bottom - width + 1, top) : bottom + 1, left : right + 1] = colour
    out[top : bottom + 1, left : min(left + width, right + 1)] = colour
    out[top : bottom + 1, max(right - width + 1, left) : right + 1] = colour
    return out


def top_photos(
    photos: Sequence[np.ndarray], boxes: Sequence[Box], crops: Sequence[np.ndarray], captions: Sequence[str]
) -> None:
    """Each top photo with its square outlined, the square's crop blown up beneath, and a caption;
    :data:`PER_ROW` to a row."""
    for start in range(0, len(photos), PER_ROW):
        columns = st.columns(PER_ROW)
        for col, i in zip(columns, range(start, min(start + PER_ROW, len(photos))), strict=False):
            col.image(outlined(photos[i], boxes[i]), width="stretch")
            crop = crops[i]
            col.image(figures.enlarge(crop, max(1, CROP_SIDE // max(crop.shape[:2]))), width="stretch")
            col.caption(captions[i])


def feature_picture(container, pixels: np.ndarray, caption: str) -> None:
    """The optimised picture, blown up without blur."""
    container.image(figures.enlarge(pixels, max(1, 448 // pixels.shape[0])), caption=caption, width="stretch")


def objective_curve(container, curve: np.ndarray, title: str, axes: tuple[str, str]) -> None:
    """The channel's mean on each step's warped picture, step by step."""
    steps = list(range(1, len(curve) + 1))
    line = {"type": "scatter", "x": steps, "y": curve.tolist(), "mode": "lines", "line": {"color": NEUTRAL}}
    fig = figure([line], 260, title, xaxis={"title": {"text": axes[0]}}, yaxis={"title": {"text": axes[1]}})
    draw(container, fig, "why_channel_curve")
