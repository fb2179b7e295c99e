"""Embeddings 3 · Similar photos: the question "which of these photos comes first?" against
scikit-learn's nearest neighbour of the same vectors, for two queries, in English and Russian."""

from __future__ import annotations

import lab_expected as exp
import numpy as np
import pytest
from conftest import assert_ok, assert_russian, open_page
from sklearn.neighbors import NearestNeighbors

from vision_core.embeddings import questions

PAGE = "pages/emb_similar.py"


def nearest_by_sklearn(query: int) -> int:
    v = exp.vectors().astype(np.float64)
    x = v / np.linalg.norm(v, axis=1, keepdims=True)
    _, idx = NearestNeighbors(n_neighbors=2, metric="cosine").fit(x).kneighbors(x[query : query + 1])
    return int(next(i for i in idx[0] if i != query))


def shown(i: int) -> str:
    it = exp.items()[i]
    return f"{it.name} — {it.label}"


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_the_question_reveals_the_querys_nearest_photo(lang):
    at = open_page(PAGE, lang=lang, **exp.session())
    assert_ok(at)
    v, items = exp.vectors(), exp.items()
    q = questions.nearest_question(v, exp.labels(), 0)
    assert q.correct == nearest_by_sklearn(0)
    captions = [c for im in at.image for c in im.captions]
    assert captions[:4] == [shown(i) for i in q.options]  # the photos offered, shown before the results
    said = exp.quiz(at, "similar_nearest", q, shown, lang=lang)
    best = questions.ranked_options(v, 0, q)[0]
    number = exp.ru(best.similarity, ".3f") if lang == "ru" else f"{best.similarity:.3f}"
    assert f"**{items[q.correct].name}** {number}" in said
    if lang == "ru":
        assert_russian(at)
    else:
        at.selectbox(key="lab_query").set_value(9).run()  # another query asks anew
        assert_ok(at)
        q = questions.nearest_question(v, exp.labels(), 9)
        assert q.correct == nearest_by_sklearn(9)
        exp.quiz(at, "similar_nearest", q, shown)


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_the_matrix_is_coloured_over_the_datas_off_diagonal_range_with_label_lines(lang):
    import json

    from vision_core.embeddings import neighbours

    at = open_page(PAGE, lang=lang, **exp.session())
    assert_ok(at)
    labels = exp.labels()
    order = neighbours.label_order(labels)
    sims = neighbours.similarities(exp.vectors())[order][:, order]
    off = sims[~np.eye(len(sims), dtype=bool)]
    spec = json.loads(
        next(el for el in at.get("plotly_chart") if el.key == "lab_similarity_matrix").proto.spec
    )
    heat = spec["data"][0]
    assert np.isclose(heat["zmin"], off.min()) and np.isclose(heat["zmax"], off.max())
    assert heat["zmax"] < 1 and "colorbar" in heat
    starts = sorted({s["y0"] for s in spec["layout"]["shapes"] if s.get("xref") == "paper"})
    firsts = [i for i in range(1, len(order)) if labels[order[i]] != labels[order[i - 1]]]
    assert starts == [i - 0.5 for i in firsts]  # a line between every two labels
    said = exp.markdown(at)
    if lang == "en":
        assert f"The colours run from {off.min():.3f} (darkest) to {off.max():.3f} (brightest)" in said
    else:
        assert (
            f"Цвета идут от {exp.ru(off.min(), '.3f')} (самый тёмный) до {exp.ru(off.max(), '.3f')}" in said
        )
        assert_russian(at)
