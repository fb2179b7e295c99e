"""Cached calls into vision_core — the middle of the path page → cached call → vision_core → model.

Models are shared, read-only and in eval mode (``st.cache_resource``); everything computed from a
learner's photo is cached per photo with ``st.cache_data``, keyed by the photo's SHA-256 (the
bytes themselves are passed with a leading underscore, so Streamlit does not hash them again).
Photo-derived entries expire after an hour and are bounded in number: they live in this server's
memory only and are never written anywhere.
"""

from __future__ import annotations

import numpy as np
import streamlit as st
from PIL import Image
from torch import nn

from vision_core.cnn.convolution import ConvBreakdown, conv_breakdown
from vision_core.cnn.convolution import shape_table as _shape_table
from vision_core.engine import encoders
from vision_core.engine.preprocess import PreprocessSteps, load_image
from vision_core.engine.trace import Trace, trace

PHOTO_TTL = 3600  # seconds a photo's results stay cached after their last use


@st.cache_resource(show_spinner=False, max_entries=12)
def model(name: str, weights: str = "pretrained") -> nn.Module:
    """``weights="pretrained"``: the official weights, never downloaded here (the sidebar offers
    the download; a missing file raises ``WeightsUnavailable``).  ``"random"``: the same
    architecture untrained, from a fixed seed."""
    if weights == "random":
        return encoders.seeded_model(name, seed=0)
    return encoders.load_model(name, allow_download=False)


@st.cache_data(show_spinner=False, max_entries=32, ttl=PHOTO_TTL)
def photo(photo_key: str, _data: bytes) -> Image.Image:
    """The decoded photo (raises ``ImageError`` with a learner-facing message)."""
    return load_image(_data)


@st.cache_data(show_spinner=False, max_entries=32, ttl=PHOTO_TTL)
def thumbnail(photo_key: str, _data: bytes, side: int = 480) -> Image.Image:
    """A small copy for the sidebar and galleries."""
    image = photo(photo_key, _data).copy()
    image.thumbnail((side, side))
    return image


@st.cache_data(show_spinner=False, max_entries=32, ttl=PHOTO_TTL)
def prepared(
    photo_key: str, _data: bytes, name: str, size: int | None = None, keep_aspect: bool = False
) -> PreprocessSteps:
    """Every picture of the preparation for ``name``'s weights."""
    return encoders.preprocess_photo(photo(photo_key, _data), name, size=size, keep_aspect=keep_aspect)


@st.cache_data(show_spinner=False, max_entries=64, ttl=PHOTO_TTL)
def traced(
    photo_key: str,
    _data: bytes,
    name: str,
    weights: str = "pretrained",
    *,
    size: int | None = None,
    keep_aspect: bool = False,
    keep: tuple[str, ...] | None = None,
    stop_after: tuple[str, ...] | None = None,
    precision: str = "float16",
) -> Trace:
    """The trace of the photo through ``name``: values of the ``keep`` steps (all when None) in
    ``precision``, shapes and arithmetic of every step that ran."""
    m = model(name, weights)
    x = prepared(photo_key, _data, name, size, keep_aspect).tensor
    tr = trace(m, x, keep=keep, stop_after=stop_after)
    return tr.compact(np.dtype(precision))


@st.cache_data(show_spinner=False, max_entries=256, ttl=PHOTO_TTL)
def breakdown(
    photo_key: str,
    _data: bytes,
    name: str,
    weights: str,
    step: str,
    channel: int,
    y: int,
    x: int,
    size: int | None = None,
) -> ConvBreakdown:
    """The exact numbers behind one output value of convolution ``step`` (full precision)."""
    m = model(name, weights)
    tensor = prepared(photo_key, _data, name, size).tensor
    tr = trace(m, tensor, stop_after=[step])
    return conv_breakdown(m, tr, step, channel, y, x)


@st.cache_data(show_spinner=False, max_entries=64)
def shape_table(name: str, size: int) -> Trace:
    """Every step's shape and arithmetic for a size×size input (no values)."""
    return _shape_table(model(name, "random"), size).compact()
