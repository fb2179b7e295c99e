"""CNN 1 · Photo → tensor: the page drives its widgets and shows the numbers vision_core computes."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import answer_question, assert_ok, markdown_with, open_page, sample_photo

from vision_core.cnn import pixels
from vision_core.engine import encoders
from vision_core.engine.preprocess import load_image

PAGE = "pages/cnn_tensor.py"


def expected_steps(name: str, size: int, sample: str = "chelsea"):
    return encoders.preprocess_photo(load_image(sample_photo(sample).data), name, size=size)


def journey_table(at):
    return at.dataframe[0].value  # the page's tables, in order: the pixel's journey, then the corner


def test_one_pixel_numbers_follow_the_models_preprocessing():
    at = open_page(PAGE)
    assert_ok(at)
    assert at.number_input(key="tensor_size").value == 224
    at.number_input(key="tensor_pixel_row").set_value(30).run()
    at.number_input(key="tensor_pixel_col").set_value(200).run()
    assert_ok(at)
    steps = expected_steps("efficientnet_lite0", 224)
    journey = pixels.pixel_journey(steps, 30, 200)
    table = journey_table(at)
    np.testing.assert_array_equal(table.iloc[:, 1], [j.raw for j in journey])
    np.testing.assert_allclose(table.iloc[:, 2], [j.scaled for j in journey])
    np.testing.assert_allclose(table.iloc[:, 4], [j.centred for j in journey])
    # the last column is the tensor the network receives, equal to the formula's result
    np.testing.assert_array_equal(table.iloc[:, -1], steps.tensor[0, :, 30, 200].numpy())
    r = journey[0]
    assert f"{r.raw} ÷ 255 = {r.scaled:.4f}" in markdown_with(at, "÷ 255 =")
    assert f"**{r.value:.4f}**" in markdown_with(at, "÷ 255 =")
    (a, b), *_ = pixels.scale_formula(steps)  # Lite0: one rule for all three channels, (x − 127) / 128
    assert f"**(x − {a:g}) / {b:g}**" in markdown_with(at, "normalised")


def test_input_size_corner_and_ranges():
    at = open_page(PAGE)
    at.number_input(key="tensor_size").set_value(226).run()
    at.radio(key="tensor_corner_channel").set_value(2).run()
    assert_ok(at)
    steps = expected_steps("efficientnet_lite0", 226)
    (rw, rh), left = steps.resize_size, steps.crop_box[0]
    text = markdown_with(at, "Your photo is")
    assert f"**{rw}×{rh}**" in text and "**226×226**" in text and f"{left} pixels from the left" in text
    assert f"**3 × 226 × 226** — **{3 * 226 * 226:,}**" in markdown_with(at, "pages")
    raw, normalised = pixels.corner(steps, 2, 4)
    np.testing.assert_array_equal(at.dataframe[1].value.to_numpy(), raw)
    np.testing.assert_array_equal(at.dataframe[2].value.to_numpy(), normalised)
    ranges = pixels.value_ranges(steps)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Smallest … largest, before"] == f"{ranges.raw[0]} … {ranges.raw[1]}"
    assert metrics["Smallest … largest, after"] == f"{ranges.normalised[0]:.3f} … {ranges.normalised[1]:.3f}"
    assert "at most **0** of 255" in markdown_with(at, "Undo the normalisation")


def test_resnet_uses_imagenet_mean_and_std_without_its_weights():
    at = open_page(PAGE, model_cnn="resnet50", photo=sample_photo("coffee"))
    assert_ok(at)
    steps = expected_steps("resnet50", 224, "coffee")
    prep = steps.preprocessing
    assert prep.mean != (prep.mean[0],) * 3  # per-channel statistics, unlike Lite0
    y, x = at.number_input(key="tensor_pixel_row").value, at.number_input(key="tensor_pixel_col").value
    table = journey_table(at)
    np.testing.assert_allclose(table.iloc[:, 3], [np.float32(m) for m in prep.mean])
    np.testing.assert_array_equal(table.iloc[:, -1], steps.tensor[0, :, y, x].numpy())
    scales = pixels.scale_formula(steps)
    rules = [f"{c}: (x − {a:g}) / {b:g}" for c, (a, b) in zip("RGB", scales, strict=True)]
    assert "; ".join(rules) in markdown_with(at, "normalised")


@pytest.mark.parametrize("lang", ["ru"])
def test_page_runs_in_russian(lang):
    at = open_page(PAGE, lang=lang)
    assert_ok(at)
    assert at.title[0].value == "Фото → тензор"


@pytest.mark.parametrize("size", [224, 161])
def test_the_question_reveals_the_tensors_own_count(size):
    at = open_page(PAGE, tensor_size=size)
    assert_ok(at)
    q = pixels.tensor_size_question(expected_steps("efficientnet_lite0", size))
    assert q.correct == 3 * size * size
    assert not any("the model in use gives" in s.value for s in at.success)  # nothing shown before
    wrong = next(i for i, o in enumerate(q.options) if o != q.correct)
    _, said = answer_question(at, "tensor_size", wrong)
    assert f"{q.correct:,}" in said and "Not this time" in said
    at.button(key="q_tensor_size_again").click().run()
    _, said = answer_question(at, "tensor_size", q.answer)
    assert f"**Right.** The model in use gives **{q.correct:,}**" in said


@pytest.mark.parametrize(("sample", "same"), [("grace_hopper", False), ("coffee", True)])
def test_the_crop_lesson_shows_both_answers_as_the_network_gives_them(sample, same):
    import torch

    from vision_core.engine.preprocess import squash_steps
    from vision_core.predictions import top_k

    at = open_page(PAGE, photo=sample_photo(sample))
    assert_ok(at)
    image = load_image(sample_photo(sample).data)
    model = encoders.load_model("efficientnet_lite0", allow_download=False).eval()
    lite0 = encoders.get("efficientnet_lite0")
    with torch.inference_mode():  # each on its own: batch of one, independent of the page's pair
        crop = torch.softmax(model(encoders.preprocess(image, "efficientnet_lite0")), -1)[0].numpy()
        whole = torch.softmax(model(squash_steps(image, lite0.preprocessing).tensor), -1)[0].numpy()
    best_crop, best_whole = top_k(crop, 3)[0], top_k(whole, 3)[0]
    assert (best_crop.index == best_whole.index) is same
    bars = [p.text for p in at.progress]
    assert any(best_crop.label in str(b) for b in bars) and any(best_whole.label in str(b) for b in bars)
    said = markdown_with(at, "squashed into the same square")
    assert f"**{best_crop.label}** ({best_crop.probability:.1%})" in said
    if same:
        assert "not its answer" in said
    else:
        assert (
            f"**{best_whole.label}** ({best_whole.probability:.1%})" in said and "Preparation is part" in said
        )
