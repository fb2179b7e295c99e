"""The embedding lab's engine on real embeddings of the embedded EfficientNet-Lite0: the folded fast
path gives forward_features' vectors, augmented variants stay together, the probe beats chance, the
maps place new photos without refitting; and the bookkeeping (purity, neighbours, anomaly scores,
agreement) checked on constructed cases whose answers are known by hand."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch

from vision_core import trace
from vision_core.embeddings import folding, gallery, neighbours, outliers, projection
from vision_core.embeddings import vectors as embeddings
from vision_core.engine import encoders
from vision_core.samples import load_sample

SAMPLES = ["chelsea", "coffee", "astronaut", "rocket", "flower", "motorcycle"]
VARIANTS = 4


@pytest.fixture(scope="module")
def lite0():
    return encoders.load_model("efficientnet_lite0")


@pytest.fixture(scope="module")
def lab(lite0):
    """Six samples with four variants each (30 photos), embedded by the folded Lite0."""
    items = gallery.sample_items(SAMPLES, VARIANTS)
    vectors = embeddings.embed(lite0, [it.image() for it in items], "efficientnet_lite0")
    return items, vectors, np.array([it.label for it in items])


# --- the fast path gives the same vectors ----------------------------------------------------


ONEDNN = [False, True] if folding.onednn_fusion_available() else [False]


@pytest.mark.parametrize("onednn", ONEDNN)
def test_folded_lite0_equals_forward_features_and_the_traced_gap(lite0, onednn):
    folded = folding.fold(lite0, onednn=onednn)
    assert folding.is_folded(folded) and folding.uses_onednn(folded) == onednn
    x = torch.stack([encoders.preprocess(load_sample(s), "efficientnet_lite0")[0] for s in SAMPLES[:3]])
    with torch.inference_mode():
        fast, plain = folded(x), lite0.forward_features(x)
    traced = torch.as_tensor(trace(lite0, x, keep=["gap"]).array("gap"))
    scale = plain.abs().max()
    assert torch.allclose(fast, plain, atol=1e-5 * scale, rtol=1e-4), (fast - plain).abs().max()
    assert torch.allclose(fast, traced, atol=1e-5 * scale, rtol=1e-4)
    assert torch.nn.functional.cosine_similarity(fast, plain).min() > 1 - 1e-6


@pytest.mark.parametrize("onednn", ONEDNN)
@pytest.mark.parametrize(("batch", "size"), [(2, (225, 231)), (1, (160, 96)), (5, (224, 224))])
def test_folding_handles_every_same_padding_case(lite0, batch, size, onednn):
    # odd sizes pad symmetrically or asymmetrically in other patterns: the general path
    x = torch.randn(batch, 3, *size, generator=torch.Generator().manual_seed(0))
    with torch.inference_mode():
        fast, plain = folding.fold(lite0, onednn=onednn)(x), lite0.forward_features(x)
    assert torch.allclose(fast, plain, atol=1e-5 * plain.abs().max(), rtol=1e-4)


@pytest.mark.parametrize("onednn", ONEDNN)
@pytest.mark.parametrize("name", ["resnet18", "resnet50"])
def test_folded_resnets_equal_forward_features(name, onednn):
    model = encoders.seeded_model(name)
    with torch.no_grad():  # give the batch norms non-trivial statistics, as trained ones have
        g = torch.Generator().manual_seed(1)
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.copy_(torch.randn(m.num_features, generator=g) * 0.1)
                m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
                m.weight.copy_(torch.rand(m.num_features, generator=g) + 0.5)
                m.bias.copy_(torch.randn(m.num_features, generator=g) * 0.1)
    x = torch.randn(2, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    with torch.inference_mode():
        fast, plain = folding.fold(model, onednn=onednn)(x), model.forward_features(x)
    assert torch.allclose(fast, plain, atol=1e-5 * plain.abs().max(), rtol=1e-4), (fast - plain).abs().max()


def test_encoders_without_batch_norms_run_their_own_forward_features():
    vit = encoders.seeded_model("deit_tiny")
    copy = folding.inference_copy(vit)
    assert not folding.is_folded(copy)
    x = torch.randn(1, 3, 224, 224)
    with torch.inference_mode():
        assert torch.equal(copy(x), vit.forward_features(x))


def test_the_folded_copy_is_made_once_and_leaves_the_model_alone(lite0):
    before = {k: v.clone() for k, v in lite0.state_dict().items()}
    assert folding.inference_copy(lite0) is folding.inference_copy(lite0)
    assert all(torch.equal(before[k], v) for k, v in lite0.state_dict().items())


def test_embed_batches_and_paths_agree(lite0, lab):
    items, vectors, _ = lab
    images = [it.image() for it in items[:7]]
    calls = []
    one_by_one = embeddings.embed(lite0, iter(images), "efficientnet_lite0", batch_size=1)
    by_three = embeddings.embed(
        lite0, images, "efficientnet_lite0", batch_size=3, on_progress=lambda d, t: calls.append((d, t))
    )
    plain = embeddings.embed(lite0, images, "efficientnet_lite0", fast=False)
    assert vectors.dtype == np.float32 and vectors.shape == (len(items), 1280)
    assert calls == [(3, 7), (6, 7), (7, 7)]
    for other in (one_by_one, by_three, vectors[:7]):
        np.testing.assert_allclose(other, plain, atol=1e-4, rtol=1e-4)
    assert embeddings.embed(lite0, [], "efficientnet_lite0").shape == (0, 1280)


def test_embed_reports_a_failing_photo_instead_of_hanging(lite0, lab):
    items, _, _ = lab

    def photos():
        yield items[0].image()
        raise gallery.ImageError("This file is empty (0 bytes).")

    with pytest.raises(gallery.ImageError, match="empty"):
        embeddings.embed(lite0, photos(), "efficientnet_lite0", batch_size=1)


def test_exports_round_trip(lab):
    items, vectors, labels = lab
    names = [it.name for it in items]
    table = np.load(io.BytesIO(embeddings.export_npy(vectors, labels, names)), allow_pickle=False)
    np.testing.assert_array_equal(table["vector"], vectors)
    assert list(table["label"]) == list(labels) and list(table["name"]) == names
    rows = embeddings.export_csv(vectors, labels, names).decode().splitlines()
    assert rows[0].split(",")[:3] == ["name", "label", "v0"] and len(rows) == len(items) + 1
    first = rows[1].split(",")
    assert first[:2] == [names[0], labels[0]]
    np.testing.assert_array_equal(np.array(first[2:], dtype=np.float32), vectors[0])


def test_csv_names_and_labels_never_start_a_spreadsheet_formula():
    vectors = np.array([[-1.5, 2.0], [0.25, 3.0]], dtype=np.float32)
    rows = embeddings.export_csv(vectors, ["=HYPERLINK(1)", "cat"], ["+evil.jpg", "cat_01.jpg"])
    lines = rows.decode().splitlines()
    assert lines[1].startswith("'+evil.jpg,'=HYPERLINK(1),-1.5,")  # numbers stay numbers
    assert lines[2].startswith("cat_01.jpg,cat,0.25,")


# --- what real embeddings do ------------------------------------------------------------------


def test_augmented_variants_are_nearer_each_other_than_other_photos(lab):
    _, vectors, labels = lab
    sims = neighbours.similarities(vectors)
    for label in np.unique(labels):
        own = labels == label
        within = sims[np.ix_(own, own)][~np.eye(own.sum(), dtype=bool)]
        between = sims[np.ix_(own, ~own)]
        assert within.mean() > between.mean() + 0.3, label
        assert within.min() > between.mean(), label
    # and retrieval finds them: every photo's nearest photo is another view of the same scene
    assert all(labels[neighbours.nearest(vectors, i, 1)[0].index] == labels[i] for i in range(len(labels)))
    assert neighbours.label_agreement(vectors, labels, VARIANTS) > 0.9


def test_the_probe_beats_chance_on_the_samples(lab):
    _, vectors, labels = lab
    probe = neighbours.linear_probe(vectors, labels, folds=5)
    assert probe.chance == pytest.approx(1 / len(SAMPLES))
    assert probe.accuracy > 0.8 > probe.chance
    assert probe.confusion.sum() == len(labels) and np.trace(probe.confusion) == round(
        probe.accuracy * len(labels)
    )
    assert len(probe.misclassified) == len(labels) - np.trace(probe.confusion)


def test_clusters_of_real_embeddings_match_the_scenes(lab):
    _, vectors, labels = lab
    scores = neighbours.cluster_scores(neighbours.kmeans(vectors, len(SAMPLES)), labels)
    assert scores.purity > 0.9 and scores.adjusted_rand > 0.8


def test_umap_map_and_placing_new_photos(lite0, lab):
    items, vectors, labels = lab
    m = projection.umap_map(vectors, 2, n_neighbors=5)
    again = projection.umap_map(vectors, 2, n_neighbors=5)
    np.testing.assert_array_equal(m.coords, again.coords)  # seeded: the same gallery, the same map
    assert m.coords.shape == (len(items), 2) and m.reduced.data.shape[1] <= projection.PCA_DIMS
    assert 0 < m.reduced.kept_variance <= 1 + 1e-6
    # a new view of the cat, never seen by the map, lands among the cat's photos
    fresh = gallery.variants(items[0], VARIANTS + 1, seed=7)[-1]
    new = embeddings.embed(lite0, [fresh.image()], "efficientnet_lite0")
    before = m.coords.copy()
    landed = m.place(new)[0]
    np.testing.assert_array_equal(m.coords, before)  # placing moved nothing
    dist = np.linalg.norm(m.coords - landed, axis=1)
    assert labels[np.argmin(dist)] == labels[0]
    cat = labels == labels[0]
    assert dist[cat].mean() < dist[~cat].mean()
    assert projection.umap_map(vectors, 3, n_neighbors=5).coords.shape == (len(items), 3)


def test_pca_and_tsne_maps(lab):
    _, vectors, _ = lab
    pca = projection.pca_map(vectors)
    assert pca.coords.shape == (len(vectors), 2)
    assert 0 < sum(pca.params["variance"]) < 1 and pca.params["variance"][0] >= pca.params["variance"][1]
    np.testing.assert_allclose(pca.place(vectors[:3]), pca.coords[:3], atol=1e-4)
    tsne = projection.tsne_map(vectors, perplexity=5)
    assert tsne.coords.shape == (len(vectors), 2) and not tsne.can_place
    with pytest.raises(ValueError, match="t-SNE"):
        tsne.place(vectors[:1])


def test_warm_up_compiles_once():
    projection.warm_up()
    assert projection.is_warm()
    assert projection.warm_up() == 0.0 and projection.warm_up_in_background() is None


# --- the bookkeeping on constructed cases ----------------------------------------------------


def test_nearest_by_cosine_on_constructed_vectors():
    v = np.array([[1.0, 0, 0], [2.0, 0.2, 0], [0, 1.0, 0], [1.0, 1.0, 0], [-1.0, 0, 0]])
    hits = neighbours.nearest(v, 0, 4)
    assert [h.index for h in hits] == [1, 3, 2, 4]
    assert [h.similarity for h in hits] == pytest.approx([2 / np.sqrt(4.04), 1 / np.sqrt(2), 0.0, -1.0])
    assert [h.index for h in neighbours.nearest(v, np.array([0, 3.0, 0]), 2)] == [2, 3]
    parts = neighbours.cosine_parts(v[0], v[3])
    assert (parts.dot, parts.norm_a, parts.norm_b) == pytest.approx((1.0, 1.0, np.sqrt(2)))
    np.testing.assert_array_equal(neighbours.knn_lists(v, 1)[:, 0], [1, 0, 3, 1, 2])
    assert neighbours.label_precision(hits, list("aabab"), "a") == 0.5


def test_retrieval_precision_is_taken_at_the_labels_size_and_recall_at_k():
    """A label with 4 photos: a search for one of them with k = 8 can find at most 3; finding all 3
    is precision@3 = 1 and recall@8 = 1, not "3 of 8 = 38%"."""
    labels = list("aaaabbbbbbbb")
    hits = [neighbours.Neighbour(i, 1.0 - i / 100) for i in (1, 2, 4, 3, 5, 6, 7, 8)]
    r = neighbours.retrieval(hits, labels, 0)
    assert (r.k, r.found, r.relevant, r.at) == (8, 3, 3, 3)
    assert r.precision == pytest.approx(2 / 3)  # the first 3 results: a, a, b
    assert r.recall == 1.0
    alone = neighbours.retrieval(hits[:2], list("abbbbbbbb"), 0)
    assert not alone.defined and alone.relevant == 0


def test_purity_adjusted_rand_and_the_table():
    clusters = [0, 0, 0, 1, 1, 1, 1]
    labels = ["cat", "cat", "dog", "dog", "dog", "dog", "cat"]
    scores = neighbours.cluster_scores(clusters, labels)
    assert scores.purity == pytest.approx((2 + 3) / 7)
    assert scores.labels == ("cat", "dog") and scores.clusters == (0, 1)
    np.testing.assert_array_equal(scores.table, [[2, 1], [1, 3]])
    perfect = neighbours.cluster_scores([5, 5, 9, 9], ["a", "a", "b", "b"])
    assert (
        perfect.purity == 1.0
        and perfect.adjusted_rand == pytest.approx(1.0)
        and perfect.nmi == pytest.approx(1.0)
    )
    # DBSCAN's noise is one more group, not a free pass
    assert neighbours.purity([neighbours.NOISE] * 2 + [0, 0], ["a", "b", "a", "a"]) == pytest.approx(3 / 4)


def test_found_clusters_noise_and_each_clusters_commonest_label():
    clusters = [neighbours.NOISE, 0, 0, 0, 1, 1, neighbours.NOISE]
    labels = ["x", "cat", "dog", "dog", "cat", "dog", "y"]
    scores = neighbours.cluster_scores(clusters, labels)
    assert scores.found == 2 and scores.noise == 2
    assert neighbours.cluster_scores([0, 0, 1], ["a", "a", "b"]).noise == 0
    contents = neighbours.cluster_contents(clusters, labels)
    assert [c.cluster for c in contents] == [neighbours.NOISE, 0, 1]
    assert [c.members for c in contents] == [(0, 6), (1, 2, 3), (4, 5)]
    assert [(c.label, c.share) for c in contents[1:]] == [("dog", pytest.approx(2 / 3)), ("cat", 0.5)]
    assert contents[0].label == "x"  # a tie goes to the label seen first


def test_label_order_groups_labels_and_keeps_gallery_order_within_one():
    assert neighbours.label_order(["b", "a", "b", "a", "c"]) == [1, 3, 0, 2, 4]


def test_kmeans_and_dbscan_on_separated_directions():
    rng = np.random.default_rng(0)
    axes = np.eye(3) * 10
    v = np.concatenate([axes[i] + rng.normal(0, 0.3, (5, 3)) for i in range(3)])
    labels = np.repeat(["x", "y", "z"], 5)
    assert neighbours.cluster_scores(neighbours.kmeans(v, 3), labels).purity == 1.0
    db = neighbours.dbscan(np.vstack([v, [[-10, -10, -10]]]), eps=0.05, min_samples=3)
    assert db[-1] == neighbours.NOISE and len(set(db[:-1])) == 3


def test_anomaly_scores_by_hand():
    # three normal photos at 0°, 10° and 20°, one other at 90°, in a plane
    angles = np.radians([0, 10, 20, 90])
    v = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    normal = [True, True, True, False]
    scores = neighbours.anomaly_scores(v, normal, k=2)
    d = lambda a, b: 1 - np.cos(np.radians(abs(a - b)))  # noqa: E731
    expected = [
        (d(0, 10) + d(0, 20)) / 2,
        (d(10, 0) + d(10, 20)) / 2,
        (d(20, 10) + d(20, 0)) / 2,
        (d(90, 20) + d(90, 10)) / 2,
    ]
    np.testing.assert_allclose(scores, expected, atol=1e-12)
    assert neighbours.separation(scores, normal) == 1.0
    # k larger than the normal photos allow: each normal photo uses all the others it has
    np.testing.assert_allclose(neighbours.anomaly_scores(v, normal, k=10), expected, atol=1e-12)


def test_outlier_report_ranks_and_thresholds():
    # normal photos at 0°, 10° and 20°, others at 15° (inside) and 90° (far out)
    angles = np.radians([0, 10, 20, 15, 90])
    v = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    labels = ["n", "n", "n", "odd", "far"]
    report = outliers.outliers(v, labels, {"n"}, k=2)
    np.testing.assert_array_equal(report.normal, [True, True, True, False, False])
    np.testing.assert_allclose(report.scores, neighbours.anomaly_scores(v, report.normal, 2))
    assert report.highest_normal == pytest.approx(report.scores[:3].max())
    assert report.above == 1  # the far photo; the one at 15° scores like a normal one
    assert report.order[0] == 4 and report.most_unusual(1) == [4]
    np.testing.assert_array_equal(report.ranks[report.order], np.arange(1, 6))
    assert report.most_typical(5) == [int(i) for i in report.order[::-1]]
    assert report.auc == neighbours.separation(report.scores, report.normal)
    # one normal photo: it has no normal neighbour, so no threshold to beat
    lone = outliers.outliers(v, labels, {"far"}, k=2)
    assert np.isnan(lone.highest_normal) and lone.above == 0
    assert np.isnan(lone.scores[4]) and lone.order[-1] == 4 and 4 not in lone.most_typical(5)


def test_agreement_summaries():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(20, 6))
    same = neighbours.agreement(a, a, 3)
    assert same.mean == 1.0 and same.identical == 1.0 and same.least == 0
    b = rng.normal(size=(20, 6))
    other = neighbours.agreement(a, b, 3)
    np.testing.assert_array_equal(other.per_photo, neighbours.neighbour_agreement(a, b, 3))
    assert other.least == int(np.argmin(other.per_photo))
    assert other.identical == pytest.approx(np.mean(other.per_photo == 1.0))


def test_landing_step_and_span():
    coords = np.array([[0.0, 0.0], [3.0, 0.0], [0.0, 4.0]])
    step, span = projection.landing(coords, np.array([[3.0, 1.0]]), 1)
    assert step == pytest.approx(1.0) and span == pytest.approx(5.0)


def test_neighbour_agreement():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(30, 8))
    rotation, _ = np.linalg.qr(rng.normal(size=(8, 8)))
    assert neighbours.neighbour_agreement(a, a @ rotation, 4) == pytest.approx(
        np.ones(30)
    )  # cosine ignores rotations
    b = rng.normal(size=(30, 8))
    j = neighbours.neighbour_agreement(a, b, 4)
    assert ((j >= 0) & (j <= 1)).all()
    # two unrelated encoders agree about as often as chance says
    trials = np.mean(
        [neighbours.neighbour_agreement(a, rng.normal(size=(30, 8)), 4).mean() for _ in range(40)]
    )
    assert trials == pytest.approx(neighbours.chance_agreement(30, 4), abs=0.02)
    # by hand: two random 2-lists from 3 other photos are the same list (J = 1) one time in three,
    # else they share one photo (J = 1/3): 1/3 · 1 + 2/3 · 1/3 = 5/9
    assert neighbours.chance_agreement(4, 2) == pytest.approx(5 / 9)


def test_probe_leaves_out_labels_with_one_photo():
    rng = np.random.default_rng(0)
    v = np.concatenate([rng.normal(loc, 0.1, (4, 5)) for loc in (0, 3)] + [rng.normal(size=(1, 5))])
    labels = ["a"] * 4 + ["b"] * 4 + ["lonely"]
    probe = neighbours.linear_probe(v, labels, folds=10)
    assert probe.left_out == ("lonely",) and probe.folds == 4 and not probe.used[-1]
    assert probe.classes == ("a", "b") and probe.predicted[-1] == ""
    with pytest.raises(ValueError):
        neighbours.linear_probe(v[:5], ["a", "a", "a", "a", "b"])


def test_the_probe_says_how_many_folds_it_used():
    from vision_core.embeddings import neighbours

    labels = ["a"] * 6 + ["b"] * 3 + ["c"]  # "c" has one photo: left out; "b" allows 3 folds
    vectors = np.random.default_rng(0).normal(size=(len(labels), 8))
    assert neighbours.probe_folds(labels) == 3 == neighbours.linear_probe(vectors, labels).folds
    assert neighbours.probe_folds(["a"] * 9 + ["b"] * 9) == 5
    assert neighbours.probe_folds(["a", "b"]) == 0
