"""What embeddings are for (syllabus file 001): retrieval, clustering, a linear probe, anomaly
detection, and how much two encoders agree about which photos are neighbours.

Everything works on the rows of an ``(N, D)`` matrix of embeddings and compares them by cosine
similarity, so each function first L2-normalises them: then cosine similarity is a dot product
and Euclidean distance ranks neighbours in the same order (``|a − b|² = 2 − 2 cos``).  The
algorithms are scikit-learn's; what is here is the bookkeeping a lesson shows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import hypergeom
from sklearn.cluster import DBSCAN, KMeans
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import adjusted_rand_score, confusion_matrix, normalized_mutual_info_score, roc_auc_score
from sklearn.model_selection import StratifiedKFold

from vision_core.embeddings.vectors import l2_normalize

NOISE = -1  # DBSCAN's cluster id for photos in no cluster


def similarities(vectors: np.ndarray) -> np.ndarray:
    """The (N, N) cosine similarity of every photo with every other."""
    x = l2_normalize(vectors)
    return x @ x.T


# --- retrieval --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Neighbour:
    index: int
    similarity: float


def nearest(vectors: np.ndarray, query: int | np.ndarray, k: int = 5) -> list[Neighbour]:
    """The ``k`` photos most similar to ``query`` (a row index, which is then left out, or a
    vector), most similar first."""
    x = l2_normalize(vectors)
    if isinstance(query, (int, np.integer)):
        sims = x @ x[int(query)]
        sims[int(query)] = -np.inf
    else:
        sims = x @ l2_normalize(np.asarray(query).reshape(-1))
    k = min(k, int(np.isfinite(sims).sum()))
    order = np.argsort(-sims, kind="stable")[:k]
    return [Neighbour(int(i), float(sims[i])) for i in order]


@dataclass(frozen=True)
class CosineParts:
    """``cos = a·b / (|a| |b|)`` with each part, for showing the formula with real numbers."""

    dot: float
    norm_a: float
    norm_b: float
    cosine: float


def cosine_parts(a: np.ndarray, b: np.ndarray) -> CosineParts:
    a = np.asarray(a, dtype=np.float64).reshape(-1)
    b = np.asarray(b, dtype=np.float64).reshape(-1)
    dot, na, nb = float(a @ b), float(np.linalg.norm(a)), float(np.linalg.norm(b))
    return CosineParts(dot, na, nb, dot / (na * nb) if na and nb else 0.0)


def label_order(labels: Sequence[str]) -> list[int]:
    """The photos sorted by label, photos of one label in gallery order (rows of a matrix)."""
    return sorted(range(len(labels)), key=lambda i: (labels[i], i))


def label_groups(sorted_labels: Sequence[str]) -> list[tuple[str, int, int]]:
    """(label, first row, row after the last) of each run of one label in ``sorted_labels``
    (the rows of a matrix in :func:`label_order`): where a matrix draws its separators."""
    groups: list[tuple[str, int, int]] = []
    for i, label in enumerate(sorted_labels):
        if groups and groups[-1][0] == label:
            groups[-1] = (label, groups[-1][1], i + 1)
        else:
            groups.append((label, i, i + 1))
    return groups


def off_diagonal_range(sims: np.ndarray) -> tuple[float, float]:
    """The lowest and highest similarity between two different photos (the diagonal, each photo
    with itself, is 1 and would stretch a colour scale); (1, 1) for a single photo."""
    off = sims[~np.eye(len(sims), dtype=bool)]
    return (float(off.min()), float(off.max())) if off.size else (1.0, 1.0)


def label_precision(neighbours: Sequence[Neighbour], labels: Sequence[str], label: str) -> float:
    """The share of ``neighbours`` that carry ``label`` (precision@k of a retrieval)."""
    if not neighbours:
        return 0.0
    return sum(labels[n.index] == label for n in neighbours) / len(neighbours)


@dataclass(frozen=True)
class Retrieval:
    """How well a search's ``k`` results found the query's own label.

    ``relevant`` is how many other gallery photos carry it. Precision is taken at
    ``r = min(k, relevant)`` (R-precision when k ≥ relevant), so that a perfect search scores 1
    even when the label has fewer photos than ``k``; recall@k is the share of the relevant photos
    among the ``k`` results."""

    k: int
    found: int  # results with the query's label
    relevant: int
    at: int  # r = min(k, relevant)
    precision: float  # among the first r results
    recall: float

    @property
    def defined(self) -> bool:
        return self.relevant > 0


def retrieval(neighbours: Sequence[Neighbour], labels: Sequence[str], query: int) -> Retrieval:
    """:class:`Retrieval` of the results of a search for gallery photo ``query``."""
    label = labels[query]
    same = [labels[n.index] == label for n in neighbours]
    relevant = sum(lab == label for lab in labels) - 1
    at = min(len(neighbours), relevant)
    precision = sum(same[:at]) / at if at else float("nan")
    recall = sum(same) / relevant if relevant else float("nan")
    return Retrieval(len(neighbours), sum(same), relevant, at, precision, recall)


@dataclass(frozen=True)
class Closeness:
    """How close a new photo's nearest gallery photo is, against the gallery's own neighbours.

    ``best`` is the new photo's highest cosine similarity to a gallery photo; ``median`` and
    ``lowest`` describe every gallery photo's similarity to its own nearest other photo;
    ``share_below`` is the share of gallery photos whose nearest neighbour is less similar than
    ``best``. A new photo below nearly all of them (``stranger``) resembles nothing in the gallery:
    its place on a map is the least bad spot, not a neighbourhood."""

    best: float
    median: float
    lowest: float
    share_below: float

    STRANGER_SHARE = 0.05  # below this share of the gallery's own neighbour similarities

    @property
    def stranger(self) -> bool:
        return self.share_below < self.STRANGER_SHARE


def closeness(vectors: np.ndarray, best: float) -> Closeness:
    """:class:`Closeness` of a new photo whose nearest gallery photo has cosine ``best``."""
    sims = similarities(vectors)
    np.fill_diagonal(sims, -np.inf)
    own = sims.max(axis=1)
    return Closeness(float(best), float(np.median(own)), float(own.min()), float(np.mean(own < best)))


def knn_lists(vectors: np.ndarray, k: int) -> np.ndarray:
    """(N, k) indices of each photo's ``k`` nearest other photos by cosine similarity."""
    sims = similarities(vectors)
    np.fill_diagonal(sims, -np.inf)
    return np.argsort(-sims, axis=1, kind="stable")[:, :k]


# --- clustering -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClusterScores:
    """How well clusters match labels.  ``purity``: the share of photos that carry their
    cluster's most common label; ``adjusted_rand``: 1 for the same grouping, about 0 for a random
    one; ``nmi``: normalised mutual information.  ``table[c, l]`` counts photos of cluster
    ``clusters[c]`` with label ``labels[l]``."""

    purity: float
    adjusted_rand: float
    nmi: float
    clusters: tuple[int, ...]
    labels: tuple[str, ...]
    table: np.ndarray

    @property
    def found(self) -> int:
        """Clusters found, DBSCAN's noise not counted."""
        return sum(c != NOISE for c in self.clusters)

    @property
    def noise(self) -> int:
        """Photos DBSCAN put in no cluster."""
        return int(self.table[self.clusters.index(NOISE)].sum()) if NOISE in self.clusters else 0


@dataclass(frozen=True)
class ClusterContents:
    """One cluster's photos and the label most of them carry."""

    cluster: int
    members: tuple[int, ...]
    label: str  # the commonest label (the first to appear, on a tie)
    share: float  # the share of the members that carry it


def cluster_contents(clusters: Sequence[int], labels: Sequence[str]) -> list[ClusterContents]:
    """Every cluster (in order of its id, noise first) with its members and commonest label."""
    ids = np.asarray(clusters)
    out = []
    for c in np.unique(ids):
        members = tuple(int(i) for i in np.flatnonzero(ids == c))
        label, count = Counter(labels[i] for i in members).most_common(1)[0]
        out.append(ClusterContents(int(c), members, str(label), count / len(members)))
    return out


def kmeans(vectors: np.ndarray, k: int, seed: int = 0) -> np.ndarray:
    """Cluster ids (0..k-1) from k-means on the L2-normalised vectors (spherical-like k-means)."""
    x = l2_normalize(vectors)
    return KMeans(n_clusters=int(k), n_init=10, random_state=seed).fit_predict(x)


def dbscan(vectors: np.ndarray, eps: float, min_samples: int = 3) -> np.ndarray:
    """Cluster ids from DBSCAN with cosine distance (1 − cos); :data:`NOISE` for photos in none."""
    x = l2_normalize(vectors)
    return DBSCAN(eps=float(eps), min_samples=int(min_samples), metric="cosine").fit_predict(x)


def purity(clusters: Sequence[int], labels: Sequence[str]) -> float:
    """Σ over clusters of the count of its most common label, ÷ N.  DBSCAN's noise counts as one
    cluster of its own (it is not given a free pass)."""
    ids, names = np.asarray(clusters), np.asarray(labels)
    total = 0
    for c in np.unique(ids):
        _, counts = np.unique(names[ids == c], return_counts=True)
        total += counts.max()
    return total / len(names)


def cluster_scores(clusters: Sequence[int], labels: Sequence[str]) -> ClusterScores:
    assigned, truth = np.asarray(clusters), np.asarray(labels)
    ids, names = np.unique(assigned), np.unique(truth)
    table = np.array([[np.sum((assigned == c) & (truth == n)) for n in names] for c in ids], dtype=int)
    return ClusterScores(
        purity(clusters, labels),
        float(adjusted_rand_score(truth, assigned)),
        float(normalized_mutual_info_score(truth, assigned)),
        tuple(int(c) for c in ids),
        tuple(str(n) for n in names),
        table,
    )


# --- linear probe -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Probe:
    """A logistic regression on the vectors, judged by cross-validation: every photo is
    predicted by a model that never saw it.  ``used`` marks the photos whose label has enough
    examples to be split into folds; ``predicted`` holds a label for those, ``""`` for the rest."""

    accuracy: float
    fold_accuracies: tuple[float, ...]
    chance: float  # accuracy of always answering the most common label
    classes: tuple[str, ...]
    confusion: np.ndarray  # [true, predicted], in the order of classes
    labels: np.ndarray  # (N,) str: the true labels
    predicted: np.ndarray  # (N,) str
    used: np.ndarray  # (N,) bool
    folds: int
    left_out: tuple[str, ...]  # labels with too few photos to take part

    @property
    def misclassified(self) -> np.ndarray:
        """Indices of the photos the probe got wrong."""
        return np.flatnonzero(self.used & (self.predicted != self.labels))


def probe_folds(labels: Sequence[str], folds: int = 5) -> int:
    """How many folds :func:`linear_probe` cross-validates over for these labels: ``folds``, or the
    smallest count among labels with two photos or more when that is less (0 when none has two)."""
    counts = np.unique(np.asarray(labels).astype(str), return_counts=True)[1]
    return int(min(folds, counts[counts >= 2].min())) if (counts >= 2).any() else 0


def linear_probe(
    vectors: np.ndarray, labels: Sequence[str], folds: int = 5, seed: int = 0, c: float = 1.0
) -> Probe:
    """Cross-validated logistic regression on L2-normalised vectors.  Labels with fewer than 2
    photos are left out; the number of folds is at most the smallest remaining label's count."""
    truth = np.asarray(labels).astype(str)
    names, counts = np.unique(truth, return_counts=True)
    keep_names = names[counts >= 2]
    used = np.isin(truth, keep_names)
    if len(keep_names) < 2:
        raise ValueError("a probe needs at least two labels with two photos or more each")
    x, y = l2_normalize(vectors)[used], truth[used]
    k = probe_folds(labels, folds)
    splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    predicted_used = np.empty(len(y), dtype=object)
    accuracies = []
    for train, test in splitter.split(x, y):
        model = LogisticRegression(C=c, max_iter=2000).fit(x[train], y[train])
        predicted_used[test] = model.predict(x[test])
        accuracies.append(float(np.mean(predicted_used[test] == y[test])))
    predicted = np.full(len(truth), "", dtype=object)
    predicted[used] = predicted_used
    classes = tuple(str(n) for n in keep_names)
    confusion = confusion_matrix(y, predicted_used.astype(str), labels=list(classes))
    chance = float(np.max(np.unique(y, return_counts=True)[1]) / len(y))
    left_out = tuple(str(n) for n in names[counts < 2])
    return Probe(
        float(np.mean(predicted_used == y)),
        tuple(accuracies),
        chance,
        classes,
        confusion,
        truth,
        predicted.astype(str),
        used,
        k,
        left_out,
    )


# --- anomaly detection ------------------------------------------------------------------------


def anomaly_scores(vectors: np.ndarray, normal: np.ndarray | Sequence[bool], k: int = 5) -> np.ndarray:
    """Each photo's mean cosine distance (1 − cos) to its ``k`` nearest *normal* photos, never
    counting itself: near 0 for a photo like the normal ones, larger for an outlier."""
    normal = np.asarray(normal, dtype=bool)
    if normal.sum() < 1:
        raise ValueError("anomaly scores need at least one normal photo")
    dist = 1.0 - similarities(vectors)[:, normal]  # (N, n_normal)
    own = np.flatnonzero(normal)
    dist[own, np.arange(len(own))] = np.inf  # a normal photo is not its own neighbour
    k = int(min(k, max(1, len(own) - 1)))  # every photo has at least k normal neighbours
    nearest_k = np.sort(dist, axis=1)[:, :k]
    return np.where(np.isfinite(nearest_k), nearest_k, np.nan).mean(axis=1)


def separation(scores: np.ndarray, normal: np.ndarray | Sequence[bool]) -> float:
    """ROC AUC of the scores for telling the other photos from the normal ones: the chance that a
    random other photo scores higher than a random normal one (0.5 = no better than a coin)."""
    normal = np.asarray(normal, dtype=bool)
    ok = np.isfinite(scores)
    if normal[ok].all() or not normal[ok].any():
        return float("nan")
    return float(roc_auc_score(~normal[ok], np.asarray(scores)[ok]))


# --- encoders compared ------------------------------------------------------------------------


def neighbour_agreement(a: np.ndarray, b: np.ndarray, k: int = 5) -> np.ndarray:
    """Per photo, the Jaccard overlap |A ∩ B| / |A ∪ B| of its ``k`` nearest neighbours under
    two encoders (the same photos, in the same order): 1 when both list the same photos."""
    if len(a) != len(b):
        raise ValueError("both encoders must embed the same photos")
    la, lb = knn_lists(a, k), knn_lists(b, k)
    out = np.empty(len(a))
    for i, (ra, rb) in enumerate(zip(la, lb, strict=True)):
        sa, sb = set(ra.tolist()), set(rb.tolist())
        out[i] = len(sa & sb) / len(sa | sb)
    return out


@dataclass(frozen=True)
class Agreement:
    """How much two encoders agree about every photo's ``k`` nearest neighbours."""

    per_photo: np.ndarray  # (N,) Jaccard overlap of the two neighbour lists
    k: int

    @property
    def mean(self) -> float:
        return float(self.per_photo.mean())

    @property
    def identical(self) -> float:
        """The share of photos whose two lists hold the same photos."""
        return float(np.mean(self.per_photo == 1.0))

    @property
    def least(self) -> int:
        """The photo the two encoders agree on least (the first such)."""
        return int(np.argmin(self.per_photo))


def agreement(a: np.ndarray, b: np.ndarray, k: int = 5) -> Agreement:
    """:func:`neighbour_agreement` of two encoders' vectors, with its summaries."""
    return Agreement(neighbour_agreement(a, b, k), k)


def chance_agreement(n: int, k: int) -> float:
    """The expected Jaccard overlap of two random ``k``-lists drawn from the n − 1 other photos:
    the overlap x of two random k-subsets of m items is hypergeometric, and J = x / (2k − x)."""
    m = n - 1
    if m <= 0 or k <= 0:
        return 0.0
    k = min(k, m)
    x = np.arange(0, k + 1)
    return float(np.sum(hypergeom.pmf(x, m, k, k) * x / (2 * k - x)))


def label_agreement(vectors: np.ndarray, labels: Sequence[str], k: int = 5) -> float:
    """The share of all photos' ``k`` nearest neighbours that carry the photo's own label."""
    names = np.asarray(labels)
    lists = knn_lists(vectors, k)
    return float(np.mean(names[lists] == names[:, None]))
