"""Many vectors on one map: UMAP (2-D or 3-D), PCA and t-SNE, and placing a new photo on a map.

Every map starts the same way: the vectors are L2-normalised (so that straight-line distance
ranks neighbours as cosine similarity does) and reduced by PCA to at most 50 dimensions, which
keeps most of their variance and makes the neighbour search cheap.  UMAP (McInnes, Healy and
Melville 2018, umap-learn) is then given exact nearest neighbours computed by scikit-learn
instead of building its approximate NN-descent index: for a class's gallery (hundreds to a few
thousand photos) the exact search takes well under a second and skips umap's slowest numba
compilation.  The same exact index answers "where does a new photo land?": umap's own
``transform`` places new points on the fitted map without refitting it.

Numba compiles umap's functions on their first call (several seconds; 16 s with NN-descent).
:func:`warm_up` pays that once per process on a tiny map; the app runs it in a background thread
at start, so a learner's first map is already warm.  ``bench/bench_umap.py`` measures both.

UMAP and t-SNE are random algorithms; every map here is seeded, so the same gallery gives the
same map.  t-SNE has no way to place a new point: it would have to be fitted again.
"""

from __future__ import annotations

import threading
import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

import numpy as np
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE
from sklearn.neighbors import NearestNeighbors

from vision_core.embeddings.vectors import l2_normalize

Metric = Literal["cosine", "euclidean", "correlation"]
METRICS: tuple[Metric, ...] = ("cosine", "euclidean", "correlation")
PCA_DIMS = 50
# UMAP's own default is 500 optimisation epochs below 10,000 points and 200 above; we switch at
# 2,000 so that 5,000 photos map in under 5 s on 2 cores (the layouts look alike).
FEW_EPOCHS_FROM = 2000


@dataclass
class Reduced:
    """Vectors after L2 normalisation and PCA, with the fitted PCA to reduce new vectors alike."""

    data: np.ndarray  # (N, ≤50) float32
    pca: PCA | None  # None when there were too few photos for PCA to reduce anything
    kept_variance: float  # share of the variance the PCA components keep (1.0 without PCA)

    def apply(self, vectors: np.ndarray) -> np.ndarray:
        x = l2_normalize(np.atleast_2d(vectors)).astype(np.float32)
        return x if self.pca is None else self.pca.transform(x).astype(np.float32)


def reduce(vectors: np.ndarray, dims: int = PCA_DIMS, seed: int = 0) -> Reduced:
    """L2-normalise, then PCA to at most ``dims`` dimensions (never more than the photos allow)."""
    x = l2_normalize(np.asarray(vectors)).astype(np.float32)
    n, d = x.shape
    k = min(dims, n - 1, d)
    if k < 2 or k >= d:
        return Reduced(x, None, 1.0)
    pca = PCA(n_components=k, svd_solver="randomized" if n > 500 else "full", random_state=seed).fit(x)
    return Reduced(pca.transform(x).astype(np.float32), pca, float(pca.explained_variance_ratio_.sum()))


class ExactIndex:
    """Exact nearest neighbours with scikit-learn, shaped like pynndescent's index where umap's
    ``transform`` uses it (``query`` and ``_angular_trees``)."""

    _angular_trees = False

    def __init__(self, data: np.ndarray, metric: Metric):
        self.metric = metric
        self._nn = NearestNeighbors(metric=metric, algorithm="brute").fit(data)

    def query(self, x: np.ndarray, k: int, epsilon: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
        dists, idx = self._nn.kneighbors(np.asarray(x, dtype=np.float32), n_neighbors=k)
        return idx.astype(np.int32), dists.astype(np.float32)


@dataclass
class Projection:
    """A map of N vectors: ``coords`` (N, 2 or 3), how it was made, and what it needs to place
    new vectors (``None`` for t-SNE, which cannot)."""

    method: Literal["umap", "pca", "tsne"]
    coords: np.ndarray
    params: dict[str, Any]
    reduced: Reduced
    model: Any = field(default=None, repr=False)
    seconds: float = 0.0

    @property
    def can_place(self) -> bool:
        return self.method in ("umap", "pca")

    def place(self, vectors: np.ndarray) -> np.ndarray:
        """Where new vectors land on this map, without refitting it."""
        x = self.reduced.apply(vectors)
        if self.method == "pca":
            return self.model.transform(x).astype(np.float32)
        if self.method == "umap":
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return np.asarray(self.model.transform(x), dtype=np.float32)
        raise ValueError("t-SNE cannot place a new point on an existing map; it has to be fitted again")


class Landing(NamedTuple):
    step: float  # how far the placed point lies from the gallery point it is compared with
    span: float  # the diagonal of the box around the map's points: how big the map is


def landing(coords: np.ndarray, placed: np.ndarray, index: int) -> Landing:
    """How far ``placed`` (a point on the map, (D,) or (1, D)) landed from map point ``index``,
    beside the size of the whole map."""
    step = float(np.linalg.norm(np.asarray(placed).reshape(-1) - coords[index]))
    return Landing(step, float(np.linalg.norm(np.ptp(coords, axis=0))))


def umap_map(
    vectors: np.ndarray,
    n_components: int = 2,
    n_neighbors: int = 15,
    min_dist: float = 0.1,
    metric: Metric = "cosine",
    seed: int = 0,
) -> Projection:
    """UMAP of ``vectors`` (N ≥ 4) after :func:`reduce`, with exact neighbours."""
    import umap  # imported here: umap pulls in numba, which the rest of vision_core does not need

    start = time.perf_counter()
    reduced = reduce(vectors, seed=seed)
    n = len(reduced.data)
    if n < 4:
        raise ValueError("a UMAP map needs at least 4 photos")
    k = int(min(max(n_neighbors, 2), n - 1))
    index = ExactIndex(reduced.data, metric)
    knn_idx, knn_dist = index.query(reduced.data, k)
    reducer = umap.UMAP(
        n_components=n_components,
        n_neighbors=k,
        min_dist=min_dist,
        metric=metric,
        random_state=seed,
        n_epochs=500 if n <= FEW_EPOCHS_FROM else 200,
        precomputed_knn=(knn_idx, knn_dist, index),
        transform_seed=seed,
    )
    with warnings.catch_warnings():
        # our index is not pynndescent's, which umap mentions; seeding makes umap single-threaded
        warnings.simplefilter("ignore")
        coords = reducer.fit_transform(reduced.data)
    params = {"n_neighbors": k, "min_dist": min_dist, "metric": metric, "seed": seed, "dims": n_components}
    return Projection(
        "umap", np.asarray(coords, dtype=np.float32), params, reduced, reducer, time.perf_counter() - start
    )


def pca_map(vectors: np.ndarray, n_components: int = 2, seed: int = 0) -> Projection:
    """The first principal components: the straight-line view of the same reduced vectors."""
    start = time.perf_counter()
    reduced = reduce(vectors, seed=seed)
    k = min(n_components, *reduced.data.shape)
    model = PCA(n_components=k, random_state=seed).fit(reduced.data)
    coords = model.transform(reduced.data).astype(np.float32)
    share = model.explained_variance_ratio_ * reduced.kept_variance
    params = {"dims": k, "variance": tuple(float(s) for s in share)}
    return Projection("pca", coords, params, reduced, model, time.perf_counter() - start)


def tsne_map(
    vectors: np.ndarray,
    n_components: int = 2,
    perplexity: float = 30.0,
    metric: Metric = "cosine",
    seed: int = 0,
) -> Projection:
    """t-SNE (van der Maaten and Hinton 2008, scikit-learn's Barnes-Hut) of the reduced vectors."""
    start = time.perf_counter()
    reduced = reduce(vectors, seed=seed)
    n = len(reduced.data)
    if n < 4:
        raise ValueError("a t-SNE map needs at least 4 photos")
    p = float(min(perplexity, max(1.0, (n - 1) / 3)))
    model = TSNE(n_components=n_components, perplexity=p, metric=metric, init="pca", random_state=seed)
    coords = model.fit_transform(reduced.data).astype(np.float32)
    params = {"dims": n_components, "perplexity": p, "metric": metric, "seed": seed}
    return Projection("tsne", coords, params, reduced, None, time.perf_counter() - start)


# --- numba warm-up ----------------------------------------------------------------------------

_WARM = threading.Event()
_WARMING = threading.Lock()
_warm_seconds: float | None = None


def warm_up() -> float:
    """Compile umap's numba functions on a tiny map, once per process; returns the seconds it
    took (0 when already warm).  Safe to call from several threads: the others wait."""
    global _warm_seconds
    with _WARMING:
        if _WARM.is_set():
            return 0.0
        start = time.perf_counter()
        rng = np.random.default_rng(0)
        centres = rng.normal(size=(4, 64))
        x = (centres[rng.integers(0, 4, 80)] + 0.3 * rng.normal(size=(80, 64))).astype(np.float32)
        for dims in (2, 3):
            m = umap_map(x, n_components=dims, n_neighbors=8)
            m.place(x[:2])
        _warm_seconds = time.perf_counter() - start
        _WARM.set()
        return _warm_seconds


def warm_up_in_background() -> threading.Thread | None:
    """Start :func:`warm_up` in a daemon thread unless the process is warm or warming."""
    if _WARM.is_set() or _WARMING.locked():
        return None
    thread = threading.Thread(target=warm_up, name="umap-warm-up", daemon=True)
    thread.start()
    return thread


def is_warm() -> bool:
    return _WARM.is_set()


def cluster_outlines(coords: np.ndarray, clusters: np.ndarray, pad: float = 0.03) -> dict[int, np.ndarray]:
    """Each cluster's outline on a 2-D map, as a closed polygon ((M, 2), first point repeated):
    the convex hull of a disc of radius ``pad`` × the map's larger extent around each of its
    points, so that a cluster of one or two photos gets an outline too and no point lies on the
    line.  DBSCAN's noise (id −1) gets none."""
    from scipy.spatial import ConvexHull

    xy = np.asarray(coords, dtype=np.float64)[:, :2]
    ids = np.asarray(clusters)
    radius = pad * float(np.ptp(xy, axis=0).max() or 1.0)
    angles = np.linspace(0, 2 * np.pi, 16, endpoint=False)
    disc = radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)  # (16, 2)
    out = {}
    for c in np.unique(ids):
        if c < 0:
            continue
        points = (xy[ids == c][:, None, :] + disc[None]).reshape(-1, 2)
        ring = points[ConvexHull(points).vertices]
        out[int(c)] = np.vstack([ring, ring[:1]])
    return out
