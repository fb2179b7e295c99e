"""How much a k-means clustering depends on its random start.

k-means (Lloyd's algorithm, k-means++ starts, scikit-learn) only finds a local optimum of its
objective: a different seed places different first centres and can end in a different grouping of
the same vectors.  :func:`kmeans_stability` runs the lab's own :func:`neighbours.kmeans` once per
seed and reports what a lesson shows: each seed's purity against the labels, the adjusted Rand
index (ARI) between every two seeds' clusterings (1 when they group the photos identically, the
cluster numbers aside; about 0 for unrelated groupings), and how many different clusterings the
seeds found.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.metrics import adjusted_rand_score
from threadpoolctl import threadpool_limits

from vision_core.embeddings import neighbours

SEEDS = 6  # seeds a page runs; seed 0 is the clustering the page shows


@dataclass(frozen=True)
class SeedStability:
    """k-means on one gallery, once per seed.  ``clusterings[s]`` are seed ``seeds[s]``'s cluster
    ids; ``pair_ari[s, t]`` the adjusted Rand index between seeds ``s`` and ``t`` (1 on the
    diagonal)."""

    k: int
    seeds: tuple[int, ...]
    clusterings: np.ndarray  # (S, N) int
    purity: np.ndarray  # (S,) each seed's purity against the labels
    label_ari: np.ndarray  # (S,) each seed's adjusted Rand index against the labels
    pair_ari: np.ndarray  # (S, S)

    @property
    def pairs(self) -> np.ndarray:
        """The ARI of every pair of different seeds, S·(S−1)/2 values."""
        return self.pair_ari[np.triu_indices(len(self.seeds), k=1)]

    @property
    def mean_agreement(self) -> float:
        return float(self.pairs.mean())

    @property
    def lowest_agreement(self) -> float:
        return float(self.pairs.min())

    @property
    def distinct(self) -> int:
        """How many different clusterings the seeds found (renumbered clusters count as one)."""
        return len({canonical(c) for c in self.clusterings})

    @property
    def identical(self) -> bool:
        return self.distinct == 1

    @property
    def verdict(self) -> str:
        """``same`` (every seed found one clustering), ``differ`` (different clusterings of
        different purity) or ``differ_even`` (different clusterings, every one as pure)."""
        if self.identical:
            return "same"
        return "differ" if self.purity.max() - self.purity.min() > 1e-12 else "differ_even"


def canonical(clusters: Sequence[int] | np.ndarray) -> tuple[int, ...]:
    """Cluster ids renumbered in order of first appearance: two clusterings that group the photos
    the same way, whatever they number the groups, give the same tuple."""
    first: dict[int, int] = {}
    return tuple(first.setdefault(int(c), len(first)) for c in clusters)


def kmeans_stability(
    vectors: np.ndarray, labels: Sequence[str], k: int, seeds: Sequence[int] = range(SEEDS)
) -> SeedStability:
    """Run :func:`neighbours.kmeans` with each of ``seeds`` and compare the clusterings."""
    seeds = tuple(int(s) for s in seeds)
    with threadpool_limits(1):  # one thread a run: a busy server gains nothing from more
        runs = np.stack([neighbours.kmeans(vectors, k, seed) for seed in seeds])  # (S, N)
    truth = np.asarray(labels)
    s = len(seeds)
    pair = np.ones((s, s))
    for i in range(s):
        for j in range(i + 1, s):
            pair[i, j] = pair[j, i] = adjusted_rand_score(runs[i], runs[j])
    return SeedStability(
        k=int(k),
        seeds=seeds,
        clusterings=runs,
        purity=np.array([neighbours.purity(c, labels) for c in runs]),
        label_ari=np.array([adjusted_rand_score(truth, c) for c in runs]),
        pair_ari=pair,
    )
