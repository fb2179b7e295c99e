"""k-means over several seeds (vision_core.embeddings.stability) against scikit-learn run here:
each seed's clustering, purity from the contingency table, adjusted Rand between seeds."""

from __future__ import annotations

import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score
from sklearn.metrics.cluster import contingency_matrix

from vision_core.embeddings import stability


def blobs(seed: int = 3) -> tuple[np.ndarray, list[str]]:
    """Five loose groups in 32 dimensions: loose enough that k-means' start matters."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(5, 32))
    labels = [f"l{i % 5}" for i in range(80)]
    x = np.stack([centres[i % 5] + 1.6 * rng.normal(size=32) for i in range(80)])
    return x, labels


def test_every_seed_is_scikit_learns_kmeans_and_the_agreements_are_its_ari():
    x, labels = blobs()
    runs = stability.kmeans_stability(x, labels, 7)
    unit = x / np.linalg.norm(x, axis=1, keepdims=True)
    for s, seed in enumerate(runs.seeds):
        expected = KMeans(n_clusters=7, n_init=10, random_state=seed).fit_predict(unit)
        assert adjusted_rand_score(expected, runs.clusterings[s]) == 1.0
        table = contingency_matrix(labels, expected)
        assert runs.purity[s] == table.max(axis=0).sum() / len(labels)
        assert runs.label_ari[s] == adjusted_rand_score(labels, expected)
    pairs = [
        adjusted_rand_score(runs.clusterings[i], runs.clusterings[j])
        for i in range(len(runs.seeds))
        for j in range(i + 1, len(runs.seeds))
    ]
    assert np.allclose(runs.pairs, pairs)
    assert runs.mean_agreement == np.mean(pairs) and runs.lowest_agreement == min(pairs)
    # the count of different clusterings is the count of ARI-1 classes
    distinct = []
    for c in runs.clusterings:
        if not any(adjusted_rand_score(c, d) == 1.0 for d in distinct):
            distinct.append(c)
    assert runs.distinct == len(distinct)
    assert runs.distinct > 1 and runs.verdict in ("differ", "differ_even")  # these blobs are loose


def test_well_separated_groups_give_one_clustering_whatever_the_seed():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(loc=10 * np.eye(8)[i], scale=0.1, size=(10, 8)) for i in range(3)])
    runs = stability.kmeans_stability(x, [str(i // 10) for i in range(30)], 3)
    assert runs.identical and runs.verdict == "same"
    assert np.all(runs.pair_ari == 1.0) and np.all(runs.purity == 1.0)


def test_canonical_ignores_how_clusters_are_numbered():
    assert stability.canonical([2, 2, 0, 1]) == stability.canonical([5, 5, 1, 0]) == (0, 0, 1, 2)
    assert stability.canonical([0, 1, 1]) != stability.canonical([0, 0, 1])
