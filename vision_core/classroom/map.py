"""The class map: every learner's photo on one flat map, and each learner's nearest classmates.

The map is made from the class's embeddings alone, so every learner and the teacher see the same
map for the same photos: the methods are seeded, and the map is only made again when a photo
joins or leaves.  How it is made depends on how many photos there are:

* none: an empty map;
* one photo: nothing to compare it with — the photo alone, at the centre;
* two to four photos: PCA (:func:`vision_core.embeddings.projection.pca_map`), the straight-line
  view; UMAP needs a neighbour graph, which a handful of points cannot give;
* :data:`MIN_UMAP` photos or more: UMAP (:func:`vision_core.embeddings.projection.umap_map`) with
  at most :data:`NEIGHBOURS` neighbours and cosine distance, as the embedding lab's map.

Neighbours are found in the embedding itself (cosine similarity), never on the map.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from vision_core.embeddings import neighbours, projection

MIN_UMAP = 5  # fewer photos than this are laid out by PCA
NEIGHBOURS = 15  # UMAP's neighbours (fewer when the class is smaller)
MIN_DIST = 0.3  # UMAP's minimum distance: photos are drawn as pictures, so they need room
THUMB_SHARE = 0.18  # a photo's side on the map, as a share of the map's larger side

Method = Literal["empty", "single", "pca", "umap"]


@dataclass(frozen=True)
class ClassMap:
    """Where each photo of the class sits on the map, and how that was decided."""

    method: Method
    coords: np.ndarray  # (N, 2) float64
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def thumb_side(self) -> float:
        """The side of a photo drawn on the map, in map units: a share of the map's larger side
        (a map of one photo, or of photos in one spot, draws them one unit wide)."""
        span = float(np.ptp(self.coords, axis=0).max()) if len(self.coords) else 0.0
        return span * THUMB_SHARE if span > 0 else 1.0

    def ranges(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """The x and y ranges that show every photo whole: the points' box widened by one photo's
        side on each edge."""
        if not len(self.coords):
            return (-1.0, 1.0), (-1.0, 1.0)
        pad = self.thumb_side
        low, high = self.coords.min(axis=0) - pad, self.coords.max(axis=0) + pad
        return (float(low[0]), float(high[0])), (float(low[1]), float(high[1]))


def class_map(vectors: np.ndarray, seed: int = 0) -> ClassMap:
    """The map of the class's ``(N, D)`` embeddings, by the method the number of photos allows."""
    x = np.asarray(vectors, dtype=np.float32)
    n = len(x)
    if n == 0:
        return ClassMap("empty", np.zeros((0, 2)))
    if n == 1:
        return ClassMap("single", np.zeros((1, 2)))
    if n < MIN_UMAP:
        pca = projection.pca_map(x, 2, seed=seed)
        coords = np.zeros((n, 2))
        coords[:, : pca.coords.shape[1]] = pca.coords
        variance = tuple(pca.params["variance"]) + (0.0,) * (2 - len(pca.params["variance"]))
        return ClassMap("pca", coords, {"variance": variance, "shown": float(sum(variance))})
    umap = projection.umap_map(x, 2, n_neighbors=min(NEIGHBOURS, n - 1), min_dist=MIN_DIST, seed=seed)
    return ClassMap("umap", umap.coords.astype(np.float64), dict(umap.params, seconds=umap.seconds))


def class_neighbours(vectors: np.ndarray, own: int, k: int = 3) -> list[neighbours.Neighbour]:
    """The ``k`` classmates' photos most similar to photo ``own`` by cosine similarity in the
    embedding (the photo itself left out), most similar first; fewer when the class is smaller."""
    if not 0 <= own < len(vectors):
        raise IndexError(f"photo {own} is not in a class of {len(vectors)} photos")
    return neighbours.nearest(np.asarray(vectors, dtype=np.float32), own, k)


def minutes_left(expires: float, now: float) -> int:
    """Whole minutes until ``expires`` (unix seconds), rounded up: "ends in 1 minute" until the end."""
    return max(0, math.ceil((expires - now) / 60))


def minutes_ago(created: float, now: float) -> int:
    """Whole minutes since ``created`` (unix seconds), rounded down: "0 minutes ago" at first."""
    return max(0, math.floor((now - created) / 60))
