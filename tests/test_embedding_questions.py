"""The embedding lab's questions on real embeddings of the embedded EfficientNet-Lite0 (trained and
seeded-random): each right answer is checked against an independent computation — scikit-learn's
neighbour search, SciPy's distances, a probe and an anomaly score written out here — never against
the maker itself."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import pdist
from sklearn.linear_model import LogisticRegression
from sklearn.metrics.cluster import contingency_matrix
from sklearn.model_selection import StratifiedKFold
from sklearn.neighbors import NearestNeighbors

from vision_core.embeddings import gallery, neighbours, projection, questions
from vision_core.embeddings import vectors as embeddings
from vision_core.embeddings.outliers import outliers
from vision_core.engine import encoders

SAMPLES = ["chelsea", "coffee", "astronaut", "rocket"]


@pytest.fixture(scope="module")
def lab():
    items = gallery.sample_items(SAMPLES, 3)
    images = [it.image() for it in items]
    lite0 = encoders.load_model("efficientnet_lite0")
    random = encoders.seeded_model("efficientnet_lite0", seed=0)
    return {
        "labels": [it.label for it in items],
        "trained": embeddings.embed(lite0, images, "efficientnet_lite0"),
        "random": embeddings.embed(random, images, "efficientnet_lite0"),
    }


def unit(v: np.ndarray) -> np.ndarray:
    v = v.astype(np.float64)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


@pytest.mark.parametrize("weights", ["trained", "random"])
def test_the_cosine_band_holds_the_two_photos_cosine(lab, weights):
    v, labels = lab[weights], lab["labels"]
    a, b = questions.cosine_pair(labels)
    assert a == 0 and labels[b] != labels[0] and all(x == labels[0] for x in labels[:b])
    q = questions.cosine_band_question(v, a, b)
    cos = float(np.dot(v[a], v[b]) / (np.linalg.norm(v[a]) * np.linalg.norm(v[b])))
    lo, hi = q.correct
    assert lo <= cos < hi
    assert q.options == ((-1.0, 0.0), (0.0, 0.5), (0.5, 0.9), (0.9, 1.0))
    # the lesson's point: trained, a cat and a coffee cup are far apart; untrained, nearly alike
    assert q.correct == ((0.0, 0.5) if weights == "trained" else (0.9, 1.0))
    partner = questions.nearest_of_label(v, labels, a)
    same = [i for i in range(1, len(labels)) if labels[i] == labels[a]]
    sims = unit(v) @ unit(v)[a]
    assert partner.index == max(same, key=lambda i: sims[i])


def test_a_gallery_of_one_photo_asks_nothing_and_one_label_pairs_the_first_two():
    assert questions.cosine_pair(["cat"]) is None
    assert questions.cosine_pair(["cat", "cat", "cat"]) == (0, 1)
    bands = [questions.band_kind(b) for b in questions.cosine_band_question(np.eye(2), 0, 1).options]
    assert bands == ["low", "mid", "mid", "high"]


@pytest.mark.parametrize("weights", ["trained", "random"])
@pytest.mark.parametrize("query", [0, 6, 13])
def test_the_nearest_photo_is_scikit_learns_nearest_neighbour(lab, weights, query):
    v, labels = lab[weights], lab["labels"]
    q = questions.nearest_question(v, labels, query)
    x = unit(v)  # scikit-learn takes the random encoder's tiny vectors (|v| ~ 1e-8) for zeros
    _, idx = NearestNeighbors(n_neighbors=len(v), metric="cosine").fit(x).kneighbors(x[query : query + 1])
    ranked = [int(i) for i in idx[0] if i != query]
    assert q.correct == ranked[0]
    assert len(q.options) == 4 and query not in q.options
    assert any(labels[i] != labels[query] for i in q.options)  # a photo of another label among them
    shown = questions.ranked_options(v, query, q)
    assert [h.index for h in shown] == [i for i in ranked if i in q.options]


def test_the_tightest_label_on_the_real_map(lab):
    v, labels = lab["trained"], np.array(lab["labels"])
    umap = projection.umap_map(v, 2, 15, 0.1, "cosine")
    spreads = {label: pdist(umap.coords[labels == label]).mean() for label in set(labels)}
    q = questions.tightest_question(umap.coords, list(labels))
    assert q.correct == min(spreads, key=spreads.get)
    assert set(q.options) == set(spreads)  # four labels: all of them offered
    assert list(questions.label_spreads(umap.coords, list(labels))) == sorted(spreads, key=spreads.get)
    assert questions.tightest_question(umap.coords, [str(i) for i in range(len(labels))]) is None


@pytest.mark.parametrize("weights", ["trained", "random"])
@pytest.mark.parametrize("k", [2, 4, 6])
def test_pure_clusters_counted_from_the_contingency_table(lab, weights, k):
    v, labels = lab[weights], lab["labels"]
    clusters = neighbours.kmeans(v, k)
    table = contingency_matrix(clusters, labels)  # rows: clusters
    pure = int(np.sum((table > 0).sum(axis=1) == 1))
    q = questions.pure_clusters_question(clusters, labels)
    assert q.correct == pure and questions.pure_clusters(clusters, labels) == (pure, k)
    assert set(q.options) <= set(range(k + 1)) and list(q.options) == sorted(q.options)
    assert len(q.options) == min(4, k + 1)


def test_dbscan_noise_is_not_a_cluster():
    clusters = [neighbours.NOISE, neighbours.NOISE, 0, 0, 1]
    assert questions.pure_clusters(clusters, ["a", "b", "a", "a", "b"]) == (2, 2)
    q = questions.pure_clusters_question([neighbours.NOISE] * 3, ["a", "b", "c"])
    assert q.correct == 0 and q.options == (0, 1)


@pytest.mark.parametrize("weights", ["trained", "random"])
def test_the_probes_accuracy_is_a_cross_validated_logistic_regression(lab, weights):
    v, labels = lab[weights], np.array(lab["labels"])
    probe = neighbours.linear_probe(v, labels, folds=4)
    x = unit(v)
    right = 0
    for train, test in StratifiedKFold(n_splits=4, shuffle=True, random_state=0).split(x, labels):
        model = LogisticRegression(C=1.0, max_iter=2000).fit(x[train], labels[train])
        right += int(np.sum(model.predict(x[test]) == labels[test]))
    q = questions.probe_accuracy_question(probe)
    assert q.correct == pytest.approx(right / len(labels))
    assert 0.25 in q.options and list(q.options) == sorted(q.options)  # chance: four labels of four
    assert len(q.options) == 4 and all(round(o * 16) == o * 16 for o in q.options)  # scores k of 16


@pytest.mark.parametrize("weights", ["trained", "random"])
def test_the_most_unusual_photo_has_the_largest_distance_to_its_normal_neighbours(lab, weights):
    v, labels = lab[weights], lab["labels"]
    normal = [x == labels[0] for x in labels]
    x = unit(v)
    scores = []
    for i in range(len(v)):
        others = [j for j in range(len(v)) if normal[j] and j != i]
        dist = sorted(1.0 - float(x[i] @ x[j]) for j in others)
        scores.append(np.mean(dist[:3]))
    q = questions.most_unusual_question(outliers(v, labels, {labels[0]}, 3))
    assert q.correct == int(np.argmax(scores))
    assert len(q.options) == 4
    assert any(normal[i] for i in q.options)  # the normal photo that scores highest is a rival


def test_the_agreement_of_two_encoders_is_their_mean_jaccard_overlap(lab):
    a, b, k = lab["trained"], lab["random"], 5
    lists = []
    for v in (a, b):
        x = unit(v)  # scikit-learn takes the random encoder's tiny vectors for zeros
        _, idx = NearestNeighbors(n_neighbors=k + 1, metric="cosine").fit(x).kneighbors(x)
        lists.append([set(int(j) for j in row if j != i) for i, row in enumerate(idx)])
    jaccard = np.mean([len(x & y) / len(x | y) for x, y in zip(*lists, strict=True)])
    ab = neighbours.agreement(a, b, k)
    q = questions.agreement_question(ab, len(a), [0.8])
    assert q.correct == round(jaccard, 3)
    assert round(neighbours.chance_agreement(len(a), k), 3) in q.options and 1.0 in q.options
    assert 0.8 in q.options and list(q.options) == sorted(q.options)
