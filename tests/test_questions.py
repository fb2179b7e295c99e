"""The predict-then-reveal questions of the CNN and training lessons: each right answer checked
against an independent computation — the real network's output shapes and values, torch's own
convolution, the run's own accuracy — never against the function that made the question."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from vision_core import load_model, preprocess
from vision_core.cnn import activations, squeeze
from vision_core.cnn.convolution import conv_shape_question, shape_table
from vision_core.cnn.pooling import downsampling_steps, grid_sizes, shrink_count_question
from vision_core.cnn.stages import last_grid, last_grid_numbers, last_grid_question, shape_rows
from vision_core.engine import encoders
from vision_core.engine.trace import trace
from vision_core.samples import load_sample
from vision_core.training import views
from vision_core.training.data import to_input
from vision_core.training.trainer import Trainer


@pytest.fixture(scope="module")
def lite0():
    return load_model("efficientnet_lite0")


@pytest.mark.parametrize("name", ["efficientnet_lite0", "resnet18", "clip_rn50"])
@pytest.mark.parametrize("size", [224, 226, 161])
def test_conv_shape_is_the_first_layers_real_output(name, size):
    model = encoders.build_model(name).eval()
    first = next(s for s in shape_table(model, size) if s.kind == "conv")
    x = torch.randn(1, 3, size, size)
    tr = trace(model, x, keep=[first.name], stop_after=[first.name])
    q = conv_shape_question(first.meta, (3, size, size))
    assert q.correct == tuple(tr[first.name].shape[1:])  # what the network really produced
    conv = model.get_submodule(first.name)
    bare = F.conv2d(x, conv.weight, None, conv.stride, 0, conv.dilation)  # torch, no padding at all
    assert tuple(bare.shape[1:]) in q.options or tuple(bare.shape[1:]) == q.correct
    assert len(q.options) == 4 and len(set(q.options)) == 4


@pytest.mark.parametrize("trained", [True, False])
def test_zeroed_share_bucket_is_the_recorded_share(lite0, trained):
    model = lite0 if trained else encoders.seeded_model("efficientnet_lite0")
    relu = next(s for s in shape_table(model, 224) if s.kind == "relu")
    tr = trace(model, preprocess(load_sample("chelsea"), "efficientnet_lite0"), stop_after=[relu.name])
    after = tr[relu.name].numpy()
    share = float((after == 0).mean())
    stats = activations.activation_stats(relu.meta["function"], tr.array(relu.inputs[0])[0], after[0])
    q = activations.zeroed_share_question(stats)
    assert q.options == (0, 1, 2, 3)
    assert q.correct == min(int(share * 4), 3)
    lo, hi = activations.ZERO_BUCKETS[q.correct : q.correct + 2]
    assert lo <= share < hi


@pytest.mark.parametrize("name", ["efficientnet_lite0", "resnet18"])
def test_shrink_count_is_the_number_of_grid_sizes_in_the_trace(name):
    tr = shape_table(encoders.build_model(name), 224)
    sides = {s.shape[-1] for s in tr if len(s.shape) == 4}  # every grid the network makes, input included
    q = shrink_count_question(grid_sizes(downsampling_steps(tr)))
    assert q.correct == len(sides) - 1 == 5
    assert 224 // min(sides) in q.options  # the whole factor, a rival


@pytest.mark.parametrize("size,expected", [(224, 7), (226, 8), (161, 6)])
def test_last_grid_is_the_plain_forward_pass(size, expected):
    model = encoders.build_model("resnet50").eval()
    x = torch.zeros(1, 3, size, size)
    with torch.no_grad():  # resnet's own forward, no recorder
        y = model.maxpool(model.relu(model.bn1(model.conv1(x))))
        y = model.layer4(model.layer3(model.layer2(model.layer1(y))))
    rows = shape_rows(shape_table(model, size))
    q = last_grid_question(rows)
    assert q.correct == y.shape[-1] == expected
    assert last_grid(rows).name == "layer4" and last_grid_numbers(rows)["jump"] == 32
    assert {size // 32, -(-size // 32)} <= set(q.options)  # rounded down and up: only one is right


def test_gap_length_is_the_real_gap_for_another_size(lite0):
    x = preprocess(load_sample("chelsea"), "efficientnet_lite0")
    big = F.interpolate(x, size=(320, 320), mode="bilinear")
    tr_big, tr_own = trace(lite0, big, keep=["gap", "relu_head"]), trace(lite0, x, keep=["relu_head"])
    q = squeeze.gap_length_question(tr_big["relu_head"].shape, tr_own["relu_head"].shape)
    assert q.correct == tr_big["gap"].shape[-1] == 1280
    assert int(np.prod(tr_big["relu_head"].shape[1:])) in q.options  # flattening, a rival


def test_cosine_above_the_line_from_the_two_embeddings(lite0):
    a, b = (preprocess(load_sample(s), "efficientnet_lite0") for s in ("chelsea", "coffee"))
    with torch.no_grad():
        cos = float(F.cosine_similarity(lite0.forward_features(a), lite0.forward_features(b)))
    q = squeeze.above_question(cos)
    assert set(q.options) == {True, False} and q.correct == (cos > squeeze.SIMILAR)
    assert squeeze.above_question(0.9).correct and not squeeze.above_question(0.5).correct


@pytest.mark.parametrize("objective", ["classification", "self_supervised"])
def test_misreads_add_up_to_the_runs_own_accuracy(objective):
    trainer = Trainer("cnn", objective, "digits", seed=0, epochs=1)
    report = trainer.step_epoch()
    held_out = len(trainer.test_labels)
    m = views.misreads(trainer)
    accuracy = report.accuracy if objective == "classification" else report.knn_accuracy
    assert m.total_wrong == round((1 - accuracy) * held_out)  # the page's accuracy, counted again
    assert m.pictures.sum() == held_out
    vote = views.misreads(trainer, vote=True)
    assert vote.source == "neighbours" and vote.total_wrong == round((1 - report.knn_accuracy) * held_out)
    q = views.misread_question(m)
    assert q is not None
    if objective == "classification":  # the digit whose pictures the classifier gets wrong most
        with torch.no_grad():
            read = trainer.model(to_input(trainer.data.test_images)).argmax(1).numpy()
        wrong = np.bincount(trainer.test_labels[read != trainer.test_labels], minlength=10)
        assert q.correct == int(np.argmax(wrong))
    assert all(m.wrong[o] < m.wrong[q.correct] for o in q.options if o != q.correct)
    assert m.about(q.correct)["wrong"] == m.wrong.max()


def test_a_run_without_mistakes_asks_nothing():
    m = views.Misreads("classifier", np.full(10, 36), np.zeros(10, int), np.full(10, -1))
    assert views.misread_question(m) is None
    tied = views.Misreads(
        "classifier", np.full(10, 36), np.array([0, 2, 0, 2, 1, 0, 0, 0, 0, 0]), np.zeros(10)
    )
    q = views.misread_question(tied)
    assert q is not None and q.correct == 1 and 3 not in q.options and tied.about(1)["ties"] == "3"
