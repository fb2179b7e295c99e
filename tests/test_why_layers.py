"""Layer by layer: the logit lens meets the model's own answer at the last block, one unit's
gradient lies inside its theoretical receptive field, and the probe by depth is judged on photos
it never saw and reads the labels far better than chance from the trained Lite0's deepest stage."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from vision_core import samples
from vision_core.cnn.convolution import receptive_fields
from vision_core.embeddings import gallery
from vision_core.embeddings.vectors import l2_normalize
from vision_core.engine import encoders
from vision_core.engine.trace import trace
from vision_core.samples import load_sample
from vision_core.training import data, views
from vision_core.why.erf import effective_field, effective_side_question, even_side, field_steps, live_step
from vision_core.why.lens import block_output, logit_lens, settled_question
from vision_core.why.probe import EMBEDDING, depth_steps, depth_vectors, probe_by_depth

LITE0 = "efficientnet_lite0"


@pytest.fixture(scope="module")
def lite0():
    return encoders.load_model(LITE0, allow_download=False)


@pytest.fixture(scope="module")
def chelsea_lite0():
    return encoders.preprocess(load_sample("chelsea"), LITE0)


def _own_softmax(model, x: torch.Tensor) -> np.ndarray:
    """The model's own prediction: a plain forward pass (fused attention, no trace), softmaxed."""
    with torch.no_grad():
        return model(x).double().softmax(dim=-1)[0].numpy()


# --- the logit lens ---------------------------------------------------------------------------


def test_lens_of_the_last_block_is_the_trained_tiny_vits_own_prediction():
    model = encoders.load_model("tiny_vit_digits", allow_download=False)
    digits = data.load_dataset("digits")
    for digit in range(10):
        picture = digits.test_images[views.held_out_of_digit(digits, digit)[0]]
        x = data.to_input(picture)
        lens = logit_lens(model, x, "digits")
        assert lens.probs.shape == (3, 10)
        np.testing.assert_allclose(lens.probs[-1], _own_softmax(model, x), atol=1e-5, rtol=0)
        assert lens.last_block_gap() < 1e-5
        assert lens.answer == int(np.argmax(_own_softmax(model, x)))
        assert lens.ranks()[-1] == 1 and lens.top(lens.blocks - 1, 1)[0].label == str(lens.answer)
        np.testing.assert_allclose(lens.probs.sum(axis=1), 1.0, atol=1e-9)
    # measured: the trained tiny ViT reads each digit's first held-out picture right; for 5 and 9
    # block 1's lens still says 3 (the answer ranked 3rd there), from block 2 on the answer is on top
    five = logit_lens(
        model, data.to_input(digits.test_images[views.held_out_of_digit(digits, 5)[0]]), "digits"
    )
    assert five.answer == 5
    assert five.summary()["settled_first"] is False and five.settled_at() == 1
    assert five.ranks()[0] > 1 and five.summary()["rank"] == five.ranks()[0]


def test_lens_of_the_last_block_is_a_seeded_deit_tinys_own_prediction():
    model = encoders.seeded_model("deit_tiny", seed=0)
    x = encoders.preprocess(load_sample("chelsea"), "deit_tiny")
    lens = logit_lens(model, x, "imagenet-1k")
    assert lens.probs.shape == (12, 1000)
    np.testing.assert_allclose(lens.probs[-1], _own_softmax(model, x), atol=1e-5, rtol=0)
    np.testing.assert_allclose(lens.model_probs, _own_softmax(model, x), atol=1e-5, rtol=0)
    ranks = lens.ranks()
    assert ranks[-1] == 1
    settled = lens.settled_at()
    assert settled is not None and (ranks[settled:] == 1).all()
    assert settled == 0 or ranks[settled - 1] > 1


def test_lens_refuses_a_vit_without_a_head_and_a_batch():
    with pytest.raises(ValueError, match="classification head"):
        logit_lens(encoders.seeded_model("dino_vits16"), torch.zeros(1, 3, 224, 224), "imagenet-1k")
    with pytest.raises(ValueError, match="batch of one"):
        logit_lens(encoders.seeded_model("deit_tiny"), torch.zeros(2, 3, 224, 224), "imagenet-1k")


# --- the effective receptive field ------------------------------------------------------------


@pytest.mark.parametrize("step", ["_conv_stem", "stage2", "stage3", "stage4", "stage6"])
def test_the_gradient_of_a_lite0_unit_lies_inside_its_theoretical_square(lite0, chelsea_lite0, step):
    _, tr = live_step(lite0, chelsea_lite0, step)
    _, channels, rows, cols = tr[step].shape
    units = ((rows // 2, cols // 2, None), (0, 0, None), (rows - 1, cols // 3, channels // 2))
    for row, col, channel in units:  # the centre, a corner and an edge; all channels' sum or one
        field = effective_field(lite0, chelsea_lite0, step, row, col, channel)
        assert field.total > 0, (step, row, col, channel)
        assert field.nonzero_outside() == 0, (step, row, col, channel)
        assert field.share_inside() == pytest.approx(1.0, abs=1e-12)
        assert field.box.size == receptive_fields(tr)[step].size
        effective = field.effective_box()
        assert effective.size <= field.box.size
        assert field.share_inside(effective) >= 0.9


def test_the_stem_units_gradient_is_its_kernel(lite0, chelsea_lite0):
    """Before any batch norm or nonlinearity, ∂unit/∂pixel is the kernel's weight at that pixel."""
    field = effective_field(lite0, chelsea_lite0, "_conv_stem", 40, 30, channel=5)
    kernel = lite0._conv_stem.weight.detach()[5].abs().sum(dim=0).numpy()  # (3, 3)
    b = field.box
    np.testing.assert_allclose(field.gradient[b.top : b.bottom + 1, b.left : b.right + 1], kernel, rtol=1e-6)
    assert field.gradient.sum() == pytest.approx(kernel.sum(), rel=1e-5)


def test_the_field_leaves_the_shared_model_as_it_was(lite0, chelsea_lite0):
    effective_field(lite0, chelsea_lite0, "stage3", 14, 14)
    assert all(p.grad is None for p in lite0.parameters())
    assert field_steps(live_step(lite0, chelsea_lite0, "_conv_head")[1])[-1] == "_conv_head"
    with pytest.raises(ValueError, match="outside"):
        effective_field(lite0, chelsea_lite0, "stage7", 7, 0)


# --- the probe by depth -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample_gallery():
    """The embedding lab's default gallery: every sample photo and 4 variants of each, labelled by photo."""
    return gallery.sample_items([s.id for s in samples.list_samples("photo")], 4)


def test_the_probe_reads_held_out_photos_and_beats_chance_on_lite0s_deepest_stage(lite0, sample_gallery):
    labels = [it.label for it in sample_gallery]
    vectors = depth_vectors(lite0, (it.image() for it in sample_gallery), LITE0, total=len(sample_gallery))
    assert list(vectors) == depth_steps(lite0) == [*lite0.stages, EMBEDDING]
    assert vectors["stage3"].shape == (55, 40) and vectors[EMBEDDING].shape == (55, 1280)
    result = probe_by_depth(vectors, labels)
    assert result.chance == pytest.approx(1 / 11) and result.folds == 5 and result.photos == 55

    # held out: each photo's prediction is that of a regression fitted on the other folds only
    deepest = result.steps[result.deepest]
    assert deepest == "stage7"
    x, y = l2_normalize(vectors[deepest]), np.asarray(labels)
    predicted = np.empty(len(y), dtype=object)
    for train, test in StratifiedKFold(5, shuffle=True, random_state=0).split(x, y):
        assert not set(train) & set(test)
        predicted[test] = LogisticRegression(max_iter=2000).fit(x[train], y[train]).predict(x[test])
    probe = result.probes[result.deepest]
    assert list(probe.predicted) == list(predicted)
    assert probe.accuracy == pytest.approx(float(np.mean(predicted == y)))

    # measured on this gallery: stage1 0.564, stage2 0.891, stage3 0.982, stage4 onwards 1.0
    accuracy = result.accuracies
    assert accuracy[result.deepest] >= 0.95 > result.chance
    assert accuracy[0] < accuracy[result.deepest]
    assert result.summary()["beats"] is True


def test_the_probe_of_random_weights_reads_less_at_the_deepest_stage(sample_gallery):
    random = encoders.seeded_model(LITE0, seed=0)
    labels = [it.label for it in sample_gallery]
    result = probe_by_depth(depth_vectors(random, (it.image() for it in sample_gallery), LITE0), labels)
    # measured: 0.436 at stage7 with random weights (1.0 trained)
    assert result.accuracies[result.deepest] <= 0.6


# --- the pages' questions ------------------------------------------------------------------------


def test_the_lens_question_is_the_block_from_which_the_heads_own_argmax_stays():
    """The answer against the head applied by hand to every block's CLS token, for every held-out
    digit's first picture of the trained tiny ViT."""
    model = encoders.load_model("tiny_vit_digits", allow_download=False)
    digits = data.load_dataset("digits")
    for digit in range(10):
        x = data.to_input(digits.test_images[views.held_out_of_digit(digits, digit)[0]])
        tr = trace(model, x, keep=[block_output(i) for i in range(len(model.blocks))])
        with torch.no_grad():
            tops = [int(model.head(model.norm(torch.as_tensor(tr.array(block_output(i))[:, 0]))).argmax())
                    for i in range(len(model.blocks))]  # fmt: skip
        final = tops[-1]
        first = min((i for i in range(len(tops)) if all(t == final for t in tops[i:])), default=len(tops) - 1)
        q = settled_question(logit_lens(model, x, "digits"))
        assert q.correct == first + 1 and set(q.options) <= {1, 2, 3} and len(q.options) == 3


@pytest.mark.parametrize(("step", "row", "col"), [("stage3", 14, 14), ("stage4", 7, 7)])
def test_the_field_question_is_the_smallest_centred_square_holding_nine_tenths(
    lite0, chelsea_lite0, step, row, col
):
    """The answer against the input gradient taken with torch here, its theoretical square read off
    where it is non-zero, and every centred square tried in turn."""
    x = chelsea_lite0.clone().requires_grad_(True)
    out, _ = live_step(lite0, x, step)
    (grad,) = torch.autograd.grad(out[0, :, row, col].sum(), x)
    g = grad[0].abs().sum(dim=0).double().numpy()
    rows, cols = np.nonzero(g)
    top, left, side = rows.min(), cols.min(), rows.max() - rows.min() + 1

    def held(s: int) -> float:  # the gradient inside the centred square of side s
        t, lft = top + (side - s) // 2, left + (side - s) // 2
        return float(g[t : t + s, lft : lft + s].sum())

    expected = next(s for s in range(side % 2 or 2, side + 1, 2) if held(s) >= 0.9 * g.sum())
    field = effective_field(lite0, chelsea_lite0, step, row, col)
    assert field.box.size == side
    q = effective_side_question(field)
    assert q.correct == expected < side and side in q.options
    assert even_side(field) in q.options and even_side(field) ** 2 >= 0.9 * side**2
