"""Our preprocess_steps against torchvision / timm / open_clip's own evaluation transforms.

``make_fixtures.py`` runs each reference library's preset (torchvision weights' ``transforms()``,
timm's ``create_transform(**resolve_data_config(...))``, open_clip's validation transform) on
four photos that ship inside installed packages and records, per config and photo ``P``:
``P__cropped`` (uint8 H×W×3 right after resize + centre crop), ``P__shape`` (C, H, W of the
final tensor), ``P__channel_mean`` (float64) and ``P__sample`` — the final tensor at the flat
indices ``P__sample_idx``.  ``manifest.json`` records the parameters it read from each library;
we build our :class:`Preprocessing` from those, so the test also proves we read them right.

Missing fixtures FAIL: a parity suite that silently skips proves nothing.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import PIL
import pytest
import torch

from vision_core.engine.preprocess import Preprocessing, preprocess_steps
from vision_core.samples import load_sample, sample_bytes

FIXTURES = Path(__file__).parent / "fixtures"
MANIFEST = FIXTURES / "manifest.json"
CONFIGS = ("resnet_v1", "resnet_v2", "vit_b_16", "timm_deit", "timm_dino", "clip")
PHOTOS = ("chelsea", "china", "grace_hopper", "camera")
# With the reference's Pillow the resampled bytes must be identical.  Another Pillow may
# legitimately move a few values by one level: then at most 0.1% of them, by at most 1.
OFF_BY_ONE_FRACTION = 0.001


def _manifest() -> dict:
    if not MANIFEST.is_file():
        pytest.fail(f"parity fixtures are missing: {MANIFEST} (run tests/parity/make_fixtures.py)")
    return json.loads(MANIFEST.read_text())


def _params(manifest: dict, config: str) -> dict:
    configs = manifest.get("preprocess", {})
    if config not in configs:
        pytest.fail(f"manifest has no preprocess config {config!r}; it has {sorted(configs)}")
    return configs[config]["params"]


def _side(value) -> int:
    """224, [224] or [224, 224] → 224 (every preset here is square)."""
    sides = {int(v) for v in value} if isinstance(value, list) else {int(value)}
    assert len(sides) == 1, f"non-square size {value}"
    return sides.pop()


def preprocessing_from_manifest(params: dict) -> Preprocessing:
    """Our Preprocessing from the parameters the reference library reported."""
    # PIL input is always antialiased, and none of these presets caps the long side
    assert params.get("antialias", True) is True and params.get("max_size") is None, params
    return Preprocessing(
        resize=_side(params["resize_size"]),
        crop=_side(params["crop_size"]),
        interpolation=params["interpolation"],
        mean=tuple(float(v) for v in params["mean"]),
        std=tuple(float(v) for v in params["std"]),
    )


@pytest.mark.parametrize("photo", PHOTOS)
def test_photos_are_the_ones_the_fixtures_were_made_from(photo):
    recorded = _manifest()["photos"][photo]
    assert hashlib.sha256(sample_bytes(photo)).hexdigest() == recorded["sha256"], (
        f"{photo}: the installed package ships a different file than {recorded['package_path']}"
    )


@pytest.mark.parametrize("config", CONFIGS)
def test_fixture_file_holds_every_photo(config):
    _params(_manifest(), config)
    path = FIXTURES / f"preprocess_{config}.npz"
    assert path.is_file(), f"missing parity fixture {path}"
    with np.load(path) as data:
        for photo in PHOTOS:
            for field in ("cropped", "shape", "channel_mean", "sample", "sample_idx"):
                assert f"{photo}__{field}" in data.files, f"{path.name} lacks {photo}__{field}"


@pytest.mark.parametrize("photo", PHOTOS)
@pytest.mark.parametrize("config", CONFIGS)
def test_preprocess_matches_reference(config, photo):
    manifest = _manifest()
    prep = preprocessing_from_manifest(_params(manifest, config))
    path = FIXTURES / f"preprocess_{config}.npz"
    if not path.is_file():
        pytest.fail(f"missing parity fixture {path}")
    with np.load(path) as data:
        ref = {k.split("__", 1)[1]: data[k] for k in data.files if k.startswith(f"{photo}__")}
    steps = preprocess_steps(load_sample(photo), prep)
    tensor = steps.tensor[0]  # (3, H, W)

    # the picture after resize + centre crop: the same Pillow resampling gives the same bytes
    cropped = ref["cropped"]
    assert cropped.dtype == np.uint8 and cropped.shape == steps.pixels.shape
    diff = np.abs(cropped.astype(np.int16) - steps.pixels.astype(np.int16))
    ref_pillow = manifest["versions"]["pillow"]
    if ref_pillow == PIL.__version__:
        assert diff.max() == 0, f"{int((diff > 0).sum())} values differ (max {diff.max()})"
    else:
        assert diff.max() <= 1, f"Pillow {ref_pillow} vs {PIL.__version__}: max diff {diff.max()}"
        assert (diff > 0).mean() <= OFF_BY_ONE_FRACTION, f"Pillow {ref_pillow} vs {PIL.__version__}"

    assert tuple(int(s) for s in ref["shape"]) == tuple(tensor.shape)
    ours_mean = tensor.to(torch.float64).mean(dim=(1, 2)).numpy()
    np.testing.assert_allclose(ours_mean, ref["channel_mean"], rtol=0, atol=1e-5)
    ours_sample = tensor.reshape(-1)[torch.from_numpy(ref["sample_idx"].astype(np.int64))].numpy()
    np.testing.assert_allclose(ours_sample, ref["sample"], rtol=0, atol=1e-5)
