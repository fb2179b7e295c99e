"""A linear probe at every depth: how much of the labels each stage's vector already carries.

Alain and Bengio, "Understanding intermediate layers using linear classifier probes" (2016): fit
the simplest classifier (a logistic regression) on what one layer gives, judged on photos it
never saw.  The vector of a depth:

* a CNN stage (``stage3``, ``layer2``): the global average pool of the stage's output,
  (B, C, H, W) → (B, C);
* a ViT block (``blocks.4.add_mlp``): its CLS token, (B, 1+N, D) → (B, D);
* and, last, the encoder's own embedding (step ``embedding``), the vector of the embedding lab.

Each depth is probed with :func:`vision_core.embeddings.neighbours.linear_probe` (stratified
k-fold cross-validation with a fixed seed, L2-normalised vectors): every photo is predicted by a
logistic regression that never saw it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image
from torch import nn

from vision_core.embeddings.neighbours import Probe, linear_probe
from vision_core.engine import encoders
from vision_core.engine.models.vit import VisionTransformer
from vision_core.engine.trace import trace
from vision_core.why.lens import block_output

BATCH = 8  # photos per forward pass: a few stage outputs of 8 photos stay well under 100 MB
EMBEDDING = "embedding"


def depth_steps(model: nn.Module) -> list[str]:
    """The steps probed, shallow to deep: a CNN's stages or a ViT's blocks, then the embedding."""
    if isinstance(model, VisionTransformer):
        steps = [block_output(i) for i in range(len(model.blocks))]
    else:
        steps = list(getattr(model, "stages", ()))
        if not steps:
            raise ValueError(f"{type(model).__name__} names no stages to probe")
    return [*steps, EMBEDDING]


def pooled(value: np.ndarray) -> np.ndarray:
    """One step's value as one vector per photo: GAP of a (B, C, H, W) map, the CLS token of a
    (B, 1+N, D) token sequence, a (B, D) vector as it is."""
    if value.ndim == 4:
        return value.mean(axis=(2, 3))
    if value.ndim == 3:
        return value[:, 0]
    return value


def depth_vectors(
    model: nn.Module,
    images: Iterable[Image.Image],
    name: str,
    *,
    total: int | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    batch_size: int = BATCH,
) -> dict[str, np.ndarray]:
    """{step: (N, D_step) float32} for every step of :func:`depth_steps`, the photos prepared with
    encoder ``name``'s preprocessing; ``on_progress(done, total)`` after each batch."""
    steps = depth_steps(model)
    parts: dict[str, list[np.ndarray]] = {s: [] for s in steps}
    done = 0

    def run(batch: list[torch.Tensor]) -> None:
        nonlocal done
        tr = trace(model, torch.cat(batch), keep=steps)  # (B, 3, H, W)
        for s in steps:
            parts[s].append(pooled(tr.array(s)).astype(np.float32))
        done += len(batch)
        if on_progress is not None:
            on_progress(done, total if total is not None else done)

    batch: list[torch.Tensor] = []
    for image in images:
        batch.append(encoders.preprocess(image, name))  # (1, 3, H, W)
        if len(batch) == batch_size:
            run(batch)
            batch = []
    if batch:
        run(batch)
    if not done:
        raise ValueError("no photos to probe")
    return {s: np.concatenate(v) for s, v in parts.items()}


@dataclass(frozen=True)
class DepthProbe:
    """The probe's cross-validated accuracy at every depth."""

    steps: tuple[str, ...]
    probes: tuple[Probe, ...]
    dims: tuple[int, ...]  # the length of each depth's vector

    @property
    def accuracies(self) -> np.ndarray:
        return np.array([p.accuracy for p in self.probes])

    @property
    def chance(self) -> float:
        """Always answering the most common label (the same photos at every depth)."""
        return self.probes[0].chance

    @property
    def photos(self) -> int:
        return int(self.probes[0].used.sum())

    @property
    def classes(self) -> int:
        return len(self.probes[0].classes)

    @property
    def folds(self) -> int:
        return self.probes[0].folds

    @property
    def deepest(self) -> int:
        """The index of the last stage or block (the depth before the embedding)."""
        return len(self.steps) - 2

    def best(self) -> int:
        """The depth (index into ``steps``) with the highest accuracy (the shallowest on ties)."""
        return int(np.argmax(self.accuracies))

    def summary(self) -> dict[str, object]:
        """The numbers the lesson tells: photos, labels, folds, chance, the first depth's accuracy,
        the best depth (``best_at``, an index into ``steps``) and the deepest before the embedding
        (``deepest_at``) with their accuracies, and whether the deepest ``beats`` chance."""
        acc, best, deepest = self.accuracies, self.best(), self.deepest
        return {
            "photos": self.photos,
            "classes": self.classes,
            "folds": self.folds,
            "chance": self.chance,
            "first_acc": float(acc[0]),
            "best_at": best,
            "best_acc": float(acc[best]),
            "deepest_at": deepest,
            "deepest_acc": float(acc[deepest]),
            "beats": bool(acc[deepest] > self.chance),
        }


def probe_by_depth(
    vectors: dict[str, np.ndarray], labels: Sequence[str], folds: int = 5, seed: int = 0
) -> DepthProbe:
    """:func:`~vision_core.embeddings.neighbours.linear_probe` on every depth's vectors, with the
    same folds (same seed, same photos) at every depth.  Raises ``ValueError`` when the labels
    cannot be probed (fewer than two labels with two photos each)."""
    steps = tuple(vectors)
    probes = tuple(linear_probe(vectors[s], labels, folds=folds, seed=seed) for s in steps)
    return DepthProbe(steps, probes, tuple(int(vectors[s].shape[1]) for s in steps))
