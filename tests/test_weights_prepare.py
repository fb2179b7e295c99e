"""The teacher's ``python -m vision_core.weights prepare DIR`` against a loopback HTTP server.

A folder is filled at "home" (downloads from the server through ``$ENCODER_LENS_WEIGHTS_URL_BASE``),
then a "classroom" with a fresh hub cache, ``$ENCODER_LENS_WEIGHTS=DIR`` and no reachable server
loads the files from it, trusting the pins written there.
"""

# ruff: noqa: F811  (the fixtures imported from tests/test_weights.py are parameters here)
from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from tests.test_weights import (  # noqa: F401  (fixtures)
    Server,
    closed_port_url,
    fake_entry,
    isolated,
    save_checkpoint,
    server,
    sha256,
)
from vision_core import weights as cli
from vision_core.engine import encoders, pins, weights
from vision_core.engine.weights_status import prepare, status


def two_files(server: Server):
    """A file with a published checksum, and one without (checked by layout, then pinned)."""
    save_checkpoint(server.root / "tiny-net.pth")
    with_sum = fake_entry("tiny-net.pth", sha256(server.root / "tiny-net.pth"), f"{server.url}/tiny-net.pth")
    sd = save_checkpoint(server.root / "tiny-dino.pth", numel=200_000)
    size = (server.root / "tiny-dino.pth").stat().st_size
    no_sum = replace(
        with_sum,
        filename="tiny-dino.pth",
        sha256=None,
        size_bytes=size,
        url="https://x.invalid/tiny-dino.pth",
    )

    def fits(state) -> None:
        weights.check_layout(state, sd)

    return [("tiny", with_sum, None), ("tiny_dino", no_sum, fits)]


def test_prepare_then_the_classroom_works_offline(server, isolated, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv(weights.ENV_URL_BASE, server.url)
    files, usb, lines = two_files(server), tmp_path / "usb", []
    results = prepare(usb, files, out=lines.append, progress_bar=False)
    assert [r.error for r in results] == [None, None]
    assert sorted(p.name for p in usb.iterdir()) == [
        "encoder-lens-pins.json",
        "tiny-dino.pth",
        "tiny-net.pth",
    ]
    assert lines[0].startswith("tiny ") and "checksum verified, downloaded" in lines[0]
    assert f"sha256 {sha256(usb / 'tiny-net.pth')[:12]}" in lines[0]
    assert "no published checksum: checked and pinned, downloaded" in lines[1]
    assert lines[2].startswith("2 of 2 files ready in") and f"{weights.ENV_DIR}={usb}" in lines[3]
    pinned = json.loads((usb / pins.PINS_FILE).read_text())["files"]
    assert list(pinned) == ["tiny-dino.pth"] and pinned["tiny-dino.pth"]["sha256"] == sha256(
        usb / "tiny-dino.pth"
    )
    assert not isolated.exists(), "prepare never touches the hub cache"
    # Again: the files in the folder are valid, so nothing is downloaded.
    lines.clear()
    prepare(usb, files, out=lines.append, progress_bar=False)
    assert all("already there" in line for line in lines[:2])
    assert sorted(server.requests) == ["/tiny-dino.pth", "/tiny-net.pth"]
    # The classroom: a fresh machine, the folder on a USB stick, no server.
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "classroom"))
    monkeypatch.setenv(weights.ENV_DIR, str(usb))
    monkeypatch.setenv(weights.ENV_URL_BASE, closed_port_url())
    for _, entry, fits in files:
        assert weights.fetch(entry, fits=fits) == usb / entry.filename
        assert status(entry).state == ("verified" if entry.sha256 else "pinned")
    assert status(files[1][1]).pins_file == usb / pins.PINS_FILE
    assert not (tmp_path / "classroom").exists(), "nothing pinned or written on the classroom machine"


def test_a_wrong_or_broken_file_is_refused_and_nothing_is_left(
    server, isolated, tmp_path, monkeypatch
) -> None:
    monkeypatch.setenv(weights.ENV_URL_BASE, server.url)
    (server.root / "tiny-net.pth").write_bytes(b"not the official file" * 1000)
    entry = fake_entry("tiny-net.pth", "0" * 64, "https://x.invalid/tiny-net.pth")
    broken = replace(entry, filename="broken.pth", sha256=None)  # the server promises 1 MB, sends 1 KB
    usb, lines = tmp_path / "usb", []
    results = prepare(usb, [("wrong", entry, None), ("broken", broken, lambda sd: None)], out=lines.append)
    assert [r.error.reason for r in results] == ["hash_mismatch", "interrupted"]
    assert "FAILED" in lines[0] and "FAILED" in lines[1] and lines[2].startswith("0 of 2 files ready")
    assert list(usb.iterdir()) == [], "no file, no .partial, no pin"
    # Refused, not resumed: the next try asks for the whole file again, and succeeds once it is right.
    save_checkpoint(server.root / "tiny-net.pth")
    good = replace(entry, sha256=sha256(server.root / "tiny-net.pth"))
    assert prepare(usb, [("good", good, None)], out=lines.append)[0].downloaded
    assert server.requests == ["/tiny-net.pth", "/broken.pth", "/tiny-net.pth"]


def test_the_command_prepares_dino_with_the_real_architecture(
    server, isolated, tmp_path, monkeypatch, capsys
):
    dino = encoders.get("dino_vits16").weights
    torch.save(encoders.seeded_model("dino_vits16").state_dict(), server.root / dino.filename)
    (server.root / "resnet18-f37072fd.pth").write_bytes(b"a wrong file")
    monkeypatch.setenv(weights.ENV_URL_BASE, server.url)
    usb = tmp_path / "usb"
    assert cli.main(["prepare", str(usb), "dino_vits16", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "dino_vits16" in out and "checked and pinned" in out and "1 of 1 files ready" in out
    assert sorted(p.name for p in usb.iterdir()) == [dino.filename, pins.PINS_FILE]
    assert cli.main(["prepare", str(usb), "resnet18", "--no-progress"]) == 1
    assert "FAILED" in capsys.readouterr().out and not (usb / "resnet18-f37072fd.pth").exists()
    with pytest.raises(SystemExit):
        cli.main(["prepare", str(usb), "efficientnet_lite0"])  # embedded: nothing to prepare
    assert "embedded" in capsys.readouterr().err


def test_python_dash_m_runs_the_command(server, tmp_path) -> None:
    (server.root / "resnet18-f37072fd.pth").write_bytes(b"a wrong file")
    env = {**os.environ, weights.ENV_URL_BASE: server.url, "TORCH_HOME": str(tmp_path / "th")}
    env.pop(weights.ENV_DIR, None)
    run = subprocess.run(
        [sys.executable, "-m", "vision_core.weights", "prepare", str(tmp_path / "usb"), "resnet18"],
        capture_output=True, text=True, env=env, cwd=Path(__file__).parents[1], timeout=300,
    )  # fmt: skip
    assert run.returncode == 1 and "resnet18" in run.stdout and "not the official file" in run.stdout
    assert list((tmp_path / "usb").iterdir()) == []
