"""Architectures: shapes through the stages, the embedded model's real predictions, every registry name."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vision_core import ENCODERS, build_model, load_image, load_model, preprocess, trace
from vision_core.engine.encoders import seeded_model
from vision_core.predictions import top_k
from vision_core.samples import load_sample

RESNET50_STAGES = ["conv1", "maxpool", "layer1", "layer2", "layer3", "layer4", "gap"]


@pytest.fixture(scope="module")
def resnet50():
    return build_model("resnet50")


@pytest.fixture(scope="module")
def lite0():
    return load_model("efficientnet_lite0")


def shapes(tr, names):
    return [tr[n].shape[1:] for n in names]


def test_resnet50_shapes_at_224(resnet50):
    tr = trace(resnet50, torch.zeros(1, 3, 224, 224), keep=[])
    assert shapes(tr, RESNET50_STAGES) == [
        (64, 112, 112),
        (64, 56, 56),
        (256, 56, 56),
        (512, 28, 28),
        (1024, 14, 14),
        (2048, 7, 7),
        (2048,),
    ]


def test_resnet50_shapes_at_226_match_the_syllabus_table(resnet50):
    tr = trace(resnet50, torch.zeros(1, 3, 226, 226), keep=[])
    assert shapes(tr, RESNET50_STAGES) == [
        (64, 113, 113),
        (64, 57, 57),
        (256, 57, 57),
        (512, 29, 29),
        (1024, 15, 15),
        (2048, 8, 8),
        (2048,),
    ]


def test_lite0_shapes_and_stage_points(lite0):
    tr = trace(lite0, torch.zeros(1, 3, 224, 224), keep=[])
    assert tr["_conv_stem"].shape == (1, 32, 112, 112)
    assert [tr[s].shape[1:] for s in lite0.stages] == [
        (16, 112, 112),
        (24, 56, 56),
        (40, 28, 28),
        (80, 14, 14),
        (112, 14, 14),
        (192, 7, 7),
        (320, 7, 7),
    ]
    assert tr["_conv_head"].shape == (1, 1280, 7, 7) and tr["gap"].shape == (1, 1280)
    # "SAME" padding: a stride-2 3×3 conv on 224 pads nothing on top/left and one row/column after
    assert tr["_conv_stem"].meta["padding"] == (0, 1, 0, 1)
    assert tr["_blocks.1._depthwise_conv"].meta["groups"] == 96


def test_lite0_same_padding_on_odd_sizes(lite0):
    tr = trace(lite0, torch.zeros(1, 3, 225, 231), keep=[])
    assert tr["_conv_stem"].shape == (1, 32, 113, 116)  # ceil(225/2), ceil(231/2)
    assert tr["gap"].shape == (1, 1280)


# Photos bundled with installed packages, and the classes a sensible ImageNet model must put in
# its top 5 (indices into vision_core/data/imagenet_classes.txt, names for readable failures).
REAL_PHOTOS = {
    "chelsea": {"tabby", "tiger cat", "Egyptian cat"},
    "coffee": {"espresso", "cup", "coffee mug"},
    "rocket": {"missile", "projectile", "space shuttle"},
    "motorcycle": {"moped", "motor scooter", "crash helmet", "disc brake"},
}


@pytest.mark.parametrize("sample_id", sorted(REAL_PHOTOS))
def test_lite0_recognises_real_photos(lite0, sample_id):
    x = preprocess(load_sample(sample_id), "efficientnet_lite0")
    tr = trace(lite0, x, keep=["probs"])
    labels = [p.label for p in top_k(tr.array("probs")[0], 5)]
    assert REAL_PHOTOS[sample_id] & set(labels), f"{sample_id}: top-5 was {labels}"


def test_lite0_embedding_is_the_pooled_vector_and_unit_length(lite0):
    x = preprocess(load_sample("chelsea"), "efficientnet_lite0")
    tr = trace(lite0, x, keep=["gap", "embedding", "relu_head"])
    np.testing.assert_allclose(tr.array("gap"), tr.array("relu_head").mean(axis=(2, 3)), rtol=1e-5, atol=1e-6)
    assert np.linalg.norm(tr.array("embedding")) == pytest.approx(1.0, abs=1e-5)
    with torch.no_grad():
        np.testing.assert_allclose(lite0.forward_features(x).numpy(), tr.array("gap"), rtol=1e-5, atol=1e-6)


def test_relu6_caps_the_embedded_model_activations(lite0):
    x = preprocess(load_sample("astronaut"), "efficientnet_lite0")
    tr = trace(lite0, x, keep=["relu_stem"])
    stem = tr.array("relu_stem")
    assert stem.min() >= 0 and stem.max() <= 6 and tr["relu_stem"].meta["function"] == "relu6"


@pytest.mark.parametrize("name", sorted(ENCODERS))
def test_every_registry_model_builds_traces_and_matches_its_plain_forward(name):
    model = seeded_model(name)
    patch = ENCODERS[name].patch or 32
    x = torch.randn(1, 3, 7 * patch if patch >= 16 else 112, 7 * patch if patch >= 16 else 112)
    with torch.no_grad():
        plain = model(x)
    tr = trace(model, x, keep=["embedding"])
    torch.testing.assert_close(tr.output, plain, rtol=1e-4, atol=1e-4 * float(plain.abs().max()))
    assert tr["embedding"].shape == (1, ENCODERS[name].embedding_dim)
    assert not model.training


def test_load_image_and_preprocess_on_an_uploaded_file(tmp_path):
    path = tmp_path / "upload.png"
    load_sample("coffee").save(path)
    x = preprocess(load_image(path.read_bytes()), "efficientnet_lite0")
    assert x.shape == (1, 3, 224, 224) and x.dtype == torch.float32
    # Lite0 scales pixels as (x - 127) / 128
    assert float(x.min()) >= -127 / 128 - 1e-6 and float(x.max()) <= 128 / 128 + 1e-6
