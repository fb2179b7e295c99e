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
