"""Embeddings 5 · A linear probe: the question "what accuracy will it reach?" against a
cross-validated logistic regression written out here, trained and untrained, in English and Russian."""

from __future__ import annotations

import lab_expected as exp
import numpy as np
import pytest
from conftest import assert_ok, assert_russian, open_page
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from vision_core.embeddings import neighbours, questions

PAGE = "pages/emb_probe.py"


def accuracy_by_hand(weights: str, folds: int) -> float:
    v = exp.vectors("efficientnet_lite0", weights).astype(np.float64)
    x, y = v / np.linalg.norm(v, axis=1, keepdims=True), np.array(exp.labels())
    right = 0
    for train, test in StratifiedKFold(n_splits=folds, shuffle=True, random_state=0).split(x, y):
        right += int(
            np.sum(LogisticRegression(max_iter=2000).fit(x[train], y[train]).predict(x[test]) == y[test])
        )
    return right / len(y)


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_the_question_reveals_the_probes_accuracy(lang):
    at = open_page(PAGE, lang=lang, **exp.session())
    assert_ok(at)
    probe = neighbours.linear_probe(exp.vectors(), exp.labels(), folds=5)
    q = questions.probe_accuracy_question(probe)
    assert q.correct == pytest.approx(accuracy_by_hand("pretrained", 4))  # four photos a label: four folds

    def shown(v: float) -> str:
        return exp.ru(v, ".1%") if lang == "ru" else f"{v:.1%}"

    said = exp.quiz(at, "probe_accuracy", q, shown, lang=lang)
    right = round(q.correct * 16)
    assert (f"**{right}** из 16 фото" if lang == "ru" else f"**{right}** of the 16 photos right") in said
    assert shown(probe.chance) in said
    if lang == "ru":
        assert_russian(at)
    else:
        at.toggle(key="lab_random").set_value(True).run()  # untrained: another accuracy, another question
        assert_ok(at)
        random = neighbours.linear_probe(exp.vectors("efficientnet_lite0", "random"), exp.labels(), folds=5)
        q = questions.probe_accuracy_question(random)
        assert q.correct == pytest.approx(accuracy_by_hand("random", 4))
        exp.quiz(at, "probe_accuracy", q, shown)
