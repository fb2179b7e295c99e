"""The house colours: one name for each role a colour plays on a page."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import NamedTuple

import numpy as np
from matplotlib import colormaps
from matplotlib.colors import ListedColormap
from plotly.colors import qualitative

HIGHLIGHT = "#ff2d55"  # the chosen cell, patch, window or photo, on every page
SECOND = "#ffb000"  # a second mark beside the first (where a value came from)
NEUTRAL = "#4c78a8"  # bars and points that are not chosen
PLACED = "#ffcc00"  # a new photo placed on a map
SIGNED = {"symmetric": True, "cmap": "RdBu_r"}  # red positive, blue negative, white zero
# Numbers that cannot be negative (pixels, ReLU's output, pooled maps) use SIGNED's red half, from
# white at 0: a grid looks the same on either scale, so no two pages colour one map differently.
POSITIVE = "RdBu_r_positive"
if POSITIVE not in colormaps:
    colormaps.register(ListedColormap(colormaps["RdBu_r"](np.linspace(0.5, 1.0, 128)), name=POSITIVE))


def signed(vmax: float) -> dict:
    """The diverging scale about 0 from -``vmax`` (blue) to +``vmax`` (red): options of a number grid."""
    return {**SIGNED, "vmax": float(vmax)}


def positive(vmax: float) -> dict:
    """The sequential scale from 0 (white) to ``vmax`` (red): options of a number grid."""
    return {"cmap": POSITIVE, "vmin": 0.0, "vmax": float(vmax)}


def scale_for(values, vmax: float) -> dict:
    """The diverging scale when any of ``values`` is negative, else the sequential one; ``vmax``
    shared by every grid compared with these."""
    v = np.asarray(values, dtype=np.float64)
    return signed(vmax) if (v[np.isfinite(v)] < 0).any() else positive(vmax)


def shared_bound(*grids) -> float:
    """The largest |value| over ``grids`` (1 when they are all 0): one range for grids compared."""
    finite = [np.abs(g[np.isfinite(g)]) for g in (np.asarray(g, dtype=np.float64) for g in grids)]
    top = max((float(f.max()) for f in finite if f.size), default=0.0)
    return top or 1.0


CHANNELS = ("#e4572e", "#4caf50", "#2e86de")  # a picture's R, G and B numbers
GUIDE = "grey"  # a reference line or curve drawn behind the measured points
MUTED = "#9ab"  # a histogram behind the curve drawn over it
PENDING = "#d0d4d9"  # output cells not computed yet (the convolution's play-back)
NORMAL = "#1f77b4"  # the photos the learner called normal (outliers page)
ODD = "#d62728"  # the other photos, scored against the normal ones
INK, GROUND = "#ffffff", "#000000"  # the digits' bright ink on a dark ground (the drawing canvas too)
# The labels on the lab's maps: Tableau 10, ten colours told apart at a glance (no two closer than
# ΔE 27 in CIELAB); past ten labels the colours come round again with the next marker shape.
LABELS = tuple(qualitative.T10)
LABEL_SYMBOLS = ("circle", "square", "diamond", "triangle-up", "x", "triangle-down")
OUTLINE = "#333333"  # a cluster's outline drawn around its photos (the labels keep the colours)


class Style(NamedTuple):
    colour: str
    symbol: str


def natural_key(value: object) -> tuple:
    """Sort key that puts "cluster 2" before "cluster 10" and "a" before "B"."""
    parts = re.split(r"(\d+)", str(value).casefold())
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts)


def label_styles(values: Iterable[object]) -> dict[str, Style]:
    """A colour and a marker shape for each distinct value, the values in natural order (the
    order a legend lists them in): the same labels get the same styles on every map."""
    ordered = sorted({str(v) for v in values}, key=lambda v: (natural_key(v), v))
    n = len(LABELS)
    return {
        v: Style(LABELS[i % n], LABEL_SYMBOLS[(i // n) % len(LABEL_SYMBOLS)]) for i, v in enumerate(ordered)
    }


def label_colours(values: Iterable[object]) -> dict[str, str]:
    """The colour of :func:`label_styles` for each distinct value, in natural order."""
    return {v: style.colour for v, style in label_styles(values).items()}
