"""A whole collection of photos → one vectors file, on this machine (the ``local`` engine).

The steps, shared with :mod:`vision_core.batch.ray_engine`:

1. **scan** — a folder's files in sorted order, each named by its path under the folder and
   labelled by the folder it is in (none at the top); files whose name is not a photo's, hidden
   files and files over :data:`~vision_core.engine.preprocess.DEFAULT_MAX_BYTES` are listed as
   skipped without being read.  A zip is read by the lab's own safe reader
   (:func:`vision_core.embeddings.gallery.load_zip`: member and total limits, zip bombs refused).
2. **prepare** — the SHA-256 of the file's bytes (the resume key: a photo already in the output is
   not decoded again), then :func:`~vision_core.embeddings.gallery.item_from_bytes`, the lab's
   path for an upload (:func:`~vision_core.engine.preprocess.load_image`'s checks, then the
   lab's compact copy).  A file it refuses is listed with the reason; the run goes on.
3. **embed** — :func:`vision_core.embeddings.vectors.embed` on the compact copies with the
   encoder's trained weights: exactly what the embedding lab computes for the same upload.
4. **write** — every ``chunk_size`` photos, one chunk (:class:`~vision_core.batch.store.ChunkWriter`).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from vision_core.batch import store
from vision_core.embeddings import vectors as embeddings
from vision_core.embeddings.gallery import (
    IMAGE_SUFFIXES,
    MAX_ZIP_ENTRIES,
    MAX_ZIP_TOTAL,
    GalleryItem,
    Skipped,
    item_from_bytes,
    load_zip,
)
from vision_core.engine import encoders
from vision_core.engine.preprocess import DEFAULT_MAX_BYTES, ImageError

CHUNK = 256  # photos per written chunk: what an interruption can lose at most
Progress = Callable[[int], None]  # called with how many more files are done


def label_of(name: str) -> str | None:
    """``cats/tabby.jpg`` → ``cats``; ``pets/dogs/rex.png`` → ``dogs``; ``photo.jpg`` → none."""
    return PurePosixPath(name).parent.name or None


@dataclass(frozen=True)
class Entry:
    """One file of a folder, not read yet."""

    name: str  # its path under the folder, with "/"
    path: Path

    @property
    def label(self) -> str | None:
        return label_of(self.name)


@dataclass(frozen=True)
class Prepared:
    """A photo ready for the encoder: the lab's gallery item, keyed by the original file's SHA-256."""

    name: str
    label: str | None
    item: GalleryItem

    @property
    def sha256(self) -> str:
        return self.item.key


@dataclass
class Summary:
    """What a run did; ``known`` are photos already in the output (or, in a zip, repeated)."""

    total: int = 0
    new: int = 0
    known: list[str] = field(default_factory=list)
    repeated: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    rows: int = 0  # photos in the output file now


def _too_big() -> str:
    return f"Bigger than {DEFAULT_MAX_BYTES / 1e6:.0f} MB."


def scan_folder(root: Path, exclude: Iterable[Path] = ()) -> tuple[list[Entry], list[Skipped]]:
    """The photo files under ``root`` (sorted, hidden ones left out) and those skipped by their
    name or size.  Paths in ``exclude`` (the output and its chunks) are not looked at."""
    root = root.resolve()
    excluded = {Path(p).resolve() for p in exclude}
    entries: list[Entry] = []
    skipped: list[Skipped] = []
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        dirs[:] = sorted(
            d for d in dirs if not d.startswith(".") and d != "__MACOSX" and here / d not in excluded
        )
        for file in sorted(files):
            path = here / file
            if file.startswith(".") or path in excluded:
                continue
            name = path.relative_to(root).as_posix()
            if path.suffix.lower() not in IMAGE_SUFFIXES:
                skipped.append(Skipped(name, "Not a photo file (by its name)."))
            elif path.stat().st_size > DEFAULT_MAX_BYTES:
                skipped.append(Skipped(name, _too_big()))
            else:
                entries.append(Entry(name, path))
    return entries, skipped


def prepare(data: bytes, name: str, label: str | None) -> Prepared | Skipped:
    """The lab's gallery item for one file's bytes, or why the file was refused."""
    try:
        return Prepared(name, label, item_from_bytes(data, name, label or ""))
    except ImageError as error:
        return Skipped(name, f"{error.message} {error.hint}".strip())


def read_zip(path: Path, done: set[str]) -> tuple[list[Prepared], Summary]:
    """The new photos of a zip (those whose SHA-256 is in ``done`` are not decoded), with what was
    skipped, repeated and noted; names are paths inside the zip."""
    if path.stat().st_size > MAX_ZIP_TOTAL:
        raise store.BatchError(
            f"{path} is bigger than {MAX_ZIP_TOTAL / 2**20:.0f} MB: unzip it and give the folder instead."
        )
    report = load_zip(path.read_bytes(), path.name, capacity=MAX_ZIP_ENTRIES, known=done)
    prefix = f"{path.name}/"

    def inner(name: str) -> str:
        return name[len(prefix) :] if name.startswith(prefix) else name

    summary = Summary(notes=list(report.notes))
    summary.skipped = [Skipped(inner(s.name), s.reason) for s in report.skipped]
    summary.known = [inner(n) for n in report.duplicates]
    photos = [Prepared(inner(it.name), label_of(inner(it.name)), it) for it in report.items]
    summary.total = len(photos) + len(summary.skipped) + len(summary.known)
    return photos, summary


def is_zip(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() == ".zip"


def output_paths(out: Path) -> list[Path]:
    """The output and its chunk folder: never read as photos."""
    return [out, store.parts_dir(out), out.with_name(out.name + ".merging")]


def _folder_photos(entries: list[Entry], done: set[str], summary: Summary) -> Iterator[Prepared | None]:
    """The folder's new photos one by one (``None`` for a file that was not new: progress)."""
    seen: set[str] = set()
    for entry in entries:
        try:
            data = entry.path.read_bytes()
        except OSError as error:
            summary.skipped.append(Skipped(entry.name, f"Could not be read ({error.strerror})."))
            yield None
            continue
        key = hashlib.sha256(data).hexdigest()
        if key in done or key in seen:
            (summary.known if key in done else summary.repeated).append(entry.name)
            yield None
            continue
        seen.add(key)
        outcome = prepare(data, entry.name, entry.label)
        if isinstance(outcome, Skipped):
            summary.skipped.append(outcome)
            yield None
        else:
            yield outcome


class Run:
    """One run's shared parts: the output's state, the writer and the summary."""

    def __init__(self, out: Path, model_name: str) -> None:
        self.out, self.model_name = Path(out), model_name
        self.dim = encoders.get(model_name).embedding_dim
        self.done = store.done_keys(self.out, model_name, self.dim)
        self.writer = store.ChunkWriter(self.out, model_name, self.dim)
        self.summary = Summary()

    def finish(self) -> Summary:
        self.summary.rows = self.writer.finish()
        return self.summary


def embed_local(
    photos_path: Path,
    out: Path,
    model_name: str,
    *,
    batch_size: int = embeddings.EMBED_BATCH,
    chunk_size: int = CHUNK,
    on_total: Callable[[int], None] | None = None,
    on_progress: Progress | None = None,
) -> Summary:
    """Embed a folder or a zip into ``out`` on this machine (see the module's docstring).

    ``on_total`` hears how many files there are once they are known; ``on_progress`` how many
    more are done, after each batch.  An interruption (Ctrl-C) keeps the chunks already written,
    merges them into ``out`` and is raised again."""
    run = Run(out, model_name)  # an output of another encoder is refused before the model loads
    model = encoders.load_model(model_name)
    step = on_progress or (lambda n: None)
    try:
        stream: Iterable[Prepared | None]
        if is_zip(photos_path):
            photos, run.summary = read_zip(photos_path, run.done)
            stream, already = photos, len(run.summary.known) + len(run.summary.skipped)
        else:
            entries, run.summary.skipped = scan_folder(photos_path, output_paths(run.out))
            run.summary.total = len(entries) + len(run.summary.skipped)
            stream, already = _folder_photos(entries, run.done, run.summary), len(run.summary.skipped)
        if on_total:
            on_total(run.summary.total)
        step(already)
        pending: list[Prepared] = []
        for outcome in stream:
            if outcome is None:
                step(1)
                continue
            pending.append(outcome)
            if len(pending) == chunk_size:
                _write_chunk(run, model, pending, batch_size, step)
                pending = []
        _write_chunk(run, model, pending, batch_size, step)
    finally:
        run.finish()
    return run.summary


def _write_chunk(run: Run, model, photos: list[Prepared], batch_size: int, step: Progress) -> None:
    if not photos:
        return
    done = 0

    def report(now: int, total: int) -> None:
        nonlocal done
        step(now - done)
        done = now

    vectors = embeddings.embed(
        model,
        (p.item.image() for p in photos),
        run.model_name,
        batch_size=batch_size,
        total=len(photos),
        on_progress=report,
    )
    rows = store.Rows()
    for p, v in zip(photos, vectors, strict=True):
        rows.add(v, p.label, p.name, p.sha256)
    run.writer.write(rows)
    run.summary.new += len(rows)
