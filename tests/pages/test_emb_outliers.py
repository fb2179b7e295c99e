"""Embeddings 6 · Outliers: the question "which of these photos is the most unusual?" against
anomaly scores written out here (mean cosine distance to the nearest normal photos), in English
and Russian."""

from __future__ import annotations

import lab_expected as exp
import numpy as np
import pytest
from conftest import assert_ok, assert_russian, open_page

from vision_core.embeddings import questions
from vision_core.embeddings.outliers import outliers

PAGE = "pages/emb_outliers.py"


def scores_by_hand(normal: list[bool], k: int) -> np.ndarray:
    v = exp.vectors().astype(np.float64)
    x = v / np.linalg.norm(v, axis=1, keepdims=True)
    scores = []
    for i in range(len(x)):
        dist = sorted(1.0 - x[i] @ x[j] for j in range(len(x)) if normal[j] and j != i)
        scores.append(np.mean(dist[:k]))
    return np.array(scores)


def shown(i: int) -> str:
    it = exp.items()[i]
    return f"{it.name} — {it.label}"


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_the_question_reveals_the_most_unusual_photo(lang):
    at = open_page(PAGE, lang=lang, **exp.session())
    assert_ok(at)
    labels = exp.labels()
    scores = scores_by_hand([x == labels[0] for x in labels], 3)
    q = questions.most_unusual_question(outliers(exp.vectors(), labels, {labels[0]}, 3))
    assert q.correct == int(np.argmax(scores))
    captions = [c for im in at.image for c in im.captions]
    assert captions[:4] == [shown(i) for i in q.options]
    said = exp.quiz(at, "outliers_top", q, shown, lang=lang)
    top = scores[q.correct]
    assert f"**{exp.ru(top, '.3f') if lang == 'ru' else f'{top:.3f}'}**" in said
    if lang == "ru":
        assert_russian(at)
    else:
        at.multiselect(key="lab_normal").select(labels[4]).run()  # more normal photos: a new question
        assert_ok(at)
        normal = [x in (labels[0], labels[4]) for x in labels]
        q = questions.most_unusual_question(outliers(exp.vectors(), labels, {labels[0], labels[4]}, 3))
        assert q.correct == int(np.argmax(scores_by_hand(normal, 3)))
        exp.quiz(at, "outliers_top", q, shown)
