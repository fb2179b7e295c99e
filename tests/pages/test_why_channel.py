"""Why 2 · What a channel looks for, driven like a learner: the top photos the page lists are
vision_core's for the gallery it shows, a feature visualisation is made on request, and the page
runs in Russian.  The gallery is kept to the bundled samples (no variants) to keep the test short."""

from __future__ import annotations

import re

import pytest
import torch
from conftest import answer_question, assert_ok, assert_russian, open_page, plain

from lessons import lesson
from vision_core import samples
from vision_core.embeddings.gallery import sample_items
from vision_core.engine import encoders
from vision_core.why import channels

PAGE = "pages/why_channel.py"
LITE0 = "efficientnet_lite0"
CAPTION = re.compile(r"^(\d+)\. (\S+) · cell \((\d+), (\d+)\) · \*\*(-?[\d.]+)\*\*$")


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """One torch thread: on a shared 2-core machine, two threads wait on each other."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_top_photos_and_a_feature_visualisation_in_english():
    at = open_page(PAGE, why_channel_variants=0)
    assert_ok(at)
    layer_name, channel = at.session_state["why_channel_layer"], at.session_state["why_channel_channel"]
    shown = [m.groups() for c in at.caption if (m := CAPTION.match(c.value))]
    assert len(shown) == 8

    # the same gallery (the samples; the sidebar's photo is one of them) through vision_core
    model = encoders.load_model(LITE0, allow_download=False).eval()
    layer = next(x for x in channels.channel_layers(channels.shapes(model, LITE0)) if x.name == layer_name)
    items = sample_items([s.id for s in samples.list_samples()])
    per_photo = channels.gallery_maxima(model, (it.image() for it in items), LITE0, [layer])
    maxima = channels.stack(per_photo, layer)
    assert channel == channels.opening_channel(maxima)
    hits = channels.top_hits(maxima, channel, 8)
    expected = [
        (str(i + 1), items[h.photo].name, str(h.row), str(h.col), f"{h.value:.2f}")
        for i, h in enumerate(hits)
    ]
    assert shown == expected
    assert f"These 8 of the {len(items)} photos give channel {channel} its largest values" in "\n".join(
        plain(m.value) for m in at.markdown
    )

    # a shallow layer's picture, made on request
    at.selectbox(key="why_channel_layer__en").set_value("stage2").run()
    assert_ok(at)
    if any(b.key == "why_channel_fv" for b in at.button):  # not made yet in this process
        at.button(key="why_channel_fv").click().run()
    assert_ok(at)
    said = "\n".join(plain(m.value) for m in at.markdown)
    assert "After 128 steps of the Adam optimiser from seed 0" in said
    assert "The picture excites the channel more than both" in said or "does not beat both" in said
    assert at.get("plotly_chart")  # the objective's curve


def test_the_page_in_russian():
    at = open_page(PAGE, lang="ru", why_channel_variants=0)
    assert_russian(at)
    assert any(h.value.startswith("Где канал") for h in at.header)
    at.selectbox(key="why_channel_layer__ru").set_value("stage1").run()
    if any(b.key == "why_channel_fv" for b in at.button):
        at.button(key="why_channel_fv").click().run()
    assert_russian(at)
    assert any(m.value.startswith("После 128 шагов оптимизатора Adam") for m in at.markdown)


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_the_field_question_reveals_the_cells_receptive_field(lang):
    at = open_page(PAGE, lang=lang, why_channel_variants=0)
    assert_ok(at)
    text, verdicts = lesson("why_channel", lang), lesson("question", lang)
    model = encoders.load_model(LITE0, allow_download=False)
    tr = channels.shapes(model, LITE0)
    layers = channels.channel_layers(tr)
    layer = next(x for x in layers if x.name == at.session_state["why_channel_layer"])
    q = channels.field_question(tr, layers, layer, 224)
    assert q.correct == channels.field_side(tr, layer)
    answer = text("q_field_option", n=q.correct)
    radio = next(r for r in at.radio if str(r.key).startswith("q_field_side__"))
    assert radio.options == [text("q_field_option", n=n) for n in q.options]
    if lang == "en":
        wrong = next(i for i, o in enumerate(q.options) if o != q.correct)
        picked, said = answer_question(at, "field_side", wrong)
        assert verdicts("wrong", picked=picked, answer=answer) in said
        at.button(key="q_field_side_again").click().run()
    _, said = answer_question(at, "field_side", q.answer)
    assert verdicts("right", answer=answer) in said
    jump = 224 // layer.grid[0]
    why = text("q_field_cnn_why", side=224, field=q.correct, jump=jump, layer=layer.name,
               rows=layer.grid[0], cols=layer.grid[1], channels=layer.channels)  # fmt: skip
    assert plain(why) in said
    if lang == "ru":
        assert_russian(at)
