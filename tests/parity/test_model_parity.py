"""Our models against torchvision, timm and open_clip, on seeded random weights.

Each fixture (made by ``make_fixtures.py`` in the reference environment) holds the reference
model's state-dict keys and shapes, a fingerprint of the seeded weights, the seeded input's
fingerprint and the reference output.  Here the same weights are regenerated from the same seed
under the same keys, loaded into our model with ``strict=True``, and the outputs compared:
max |ours − reference| ≤ 1e-4 × max |reference|.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.parity.seeded import fingerprint, seeded_input, seeded_state_dict, to_torch
from vision_core import build_model, trace
from vision_core.transformer.attention import attention_layers

FIXTURES = Path(__file__).parent / "fixtures"
# fixture → (registry name, what the reference output is)
CASES = {
    "resnet18": "resnet18",
    "resnet50": "resnet50",
    "vit_b_16": "vit_b_16",
    "deit_tiny": "deit_tiny",
    "deit_tiny_dynamic": "deit_tiny",
    "dino_vits16": "dino_vits16",
    "dino_vits8": "dino_vits8",
    "clip_rn50": "clip_rn50",
    "clip_vit_b32": "clip_vit_b32",
}


def fixture(name: str) -> dict:
    path = FIXTURES / f"model_{name}.npz"
    assert path.exists(), f"missing {path}: run tests/parity/make_fixtures.py in the reference environment"
    with np.load(path) as z:
        return {k: z[k] for k in z.files}


def seeded(name: str):
    """Our model for ``name``'s fixture with the seeded weights loaded strictly, plus the fixture."""
    fx = fixture(name)
    model = build_model(CASES[name])
    shapes = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    weights = seeded_state_dict(shapes, seed=0)
    reference_fp = json.loads(str(fx["weight_fingerprint"]))
    ours_fp = fingerprint(weights)
    assert ours_fp.keys() == reference_fp.keys()
    for key in ours_fp:
        assert ours_fp[key] == pytest.approx(reference_fp[key], rel=1e-9, abs=1e-9), key
    model.load_state_dict(to_torch(weights), strict=True)
    return model.eval(), fx


def seeded_x(fx: dict) -> torch.Tensor:
    x = seeded_input(tuple(int(s) for s in fx["input_shape"]), int(fx["input_seed"]))
    expected = fx["input_fingerprint"]
    assert float(x.astype(np.float64).sum()) == pytest.approx(float(expected[0]), rel=1e-9)
    np.testing.assert_array_equal(x.reshape(-1)[:16], expected[1:].astype(np.float32))
    return torch.from_numpy(x)


@pytest.mark.parametrize("name", sorted(CASES))
def test_state_dict_has_exactly_the_official_keys_and_shapes(name):
    fx = fixture(name)
    ours = {k: list(v.shape) for k, v in build_model(CASES[name]).state_dict().items()}
    reference = json.loads(str(fx["shapes"]))
    assert set(ours) == set(reference)
    assert ours == {k: reference[k] for k in ours}


@pytest.mark.parametrize("name", sorted(CASES))
def test_output_equals_the_reference_implementation(name):
    model, fx = seeded(name)
    x = seeded_x(fx)
    with torch.no_grad():
        out = model(x).numpy()
    reference = fx["output"]
    scale = float(np.abs(reference).max())
    assert out.shape == reference.shape
    assert np.abs(out - reference).max() <= 1e-4 * scale, (
        f"max diff {np.abs(out - reference).max()} vs {scale}"
    )
    traced = trace(model, x, keep=[]).output.numpy()  # the step-by-step attention gives the same
    assert np.abs(traced - reference).max() <= 1e-4 * scale


def test_resnet50_stage_outputs_equal_torchvision():
    model, fx = seeded("resnet50")
    tr = trace(model, seeded_x(fx), keep=["layer1", "layer2", "layer3", "layer4"])
    for stage in ("layer1", "layer2", "layer3", "layer4"):
        ours = tr.array(stage).mean(axis=(2, 3))
        ref = fx[f"{stage}_mean"]
        assert np.abs(ours - ref).max() <= 1e-4 * float(np.abs(ref).max()), stage


@pytest.mark.parametrize("name", ["deit_tiny", "dino_vits16"])
def test_cls_attention_rows_equal_timm_unfused_attention(name):
    model, fx = seeded(name)
    tr = trace(model, seeded_x(fx), keep=["attn_probs"])
    ours = np.stack([tr.array(n)[0, :, 0, :] for n in attention_layers(tr)])  # (blocks, heads, T)
    np.testing.assert_allclose(ours, fx["attn_cls"], atol=1e-5)


def test_deit_pre_logits_equal_timm():
    model, fx = seeded("deit_tiny")
    with torch.no_grad():
        ours = model.forward_features(seeded_x(fx)).numpy()
    ref = fx["pre_logits"]
    assert np.abs(ours - ref).max() <= 1e-4 * float(np.abs(ref).max())
