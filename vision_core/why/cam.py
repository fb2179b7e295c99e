"""Class-activation maps: where in the photo the evidence for one answer sits.

Take a layer whose output is a grid: a CNN's last feature map before pooling, ``A`` of shape
(K, h, w), or a ViT's tokens entering the last block's attention (``blocks.N.norm1``) with the CLS
token dropped and the patch tokens laid back on the patch grid (grad-cam's ``reshape_transform``).
Take a score ``y``: a class's logit, or — for an encoder with no classifier head — the cosine
similarity of the photo's embedding to a reference embedding.  One forward and one backward pass
give ``A`` and its gradient ``G = ∂y/∂A``; then

* **Grad-CAM** (Selvaraju et al., ICCV 2017): channel weights ``α_k = mean_ij G_kij`` and the
  map ``ReLU(Σ_k α_k A_k)``.
* **Grad-CAM++** (Chattopadhay et al., WACV 2018, eq. 19): ``a_kij = G² / (2 G² + (Σ_ij A_kij) G³)``
  (zero where ``G = 0``), ``α_k = Σ_ij a_kij · ReLU(G_kij)`` and the same weighted sum.
* **HiResCAM** (Draelos & Carin, 2020): no averaging, ``ReLU(Σ_k G_k ⊙ A_k)``.  When the head is
  global average pooling then a linear layer, ``G`` is the same at every position, so HiResCAM and
  Grad-CAM give the same map (:attr:`CamMap.uniform_gradient` says whether it was).

Each map is then scaled to [0, 1] (``(m − min) / (max − min + 1e-7)``), stretched bilinearly to
the input's size and scaled again — what the ``grad-cam`` library (pytorch_grad_cam) returns; the
tests compare these maps with that library's (tests/parity/make_cam_fixture.py).

The live activation is taken with a recorder on the trace's context variable (as
:mod:`vision_core.why.erf` does), so a model shared by many learners gets no hooks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from torch import nn

from vision_core.engine import trace as tracing
from vision_core.engine.trace import Trace
from vision_core.quiz import Choices, choices
from vision_core.transformer.attention import upsample

Method = Literal["gradcam", "gradcampp", "hirescam"]
METHODS: tuple[Method, ...] = ("gradcam", "gradcampp", "hirescam")
EPS = 1e-7  # grad-cam's scale_cam_image: (m − min) / (max + 1e-7)
PP_EPS = 1e-6  # grad-cam's Grad-CAM++ denominator guard


@dataclass(frozen=True)
class ClassTarget:
    """A classifier's class: the map explains its logit (as grad-cam's ``ClassifierOutputTarget``),
    occlusion reads its softmax probability."""

    index: int

    def cam_score(self, output: torch.Tensor) -> torch.Tensor:
        return output[:, self.index].sum()  # (B, classes) → the logit

    def measured(self, output: torch.Tensor) -> torch.Tensor:
        return torch.softmax(output, dim=-1)[:, self.index]  # (B,)


@dataclass(frozen=True, eq=False)
class SimilarityTarget:
    """An encoder without a head: the cosine similarity of the photo's embedding to ``reference``
    (another photo's embedding under the same network) — explained and measured alike."""

    reference: np.ndarray  # (D,)

    def _cos(self, output: torch.Tensor) -> torch.Tensor:
        ref = torch.tensor(np.asarray(self.reference, dtype=np.float32)).reshape(1, -1)  # a copy
        return torch.nn.functional.cosine_similarity(output.flatten(1), ref, dim=1)  # (B,)

    def cam_score(self, output: torch.Tensor) -> torch.Tensor:
        return self._cos(output).sum()

    def measured(self, output: torch.Tensor) -> torch.Tensor:
        return self._cos(output)


Target = ClassTarget | SimilarityTarget


# ------------------------------------------------------------------ the layer and its gradient


def cam_layer(tr: Trace) -> str:
    """The step a map is taken at, read off a trace of the network (shapes are enough): for a ViT
    the last block's ``norm1`` (its patch tokens still reach CLS through that block's attention;
    after it they no longer do), for a CNN the grid that its global pooling squeezes."""
    if "patch_grid" in tr:
        return [s.name for s in tr if s.name.startswith("blocks.") and s.name.endswith(".norm1")][-1]
    pooling = next((s for s in tr if s.kind == "gap"), None)
    if pooling is None or not pooling.inputs:
        raise ValueError("no global pooling step in this trace: no grid to take a map at")
    return pooling.inputs[0]


class _LiveLayer(tracing._Recorder):
    """Records shapes like a trace (no values) and keeps ``step``'s output with its autograd graph."""

    def __init__(self, model: nn.Module, step: str):
        super().__init__(model, keep=[], stop_after=None)
        self.step = step
        self.live: torch.Tensor | None = None

    def add(self, module: nn.Module, output: torch.Tensor, inputs: tuple[torch.Tensor, ...]) -> None:
        super().add(module, output, inputs)
        if next(reversed(self.steps)) == self.step:  # the step just recorded
            self.live = output


def _as_grid(t: torch.Tensor, tr: Trace) -> torch.Tensor:
    """(1, K, h, w) for a CNN grid; a ViT's (1, 1+N, D) tokens without CLS on the patch grid."""
    if t.ndim == 4:
        return t
    _, _, rows, cols = tr["patch_grid"].shape
    patches = t[:, -rows * cols :, :]  # (1, N, D): CLS (and any register tokens) dropped
    return patches.reshape(t.shape[0], rows, cols, t.shape[2]).permute(0, 3, 1, 2)  # (1, D, h, w)


@dataclass(frozen=True)
class CamParts:
    """What every method is computed from: the layer's activations and the score's gradient."""

    layer: str
    activations: np.ndarray  # (K, h, w) float32
    gradients: np.ndarray  # (K, h, w) float32: ∂score/∂activations
    score: float  # the explained score (a logit or a cosine similarity)
    output: np.ndarray  # the network's output for the photo: (classes,) logits or (D,) features


def cam_parts(model: nn.Module, x: torch.Tensor, target: Target, layer: str | None = None) -> CamParts:
    """One forward and one backward pass of ``x`` (1, 3, H, W) for ``target``, at ``layer`` (the
    :func:`cam_layer` one; finding it costs a shapes-only forward pass).  The model's parameters
    get no ``.grad``."""
    return cam_parts_many(model, x, [target], layer)[0]


def cam_parts_many(
    model: nn.Module, x: torch.Tensor, targets: Sequence[Target], layer: str | None = None
) -> list[CamParts]:
    """:func:`cam_parts` of several targets from one forward pass: one backward pass each."""
    if x.shape[0] != 1:
        raise ValueError("a map is of one photo: give a batch of one")
    if layer is None:
        layer = cam_layer(tracing.trace(model, x, keep=[]))
    recorder = _LiveLayer(model, layer)
    token = tracing._RECORDER.set(recorder)
    inp = x.detach().clone().requires_grad_(True)  # the graph reaches the layer whatever the weights' flags
    try:
        recorder.add_input(inp)
        with torch.enable_grad():
            output = model(inp)
    finally:
        tracing._RECORDER.reset(token)
    live = recorder.live
    if live is None:
        raise KeyError(f"the forward pass never ran a step {layer!r}")
    shapes = Trace(recorder.steps)
    acts = _as_grid(live.detach(), shapes)[0].numpy().astype(np.float32)
    out = output.detach()[0].numpy().astype(np.float32)
    parts = []
    for i, target in enumerate(targets):
        score = target.cam_score(output)
        (grad,) = torch.autograd.grad(score, live, retain_graph=i < len(targets) - 1)
        grads = _as_grid(grad, shapes)[0].numpy().astype(np.float32)
        parts.append(CamParts(layer, acts, grads, float(score.detach()), out))
    return parts


# ------------------------------------------------------------------ the three maps


def raw_map(parts: CamParts, method: Method) -> np.ndarray:
    """The (h, w) map before scaling: ReLU of the weighted sum of the activations (float64)."""
    a, g = parts.activations.astype(np.float64), parts.gradients.astype(np.float64)
    if method == "gradcam":
        weighted = g.mean(axis=(1, 2))[:, None, None] * a
    elif method == "gradcampp":
        g2, g3 = g**2, g**3
        a_sum = a.sum(axis=(1, 2))[:, None, None]
        aij = np.where(g != 0, g2 / (2 * g2 + a_sum * g3 + PP_EPS), 0.0)
        weighted = (np.maximum(g, 0) * aij).sum(axis=(1, 2))[:, None, None] * a
    elif method == "hirescam":
        weighted = g * a
    else:
        raise ValueError(f"unknown method {method!r}: one of {', '.join(METHODS)}")
    return np.maximum(weighted.sum(axis=0), 0.0)


def scaled(m: np.ndarray) -> np.ndarray:
    """``(m − min) / (max − min + 1e-7)`` in float32, as grad-cam scales its maps."""
    m = np.asarray(m, dtype=np.float64) - float(np.min(m))
    return (m / (EPS + float(np.max(m)))).astype(np.float32)


@dataclass(frozen=True)
class CamMap:
    """One method's map of one target, at the layer's resolution and stretched over the input."""

    method: Method
    layer: str
    raw: np.ndarray  # (h, w) float64, ReLU(Σ weights · activations)
    grid: np.ndarray  # (h, w) float32 in [0, 1]
    pixels: np.ndarray  # (H, W) float32 in [0, 1], bilinear, as grad-cam returns it
    score: float
    uniform_gradient: bool  # G the same at every position: then HiResCAM's map is Grad-CAM's

    @property
    def flat(self) -> bool:
        """Nothing positive to show: every position's weighted sum is ≤ 0."""
        return not np.any(self.raw > 0)

    @property
    def peak(self) -> tuple[int, int]:
        """(row, col) of the map's strongest cell."""
        row, col = np.unravel_index(int(np.argmax(self.raw)), self.raw.shape)
        return int(row), int(col)

    def numbers(self) -> dict[str, float | int | str]:
        """What a lesson says about the map, by name."""
        (rows, cols), (row, col) = self.raw.shape, self.peak
        return {"layer": self.layer, "rows": rows, "cols": cols, "cells": rows * cols, "row": row, "col": col,
                "score": self.score}  # fmt: skip


def cam_map(parts: CamParts, method: Method, size: tuple[int, int]) -> CamMap:
    """``method``'s map from ``parts``, stretched to ``size`` = (H, W) of the input."""
    raw = raw_map(parts, method)
    grid = scaled(raw)
    pixels = scaled(upsample(grid, size, mode="bilinear"))
    g = parts.gradients
    uniform = np.allclose(
        g, g.mean(axis=(1, 2), keepdims=True), rtol=1e-5, atol=1e-6 * float(np.abs(g).max())
    )
    return CamMap(method, parts.layer, raw, grid, pixels, parts.score, bool(uniform))


# ------------------------------------------------------------------ comparing two maps


def ranks(values: np.ndarray) -> np.ndarray:
    """Ranks 1…n of the flattened values, ties given their average rank."""
    v = np.asarray(values, dtype=np.float64).ravel()
    order = np.argsort(v, kind="stable")
    r = np.empty(v.size, dtype=np.float64)
    r[order] = np.arange(1, v.size + 1)
    _, inverse, counts = np.unique(v, return_inverse=True, return_counts=True)
    sums = np.bincount(inverse, weights=r)
    return (sums / counts)[inverse]


def rank_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's ρ of two maps of the same shape (Pearson's r of their ranks); nan when either map
    is constant (a flat map has no order to compare)."""
    if np.shape(a) != np.shape(b):
        raise ValueError(f"maps of shapes {np.shape(a)} and {np.shape(b)} cannot be compared")
    ra, rb = ranks(a), ranks(b)
    ra, rb = ra - ra.mean(), rb - rb.mean()
    denom = float(np.sqrt((ra**2).sum() * (rb**2).sum()))
    return float((ra * rb).sum() / denom) if denom > 0 else float("nan")


Agreement = Literal["none", "low", "moderate", "high"]
LOW, HIGH = 0.3, 0.7  # |ρ| below LOW: little shared order; at least HIGH: mostly the same order


def agreement(rho: float) -> Agreement:
    """How much two maps' orders agree, in words a lesson can branch on."""
    if not np.isfinite(rho):
        return "none"
    if rho < LOW:
        return "low"
    return "high" if rho >= HIGH else "moderate"


def hottest_box(pixel_map: np.ndarray, side: int) -> tuple[int, int]:
    """(top, left) of the ``side``×``side`` square holding the most of a (H, W) map."""
    h, w = pixel_map.shape
    if not 0 < side <= min(h, w):
        raise ValueError(f"a {side}-pixel square does not fit a {h}×{w} map")
    s = np.pad(np.cumsum(np.cumsum(np.asarray(pixel_map, dtype=np.float64), 0), 1), ((1, 0), (1, 0)))
    sums = s[side:, side:] - s[:-side, side:] - s[side:, :-side] + s[:-side, :-side]  # (H−side+1, W−side+1)
    top, left = np.unravel_index(int(np.argmax(sums)), sums.shape)
    return int(top), int(left)


# ------------------------------------------------------------------ the page's question

QUARTERS = ("top_left", "top_right", "bottom_left", "bottom_right")


def quarter_shares(pixel_map: np.ndarray) -> dict[str, float]:
    """The share of a (H, W) map's total in each quarter of the picture (cut at H // 2, W // 2);
    a quarter each when the map is empty."""
    m = np.asarray(pixel_map, dtype=np.float64)
    r, c = m.shape[0] // 2, m.shape[1] // 2
    sums = {"top_left": m[:r, :c].sum(), "top_right": m[:r, c:].sum(),
            "bottom_left": m[r:, :c].sum(), "bottom_right": m[r:, c:].sum()}  # fmt: skip
    total = float(m.sum())
    return {q: float(sums[q]) / total if total > 0 else 1 / len(QUARTERS) for q in QUARTERS}


def quarter_question(m: CamMap) -> Choices[str]:
    """ "Which quarter of the picture will the map mark most strongly?" — the quarter holding the
    most of the map, against the other three."""
    shares = quarter_shares(m.pixels)
    ranked = sorted(QUARTERS, key=lambda q: -shares[q])  # stable: ties keep the reading order
    return choices(ranked[0], ranked[1:], salt="cam_quarter")
