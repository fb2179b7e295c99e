"""Outliers (syllabus file 001, anomaly detection): the learner says which labels are normal; each
photo's anomaly score is its mean cosine distance to its nearest normal photos
(:func:`~vision_core.embeddings.neighbours.anomaly_scores`).  This module ranks the photos by
that score and says how well the score sets the other photos apart from the normal ones."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np

from vision_core.embeddings.neighbours import anomaly_scores, separation


@dataclass(frozen=True)
class OutlierReport:
    """The scores of every photo and what a lesson reads off them."""

    scores: np.ndarray  # (N,) mean cosine distance to the k nearest normal photos; NaN when none
    normal: np.ndarray  # (N,) bool: the photo carries a normal label
    k: int
    auc: float  # ROC AUC of the scores for telling the others from the normal photos (NaN: undefined)
    highest_normal: float  # the highest score of a normal photo; NaN with fewer than two normal photos
    above: int  # other photos that score above every normal photo
    order: np.ndarray  # (N,) photo indices, most unusual first; NaN scores last

    @property
    def ranks(self) -> np.ndarray:
        """(N,) each photo's place in :attr:`order`, counting from 1."""
        ranks = np.empty(len(self.order), dtype=int)
        ranks[self.order] = np.arange(1, len(self.order) + 1)
        return ranks

    def most_unusual(self, n: int) -> list[int]:
        """The ``n`` photos with the highest scores, highest first."""
        return [int(i) for i in self.order[:n]]

    def most_typical(self, n: int) -> list[int]:
        """The ``n`` photos with the lowest (known) scores, lowest first."""
        return [int(i) for i in self.order[::-1] if np.isfinite(self.scores[i])][:n]


def outliers(
    vectors: np.ndarray, labels: Sequence[str], normal_labels: Collection[str], k: int = 3
) -> OutlierReport:
    """Anomaly scores with the photos labelled ``normal_labels`` as the normal ones."""
    normal = np.array([label in normal_labels for label in labels], dtype=bool)
    scores = anomaly_scores(vectors, normal, k)
    # a lone normal photo has no normal neighbour of its own, so no score to compare the others with
    highest = float(np.nanmax(scores[normal])) if normal.sum() > 1 else float("nan")
    above = int(np.sum(scores[~normal] > highest)) if np.isfinite(highest) else 0
    order = np.argsort(-np.nan_to_num(scores, nan=-1.0), kind="stable")
    return OutlierReport(scores, normal, k, separation(scores, normal), highest, above, order)
