"""The same pipeline on Ray Data (``encoder-lens embed ... --engine ray``).

A folder: the scan of :mod:`vision_core.batch.pipeline` (the same files, in the same order) →
``ray.data.read_binary_files`` → ``map_batches(EmbedPhotos, compute=ActorPoolStrategy(size=N))``:
each actor loads the encoder once and, for every batch, hashes, prepares and embeds the photos
with the very functions the local engine uses (:func:`~vision_core.batch.pipeline.prepare`,
:func:`~vision_core.embeddings.vectors.embed`), so the vectors are the local engine's.  A zip is
read on the driver by the lab's safe reader, and its compact copies go through the same actors
(``ray.data.from_items``).  The driver streams the results back in chunks into the same
:class:`~vision_core.batch.store.ChunkWriter`: resuming and interruptions work as locally.

Which Ray: one the caller already started is used as it is; otherwise ``ray.init`` joins the
cluster ``RAY_ADDRESS`` names, or starts a local Ray with ``workers`` CPUs — and that one is shut
down at the end.  On a cluster every node needs this project installed (``pip install -e .``) and,
for a folder, the photos at the same path (shared storage); a zip travels with the job.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from vision_core.batch import store
from vision_core.batch.pipeline import (
    CHUNK,
    Prepared,
    Progress,
    Run,
    Summary,
    is_zip,
    label_of,
    output_paths,
    prepare,
    read_zip,
    scan_folder,
)
from vision_core.embeddings import vectors as embeddings
from vision_core.embeddings.gallery import GalleryItem, Skipped
from vision_core.engine import encoders

NEW, KNOWN, BAD = "new", "known", "bad"


class EmbedPhotos:
    """An actor of the pool: holds one model, turns a batch of files (or of a zip's prepared
    photos) into rows ``name, label, sha256, status, reason, vector``."""

    def __init__(self, model_name: str, names: dict[str, str], done: set[str], batch_size: int) -> None:
        self.model_name, self.names, self.done, self.batch_size = model_name, names, done, batch_size
        self.model = encoders.load_model(model_name)
        self.dim = encoders.get(model_name).embedding_dim

    def _outcomes(self, batch: dict[str, np.ndarray]) -> list[tuple[str, str, Prepared | Skipped | None]]:
        """(name, sha256, outcome) per row; outcome None: already in the output."""
        out: list[tuple[str, str, Prepared | Skipped | None]] = []
        if "path" in batch:  # a folder's file, as read_binary_files gives it
            for path, data in zip(batch["path"], batch["bytes"], strict=True):
                name = self.names[str(path)]
                key = hashlib.sha256(data).hexdigest()
                out.append(
                    (name, key, None if key in self.done else prepare(bytes(data), name, label_of(name)))
                )
        else:  # a zip's photo, prepared on the driver
            columns = (batch["name"], batch["label"], batch["sha256"], batch["data"])
            for name, label, key, data in zip(*columns, strict=True):
                item = GalleryItem(str(key), str(name), str(label), "upload", bytes(data))
                out.append((str(name), str(key), Prepared(str(name), str(label) or None, item)))
        return out

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        outcomes = self._outcomes(batch)
        photos = [o for _, _, o in outcomes if isinstance(o, Prepared)]
        found = embeddings.embed(
            self.model, (p.item.image() for p in photos), self.model_name, batch_size=self.batch_size
        )
        vectors = np.zeros((len(outcomes), self.dim), np.float32)
        rows = [i for i, (_, _, o) in enumerate(outcomes) if isinstance(o, Prepared)]
        vectors[rows] = found
        return {
            "name": np.array([n for n, _, _ in outcomes], dtype=object),
            "label": np.array([_label(o) for _, _, o in outcomes], dtype=object),
            "sha256": np.array([k for _, k, _ in outcomes], dtype=object),
            "status": np.array([_status(o) for _, _, o in outcomes], dtype=object),
            "reason": np.array([o.reason if isinstance(o, Skipped) else "" for _, _, o in outcomes], object),
            "vector": vectors,
        }


def _label(outcome: Prepared | Skipped | None) -> str:
    return (outcome.label or "") if isinstance(outcome, Prepared) else ""


def _status(outcome: Prepared | Skipped | None) -> str:
    return KNOWN if outcome is None else BAD if isinstance(outcome, Skipped) else NEW


def _start_ray(workers: int) -> bool:
    """Join or start Ray; True when this call started (and so must stop) it."""
    import ray

    logging.getLogger("ray.data").setLevel(logging.ERROR)  # the command reports for itself
    if ray.is_initialized():
        return False
    if os.environ.get("RAY_ADDRESS"):
        ray.init(log_to_driver=False, logging_level=logging.ERROR)
    else:
        ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
    return True


def embed_ray(
    photos_path: Path,
    out: Path,
    model_name: str,
    *,
    workers: int = 2,
    batch_size: int = embeddings.EMBED_BATCH,
    chunk_size: int = CHUNK,
    on_total: Callable[[int], None] | None = None,
    on_progress: Progress | None = None,
) -> Summary:
    """:func:`vision_core.batch.pipeline.embed_local`'s work done by a pool of ``workers`` Ray
    actors (see the module's docstring); the same output and summary."""
    import ray
    import ray.data

    run = Run(out, model_name)
    encoders.load_model(model_name)  # a missing weights file is said here, before Ray starts
    step = on_progress or (lambda n: None)
    started = _start_ray(workers)
    context = ray.data.DataContext.get_current()
    before = (context.enable_progress_bars, context.execution_options.preserve_order)
    context.enable_progress_bars = False  # the command draws its own
    context.execution_options.preserve_order = True  # the local engine's order
    try:
        names: dict[str, str] = {}
        dataset: ray.data.Dataset | None
        if is_zip(photos_path):
            photos, run.summary = read_zip(photos_path, run.done)
            rows = [
                {"name": p.name, "label": p.label or "", "sha256": p.sha256, "data": p.item.data}
                for p in photos
            ]
            blocks = min(len(rows), 4 * workers)  # so that every actor gets work
            dataset = ray.data.from_items(rows, override_num_blocks=blocks) if rows else None
            already = len(run.summary.known) + len(run.summary.skipped)
        else:
            entries, run.summary.skipped = scan_folder(photos_path, output_paths(run.out))
            run.summary.total = len(entries) + len(run.summary.skipped)
            names = {str(e.path): e.name for e in entries}
            paths = [str(e.path) for e in entries]
            dataset = None
            if paths:  # read tasks take no CPU: the actors hold them all (else a local Ray stalls)
                blocks = min(len(paths), 4 * workers)  # so that every actor gets work
                dataset = ray.data.read_binary_files(
                    paths, include_paths=True, num_cpus=0, override_num_blocks=blocks
                )
            already = len(run.summary.skipped)
        if on_total:
            on_total(run.summary.total)
        step(already)
        if dataset is not None:
            results = dataset.map_batches(
                EmbedPhotos,
                fn_constructor_kwargs={
                    "model_name": model_name,
                    "names": names,
                    "done": set() if is_zip(photos_path) else run.done,  # a zip's are left out already
                    "batch_size": batch_size,
                },
                batch_size=batch_size,
                compute=ray.data.ActorPoolStrategy(size=workers),
                num_cpus=1,
            )
            for batch in results.iter_batches(batch_size=chunk_size, batch_format="numpy"):
                _write(run, batch)
                step(len(batch["name"]))
    finally:
        context.enable_progress_bars, context.execution_options.preserve_order = before
        run.finish()
        if started:
            _stop_ray()
    return run.summary


def _descendants() -> set[int]:
    """This process's child processes and theirs, read from /proc (Linux; empty elsewhere)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    parents[int(entry)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found: set[int] = set()
    todo = [os.getpid()]
    while todo:
        parent = todo.pop()
        children = {pid for pid, pp in parents.items() if pp == parent} - found
        found |= children
        todo += children
    return found


def _stop_ray(grace_s: float = 30.0) -> None:
    """Shut down the Ray this run started, and end any of its processes still alive after
    ``grace_s`` (on a busy machine an actor told to stop can outlive ``ray.shutdown``)."""
    import signal
    import time

    import ray

    started = _descendants()
    ray.shutdown()
    deadline = time.monotonic() + grace_s
    while (left := started & _descendants()) and time.monotonic() < deadline:
        time.sleep(0.5)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in started & _descendants():
            with contextlib.suppress(OSError):
                os.kill(pid, sig)
        time.sleep(1.0)
        for pid in list(left):
            with contextlib.suppress(OSError):
                os.waitpid(pid, os.WNOHANG)


def _write(run: Run, batch: dict[str, np.ndarray]) -> None:
    rows, seen = store.Rows(), run.done
    for i, (name, status) in enumerate(zip(batch["name"], batch["status"], strict=True)):
        name, key = str(name), str(batch["sha256"][i])
        if status == BAD:
            run.summary.skipped.append(Skipped(name, str(batch["reason"][i])))
        elif status == KNOWN:
            run.summary.known.append(name)
        elif key in seen:  # the same content twice in this run: written once
            run.summary.repeated.append(name)
        else:
            seen.add(key)
            rows.add(batch["vector"][i], str(batch["label"][i]) or None, name, key)
    run.writer.write(rows)
    run.summary.new += len(rows)
