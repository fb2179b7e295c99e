"""Vectors: from a feature grid to an embedding, and comparing embeddings.

The syllabus's three ways to turn a C×H×W grid into one vector, L2 normalisation, and cosine
similarity.  For the embedding lab: :func:`embed` turns many photos into vectors in batches,
on ONNX Runtime where :mod:`vision_core.embeddings.onnx_engine` writes the network as a graph, else
through the folded copy of :mod:`vision_core.embeddings.folding`.
"""

from __future__ import annotations

import csv
import io
import queue
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image
from torch import nn

from vision_core.embeddings import folding, onnx_engine
from vision_core.engine import encoders


def l2_normalize(v: np.ndarray, axis: int = -1) -> np.ndarray:
    """Scale to unit length along ``axis`` (a zero vector stays zero)."""
    v = np.asarray(v, dtype=np.float64)
    norm = np.linalg.norm(v, axis=axis, keepdims=True)
    return np.divide(v, norm, out=np.zeros_like(v), where=norm > 0)


def cosine_similarity(a: np.ndarray, b: np.ndarray) -> float:
    """``a · b / (|a| |b|)`` of two vectors."""
    a = np.asarray(a, dtype=np.float64).reshape(-1)
    b = np.asarray(b, dtype=np.float64).reshape(-1)
    return float(l2_normalize(a) @ l2_normalize(b))


@dataclass(frozen=True)
class GlobalPools:
    """One C×H×W grid reduced three ways (syllabus file 001): the average of each channel (GAP),
    the maximum of each channel (global max pooling), and every number in a row (flatten)."""

    gap: np.ndarray  # (C,)
    gmp: np.ndarray  # (C,)
    flatten: np.ndarray  # (C·H·W,)


def global_pools(grid: np.ndarray) -> GlobalPools:
    g = np.asarray(grid, dtype=np.float64)
    if g.ndim == 4:
        g = g[0]
    if g.ndim != 3:
        raise ValueError(f"expected a (C, H, W) grid, got shape {g.shape}")
    return GlobalPools(g.mean(axis=(1, 2)), g.max(axis=(1, 2)), g.reshape(-1))


def vector_length(v: np.ndarray) -> float:
    """The Euclidean length ``|v| = sqrt(Σ v_i²)`` of a vector (any shape, read as one vector)."""
    return float(np.linalg.norm(np.asarray(v, dtype=np.float64).reshape(-1)))


@dataclass(frozen=True)
class VectorSummary:
    """What a page says about one vector: its size, length, largest entry and how many are zero."""

    dim: int
    length: float
    max: float
    argmax: int
    zeros: int


def describe_vector(v: np.ndarray) -> VectorSummary:
    """Size, Euclidean length, largest value (first index on ties) and count of exact zeros."""
    a = np.asarray(v, dtype=np.float64).reshape(-1)
    i = int(np.argmax(a))
    return VectorSummary(a.size, vector_length(a), float(a[i]), i, int(np.count_nonzero(a == 0)))


def pooled_lengths(grid_shape: tuple[int, ...]) -> dict[str, int]:
    """How many numbers GAP, global max pooling and flatten give for a (C, H, W) grid shape
    (a batch dimension in front is ignored): C, C and C·H·W."""
    c, h, w = (int(d) for d in grid_shape[-3:])
    return {"gap": c, "gmp": c, "flatten": c * h * w}


# --- many photos at once (the embedding lab) --------------------------------------------------

ProgressCallback = Callable[[int, int], None]

# Photos per forward pass: the batch the folded copy is tuned for (see vision_core.embeddings.folding.BATCH).
EMBED_BATCH = folding.BATCH


def embed(
    model: nn.Module,
    images: Iterable[Image.Image],
    name: str,
    *,
    batch_size: int = EMBED_BATCH,
    total: int | None = None,
    on_progress: ProgressCallback | None = None,
    fast: bool = True,
) -> np.ndarray:
    """The ``(N, D)`` float32 vectors ``model.forward_features`` gives ``images``, prepared with
    ``name``'s own preprocessing, ``batch_size`` photos per forward pass.

    ``images`` may be a generator: only a couple of batches of photos are held at a time, and the
    next batch is decoded and prepared in a background thread while the network runs the current
    one.  ``on_progress`` is called (in the caller's thread) with (photos done, ``total``) after
    each batch.  ``fast`` runs the fastest engine there is for the network
    (:func:`vision_core.embeddings.onnx_engine.fastest`: ONNX Runtime on the folded graph, else the
    folded PyTorch copy; the same vectors within float tolerance, the tests check it); without it,
    the model's own ``forward_features``.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    net = onnx_engine.fastest(model) if fast else folding.PlainFeatures(model)
    if total is None and hasattr(images, "__len__"):
        total = len(images)  # type: ignore[arg-type]
    vectors: list[np.ndarray] = []
    done = 0
    for batch in _prepared_ahead(images, name, batch_size):
        with torch.inference_mode():
            vectors.append(net(batch).float().numpy().copy())  # (B, D)
        done += len(batch)
        if on_progress is not None:
            on_progress(done, total if total is not None else done)
    if not vectors:
        return np.zeros((0, encoders.get(name).embedding_dim), dtype=np.float32)
    return np.concatenate(vectors).astype(np.float32, copy=False)


_END = object()


def _prepared_ahead(images: Iterable[Image.Image], name: str, batch_size: int, depth: int = 2):
    """Batches of preprocessed photos, ``(B, 3, H, W)``, made by a background thread up to
    ``depth`` batches ahead; an error there (a photo that cannot be read) is raised here."""
    ready: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                ready.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            batch: list[torch.Tensor] = []
            for image in images:
                batch.append(encoders.preprocess(image, name))  # (1, 3, H, W)
                if len(batch) == batch_size:
                    if not put(torch.cat(batch)):
                        return
                    batch = []
            if batch and not put(torch.cat(batch)):
                return
            put(_END)
        except BaseException as error:  # handed to the caller's thread
            put(error)

    worker = threading.Thread(target=produce, name="embed-prepare", daemon=True)
    worker.start()
    try:
        while (item := ready.get()) is not _END:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        worker.join()


def cosine_matrix(a: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
    """Cosine similarity of every row of ``a`` with every row of ``b`` (``a`` itself by default)."""
    a = l2_normalize(a)
    b = a if b is None else l2_normalize(b)
    return a @ b.T


def _inert(cell: str) -> str:
    """A file name or label as a spreadsheet shows it, never as a formula: a leading ``=``, ``+``,
    ``-``, ``@``, tab or carriage return gets a ``'`` in front (OWASP's advice on CSV injection)."""
    return "'" + cell if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell


def export_csv(vectors: np.ndarray, labels: Sequence[str], names: Sequence[str]) -> bytes:
    """A CSV table: one photo a row — its name, its label, then its numbers ``v0 … v{D-1}``.
    Names and labels come from learners' files, so none can start a spreadsheet formula."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["name", "label", *(f"v{i}" for i in range(vectors.shape[1]))])
    for name, label, row in zip(names, labels, np.asarray(vectors, dtype=np.float32), strict=True):
        writer.writerow([_inert(name), _inert(label), *(repr(float(v)) for v in row)])
    return buffer.getvalue().encode("utf-8")


def export_npy(vectors: np.ndarray, labels: Sequence[str], names: Sequence[str]) -> bytes:
    """One ``.npy`` holding a structured array with fields ``name``, ``label`` and ``vector``
    (float32): ``np.load(f)["vector"]`` gives the matrix, no pickle needed."""
    vectors = np.asarray(vectors, dtype=np.float32)
    width = max([1, *(len(s) for s in [*labels, *names])])
    table = np.empty(
        len(vectors),
        dtype=[("name", f"U{width}"), ("label", f"U{width}"), ("vector", np.float32, (vectors.shape[1],))],
    )
    table["name"], table["label"], table["vector"] = list(names), list(labels), vectors
    buffer = io.BytesIO()
    np.save(buffer, table, allow_pickle=False)
    return buffer.getvalue()
