"""The tracing mechanism: every step named, recorded per call, equal to the plain forward pass."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch

from vision_core import build_model, trace
from vision_core.engine.encoders import seeded_model
from vision_core.engine.layers import ReLU, Stage, TracePoint


@pytest.fixture(scope="module")
def resnet18():
    return seeded_model("resnet18")


def test_trace_output_equals_plain_forward(resnet18):
    x = torch.randn(1, 3, 96, 128)
    with torch.no_grad():
        plain = resnet18(x)
    tr = trace(resnet18, x)
    assert torch.equal(tr.output, plain)


def test_every_step_of_a_basic_block_is_recorded_in_order(resnet18):
    tr = trace(resnet18, torch.randn(1, 3, 64, 64))
    names = tr.names()
    expected = [
        "layer2.0.conv1",
        "layer2.0.bn1",
        "layer2.0.relu1",
        "layer2.0.conv2",
        "layer2.0.bn2",
        "layer2.0.downsample.0",
        "layer2.0.downsample.1",
        "layer2.0.add",
        "layer2.0.relu2",
    ]
    positions = [names.index(n) for n in expected]
    assert positions == sorted(positions)
    assert names[:5] == ["input", "conv1", "bn1", "relu", "maxpool"]
    assert names[-5:] == ["layer4", "gap", "embedding", "fc", "probs"]
    kinds = {s.name: s.kind for s in tr}
    assert kinds["layer2.0.add"] == "add" and kinds["layer2"] == "stage" and kinds["gap"] == "gap"
    assert kinds["embedding"] == "l2norm" and kinds["probs"] == "softmax" and kinds["maxpool"] == "pool"


def test_residual_add_records_both_inputs_and_sums_them(resnet18):
    tr = trace(resnet18, torch.randn(1, 3, 64, 64))
    add = tr["layer2.0.add"]
    assert add.inputs == ("layer2.0.downsample.1", "layer2.0.bn2")
    total = tr.array("layer2.0.downsample.1") + tr.array("layer2.0.bn2")
    np.testing.assert_allclose(tr.array("layer2.0.add"), total, rtol=1e-6, atol=1e-6)
    # the identity path of a block without downsampling is the previous block's output
    assert tr["layer1.1.add"].inputs == ("layer1.0.relu2", "layer1.1.bn2")


def test_conv_meta_has_the_lesson_arithmetic(resnet18):
    tr = trace(resnet18, torch.randn(1, 3, 224, 224))
    meta = tr["conv1"].meta
    assert meta["kernel"] == (7, 7) and meta["stride"] == (2, 2) and meta["padding"] == (3, 3, 3, 3)
    assert meta["dilation"] == (1, 1) and meta["groups"] == 1 and meta["bias"] is False
    assert meta["params"] == 64 * 3 * 7 * 7
    assert meta["macs"] == 64 * 112 * 112 * 3 * 7 * 7
    assert tr["maxpool"].meta["kernel"] == (3, 3) and tr["maxpool"].meta["op"] == "max"
    assert tr["fc"].meta["params"] == 512 * 1000 + 1000


def test_gap_embedding_and_probabilities(resnet18):
    tr = trace(resnet18, torch.randn(1, 3, 64, 64))
    gap = tr.array("gap")
    np.testing.assert_allclose(gap, tr.array("layer4").mean(axis=(2, 3)), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(tr.array("embedding")), 1.0, rtol=1e-5)
    np.testing.assert_allclose(tr.array("probs").sum(), 1.0, rtol=1e-5)


def test_keep_limits_values_but_not_shapes(resnet18):
    tr = trace(resnet18, torch.randn(1, 3, 64, 64), keep=["layer1.*", "conv"])
    assert tr["layer1.0.bn1"].value is not None
    assert tr["layer3.1.conv2"].value is not None  # kept by kind
    assert tr["layer3.1.bn2"].value is None and tr["layer3.1.bn2"].shape == (1, 256, 4, 4)
    with pytest.raises(KeyError, match="keep="):
        tr.array("layer3.1.bn2")


def test_stop_after_ends_the_forward_pass_early(resnet18):
    tr = trace(resnet18, torch.randn(1, 3, 64, 64), stop_after=["relu"])
    assert tr.output is None
    assert tr.names() == ["input", "conv1", "bn1", "relu"]


def test_stop_after_an_unknown_step_is_an_error(resnet18):
    with pytest.raises(KeyError, match="nonexistent"):
        trace(resnet18, torch.randn(1, 3, 32, 32), stop_after=["nonexistent"])


def test_compact_is_float16_numpy_and_keeps_meta(resnet18):
    tr = trace(resnet18, torch.randn(1, 3, 64, 64))
    small = tr.compact()
    assert small["conv1"].value.dtype == np.float16
    assert small["conv1"].meta == tr["conv1"].meta
    np.testing.assert_allclose(small.array("conv1"), tr.array("conv1"), rtol=2e-3, atol=2e-3)
    assert small.nbytes < tr.nbytes * 0.6
    only = tr.compact(keep=["gap"])
    assert only["gap"].value is not None and only["conv1"].value is None and only["conv1"].shape


def test_no_hooks_and_nothing_left_on_the_model(resnet18):
    before = {n: dict(m._forward_hooks) for n, m in resnet18.named_modules()}
    trace(resnet18, torch.randn(1, 3, 32, 32))
    after = {n: dict(m._forward_hooks) for n, m in resnet18.named_modules()}
    assert before == after and all(not h for h in after.values())


def test_two_threads_tracing_one_shared_model_see_only_their_own_steps(resnet18):
    """Streamlit shares one cached model between learners' sessions (threads)."""
    inputs = [torch.randn(1, 3, 64, 64) for _ in range(4)]
    results: dict[int, object] = {}

    def work(i: int) -> None:
        results[i] = trace(resnet18, inputs[i], keep=["conv1", "fc"])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i, x in enumerate(inputs):
        with torch.no_grad():
            expected = resnet18(x)
        assert torch.allclose(results[i].output, expected)
        assert len(results[i]) == len(trace(resnet18, x, keep=[]))


def test_relus_are_separate_and_not_in_place():
    model = build_model("resnet50")
    relus = [m for m in model.modules() if isinstance(m, ReLU)]
    assert len(relus) == len({id(m) for m in relus}) == 1 + 16 * 3
    assert not any(isinstance(m, torch.nn.ReLU) and m.inplace for m in model.modules())


def test_an_in_place_change_after_recording_is_caught():
    class Sneaky(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.point = TracePoint("point")

        def forward(self, x):
            y = self.point(x * 2)
            y.add_(1)  # corrupts what the trace stored
            return y

    with pytest.raises(RuntimeError, match="changed in place"):
        trace(Sneaky(), torch.ones(1, 3, 4, 4))


def test_a_module_run_twice_is_caught():
    class Shared(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.relu = ReLU()

        def forward(self, x):
            return self.relu(self.relu(x) - 1)

    with pytest.raises(RuntimeError, match="ran twice"):
        trace(Shared(), torch.ones(1, 3, 4, 4))


def test_stage_records_its_output_with_its_input_as_source():
    stage = Stage(torch.nn.Identity(), ReLU())
    wrapper = torch.nn.Sequential(stage)
    tr = trace(wrapper, torch.randn(1, 3, 4, 4))
    assert tr["0"].kind == "stage" and tr["0"].inputs == ("0.1",)
