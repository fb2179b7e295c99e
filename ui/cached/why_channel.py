"""Cached calls of "What a channel looks for": the gallery, every photo's channel maxima, the top
photos' prepared pictures and the feature visualisations.

The gallery is every bundled sample with its seeded crop-and-mirror variants (shared by all
sessions: ``ui.gallery.sample_gallery``), the learner's photo and the uploads of their embedding
lab.  One photo's maxima — each channel's largest value and its cell, for every layer of the
encoder — are cached per (photo SHA-256, encoder, trained or not); only the photos not cached yet
run through the network, in batches, with a progress bar.  So switching channel or layer runs
nothing.  A feature visualisation is cached per (encoder, trained, layer, channel); it is made
only when the learner asks for it (it takes seconds), with a progress bar.  The bars live outside
the cached functions (``st.cache_data`` would replay them): the result is computed outside and
then stored, as ``ui.cached.lab`` does for embeddings.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import streamlit as st

from lessons import lesson
from ui import gallery as lab
from ui import session
from ui.cached import core
from ui.cached.core import PHOTO_TTL, photo_cache
from ui.gallery import digest
from ui.session import Choice, Photo
from vision_core import samples
from vision_core.embeddings.gallery import GalleryItem, item_from_bytes
from vision_core.engine import encoders
from vision_core.engine.trace import Trace
from vision_core.why import channels, featurevis
from vision_core.why.channels import Layer, PhotoMaxima
from vision_core.why.featurevis import FeatureVis

VARIANT_KINDS = ("crop", "flip")  # the lab's augmentations that keep the photo's colours
MAX_VARIANTS = 7  # per sample: 24 samples × (1 + 7) = 192 photos
MEMO_ENTRIES = 4  # galleries × encoders whose maxima a session keeps at hand
ITEM_HASH = {GalleryItem: lambda it: it.key}
FV_STEPS = featurevis.Settings().steps


@photo_cache(max_entries=16)
def _photo_item(p: Photo) -> GalleryItem:
    return item_from_bytes(p.data, p.label, p.label, "upload")


def gallery(variants: int) -> list[GalleryItem]:
    """The samples, each followed by ``variants`` variants, then the learner's photo and the lab's
    uploads (each photo once)."""
    ids = tuple(s.id for s in samples.list_samples())
    items = lab.sample_gallery(ids, variants, VARIANT_KINDS, 0, ())
    uploads = [it for it in lab.lab_session().uploads if it.key not in lab.lab_session().removed]
    seen: set[str] = set()
    out = []
    for it in [*items, _photo_item(session.current_photo()), *uploads]:
        if it.key not in seen:
            seen.add(it.key)
            out.append(it)
    return out


def shapes(choice: Choice) -> Trace:
    """Every step's shape and arithmetic of the chosen encoder at its own square crop (no values)."""
    return core.shape_table(choice.name, choice.encoder.preprocessing.crop)


def layers(choice: Choice) -> list[Layer]:
    """The layers of the chosen encoder whose channels can be browsed."""
    return channels.channel_layers(shapes(choice))


@st.cache_data(show_spinner=False, max_entries=8000, ttl=PHOTO_TTL)
def _maxima(
    photo_key: str, name: str, trained: bool, _fresh: dict[str, PhotoMaxima] | None = None
) -> PhotoMaxima:
    """One photo's maxima.  With no ``_fresh`` a miss raises ``LookupError`` (never cached), so that
    the caller can run all the misses in batches and then store each of them here."""
    if _fresh is None or photo_key not in _fresh:
        raise LookupError(photo_key)
    return _fresh[photo_key]


def maxima(items: Sequence[GalleryItem], choice: Choice) -> list[PhotoMaxima]:
    """Every photo's maxima under ``choice``: cached ones looked up, the rest computed in batches
    with a progress bar."""
    memo_key = digest(items, choice.name, choice.trained)
    memo: dict[str, list[PhotoMaxima]] = st.session_state.setdefault("why_channel_memo", {})
    if memo_key in memo:
        return memo[memo_key]
    found: dict[str, PhotoMaxima] = {}
    missing: list[GalleryItem] = []
    for it in items:
        try:
            found[it.key] = _maxima(it.key, choice.name, choice.trained)
        except LookupError:
            missing.append(it)
    if missing:
        text = lesson("why_channel", session.lang())
        bar = st.progress(0.0, text=text("maxima_progress", done=0, total=len(missing)))

        def report(done: int, total: int) -> None:
            bar.progress(done / total, text=text("maxima_progress", done=done, total=total))

        new = channels.gallery_maxima(
            core.model(choice),
            (it.image() for it in missing),
            choice.name,
            layers(choice),
            total=len(missing),
            on_progress=report,
        )
        fresh = {it.key: m for it, m in zip(missing, new, strict=True)}
        for it in missing:
            found[it.key] = _maxima(it.key, choice.name, choice.trained, fresh)
        bar.empty()
    result = [found[it.key] for it in items]
    while len(memo) >= MEMO_ENTRIES:  # the oldest first: dicts keep insertion order
        memo.pop(next(iter(memo)))
    memo[memo_key] = result
    return result


@st.cache_data(show_spinner=False, max_entries=256, ttl=PHOTO_TTL, hash_funcs=ITEM_HASH)
def prepared_pixels(item: GalleryItem, name: str) -> np.ndarray:
    """The picture encoder ``name`` is given for a gallery photo (its square crop), H×W×3 uint8."""
    return encoders.preprocess_photo(item.image(), name).pixels


@st.cache_data(show_spinner=False, max_entries=128)
def _feature_vis(
    name: str, trained: bool, layer: str, channel: int, _fresh: FeatureVis | None = None
) -> FeatureVis:
    """A stored feature visualisation; with no ``_fresh`` a miss raises ``LookupError``."""
    if _fresh is None:
        raise LookupError(layer, channel)
    return _fresh


def stored_feature_vis(choice: Choice, layer: Layer, channel: int) -> FeatureVis | None:
    """The channel's feature visualisation if anyone has made it already, else None."""
    try:
        return _feature_vis(choice.name, choice.trained, layer.name, channel)
    except LookupError:
        return None


def feature_vis(choice: Choice, layer: Layer, channel: int) -> FeatureVis:
    """Make the channel's feature visualisation, with a progress bar, and store it."""
    text = lesson("why_channel", session.lang())
    bar = st.progress(0.0, text=text("fv_progress", done=0, total=FV_STEPS))

    def report(done: int, total: int) -> None:
        bar.progress(done / total, text=text("fv_progress", done=done, total=total))

    made = featurevis.visualise(core.model(choice), choice.name, layer, channel, on_progress=report)
    bar.empty()
    return _feature_vis(choice.name, choice.trained, layer.name, channel, made)
