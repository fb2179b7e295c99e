"""Our class-activation maps against the grad-cam library's (pytorch_grad_cam 1.5.7).

The fixture (``make_cam_fixture.py``, run in a reference environment with grad-cam) holds the
library's Grad-CAM, Grad-CAM++ and HiResCAM maps of our own networks: the embedded
EfficientNet-Lite0 on two photos, the embedded digits ViT on a digit, and a seeded DINO ViT-S/16
explaining its cosine similarity to a second photo.  Here :mod:`vision_core.why.cam` computes the
same maps with its recorder instead of hooks.  Measured (max |ours − library|): the layer maps
within 6e-7 of their largest value for Lite0 and the digits ViT, 2.1e-5 for the seeded DINO (the
library runs its fused attention kernel, our recorder the explicit softmax); the returned maps
(scaled to [0, 1], resized with OpenCV there, torch here) within 8e-6.  Asserted: 1e-4 for both.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.parity.seeded import seeded_state_dict, to_torch
from vision_core.engine import encoders
from vision_core.samples import load_sample
from vision_core.training.data import load_dataset, to_input
from vision_core.why import cam

FIXTURE = Path(__file__).parent / "fixtures" / "cam_gradcam.npz"
RAW_TOL = 1e-4  # of the largest |raw| value
MAP_TOL = 1e-4  # on maps scaled to [0, 1]


@pytest.fixture(scope="module")
def fixture() -> dict:
    assert FIXTURE.exists(), f"missing {FIXTURE}: run tests/parity/make_cam_fixture.py in the reference venv"
    with np.load(FIXTURE) as z:
        return {k: z[k] for k in z.files}


def case(fixture: dict, name: str) -> dict:
    return json.loads(str(fixture["cases"]))["cases"][name]


def check(fixture: dict, name: str, parts: cam.CamParts, size: tuple[int, int]) -> None:
    for method in cam.METHODS:
        ours = cam.cam_map(parts, method, size)
        reference_raw = np.maximum(fixture[f"{name}_{method}_raw"], 0)
        assert not np.all(reference_raw == 0), f"{name} {method}: a flat map would prove nothing"
        scale = float(np.abs(reference_raw).max())
        np.testing.assert_allclose(ours.raw, reference_raw, rtol=0, atol=RAW_TOL * scale, err_msg=method)
        returned = fixture[f"{name}_{method}_map_every4"]  # every 4th row and column of the library's
        np.testing.assert_allclose(ours.pixels[::4, ::4], returned, rtol=0, atol=MAP_TOL)


@pytest.mark.parametrize("sample", ["chelsea", "coffee"])
def test_lite0_maps_match_grad_cam(fixture, sample):
    name = f"lite0_{sample}"
    spec = case(fixture, name)
    model = encoders.load_model("efficientnet_lite0")
    x = encoders.preprocess(load_sample(sample), "efficientnet_lite0")
    assert float(x.double().sum()) == pytest.approx(float(fixture[f"{name}_input_sum"]), rel=1e-9)
    with torch.no_grad():
        assert int(model(x)[0].argmax()) == spec["class"]
    parts = cam.cam_parts(model, x, cam.ClassTarget(spec["class"]), spec["layer"])
    check(fixture, name, parts, (224, 224))


def test_digits_vit_maps_match_grad_cam(fixture):
    spec = case(fixture, "tiny_digit")
    data = load_dataset("digits")
    x = to_input(data.images[spec["digit_item"]])
    assert float(x.double().sum()) == pytest.approx(float(fixture["tiny_digit_input_sum"]), rel=1e-9)
    parts = cam.cam_parts(encoders.load_model("tiny_vit_digits"), x, cam.ClassTarget(spec["class"]))
    assert parts.layer == spec["layer"] and parts.activations.shape[1:] == (8, 8)
    check(fixture, "tiny_digit", parts, (32, 32))


def test_embedding_similarity_maps_match_grad_cam(fixture):
    spec = case(fixture, "dino_seeded")
    model = encoders.build_model("dino_vits16")
    shapes = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    model.load_state_dict(to_torch(seeded_state_dict(shapes, seed=0)), strict=True)
    x = encoders.preprocess(load_sample(spec["photo"]), "dino_vits16")
    with torch.no_grad():
        reference = model(encoders.preprocess(load_sample(spec["reference_photo"]), "dino_vits16"))[0]
    np.testing.assert_allclose(reference.numpy(), fixture["dino_seeded_reference"], rtol=1e-4, atol=1e-5)
    parts = cam.cam_parts(model, x, cam.SimilarityTarget(reference.numpy()))
    assert parts.layer == spec["layer"]
    check(fixture, "dino_seeded", parts, (224, 224))
