"""CNN 3 · ReLU: the shares of zeros and capped values on the page equal direct counts on a trace made
here; other activations, random weights, the fallback and Russian run without errors."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import assert_ok, open_page, plain

from vision_core import load_model, preprocess, trace
from vision_core.cnn import activations
from vision_core.cnn.pocket import run_pocket_cnn
from vision_core.engine import encoders
from vision_core.samples import load_sample

PAGE = "pages/cnn_relu.py"
CAP = activations.RELU6_CAP


def stem(model) -> tuple[np.ndarray, np.ndarray]:
    tr = trace(model, preprocess(load_sample("chelsea"), "efficientnet_lite0"), stop_after=["relu_stem"])
    assert tr["relu_stem"].meta["function"] == "relu6"
    return tr.array("_bn0")[0], tr.array("relu_stem")[0]


@pytest.fixture(scope="module")
def lite0_stem():
    return stem(load_model("efficientnet_lite0"))


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_zero_and_capped_shares(lite0_stem):
    before, after = lite0_stem
    at = open_page(PAGE)
    assert_ok(at)
    balanced = activations.balanced_channel(after)
    assert at.slider(key="relu_channel").value == balanced
    m = metrics(at)
    assert m["Set to 0, all channels"] == f"{(after == 0).mean():.1%}"
    assert m["Set to 0, all channels"] == f"{(before <= 0).mean():.1%}"  # ReLU6 zeroes the non-positive
    assert m[f"Capped at {CAP:g}, all channels"] == f"{(before >= CAP).mean():.2%}"
    capped = activations.channel_capped_fractions(after, CAP)
    channel = int(capped.argmax())
    assert f"is channel {channel} ({capped.max():.1%}" in " ".join(c.value for c in at.caption)
    at.slider(key="relu_channel").set_value(channel).run()
    assert_ok(at)
    m = metrics(at)
    assert m[f"Set to 0, channel {channel}"] == f"{(after[channel] == 0).mean():.1%}"
    assert m[f"Capped at {CAP:g}, channel {channel}"] == f"{(after[channel] == CAP).mean():.2%}"
    negative = next(x for x in (plain(m.value) for m in at.markdown) if x.startswith(f"In channel {channel}"))
    assert f"{(before[channel] < 0).mean():.1%} of the values are negative" in negative
    check = next(c.value for c in at.caption if c.value.startswith("Check:"))
    assert check.endswith(f"{after.size:,} values is 0.")


def test_other_activations_follow_the_slope(lite0_stem):
    before, _ = lite0_stem
    at = open_page(PAGE)
    at.slider(key="relu_slope").set_value(0.25).run()
    assert_ok(at)
    channel = at.slider(key="relu_channel").value
    leaky = activations.apply("leaky_relu", before[channel], slope=0.25)
    gelu = activations.apply("gelu", before[channel])
    captions = [c for image in at.image for c in image.captions]
    rounding = "this function is exactly 0 only at 0; float32 rounds its tiniest outputs to 0"
    near = {name: (np.abs(y) < 1e-6).mean() for name, y in (("Leaky ReLU", leaky), ("GELU", gelu))}
    for name, y in (("Leaky ReLU", leaky), ("GELU", gelu)):
        span = f"range {y.min():.2f} … {y.max():.2f}"
        shown = f"{name}: {near[name]:.1%} practically 0 (|y| < 10⁻⁶: {rounding}), {span}"
        assert shown in captions, (shown, captions)
    relu = activations.apply("relu", before[channel])
    assert f"ReLU: {(relu == 0).mean():.1%} exactly 0, range" in " ".join(captions)  # ReLU really gives 0


def test_pocket_negatives():
    at = open_page(PAGE)
    pocket = run_pocket_cnn()
    neg_a, neg_b = ((pocket.conv[n] < 0).sum() for n in ("A", "B"))
    text = next(plain(m.value) for m in at.markdown if "negative values out of" in m.value)
    assert f"has {neg_a} negative values out of {pocket.conv['A'].size}, filter B's has {neg_b}" in text


def test_random_weights_are_labelled_and_counted():
    at = open_page(PAGE)
    at.toggle(key="relu_random").set_value(True).run()
    assert_ok(at)
    assert any("Untrained" in w.value for w in at.warning)
    _, after = stem(encoders.seeded_model("efficientnet_lite0", seed=0))
    assert metrics(at)["Set to 0, all channels"] == f"{(after == 0).mean():.1%}"


def test_a_missing_network_falls_back_to_lite0_in_russian():
    if encoders.available_offline("resnet50"):
        pytest.skip("ResNet-50's weights are on this machine: there is nothing to fall back from")
    at = open_page(PAGE, lang="ru", model_cnn="resnet50")
    assert_ok(at)
    assert any("EfficientNet-Lite0" in w.value for w in at.warning)  # at the top of the page
    assert at.title[0].value.startswith("ReLU")


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_the_question_reveals_the_layers_zeroed_share(lite0_stem, lang):
    from conftest import wrong_then_right

    before, after = lite0_stem
    share = float((after == 0).mean())
    q = activations.zeroed_share_question(activations.activation_stats("relu6", before, after))
    assert q.correct == min(int(share * 4), 3)
    at = open_page(PAGE, lang=lang)
    assert_ok(at)
    lo, hi = activations.ZERO_BUCKETS[q.correct : q.correct + 2]
    shown = f"{lo:.0%} – {hi:.0%}"
    said = wrong_then_right(at, "relu_zeroed", q, shown, lang)
    assert (
        f"{share:.1%} come out as 0" if lang == "en" else f"нулями стали {share:.1%}".replace(".", ",")
    ) in said
