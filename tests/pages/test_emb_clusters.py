"""Embeddings 4 · Clusters: the question "how many clusters hold one label only?" against the
contingency table of the page's own k-means and DBSCAN clusters, in English and Russian."""

from __future__ import annotations

import lab_expected as exp
import numpy as np
import pytest
from conftest import assert_ok, assert_russian, open_page
from sklearn.metrics.cluster import contingency_matrix

from vision_core.embeddings import neighbours, questions

PAGE = "pages/emb_clusters.py"


def pure_by_table(clusters: np.ndarray) -> int:
    kept = clusters != neighbours.NOISE
    table = contingency_matrix(clusters[kept], np.array(exp.labels())[kept])
    return int(np.sum((table > 0).sum(axis=1) == 1))


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_the_question_reveals_how_many_clusters_are_pure(lang):
    at = open_page(PAGE, lang=lang, **exp.session())
    assert_ok(at)
    v, labels = exp.vectors(), exp.labels()
    clusters = neighbours.kmeans(v, 4)
    q = questions.pure_clusters_question(clusters, labels)
    assert q.correct == pure_by_table(clusters)
    said = exp.quiz(at, "clusters_pure", q, str, lang=lang)
    purity = neighbours.cluster_scores(clusters, labels).purity
    if lang == "ru":
        assert f"**{q.correct}** из 4 кластеров" in said and exp.ru(purity, ".1%") in said
        assert_russian(at)
    else:
        assert f"**{q.correct}** of the 4 clusters hold photos of one label only" in said
        assert f"**{purity:.1%}**" in said
        at.radio(key="lab_cluster_algo").set_value("dbscan").run()
        at.slider(key="lab_eps").set_value(0.7).run()  # wide enough to merge two labels
        at.slider(key="lab_min_samples").set_value(2).run()
        assert_ok(at)
        db = neighbours.dbscan(v, 0.7, 2)
        q = questions.pure_clusters_question(db, labels)
        assert q.correct == pure_by_table(db)
        exp.quiz(at, "clusters_pure", q, str)


def renumbered(clusters) -> tuple[int, ...]:
    """Cluster ids in order of first appearance: one tuple per grouping, however it is numbered."""
    first: dict[int, int] = {}
    return tuple(first.setdefault(int(c), len(first)) for c in clusters)


def array(values) -> np.ndarray:
    """A Plotly array, plain or in its binary encoding."""
    import base64

    if isinstance(values, dict):
        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"])
    return np.asarray(values, dtype=float)


def chart_data(at, key: str) -> list[dict]:
    import json

    return json.loads(next(el for el in at.get("plotly_chart") if el.key == key).proto.spec)["data"]


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_seeds_shown_are_scikit_learns_and_the_map_keeps_label_colours(lang):
    """k = 2 on the small gallery: the seeds split the photos differently, equally pure; k = 4:
    every seed finds the same clustering. Each sentence's numbers against scikit-learn."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import adjusted_rand_score

    at = open_page(PAGE, lang=lang, **exp.session(lab_k=2))
    assert_ok(at)
    v, labels = exp.vectors(), exp.labels()
    unit = v / np.linalg.norm(v, axis=1, keepdims=True)
    runs = [KMeans(n_clusters=2, n_init=10, random_state=s).fit_predict(unit) for s in range(6)]
    purity = [neighbours.purity(c, labels) for c in runs]
    pairs = [adjusted_rand_score(runs[i], runs[j]) for i in range(6) for j in range(i + 1, 6)]
    distinct = len({renumbered(c) for c in runs})
    assert min(pairs) < 1  # the case this gallery shows at k = 2
    said = exp.markdown(at)
    if lang == "en":
        assert f"the 6 seeds found **{distinct} different clusterings**" in said
        assert f"all with purity {min(purity):.1%}" in said
        assert f"{np.mean(pairs):.3f} on average and {min(pairs):.3f} at worst" in said
    else:
        assert f"{exp.ru(np.mean(pairs), '.3f')} в среднем и {exp.ru(min(pairs), '.3f')} в худшем" in said
        assert_russian(at)
    bars = chart_data(at, "lab_seed_bars")[0]
    assert np.allclose(array(bars["y"]), purity)
    # the map: one trace per label in order, in the label colours; the clusters as outlines
    data = chart_data(at, "lab_cluster_map")
    outlines = [d for d in data if d.get("legendgroup") == "outlines"]
    assert len(outlines) == 2
    names = [d["name"] for d in data if d.get("legendgroup") != "outlines"]
    assert names == sorted(set(labels))
    if lang == "en":
        at.slider(key="lab_k").set_value(4).run()
        assert_ok(at)
        assert "all 6 seeds with k = 4 found the same clustering" in exp.markdown(at)
        at.radio(key="lab_kmeans_seed").set_value(3).run()  # another seed's clustering is shown
        assert_ok(at)
        q = questions.pure_clusters_question(neighbours.kmeans(v, 4, seed=3), labels)
        assert q.correct == pure_by_table(neighbours.kmeans(v, 4, seed=3))
