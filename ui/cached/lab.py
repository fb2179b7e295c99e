"""The embedding lab's cached calls: the gallery's vectors, its maps, thumbnails and the probe.

The embedding of each photo is cached per (photo SHA-256, encoder, trained or not) with
``st.cache_data``; only the photos not cached yet are embedded, in batches, with a progress bar.
Maps are ``st.cache_resource`` entries keyed on :func:`ui.gallery.digest`: a fitted UMAP is kept as
the object itself, so a new photo can be placed on it later.  Gallery photos are hashed on their
key (a SHA-256), never on their bytes.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable, Sequence

import numpy as np
import streamlit as st
from PIL import Image

from lessons import lesson
from ui import session
from ui.cached import core
from ui.cached.core import PHOTO_TTL
from ui.gallery import digest, file_vectors
from ui.session import Choice
from vision_core.embeddings import neighbours, projection, stability
from vision_core.embeddings import vectors as embeddings
from vision_core.embeddings.gallery import GalleryItem

MEMO_ENTRIES = 6  # galleries × encoders whose assembled matrix a session keeps at hand
ITEM_HASH = {GalleryItem: lambda it: it.key}


@st.cache_data(show_spinner=False, max_entries=20_000, ttl=PHOTO_TTL)
def _vector(
    photo_key: str, name: str, trained: bool, _fresh: dict[str, np.ndarray] | None = None
) -> np.ndarray:
    """One photo's embedding.  Called with no ``_fresh`` it raises ``LookupError`` on a miss — an
    exception is never cached — so that the caller can embed all the misses in one batched run
    and then store each of them here."""
    if _fresh is None or photo_key not in _fresh:
        raise LookupError(photo_key)
    return _fresh[photo_key]


def vectors(items: Sequence[GalleryItem], choice: Choice, *, progress: bool = True) -> np.ndarray:
    """The (N, D) embeddings of ``items`` under ``choice``: cached ones looked up, the rest embedded
    in batches (with a progress bar) and cached."""
    memo_key = digest(items, choice.name, choice.trained)
    memo: dict[str, np.ndarray] = st.session_state.setdefault("lab_vectors_memo", {})
    if memo_key in memo:
        return memo[memo_key]
    text, bar = lesson("emb_common", session.lang()), None

    def report(done: int, total: int) -> None:
        nonlocal bar
        if not progress:
            return
        words = text("embedding_progress", done=done, total=total)
        if bar is None:
            bar = st.progress(0.0, text=words)
        bar.progress(done / total, text=words)

    found = cached_vectors(items, choice, report, known=file_vectors(items, choice))
    if bar is not None:
        bar.empty()
    matrix = np.stack([found[it.key] for it in items]) if items else np.zeros((0, 1), np.float32)
    while len(memo) >= MEMO_ENTRIES:  # the oldest first: dicts keep insertion order
        memo.pop(next(iter(memo)))
    memo[memo_key] = matrix
    return matrix


def cached_vectors(
    items: Sequence[GalleryItem],
    choice: Choice,
    report: Callable[[int, int], None] | None = None,
    known: dict[str, np.ndarray] | None = None,
) -> dict[str, np.ndarray]:
    """Each photo's embedding under ``choice`` by its key: ``known`` ones (read from a vectors
    file: no photo) and cached ones as they are, the rest embedded in batches (``report(done,
    total)`` from ``(0, total)`` on) and cached for every session.  Needs no session: the server's
    warm-up fills the cache with it (ui/warmup.py)."""
    found: dict[str, np.ndarray] = dict(known or {})
    missing: list[GalleryItem] = []
    for it in items:
        if it.key in found:
            continue
        try:
            found[it.key] = _vector(it.key, choice.name, choice.trained)
        except LookupError:
            missing.append(it)
    if missing:
        if report is not None:
            report(0, len(missing))
        new = embeddings.embed(
            core.model(choice),
            (it.image() for it in missing),
            choice.name,
            total=len(missing),
            on_progress=report,
        )
        fresh = {it.key: v for it, v in zip(missing, new, strict=True)}
        for it in missing:
            found[it.key] = _vector(it.key, choice.name, choice.trained, fresh)
    return found


# --- maps ---------------------------------------------------------------------------------------


@st.cache_resource(show_spinner=False, max_entries=24, ttl=PHOTO_TTL)
def umap_projection(
    key: str, _vectors: np.ndarray, dims: int, n_neighbors: int, min_dist: float, metric: str
) -> projection.Projection:
    """The UMAP map of the gallery ``key`` names (its photos and encoder: :func:`ui.gallery.digest`)."""
    return projection.umap_map(_vectors, dims, n_neighbors, min_dist, metric)  # type: ignore[arg-type]


def overview_map(items: Sequence[GalleryItem], choice: Choice, vectors: np.ndarray) -> projection.Projection:
    """The gallery's 2-D UMAP with the map page's first settings (15 neighbours, ``min_dist``
    0.1, cosine), which the clusters and compare pages show."""
    key = digest(items, choice.name, choice.trained)
    return umap_projection(key, vectors, 2, min(15, len(items) - 1), 0.1, "cosine")


@st.cache_resource(show_spinner=False, max_entries=24, ttl=PHOTO_TTL)
def pca_projection(key: str, _vectors: np.ndarray, dims: int) -> projection.Projection:
    return projection.pca_map(_vectors, dims)


@st.cache_resource(show_spinner=False, max_entries=24, ttl=PHOTO_TTL)
def tsne_projection(
    key: str, _vectors: np.ndarray, dims: int, perplexity: float, metric: str
) -> projection.Projection:
    return projection.tsne_map(_vectors, dims, perplexity, metric)  # type: ignore[arg-type]


# --- thumbnails ---------------------------------------------------------------------------------


@st.cache_data(show_spinner=False, max_entries=4000, ttl=PHOTO_TTL, hash_funcs=ITEM_HASH)
def thumbnail(item: GalleryItem, side: int = 160) -> Image.Image:
    """A small copy of a gallery photo."""
    return item.thumbnail(side)


@st.cache_data(show_spinner=False, max_entries=4000, ttl=PHOTO_TTL, hash_funcs=ITEM_HASH)
def thumbnail_uri(item: GalleryItem, side: int = 72) -> str:
    """A small copy as a ``data:`` URI, for the gallery's table."""
    buffer = io.BytesIO()
    thumbnail(item, side).save(buffer, "JPEG", quality=80)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode()


# --- analyses worth caching ---------------------------------------------------------------------


@st.cache_data(show_spinner=False, max_entries=64, ttl=PHOTO_TTL)
def probe(key: str, _vectors: np.ndarray, _labels: tuple[str, ...], folds: int, c: float) -> neighbours.Probe:
    """The cross-validated linear probe (``key`` names the gallery, its labels and the encoder)."""
    return neighbours.linear_probe(_vectors, _labels, folds=folds, c=c)


@st.cache_data(show_spinner=False, max_entries=64, ttl=PHOTO_TTL)
def _stability(key: str, _vectors: np.ndarray, _labels: tuple[str, ...], k: int) -> stability.SeedStability:
    return stability.kmeans_stability(_vectors, _labels, k)


def kmeans_stability(
    items: Sequence[GalleryItem], choice: Choice, vectors: np.ndarray, k: int
) -> stability.SeedStability:
    """k-means with each of :data:`stability.SEEDS` seeds on the gallery's vectors, compared with
    its labels and with each other."""
    key = digest(items, choice.name, choice.trained, labels=True)
    return _stability(key, vectors, tuple(it.label for it in items), k)
