"""The cached calls every section shares: models, the photo, its preparation and its trace.

Models are shared, read-only and in eval mode (``st.cache_resource``); everything computed from a
learner's photo is cached per :class:`~ui.session.Subject` with ``st.cache_data``, hashed on the
photo's SHA-256 (never on the bytes: ``hash_funcs``).  Photo-derived entries expire an hour after
their last use and are bounded in number: they live in this server's memory only and are never
written anywhere.
"""

from __future__ import annotations

import numpy as np
import streamlit as st
from PIL import Image
from torch import nn

from ui.session import Choice, Photo, Subject
from vision_core.engine import encoders
from vision_core.engine.preprocess import PreprocessSteps, load_image
from vision_core.engine.trace import Trace, trace

PHOTO_TTL = 3600  # seconds a photo's results stay cached after their last use
# hash a subject or a photo on the photo's SHA-256: hashing megabytes of bytes on every call is waste
HASH = {Subject: lambda s: s.cache_key, Photo: lambda p: p.key}


def photo_cache(max_entries: int):
    """``st.cache_data`` for results computed from a learner's photo."""
    return st.cache_data(show_spinner=False, max_entries=max_entries, ttl=PHOTO_TTL, hash_funcs=HASH)


@st.cache_resource(show_spinner=False, max_entries=12)
def model(choice: Choice) -> nn.Module:
    """The trained network, never downloaded here (the sidebar offers the download; a missing file
    raises ``WeightsUnavailable``), or the same architecture untrained, from a fixed seed."""
    if not choice.trained:
        return encoders.seeded_model(choice.name, seed=0)
    return encoders.load_model(choice.name, allow_download=False)


@photo_cache(max_entries=32)
def photo(p: Photo) -> Image.Image:
    """The decoded photo (raises ``ImageError`` with a learner-facing message)."""
    return load_image(p.data)


@photo_cache(max_entries=32)
def thumbnail(p: Photo, side: int = 480) -> Image.Image:
    """A small copy for the sidebar and galleries."""
    image = photo(p).copy()
    image.thumbnail((side, side))
    return image


@photo_cache(max_entries=32)
def prepared(subject: Subject) -> PreprocessSteps:
    """Every picture of the preparation for the subject's encoder."""
    return encoders.preprocess_photo(
        photo(subject.photo), subject.name, size=subject.size, keep_aspect=subject.keep_aspect
    )


@photo_cache(max_entries=64)
def traced(
    subject: Subject,
    *,
    keep: tuple[str, ...] | None = None,
    stop_after: tuple[str, ...] | None = None,
    precision: str = "float16",
) -> Trace:
    """The trace of the subject's photo through its encoder: values of the ``keep`` steps (all when
    None) in ``precision``, shapes and arithmetic of every step that ran."""
    tr = trace(model(subject.choice), prepared(subject).tensor, keep=keep, stop_after=stop_after)
    return tr.compact(np.dtype(precision))


@st.cache_data(show_spinner=False, max_entries=64)
def shape_table(name: str, size: int) -> Trace:
    """Every step's shape and arithmetic for a size×size input (no values)."""
    from vision_core.cnn.convolution import shape_table as _shape_table

    return _shape_table(model(Choice(name, trained=False)), size).compact()
