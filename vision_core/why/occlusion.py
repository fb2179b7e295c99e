"""Occlusion sensitivity: cover part of the photo and measure how much the answer drops.

Zeiler & Fergus, "Visualizing and Understanding Convolutional Networks" (ECCV 2014): a grey
square is slid over the network's input with a stride; at each position the network runs again
and the drop of the target's score (a class's softmax probability, or the cosine similarity to a
reference embedding) is noted.  The square is painted 0 in the *normalised* tensor — the
encoder's mean colour, "no information" for the network — and the positions cover the whole
picture (the last one is pushed back to the edge when the stride does not reach it).

:func:`occlusion_map` gives the drop at every position, and a per-pixel map: each pixel's mean
drop over the squares that covered it.  The covered copies run in batches, without a trace, under
``torch.inference_mode``; a CNN runs through its batch-norm-folded copy
(:func:`vision_core.embeddings.folding.inference_copy`: the same numbers, about three times faster
here) and its own classifier.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from vision_core.embeddings.folding import inference_copy, is_folded
from vision_core.why.cam import Target

Box = tuple[int, int, int]  # (top, left, side) in the input's pixels
BATCH = 16  # covered copies per forward pass: a batch of 16 at 224 px holds ~60 MB of activations


def patch_sides(side: int) -> list[int]:
    """Square sizes a learner can pick for an input ``side`` pixels wide: an eighth, a sixth, a
    quarter and a third of it."""
    return sorted({max(1, side // k) for k in (8, 6, 4, 3)})


def strides(patch: int) -> list[int]:
    """Strides for a ``patch``-pixel square: a quarter of it, half of it, all of it (no overlap)."""
    return sorted({max(1, patch // 4), max(1, patch // 2), patch})


def starts(length: int, patch: int, stride: int) -> list[int]:
    """Where the square starts along one side: every ``stride`` pixels, the last one flush with the
    edge so that every pixel is covered at least once."""
    if not 0 < patch <= length:
        raise ValueError(f"a {patch}-pixel square does not fit a side of {length} pixels")
    if stride < 1:
        raise ValueError("the stride is at least one pixel")
    out = list(range(0, length - patch + 1, stride))
    if out[-1] != length - patch:
        out.append(length - patch)
    return out


def covered(x: torch.Tensor, boxes: Sequence[Box]) -> torch.Tensor:
    """One copy of ``x`` (1, 3, H, W) per box, each with its square set to 0: (len(boxes), 3, H, W)."""
    out = x.detach().expand(len(boxes), -1, -1, -1).clone()
    for i, (top, left, side) in enumerate(boxes):
        out[i, :, top : top + side, left : left + side] = 0.0
    return out


def fast_forward(model: nn.Module) -> Callable[[torch.Tensor], torch.Tensor]:
    """``model``'s output (logits, or the embedding of a model without a head) on a batch: through
    the folded copy and the classifier (``_fc`` or ``fc``) for the CNNs that have one, else the model."""
    copy = inference_copy(model)
    head = getattr(model, "_fc", None) or getattr(model, "fc", None)
    if not is_folded(copy) or not isinstance(head, nn.Module):
        return model
    return lambda z: head(copy(z))


def scores(model: nn.Module, x: torch.Tensor, target: Target, boxes: Sequence[Box]) -> np.ndarray:
    """The target's score with each box covered, in batches of :data:`BATCH` (float64, (len(boxes),))."""
    values = []
    forward = fast_forward(model)
    with torch.inference_mode():
        for i in range(0, len(boxes), BATCH):
            values.append(target.measured(forward(covered(x, boxes[i : i + BATCH]))).double().numpy())
    return np.concatenate(values) if values else np.zeros(0)


def base_score(model: nn.Module, x: torch.Tensor, target: Target) -> float:
    """The target's score with nothing covered."""
    with torch.inference_mode():
        return float(target.measured(fast_forward(model)(x.detach()))[0])


@dataclass(frozen=True)
class OcclusionMap:
    """The drop of the score with the square at every position."""

    patch: int
    stride: int
    rows: tuple[int, ...]  # the squares' top edges
    cols: tuple[int, ...]  # the squares' left edges
    base: float  # the score with nothing covered
    drops: np.ndarray  # (len(rows), len(cols)) float32: base − score with the square there
    pixels: np.ndarray  # (H, W) float32: each pixel's mean drop over the squares covering it

    @property
    def runs(self) -> int:
        """How many covered copies the network ran on."""
        return self.drops.size

    @property
    def worst(self) -> Box:
        """The square whose covering drops the score most."""
        r, c = np.unravel_index(int(np.argmax(self.drops)), self.drops.shape)
        return self.rows[int(r)], self.cols[int(c)], self.patch

    @property
    def largest_drop(self) -> float:
        return float(self.drops.max())

    @property
    def largest_rise(self) -> float:
        """The most that covering a square *raised* the score (0 when no square did)."""
        return float(max(0.0, -self.drops.min()))

    def numbers(self) -> dict[str, float | int]:
        """What a lesson says about the map, by name."""
        top, left, _ = self.worst
        return {
            "patch": self.patch, "stride": self.stride, "runs": self.runs, "base": self.base,
            "drop": self.largest_drop, "rise": self.largest_rise, "top": top, "left": left,
        }  # fmt: skip


def occlusion_map(model: nn.Module, x: torch.Tensor, target: Target, patch: int, stride: int) -> OcclusionMap:
    """Slide a ``patch``-pixel square over ``x`` (1, 3, H, W) every ``stride`` pixels."""
    if x.shape[0] != 1:
        raise ValueError("an occlusion map is of one photo: give a batch of one")
    h, w = x.shape[2:]
    rows, cols = starts(h, patch, stride), starts(w, patch, stride)
    boxes = [(r, c, patch) for r in rows for c in cols]
    base = base_score(model, x, target)
    drops = (base - scores(model, x, target, boxes)).reshape(len(rows), len(cols))
    total, count = np.zeros((h, w)), np.zeros((h, w))
    for (r, c, _), d in zip(boxes, drops.ravel(), strict=True):
        total[r : r + patch, c : c + patch] += d
        count[r : r + patch, c : c + patch] += 1
    pixels = (total / count).astype(np.float32)  # every pixel is covered at least once (starts)
    return OcclusionMap(patch, stride, tuple(rows), tuple(cols), base, drops.astype(np.float32), pixels)


def random_boxes(h: int, w: int, side: int, count: int, seed: int = 0) -> list[Box]:
    """``count`` squares of ``side`` pixels at uniformly random places (a fixed seed)."""
    rng = np.random.default_rng(seed)
    tops = rng.integers(0, h - side + 1, size=count)
    lefts = rng.integers(0, w - side + 1, size=count)
    return [(int(t), int(left), side) for t, left in zip(tops, lefts, strict=True)]


@dataclass(frozen=True)
class RegionCheck:
    """Covering the map's hottest square against covering random squares of the same size."""

    box: Box  # the hottest square
    base: float
    hottest_drop: float  # base − score with the hottest square covered
    random_drops: np.ndarray  # (count,) the same for each random square

    @property
    def random_mean(self) -> float:
        return float(self.random_drops.mean())

    @property
    def beaten(self) -> int:
        """How many random squares dropped the score less than the hottest one."""
        return int((self.random_drops < self.hottest_drop).sum())

    @property
    def agrees(self) -> bool:
        """Whether covering the hottest square drops the score more than a random square on average."""
        return self.hottest_drop > self.random_mean

    def numbers(self) -> dict[str, float | int]:
        """What a lesson says about the check, by name."""
        return {
            "side": self.box[2], "hot": self.hottest_drop, "random": self.random_mean, "beaten": self.beaten,
            "count": len(self.random_drops), "hot_change": -self.hottest_drop,
            "random_change": -self.random_mean,
        }  # fmt: skip


def region_check(
    model: nn.Module, x: torch.Tensor, target: Target, hottest: tuple[int, int], side: int, count: int = 8
) -> RegionCheck:
    """Cover the square at ``hottest`` (top, left) — a map's strongest, from
    :func:`vision_core.why.cam.hottest_box` — and ``count`` random squares, one batch."""
    h, w = x.shape[2:]
    box = (hottest[0], hottest[1], side)
    base = base_score(model, x, target)
    values = scores(model, x, target, [box, *random_boxes(h, w, side, count)])
    drops = base - values
    return RegionCheck(box, base, float(drops[0]), drops[1:].astype(np.float32))
