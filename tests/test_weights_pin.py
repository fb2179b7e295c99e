"""DINO publishes no checksum: a download is checked against the real ViT-S architecture, then pinned.

The served files are real ``torch.save`` state dicts of ``encoders.seeded_model("dino_vits16")``
(86 MB), so the key-and-shape check runs against the network the lessons build.  Downloads go to a
loopback HTTP server through ``$ENCODER_LENS_WEIGHTS_URL_BASE``, as in tests/test_weights.py.
"""

# ruff: noqa: F811  (the fixtures imported from tests/test_weights.py are parameters here)
from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from tests.test_weights import (  # noqa: F401  (fixtures)
    Server,
    assert_same_tensors,
    closed_port_url,
    isolated,
    server,
    sha256,
)
from vision_core.engine import encoders, pins, weights
from vision_core.engine.weights import WeightsUnavailable
from vision_core.engine.weights_status import status

DINO = encoders.get("dino_vits16").weights


@pytest.fixture(scope="module")
def dino_files(tmp_path_factory) -> dict[str, Path]:
    """The seeded ViT-S/16 as a checkpoint, and three that are not it."""
    folder = tmp_path_factory.mktemp("dino")
    sd = encoders.seeded_model("dino_vits16").state_dict()
    files = {"good": folder / "good.pth", "other_seed": folder / "other.pth"}
    torch.save(sd, files["good"])
    torch.save(encoders.seeded_model("dino_vits16", seed=1).state_dict(), files["other_seed"])
    wrong_shape = dict(sd)  # the same numbers in another shape: the file size does not give it away
    wrong_shape["blocks.0.mlp.fc1.weight"] = sd["blocks.0.mlp.fc1.weight"].reshape(384, 1536)
    files["wrong_shape"] = folder / "wrong_shape.pth"
    torch.save(wrong_shape, files["wrong_shape"])
    files["missing_key"] = folder / "missing_key.pth"
    torch.save({k: v for k, v in sd.items() if k != "norm.bias"}, files["missing_key"])
    return files


def serve(server: Server, path: Path, monkeypatch) -> None:
    (server.root / DINO.filename).write_bytes(path.read_bytes())
    monkeypatch.setenv(weights.ENV_URL_BASE, server.url)


def pins_in(folder: Path) -> dict:
    return json.loads((folder / pins.PINS_FILE).read_text())["files"]


def test_first_download_is_checked_and_pinned_then_loads_verify_the_pin(
    dino_files, server, isolated, monkeypatch
) -> None:
    serve(server, dino_files["good"], monkeypatch)
    before = status(DINO)
    assert (before.state, before.trust, before.downloadable, before.present) == (
        "missing",
        "pinned",
        True,
        False,
    )
    assert "no checksum" in before.trust_text and "keys and shapes" in before.trust_text
    model = encoders.load_model("dino_vits16")
    assert_same_tensors(model.state_dict(), torch.load(dino_files["good"], weights_only=True))
    assert sorted(p.name for p in isolated.iterdir()) == [DINO.filename, pins.PINS_FILE]
    pin = pins_in(isolated)[DINO.filename]
    assert pin["sha256"] == sha256(dino_files["good"]) and pin["how"] == "downloaded"
    assert pin["url"] == DINO.url and pin["size"] == dino_files["good"].stat().st_size
    after = status(DINO)
    assert (after.state, after.path, after.pinned_at) == (
        "pinned",
        isolated / DINO.filename,
        pin["pinned_at"][:10],
    )
    assert (
        "pinned its SHA-256 on first download" in after.trust_text
        and after.need == "on this machine (pinned)"
    )
    encoders.load_model("dino_vits16")  # verified against the pin: no second request
    assert server.requests == [f"/{DINO.filename}"]


def test_a_file_changed_after_pinning_is_refused(dino_files, server, isolated, monkeypatch) -> None:
    serve(server, dino_files["good"], monkeypatch)
    path = weights.fetch(DINO, fits=encoders.layout_check("dino_vits16"), progress_bar=False)
    pinned_on = pins_in(isolated)[DINO.filename]["pinned_at"][:10]
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01  # one bit of one weight: the file still reads and fits
    path.write_bytes(bytes(data))
    with pytest.raises(WeightsUnavailable) as info:
        encoders.load_model("dino_vits16", allow_download=False)
    err = info.value
    assert err.reason == "pin_mismatch" and err.rejected == (path,)
    assert "changed since it was pinned" in str(err) and f"pinned on {pinned_on}" in str(err)
    assert path.read_bytes() == bytes(data), "a refused copy is left as it was"
    assert status(DINO).state == "refused" and status(DINO).problem.reason == "pin_mismatch"
    # With the network, the official file replaces the changed copy, and matches the pin again.
    with pytest.warns(UserWarning, match="replacing"):
        encoders.load_model("dino_vits16")
    assert sha256(path) == pins_in(isolated)[DINO.filename]["sha256"] == sha256(dino_files["good"])


@pytest.mark.parametrize("variant", ["wrong_shape", "missing_key"])
def test_a_download_that_does_not_fit_the_architecture_is_refused(
    variant, dino_files, server, isolated, monkeypatch
) -> None:
    serve(server, dino_files[variant], monkeypatch)
    with pytest.raises(WeightsUnavailable) as info:
        encoders.load_model("dino_vits16")
    assert info.value.reason == "wrong_layout" and "do not fit the architecture" in str(info.value)
    expected = "blocks.0.mlp.fc1.weight is (384, 1536)" if variant == "wrong_shape" else "norm.bias"
    assert expected in str(info.value)
    assert list(isolated.iterdir()) == [], "no file, no pin, no partial download"


def test_a_changed_official_file_is_not_silently_pinned_again(
    dino_files, server, isolated, monkeypatch
) -> None:
    serve(server, dino_files["good"], monkeypatch)
    encoders.load_model("dino_vits16")
    pinned = (isolated / pins.PINS_FILE).read_text()
    (isolated / DINO.filename).unlink()
    serve(server, dino_files["other_seed"], monkeypatch)  # fits the network, but is not the pinned file
    with pytest.raises(WeightsUnavailable) as info:
        encoders.load_model("dino_vits16")
    assert info.value.reason == "pin_mismatch" and pins.PINS_FILE in str(info.value)
    assert sorted(p.name for p in isolated.iterdir()) == [pins.PINS_FILE]
    assert (isolated / pins.PINS_FILE).read_text() == pinned


def test_a_copy_placed_by_hand_is_checked_and_pinned_on_first_use(
    dino_files, isolated, tmp_path, monkeypatch
):
    usb = tmp_path / "usb"
    usb.mkdir()
    (usb / DINO.filename).write_bytes(dino_files["good"].read_bytes())
    monkeypatch.setenv(weights.ENV_DIR, str(usb))
    monkeypatch.setenv(weights.ENV_URL_BASE, closed_port_url())  # no download possible
    placed = status(DINO)
    assert (placed.state, placed.present, placed.downloadable) == ("unpinned", True, False)
    assert placed.need == "on this machine (checked and pinned on first use)"
    assert weights.is_available_offline(DINO) and encoders.available_offline("dino_vits16")
    with pytest.warns(UserWarning, match="pinned"):
        encoders.load_model("dino_vits16")
    assert pins_in(isolated)[DINO.filename]["how"] == "placed"
    assert sorted(p.name for p in usb.iterdir()) == [DINO.filename], "the user's folder is never written"
    assert status(DINO).state == "pinned" and "when it was first used" in status(DINO).trust_text
    # A placed copy that does not fit is refused, and nothing is pinned for it.
    other = replace(DINO, filename="dino-missing-key.pth")
    (usb / other.filename).write_bytes(dino_files["missing_key"].read_bytes())
    with pytest.raises(WeightsUnavailable) as info:
        weights.fetch(other, fits=encoders.layout_check("dino_vits16"), allow_download=False)
    assert info.value.reason == "wrong_layout" and info.value.rejected == (usb / other.filename,)
    assert other.filename not in pins_in(isolated)


def test_an_implausibly_large_download_is_stopped(server, isolated, monkeypatch) -> None:
    small = replace(DINO, filename="tiny-dino.pth", size_bytes=10_000)
    torch.save({"x": torch.zeros(300_000)}, server.root / small.filename)  # 1.2 MB, not ~10 kB
    monkeypatch.setenv(weights.ENV_URL_BASE, server.url)
    with pytest.raises(WeightsUnavailable) as info:
        weights.fetch(small, fits=lambda sd: None, progress_bar=False)
    assert info.value.reason == "wrong_size" and list(isolated.iterdir()) == []
