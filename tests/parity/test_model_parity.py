"""Our models against torchvision, timm and open_clip, on seeded random weights.

Each fixture (made by ``make_fixtures.py`` in the reference environment) holds the reference
model's state-dict keys and shapes, a fingerprint of the seeded weights, the seeded input's
fingerprint and the reference output.  Here the same weights are regenerated from the same seed
under the same (official) keys, passed through the format's converter
(:mod:`vision_core.engine.checkpoints`), loaded into our model with ``strict=True``, and the outputs
compared: max |ours − reference| ≤ 1e-4 × max |reference|.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.parity.seeded import fingerprint, seeded_input, seeded_state_dict, to_torch
from vision_core import build_model, trace
from vision_core.engine import checkpoints
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
# fixture → the converter from the reference's keys to ours
CONVERTERS = {"vit_b_16": checkpoints.from_torchvision_vit, "clip_vit_b32": checkpoints.from_openai_clip_vit}


def convert(name: str, state: dict) -> dict:
    return CONVERTERS.get(name, checkpoints.same_keys)(state)


def fixture(name: str) -> dict:
    path = FIXTURES / f"model_{name}.npz"
    assert path.exists(), f"missing {path}: run tests/parity/make_fixtures.py in the reference environment"
    with np.load(path) as z:
        return {k: z[k] for k in z.files}


def official_meta(name: str) -> dict[str, torch.Tensor]:
    """The reference model's state dict as shapes only (tensors on the meta device)."""
    shapes = json.loads(str(fixture(name)["shapes"]))
    return {k: torch.empty(shape, device="meta") for k, shape in shapes.items()}


def seeded(name: str):
    """Our model for ``name``'s fixture with the seeded weights loaded strictly, plus the fixture."""
    fx = fixture(name)
    model = build_model(CASES[name])
    weights = seeded_state_dict(json.loads(str(fx["shapes"])), seed=0)  # under the official keys
    reference_fp = json.loads(str(fx["weight_fingerprint"]))
    ours_fp = fingerprint(weights)
    assert ours_fp.keys() == reference_fp.keys()
    for key in ours_fp:
        assert ours_fp[key] == pytest.approx(reference_fp[key], rel=1e-9, abs=1e-9), key
    model.load_state_dict(convert(name, to_torch(weights)), strict=True)
    return model.eval(), fx


def seeded_x(fx: dict) -> torch.Tensor:
    x = seeded_input(tuple(int(s) for s in fx["input_shape"]), int(fx["input_seed"]))
    expected = fx["input_fingerprint"]
    assert float(x.astype(np.float64).sum()) == pytest.approx(float(expected[0]), rel=1e-9)
    np.testing.assert_array_equal(x.reshape(-1)[:16], expected[1:].astype(np.float32))
    return torch.from_numpy(x)


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_converter_maps_the_official_keys_and_shapes_onto_ours(name):
    converted = {k: list(v.shape) for k, v in convert(name, official_meta(name)).items()}
    ours = {k: list(v.shape) for k, v in build_model(CASES[name]).state_dict().items()}
    assert set(converted) == set(ours)
    assert converted == {k: ours[k] for k in converted}


def test_torchvision_vit_converter_accepts_the_old_mlp_names():
    """The published vit_b_16-c867db91.pth has MLPBlock's names from before torchvision 0.13."""
    current = official_meta("vit_b_16")
    assert any(".mlp.0." in k for k in current)
    renamed = (k.replace(".mlp.0.", ".mlp.linear_1.").replace(".mlp.3.", ".mlp.linear_2.") for k in current)
    old = dict(zip(renamed, current.values(), strict=True))
    assert checkpoints.from_torchvision_vit(old).keys() == checkpoints.from_torchvision_vit(current).keys()


def test_a_converter_refuses_a_key_it_does_not_know():
    with pytest.raises(checkpoints.CheckpointError, match="not a key"):
        checkpoints.from_torchvision_vit({"encoder.layers.encoder_layer_0.surprise": torch.zeros(1)})


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
