"""``encoder-lens embed --engine ray`` on a local Ray with two workers: the same vectors as the local
engine, resuming across engines, a zip, and no Ray process left behind.  Few photos: Ray's start
and its actors' model loading are most of the time."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest
import ray

from vision_core.batch import cli, pipeline, ray_engine, store
from vision_core.embeddings import gallery
from vision_core.samples import sample_bytes

MODEL = "efficientnet_lite0"
FILES = {
    "cats/chelsea.png": sample_bytes("chelsea"),
    "things/coffee.png": sample_bytes("coffee"),
    "things/rocket.jpg": sample_bytes("rocket"),
    "astronaut.png": sample_bytes("astronaut"),
    "things/broken.jpg": sample_bytes("rocket")[:3000],
}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "photos"
    for name, data in FILES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return root


def _processes() -> dict[int, tuple[int, str]]:
    """pid → (parent pid, state) of every process, from /proc."""
    found = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            found[int(entry)] = (int(fields[1]), fields[0])
    return found


def descendants(pid: int = os.getpid()) -> set[int]:
    table, out, todo = _processes(), set(), [pid]
    while todo:
        parent = todo.pop()
        children = {p for p, (pp, _) in table.items() if pp == parent}
        out |= children
        todo += children
    return out


def still_running(pids: set[int], wait_s: float = 120) -> set[int]:
    """Those of ``pids`` that are still alive (not zombies) after waiting for them to exit (an
    actor Ray has told to stop may need a while on a busy machine)."""
    deadline = time.monotonic() + wait_s
    while True:
        table = _processes()
        alive = {p for p in pids if p in table and table[p][1] != "Z"}
        if not alive or time.monotonic() > deadline:
            return alive


def by_sha(found: store.VectorFile) -> dict[str, tuple[str, str | None, np.ndarray]]:
    return {
        k: (n, lab, v)
        for k, n, lab, v in zip(found.sha256, found.names, found.labels, found.vectors, strict=True)
    }


def test_the_ray_engine_equals_the_local_engine_and_leaves_no_process(folder, tmp_path, capsys):
    local, distributed = tmp_path / "local.parquet", tmp_path / "ray.parquet"
    pipeline.embed_local(folder, local, MODEL)
    assert not ray.is_initialized()
    ray_pids: set[int] = set()

    def seen_while_running(n: int) -> None:  # called on this process while Ray runs
        ray_pids.update(descendants())

    summary = ray_engine.embed_ray(folder, distributed, MODEL, workers=2, on_progress=seen_while_running)
    assert summary.new == 4 and [s.name for s in summary.skipped] == ["things/broken.jpg"]
    a, b = by_sha(store.read_file(local)), by_sha(store.read_file(distributed))
    assert a.keys() == b.keys() and len(a) == 4
    for key, (name, label, vector) in a.items():
        assert b[key][:2] == (name, label)
        np.testing.assert_allclose(b[key][2], vector, atol=1e-6, rtol=0)
    assert store.read_file(distributed).names == store.read_file(local).names  # the same order too

    assert ray_pids, "Ray's processes were seen while it ran"
    assert not ray.is_initialized()
    assert still_running(ray_pids) == set(), "Ray left processes behind"

    # the local engine resumes the Ray engine's file: nothing to do
    again = pipeline.embed_local(folder, distributed, MODEL)
    assert again.new == 0 and len(again.known) == 4


@pytest.fixture
def running_ray():
    """A Ray this test started (two CPUs), which the engine must use and leave running."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    try:
        yield
    finally:
        pids = descendants()  # Ray's own processes and the actors the test made
        ray.shutdown()
        assert still_running(pids) == set(), "Ray left processes behind"


def test_a_zip_and_a_resume_through_the_command_on_a_running_ray(running_ray, folder, tmp_path, capsys):
    archive = tmp_path / "photos.zip"
    archive.write_bytes(gallery.make_zip(FILES))
    out = tmp_path / "vectors.parquet"
    (folder / "things" / "rocket.jpg").unlink()  # the folder has one photo fewer than the zip
    code = cli.main(["embed", str(folder), "--out", str(out), "--engine", "ray", "--workers", "2"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert (
        "embedded now: 3" in captured.out
        and "skipped things/broken.jpg: This photo file is cut short" in captured.err
    )
    assert ray.is_initialized()  # the caller's Ray is left to the caller

    code = cli.main(["embed", str(archive), "--out", str(out), "--engine", "ray", "--workers", "2"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "embedded now: 1" in captured.out and "(or repeated in the zip): 3" in captured.out
    found = store.read_file(out)
    assert sorted(found.names) == sorted(n for n in FILES if n != "things/broken.jpg")
    labels = dict(zip(found.names, found.labels, strict=True))
    assert labels == {
        "cats/chelsea.png": "cats",
        "things/coffee.png": "things",
        "things/rocket.jpg": "things",
        "astronaut.png": None,
    }
