"""The embedding lab's predict-then-reveal questions (issue 14): one maker per page, each building
its :class:`~vision_core.quiz.Choices` from the gallery's own vectors, maps, clusters, probe,
anomaly scores or encoder agreement — the right answer and rivals that are plausible mistakes
(the second-nearest photo, the next-tightest label, the guess of chance), never typed by hand.

A maker returns ``None`` when the gallery cannot pose its question (one label only, one photo):
the page then simply asks nothing.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Sequence

import numpy as np

from vision_core.embeddings import neighbours
from vision_core.embeddings.neighbours import NOISE, Agreement, Probe
from vision_core.embeddings.outliers import OutlierReport
from vision_core.quiz import Choices, choices

# the edges of the cosine-similarity bands the gallery page asks about: opposite-ish, unrelated,
# alike, near-copies (the last band includes 1)
COSINE_EDGES = (-1.0, 0.0, 0.5, 0.9, 1.0)
Band = tuple[float, float]


def _photos_in_mixed_order(q: Choices[int], salt: str) -> Choices[int]:
    """Photos (gallery indices) offered in an order fixed by ``salt``, not by gallery position:
    sorted indices would put a photo's own variants, which follow it in the gallery, first."""
    order = sorted(q.options, key=lambda i: hashlib.sha256(f"{salt}|{i}".encode()).digest())
    return Choices(tuple(order), order.index(q.correct))


# --- page 1, the gallery: how alike will two photos' vectors be? -------------------------------


def cosine_pair(labels: Sequence[str]) -> tuple[int, int] | None:
    """The two photos the gallery page asks about: the first photo and the first one carrying
    another label (the second photo when every label is the same); ``None`` for fewer than two."""
    if len(labels) < 2:
        return None
    other = next((i for i, label in enumerate(labels) if label != labels[0]), 1)
    return 0, other


def cosine_band_question(vectors: np.ndarray, a: int, b: int) -> Choices[Band]:
    """ "Which band will the cosine similarity of photos ``a`` and ``b`` fall in?" — the bands of
    :data:`COSINE_EDGES` in increasing order, the one holding their cosine marked right."""
    cos = float(np.clip(neighbours.cosine_parts(vectors[a], vectors[b]).cosine, -1.0, 1.0))
    bands = tuple(itertools.pairwise(COSINE_EDGES))
    answer = next(i for i, (_, hi) in enumerate(bands) if cos < hi or hi == COSINE_EDGES[-1])
    return Choices(bands, answer)


def band_kind(band: Band) -> str:
    """ "low" for the first band (no lower edge worth saying), "high" for the last, else "mid"."""
    return "low" if band[0] == COSINE_EDGES[0] else "high" if band[1] == COSINE_EDGES[-1] else "mid"


def nearest_of_label(vectors: np.ndarray, labels: Sequence[str], a: int) -> neighbours.Neighbour | None:
    """Photo ``a``'s most similar photo among those carrying its own label (``None``: no other)."""
    same = [h for h in neighbours.nearest(vectors, a, len(vectors)) if labels[h.index] == labels[a]]
    return same[0] if same else None


# --- page 2, the map: which label is drawn tightest? -------------------------------------------


def label_spreads(coords: np.ndarray, labels: Sequence[str]) -> dict[str, float]:
    """Each label's mean distance between two of its photos on a map (labels with two photos or
    more), tightest first."""
    names = np.asarray(labels)
    spreads = {}
    for label in dict.fromkeys(labels):
        points = coords[names == label]
        if len(points) < 2:
            continue
        gaps = np.linalg.norm(points[:, None, :] - points[None, :, :], axis=-1)
        spreads[str(label)] = float(gaps[np.triu_indices(len(points), k=1)].mean())
    return dict(sorted(spreads.items(), key=lambda kv: kv[1]))


def tightest_question(coords: np.ndarray, labels: Sequence[str]) -> Choices[str] | None:
    """ "Which label will form the tightest group on the map?" — the label whose photos lie
    closest together, against the next tightest ones."""
    spreads = list(label_spreads(coords, labels).items())
    if len(spreads) < 2 or spreads[0][1] == spreads[1][1]:
        return None
    return choices(spreads[0][0], [label for label, _ in spreads[1:]], salt="tightest")


# --- page 3, similar photos: which one is the nearest? -----------------------------------------


def nearest_question(vectors: np.ndarray, labels: Sequence[str], query: int) -> Choices[int] | None:
    """ "Which of these photos is most similar to photo ``query``?" — its nearest neighbour among
    the nearest photo of another label, the second and third nearest (photos as similar as the
    nearest are left out: they would be right too)."""
    ranked = neighbours.nearest(vectors, query, len(vectors))
    if len(ranked) < 2:
        return None
    best = ranked[0]
    others = [h for h in ranked[1:] if h.similarity < best.similarity]
    if not others:
        return None
    stranger = [h.index for h in others if labels[h.index] != labels[query]][:1]
    rivals = stranger + [h.index for h in others]
    return _photos_in_mixed_order(choices(best.index, rivals), f"nearest|{query}")


def ranked_options(vectors: np.ndarray, query: int, q: Choices[int]) -> list[neighbours.Neighbour]:
    """The photos offered by a :func:`nearest_question`, most similar to ``query`` first."""
    return [h for h in neighbours.nearest(vectors, query, len(vectors)) if h.index in q.options]


# --- page 4, clusters: how many are of one label only? -----------------------------------------


def pure_clusters(clusters: Sequence[int], labels: Sequence[str]) -> tuple[int, int]:
    """(clusters whose photos all carry one label, clusters found), DBSCAN's noise not counted."""
    found = [c for c in neighbours.cluster_contents(clusters, labels) if c.cluster != NOISE]
    return sum(c.share == 1.0 for c in found), len(found)


def pure_clusters_question(clusters: Sequence[int], labels: Sequence[str]) -> Choices[int]:
    """ "How many of the clusters will hold photos of one label only?" — the count, against the
    counts next to it (from none to every cluster found)."""
    pure, found = pure_clusters(clusters, labels)
    counts = range(0, max(found, 1) + 1)
    rivals = sorted((c for c in counts if c != pure), key=lambda c: (abs(c - pure), c))
    return choices(pure, rivals, salt="pure_clusters")


# --- page 5, the probe: what accuracy? ---------------------------------------------------------


def probe_accuracy_question(probe: Probe) -> Choices[float]:
    """ "What cross-validated accuracy will the probe reach?" — its accuracy, against chance (the
    commonest label's share: "the vectors know nothing of the labels"), a perfect score, and the
    score half-way between, each a score the probe could reach on these photos (k of n right)."""
    n = int(probe.used.sum())

    def reachable(share: float) -> float:
        return round(share * n) / n

    middle = reachable((probe.chance + 1.0) / 2)
    rivals = [reachable(probe.chance), 1.0, middle, reachable(probe.accuracy - 1 / n), 1.0 - 1 / n]
    return choices(probe.accuracy, [r for r in rivals if 0.0 <= r <= 1.0], salt="probe")


# --- page 6, outliers: which is the most unusual? ----------------------------------------------


def most_unusual_question(report: OutlierReport) -> Choices[int] | None:
    """ "Which of these photos will score as the most unusual?" — the top of the ranking, against
    the runner-up, the normal photo that scores highest, and the other photo that scores lowest."""
    scored = [int(i) for i in report.order if np.isfinite(report.scores[i])]
    if len(scored) < 2:
        return None
    top = scored[0]
    below = [i for i in scored if report.scores[i] < report.scores[top]]
    if not below:
        return None
    normal = [i for i in below if report.normal[i]][:1]
    others = [i for i in below if not report.normal[i]][-1:]
    q = choices(top, [below[0], *normal, *others, *below[1:]])
    return _photos_in_mixed_order(q, f"most_unusual|{sorted(q.options)}")


# --- page 7, encoders compared: how much do two encoders agree? --------------------------------


def agreement_question(ab: Agreement, n: int, others: Sequence[float] = ()) -> Choices[float]:
    """ "What share of their k-neighbour lists will encoders A and B share?" — their mean Jaccard
    overlap, against what two random pickers would share, total agreement, and the overlaps of the
    other pairs on the page (``others``), each rounded to a tenth of a percent, as shown."""
    chance = neighbours.chance_agreement(n, ab.k)
    rivals = [round(chance, 3), 1.0, *(round(o, 3) for o in others), round((chance + 1.0) / 2, 3)]
    return choices(round(ab.mean, 3), rivals, salt="agreement")
