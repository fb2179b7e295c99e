"""The house colours: one name for each role a colour plays on a page."""

from __future__ import annotations

from plotly.colors import qualitative

HIGHLIGHT = "#ff2d55"  # the chosen cell, patch, window or photo, on every page
SECOND = "#ffb000"  # a second mark beside the first (where a value came from)
NEUTRAL = "#4c78a8"  # bars and points that are not chosen
PLACED = "#ffcc00"  # a new photo placed on a map
SIGNED = {"symmetric": True, "cmap": "RdBu_r"}  # red positive, blue negative, white zero
CHANNELS = ("#e4572e", "#4caf50", "#2e86de")  # a picture's R, G and B numbers
GUIDE = "grey"  # a reference line or curve drawn behind the measured points
MUTED = "#9ab"  # a histogram behind the curve drawn over it
NORMAL = "#1f77b4"  # the photos the learner called normal (outliers page)
ODD = "#d62728"  # the other photos, scored against the normal ones
INK, GROUND = "#ffffff", "#000000"  # the digits' bright ink on a dark ground (the drawing canvas too)
LABELS = qualitative.Dark24 + qualitative.Light24  # one colour per label on the lab's maps


def label_colours(values) -> dict[str, str]:
    """A colour for each distinct value, in order of first appearance."""
    return {v: LABELS[i % len(LABELS)] for i, v in enumerate(dict.fromkeys(values))}
