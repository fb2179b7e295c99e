"""ONNX Runtime as the embedding lab's engine: the graph written from our CNNs gives PyTorch's
``forward_features`` vectors (within 1e-4 of their scale) on real photos with the real Lite0
weights, on every "SAME" padding case, and on ResNets with non-trivial batch-norm statistics; the
lab's embedding runs on it; encoders it does not write stay on PyTorch."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import onnx
import pytest
import torch

from vision_core import trace
from vision_core.embeddings import folding, onnx_engine
from vision_core.embeddings import vectors as embeddings
from vision_core.engine import encoders
from vision_core.samples import load_sample

SAMPLES = ["chelsea", "coffee", "astronaut", "rocket"]


@pytest.fixture(scope="module")
def lite0():
    return encoders.load_model("efficientnet_lite0")


@pytest.fixture(scope="module")
def photos() -> torch.Tensor:
    return torch.cat([encoders.preprocess(load_sample(s), "efficientnet_lite0") for s in SAMPLES])


def assert_same_vectors(got: torch.Tensor, expected: torch.Tensor) -> None:
    assert got.shape == expected.shape and got.dtype == torch.float32
    scale = float(expected.abs().max())
    worst = float((got - expected).abs().max())
    assert worst <= 1e-4 * scale, f"max |difference| {worst:.2e} against scale {scale:.2f}"


def test_lite0_on_onnx_runtime_gives_forward_features_and_the_traced_gap(lite0, photos):
    engine = onnx_engine.engine(lite0)
    assert isinstance(engine, onnx_engine.OnnxFeatures)
    with torch.inference_mode():
        plain = lite0.forward_features(photos)
    got = engine(photos)
    assert_same_vectors(got, plain)
    assert_same_vectors(got, torch.as_tensor(trace(lite0, photos, keep=["gap"]).array("gap")))
    # one photo at a time gives the same vectors as the batch
    assert_same_vectors(torch.cat([engine(photos[i : i + 1]) for i in range(len(photos))]), plain)


@pytest.mark.parametrize(("batch", "size"), [(2, (225, 231)), (1, (160, 96)), (3, (33, 47))])
def test_one_graph_serves_every_input_size_and_same_padding_case(lite0, batch, size):
    x = torch.randn(batch, 3, *size, generator=torch.Generator().manual_seed(0))
    with torch.inference_mode():
        plain = lite0.forward_features(x)
    assert_same_vectors(onnx_engine.engine(lite0)(x), plain)  # type: ignore[misc]


@pytest.mark.parametrize("name", ["resnet18", "resnet50"])
def test_resnets_on_onnx_runtime_give_forward_features(name):
    model = encoders.seeded_model(name)
    with torch.no_grad():  # batch norms with non-trivial statistics, as trained ones have
        g = torch.Generator().manual_seed(1)
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.copy_(torch.randn(m.num_features, generator=g) * 0.1)
                m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
                m.weight.copy_(torch.rand(m.num_features, generator=g) + 0.5)
                m.bias.copy_(torch.randn(m.num_features, generator=g) * 0.1)
    x = torch.randn(2, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    with torch.inference_mode():
        plain = model.forward_features(x)
    assert_same_vectors(onnx_engine.OnnxFeatures(model)(x), plain)


def test_the_graph_is_valid_onnx_with_no_padded_copies(lite0):
    proto = onnx_engine.graph(lite0)
    onnx.checker.check_model(proto, full_check=True)
    ops = [n.op_type for n in proto.graph.node]
    assert set(ops) == {"Conv", "Add", "Clip", "GlobalAveragePool", "Flatten"}
    # every convolution with its batch norm folded in; SAME padding is the convolution's own
    convs = [n for n in proto.graph.node if n.op_type == "Conv"]
    assert len(convs) == sum(isinstance(m, torch.nn.Conv2d) for m in lite0.modules())
    assert all(len(n.input) == 3 for n in convs)
    assert all({a.name: a for a in n.attribute}["auto_pad"].s == b"SAME_UPPER" for n in convs)
    assert ops.count("Add") == sum(getattr(b, "add", None) is not None for b in lite0._blocks)


def test_the_engine_is_made_once_and_leaves_the_model_alone(lite0):
    before = {k: v.clone() for k, v in lite0.state_dict().items()}
    assert onnx_engine.engine(lite0) is onnx_engine.engine(lite0)
    assert all(torch.equal(before[k], v) for k, v in lite0.state_dict().items())


def test_the_engine_answers_several_threads_at_once(lite0, photos):
    engine = onnx_engine.engine(lite0)
    alone = engine(photos[:2]).numpy()  # type: ignore[misc]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: engine(photos[:2]).numpy(), range(8)))  # type: ignore[misc]
    for r in results:
        np.testing.assert_array_equal(r, alone)


def test_the_lab_embeds_on_onnx_runtime(lite0):
    images = [load_sample(s) for s in SAMPLES]
    assert isinstance(onnx_engine.fastest(lite0), onnx_engine.OnnxFeatures)
    fast = embeddings.embed(lite0, images, "efficientnet_lite0")
    plain = embeddings.embed(lite0, images, "efficientnet_lite0", fast=False)
    assert fast.dtype == np.float32 and fast.shape == (len(images), 1280)
    assert_same_vectors(torch.from_numpy(fast), torch.from_numpy(plain))


def test_encoders_it_does_not_write_stay_on_pytorch():
    vit = encoders.seeded_model("deit_tiny")
    assert not onnx_engine.supports(vit) and onnx_engine.engine(vit) is None
    assert not folding.is_folded(onnx_engine.fastest(vit))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="no ONNX graph"):
        onnx_engine.graph(vit)
