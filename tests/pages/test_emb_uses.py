"""Embeddings 3–6 · what embeddings are for — similar photos, clusters, a linear probe, outliers —
each page driven through its controls, every number compared with vision_core's."""

from __future__ import annotations

import lab_expected as exp
import numpy as np
import pytest
from conftest import assert_ok, open_page

from ui.gallery import GallerySpec
from vision_core.embeddings import neighbours


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_similar_photos():
    at = open_page("pages/emb_similar.py", **exp.session())
    assert_ok(at)
    v, labels, items = exp.vectors(), exp.labels(), exp.items()
    hits = neighbours.nearest(v, 0, 8)
    same = sum(labels[h.index] == labels[0] for h in hits)
    text = exp.markdown(at)
    assert f"{same} of the 8 results carry the label **{labels[0]}**" in text
    relevant = labels.count(labels[0]) - 1
    at_r = min(8, relevant)
    precision = sum(labels[h.index] == labels[0] for h in hits[:at_r]) / at_r
    assert f"**Precision@{at_r}**" in text and f"is **{precision:.0%}**; **recall@8**" in text
    assert f"is **{same / relevant:.0%}**." in text
    parts = neighbours.cosine_parts(v[0], v[hits[0].index])
    assert (
        f"\\frac{{ {parts.dot:.2f} }}{{ {parts.norm_a:.2f} \\times {parts.norm_b:.2f} }} = {parts.cosine:.3f}"
        in text
    )
    captions = [c for im in at.image for c in im.captions][4:]  # after the question's four photos
    assert captions[1:9] == [
        f"#{r + 1} · cos {h.similarity:.3f} · {labels[h.index]}" for r, h in enumerate(hits)
    ]

    at.selectbox(key="lab_query").set_value(9).run()
    at.slider(key="lab_retrieval_k").set_value(3).run()
    assert_ok(at)
    hits = neighbours.nearest(v, 9, 3)
    captions = [c for im in at.image for c in im.captions][4:]
    assert captions[0] == f"{items[9].name} — {labels[9]}"
    assert captions[1:4] == [
        f"#{r + 1} · cos {h.similarity:.3f} · {labels[h.index]}" for r, h in enumerate(hits)
    ]


def test_clusters_kmeans_then_dbscan():
    at = open_page("pages/emb_clusters.py", **exp.session())
    assert_ok(at)
    v, labels = exp.vectors(), exp.labels()
    scores = neighbours.cluster_scores(neighbours.kmeans(v, 4), labels)
    shown = metrics(at)
    assert (
        shown["purity"] == f"{scores.purity:.1%}" and shown["adjusted Rand"] == f"{scores.adjusted_rand:.3f}"
    )
    assert shown["NMI"] == f"{scores.nmi:.3f}" and shown["clusters found"] == "4"
    assert at.dataframe[0].value.to_numpy().sum() == len(labels)

    at.slider(key="lab_k").set_value(2).run()
    assert metrics(at)["purity"] == f"{neighbours.cluster_scores(neighbours.kmeans(v, 2), labels).purity:.1%}"

    at.radio(key="lab_cluster_algo").set_value("dbscan").run()
    at.slider(key="lab_eps").set_value(0.3).run()
    at.slider(key="lab_min_samples").set_value(2).run()
    assert_ok(at)
    db = neighbours.dbscan(v, 0.3, 2)
    scores = neighbours.cluster_scores(db, labels)
    assert metrics(at)["purity"] == f"{scores.purity:.1%}"
    noise = int((db == neighbours.NOISE).sum())
    assert f"{noise} of the {len(labels)} photos are noise" in exp.markdown(at)


def test_linear_probe_and_random_weights():
    at = open_page("pages/emb_probe.py", **exp.session())
    assert_ok(at)
    probe = neighbours.linear_probe(exp.vectors(), exp.labels(), folds=5)
    shown = metrics(at)
    assert probe.folds == 4  # four photos a label: at most four folds
    assert shown["cross-validated accuracy"] == f"{probe.accuracy:.1%}"
    assert shown["always guessing the commonest label"] == f"{probe.chance:.1%}" == "25.0%"
    assert shown["folds"] == "4"

    at.select_slider(key="lab_c").set_value(0.01).run()
    at.slider(key="lab_folds").set_value(2).run()
    assert_ok(at)
    probe = neighbours.linear_probe(exp.vectors(), exp.labels(), folds=2, c=0.01)
    assert metrics(at)["cross-validated accuracy"] == f"{probe.accuracy:.1%}"

    at.toggle(key="lab_random").set_value(True).run()
    assert_ok(at)
    random = neighbours.linear_probe(
        exp.vectors("efficientnet_lite0", "random"), exp.labels(), folds=2, c=0.01
    )
    assert metrics(at)["cross-validated accuracy"] == f"{random.accuracy:.1%}"
    assert "random weights" in exp.markdown(at)


def test_outliers():
    at = open_page("pages/emb_outliers.py", **exp.session())
    assert_ok(at)
    v, labels = exp.vectors(), np.array(exp.labels())
    normal = labels == labels[0]
    scores = neighbours.anomaly_scores(v, normal, 3)
    auc = neighbours.separation(scores, normal)
    above = int(np.sum(scores[~normal] > scores[normal].max()))
    assert (
        f"**{above}** of the 12 others score above every normal photo (the highest normal score is "
        f"{scores[normal].max():.3f})"
    ) in exp.markdown(at)
    assert f"(ROC AUC) is **{auc:.1%}**" in exp.markdown(at)

    at.multiselect(key="lab_normal").select(labels[4]).run()
    at.slider(key="lab_anomaly_k").set_value(1).run()
    assert_ok(at)
    normal = np.isin(labels, [labels[0], labels[4]])
    scores = neighbours.anomaly_scores(v, normal, 1)
    top = np.argsort(-scores, kind="stable")[:12]
    captions = [c for im in at.image for c in im.captions][4:]  # after the question's four photos
    assert captions[:12] == [f"{scores[i]:.3f} · {labels[i]}" for i in top]

    at.multiselect(key="lab_normal").set_value([]).run()
    assert_ok(at)
    assert any("at least one label" in w.value for w in at.warning)


ONE_LABEL = exp.session(lab_spec=GallerySpec(exp.SPEC.sample_ids, 1, label_by="kind"))  # all "photograph"
ASKED = {
    "emb_gallery": "gallery_cosine",
    "emb_map": None,  # one label: no label can be the tightest
    "emb_similar": "similar_nearest",
    "emb_clusters": "clusters_pure",
    "emb_probe": None,  # one label: no probe (the page says so and stops)
    "emb_outliers": "outliers_top",
    "emb_compare": "compare_agreement",
}


@pytest.mark.parametrize(("page", "key"), ASKED.items())
def test_a_one_label_gallery_asks_only_what_it_can(page, key):
    at = open_page(f"pages/{page}.py", **ONE_LABEL)
    assert_ok(at)
    asked = {str(r.key).split("__")[0] for r in at.radio if str(r.key).startswith("q_")}
    assert asked == ({f"q_{key}"} if key else set())
