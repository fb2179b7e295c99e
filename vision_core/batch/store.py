"""The vectors file: one Parquet table, written in chunks so that a run can be resumed.

Columns (one photo a row):

==========  ==============================  ====================================================
``vector``  fixed-size list of float32 [D]  ``forward_features``, as the embedding lab computes it
``label``   string, null at the root         the name of the folder the photo is in
``name``    string                           the photo's path under the folder (or the zip)
``sha256``  string                           SHA-256 of the file's bytes: the resume key
``model``   string                           the encoder's registry name
==========  ==============================  ====================================================

The schema's metadata repeats the model (``encoder_lens.model``), says the embedding size
(``encoder_lens.embedding_dim``) and the weights (``encoder_lens.weights``: ``trained``).

A run never appends to the finished file (a Parquet file is only readable once its footer is
written).  Each chunk goes to its own small file in ``<out>.parts/``, written under a temporary
name and renamed, so a chunk is either whole or absent: an interrupted run loses at most the chunk
it was embedding.  :meth:`ChunkWriter.finish` merges the old file and the parts into a new file,
renames it over ``<out>`` and removes the parts.

:func:`read_vectors` reads such a file from an untrusted upload (the embedding lab): size, schema,
model, embedding size, hashes and values are all checked before anything is used.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from vision_core.engine import encoders

META_MODEL = b"encoder_lens.model"
META_DIM = b"encoder_lens.embedding_dim"
META_WEIGHTS = b"encoder_lens.weights"
COLUMNS = ("vector", "label", "name", "sha256", "model")
_SHA = re.compile(r"^[0-9a-f]{64}$")
_MAGIC = b"PAR1"
# An upload read by the lab: a 2,000-photo gallery of 2,048-number vectors is 16 MB of floats.
MAX_FILE_BYTES = 100 * 1024 * 1024
# What the file may unpack to, as its row groups declare it (strings compress very well).
MAX_UNPACKED_BYTES = 400 * 1024 * 1024
MAX_TEXT = 500  # characters of a name or label that are kept


class BatchError(RuntimeError):
    """Something that stops a run before it starts, said for the person who typed the command."""


class VectorFileError(ValueError):
    """A vectors file the lab cannot use: ``message`` says what is wrong, ``hint`` what to do."""

    def __init__(self, message: str, hint: str = "") -> None:
        self.message, self.hint = message, hint
        super().__init__(f"{message} {hint}".strip())


def schema(model: str, dim: int) -> pa.Schema:
    return pa.schema(
        [
            ("vector", pa.list_(pa.float32(), dim)),
            ("label", pa.string()),
            ("name", pa.string()),
            ("sha256", pa.string()),
            ("model", pa.string()),
        ],
        metadata={META_MODEL: model.encode(), META_DIM: str(dim).encode(), META_WEIGHTS: b"trained"},
    )


@dataclass
class Rows:
    """Photos embedded together, ready to be written as one chunk."""

    vectors: list[np.ndarray] = field(default_factory=list)  # each (D,) float32
    labels: list[str | None] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    sha256: list[str] = field(default_factory=list)

    def add(self, vector: np.ndarray, label: str | None, name: str, sha256: str) -> None:
        self.vectors.append(np.asarray(vector, dtype=np.float32))
        self.labels.append(label)
        self.names.append(name)
        self.sha256.append(sha256)

    def __len__(self) -> int:
        return len(self.names)

    def table(self, model: str, dim: int) -> pa.Table:
        flat = (
            np.stack(self.vectors).astype(np.float32).reshape(-1) if self.vectors else np.zeros(0, np.float32)
        )
        columns = [
            pa.FixedSizeListArray.from_arrays(pa.array(flat, pa.float32()), dim),
            pa.array(self.labels, pa.string()),
            pa.array(self.names, pa.string()),
            pa.array(self.sha256, pa.string()),
            pa.array([model] * len(self), pa.string()),
        ]
        return pa.Table.from_arrays(columns, schema=schema(model, dim))


def parts_dir(out: Path) -> Path:
    return out.with_name(out.name + ".parts")


def _files(out: Path) -> list[Path]:
    """The finished file (when there is one) and the chunks of runs that did not finish."""
    parts = sorted(parts_dir(out).glob("*.parquet")) if parts_dir(out).is_dir() else []
    return ([out] if out.exists() else []) + parts


def _check_model(path: Path, model: str, dim: int) -> None:
    try:
        meta = pq.read_schema(path).metadata or {}
    except (pa.ArrowException, OSError) as error:
        raise BatchError(f"{path} is not a readable Parquet file ({error}). Choose another --out.") from None
    found = meta.get(META_MODEL, b"").decode() or "no model named"
    if found != model or meta.get(META_DIM) != str(dim).encode():
        raise BatchError(
            f"{path} holds vectors of {found}, not of {model}: vectors of two encoders cannot share "
            "one file. Choose another --out."
        )


def done_keys(out: Path, model: str, dim: int) -> set[str]:
    """The SHA-256 of every photo already in ``out`` or in its unfinished chunks."""
    keys: set[str] = set()
    for path in _files(out):
        _check_model(path, model, dim)
        keys.update(pq.read_table(path, columns=["sha256"]).column("sha256").to_pylist())
    return keys


class ChunkWriter:
    """Writes each chunk as its own file beside ``out``; :meth:`finish` merges them into ``out``."""

    def __init__(self, out: Path, model: str, dim: int) -> None:
        self.out, self.model, self.dim = Path(out), model, dim
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self.written = 0

    def write(self, rows: Rows) -> None:
        if not len(rows):
            return
        folder = parts_dir(self.out)
        folder.mkdir(parents=True, exist_ok=True)
        stem = f"{len(list(folder.glob('*.parquet'))):06d}-{uuid.uuid4().hex[:8]}"
        tmp = folder / f"{stem}.tmp"
        pq.write_table(rows.table(self.model, self.dim), tmp)
        os.replace(tmp, folder / f"{stem}.parquet")  # a chunk is whole or absent
        self.written += len(rows)

    def finish(self) -> int:
        """Merge the finished file and the chunks (each photo once) into ``out``; returns its rows."""
        files = _files(self.out)
        if not files:
            pq.write_table(Rows().table(self.model, self.dim), self.out)
            return 0
        if files == [self.out]:  # nothing new: the file stays as it is
            return pq.ParquetFile(self.out).metadata.num_rows
        tmp = self.out.with_name(self.out.name + ".merging")
        seen: set[str] = set()
        target = schema(self.model, self.dim)
        with pq.ParquetWriter(tmp, target) as writer:
            for path in files:
                for batch in pq.ParquetFile(path).iter_batches(batch_size=1024):
                    keep = _first_of_each(batch.column("sha256").to_pylist(), seen)
                    if keep:
                        writer.write_table(pa.Table.from_batches([batch.take(pa.array(keep))]).cast(target))
        os.replace(tmp, self.out)
        shutil.rmtree(parts_dir(self.out), ignore_errors=True)
        return len(seen)


# --- reading an upload (the embedding lab) -----------------------------------------------------


@dataclass(frozen=True)
class VectorFile:
    """What an uploaded vectors file holds, checked; rows are in the file's order."""

    model: str
    vectors: np.ndarray  # (N, D) float32
    labels: list[str | None]
    names: list[str]
    sha256: list[str]
    rows_in_file: int  # more than len(names) when the file was cut at ``max_rows``


def _is_text(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t)


def _check_schema(found: pa.Schema) -> tuple[str, int]:
    missing = [c for c in COLUMNS if c not in found.names]
    if missing:
        raise VectorFileError(
            f"This Parquet file has no column {', '.join(missing)}: it was not made by encoder-lens embed.",
            "Make it with `encoder-lens embed PHOTOS --out vectors.parquet`.",
        )
    vector = found.field("vector").type
    if not (pa.types.is_fixed_size_list(vector) and vector.value_type == pa.float32()):
        raise VectorFileError("Its vector column is not a fixed-size list of float32 numbers.")
    if not all(_is_text(found.field(c).type) for c in ("label", "name", "sha256", "model")):
        raise VectorFileError("Its label, name, sha256 and model columns must hold text.")
    meta = found.metadata or {}
    model = meta.get(META_MODEL, b"").decode("utf-8", "replace")
    if model not in encoders.ENCODERS:
        raise VectorFileError(f"Its vectors were made by an encoder this app does not know ({model[:60]!r}).")
    dim = encoders.get(model).embedding_dim
    if vector.list_size != dim or meta.get(META_DIM, b"") != str(dim).encode():
        raise VectorFileError(
            f"Its vectors have {vector.list_size} numbers, but {encoders.get(model).title} gives {dim}."
        )
    if meta.get(META_WEIGHTS) != b"trained":
        raise VectorFileError("Its vectors were not made with the encoder's trained weights.")
    return model, dim


def _batches(pf: pq.ParquetFile, max_rows: int) -> Iterator[pa.RecordBatch]:
    left = max_rows
    for batch in pf.iter_batches(batch_size=1024, columns=list(COLUMNS)):
        if left <= 0:
            return
        yield batch.slice(0, left)
        left -= batch.num_rows


def read_vectors(data: bytes, *, max_rows: int, max_bytes: int = MAX_FILE_BYTES) -> VectorFile:
    """The vectors, labels, names and hashes of an uploaded file made by ``encoder-lens embed``
    (at most ``max_rows`` of them), or :class:`VectorFileError` saying why it cannot be used."""
    if len(data) > max_bytes:
        raise VectorFileError(f"This vectors file is bigger than {max_bytes / 1e6:.0f} MB.")
    if len(data) < 12 or data[:4] != _MAGIC or data[-4:] != _MAGIC:
        raise VectorFileError("This is not a Parquet file (or it was cut short).", "Upload the file again.")
    try:
        pf = pq.ParquetFile(pa.BufferReader(data))
        model, dim = _check_schema(pf.schema_arrow)
        unpacked = sum(pf.metadata.row_group(i).total_byte_size for i in range(pf.metadata.num_row_groups))
        if unpacked > MAX_UNPACKED_BYTES:
            raise VectorFileError(f"This file unpacks to more than {MAX_UNPACKED_BYTES / 1e6:.0f} MB.")
        table = pa.Table.from_batches(list(_batches(pf, max_rows)), schema=pf.schema_arrow.remove_metadata())
    except VectorFileError:
        raise
    except (pa.ArrowException, OSError, ValueError, IndexError) as error:
        raise VectorFileError(
            f"This Parquet file is damaged and cannot be read ({type(error).__name__}).",
            "Make it again with encoder-lens embed.",
        ) from None
    return _checked(table, model, dim, pf.metadata.num_rows)


def _checked(table: pa.Table, model: str, dim: int, rows_in_file: int) -> VectorFile:
    if table.column("vector").null_count or table.column("name").null_count:
        raise VectorFileError("Some rows have no vector or no name.")
    if set(table.column("model").to_pylist()) - {model}:
        raise VectorFileError(f"Some rows say they were made by another encoder than {model}.")
    hashes = table.column("sha256").to_pylist()
    if not all(isinstance(h, str) and _SHA.match(h) for h in hashes):
        raise VectorFileError("Some rows have no valid SHA-256 of their photo.")
    flat = table.column("vector").combine_chunks().flatten().to_numpy(zero_copy_only=False)
    vectors = np.asarray(flat, dtype=np.float32).reshape(-1, dim)
    if not np.isfinite(vectors).all():
        raise VectorFileError("Some vectors hold numbers that are not finite (NaN or infinity).")
    first = _first_of_each(hashes)
    labels = table.column("label").to_pylist()
    names = table.column("name").to_pylist()
    return VectorFile(
        model,
        vectors[first].copy(),
        [None if labels[i] is None else str(labels[i])[:MAX_TEXT] for i in first],
        [str(names[i])[:MAX_TEXT] for i in first],
        [hashes[i] for i in first],
        rows_in_file,
    )


def _first_of_each(keys: Sequence[str], seen: set[str] | None = None) -> list[int]:
    """Indices of the keys not seen before (``seen`` is updated)."""
    seen = set() if seen is None else seen
    keep = []
    for i, k in enumerate(keys):
        if k not in seen:
            seen.add(k)
            keep.append(i)
    return keep


def read_file(path: Path | str) -> VectorFile:
    """A finished vectors file on disk (a notebook's, a test's), with the same checks and no limits."""
    table = pq.read_table(path)
    model, dim = _check_schema(table.schema)
    return _checked(table, model, dim, table.num_rows)
