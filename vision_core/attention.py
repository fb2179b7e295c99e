"""Reading a Vision Transformer's attention off a trace.

Every function here is pure: it takes the recorded attention probabilities
(``blocks.{i}.attn.probs``, shape (B, heads, T, T) with T = 1 + N tokens, the CLS token first)
and returns NumPy maps on the patch grid, ready to be upsampled over the photo.

* :func:`cls_attention` — where the CLS token looks, per head or averaged (raw attention of one
  layer; in the last layer this is what DINO's famous pictures show).
* :func:`token_attention` — where any chosen patch looks.
* :func:`rollout` — attention rollout (Abnar & Zuidema, "Quantifying Attention Flow in
  Transformers", 2020): the layers' attention, with the residual path added as an identity,
  multiplied through the network; heads fused by mean, min or max, and the weakest links
  optionally discarded (Gildenblat's ``vit-explain``).
* :func:`mean_attention_distance` — how far, in pixels, each head of each layer looks on
  average (Dosovitskiy et al. 2020, figure 7): local heads early, global heads later.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import torch
from torch.nn import functional as F

from vision_core.trace import Trace

Fusion = Literal["mean", "min", "max"]


def attention_layers(tr: Trace) -> list[str]:
    """Names of the recorded attention-probability steps, first layer first."""
    return [s.name for s in tr.of_kind("attn_probs") if s.name.startswith("blocks.")]


def grid_shape(tr: Trace) -> tuple[int, int]:
    """The patch grid (rows, columns) of the traced photo."""
    return tuple(tr["patch_embed.proj"].shape[-2:])  # type: ignore[return-value]


def probs(tr: Trace, layer: int) -> np.ndarray:
    """Layer ``layer``'s attention of the first photo: (heads, T, T), each row summing to 1."""
    return tr.array(f"blocks.{layer}.attn.probs")[0]


def _fuse(a: np.ndarray, fusion: Fusion) -> np.ndarray:
    if fusion == "mean":
        return a.mean(axis=0)
    if fusion == "min":
        return a.min(axis=0)
    if fusion == "max":
        return a.max(axis=0)
    raise ValueError(f"unknown head fusion {fusion!r}")


def cls_attention(tr: Trace, layer: int, head: int | None = None) -> np.ndarray:
    """CLS → patch attention on the grid: (heads, rows, cols), or (rows, cols) for one head.

    The CLS token's own share (attention to itself) is left out, so a map's values sum to
    1 − that share."""
    rows, cols = grid_shape(tr)
    a = probs(tr, layer)[:, 0, 1:].reshape(-1, rows, cols)
    return a if head is None else a[head]


def token_attention(tr: Trace, layer: int, row: int, col: int, head: int | None = None) -> np.ndarray:
    """Where the patch at (row, col) looks: (heads, rows, cols), or (rows, cols) for one head."""
    rows, cols = grid_shape(tr)
    token = 1 + row * cols + col
    a = probs(tr, layer)[:, token, 1:].reshape(-1, rows, cols)
    return a if head is None else a[head]


def rollout_matrix(
    attentions: list[np.ndarray], fusion: Fusion = "mean", discard_ratio: float = 0.0
) -> np.ndarray:
    """Attention rollout over ``attentions`` (each (heads, T, T)), returning the (T, T) product.

    Per layer: fuse the heads, zero the weakest ``discard_ratio`` of the links (never the CLS
    token's attention to itself), add the identity for the residual connection, renormalise
    the rows, and multiply onto the layers below.
    """
    if not 0.0 <= discard_ratio < 1.0:
        raise ValueError("discard_ratio must be in [0, 1)")
    t = attentions[0].shape[-1]
    result = np.eye(t)
    for a in attentions:
        fused = _fuse(np.asarray(a, dtype=np.float64), fusion)
        if discard_ratio > 0:
            flat = fused.reshape(-1).copy()
            weakest = np.argsort(flat, kind="stable")[: int(flat.size * discard_ratio)]
            flat[weakest[weakest != 0]] = 0.0
            fused = flat.reshape(t, t)
        step = (fused + np.eye(t)) / 2.0
        step = step / step.sum(axis=-1, keepdims=True)
        result = step @ result
    return result


def rollout(
    tr: Trace, fusion: Fusion = "mean", discard_ratio: float = 0.0, upto: int | None = None
) -> np.ndarray:
    """The CLS token's rolled-out attention on the patch grid (rows, cols), scaled to max 1."""
    names = attention_layers(tr)[: None if upto is None else upto + 1]
    matrix = rollout_matrix([tr.array(n)[0] for n in names], fusion, discard_ratio)
    rows, cols = grid_shape(tr)
    mask = matrix[0, 1:].reshape(rows, cols)
    return mask / mask.max() if mask.max() > 0 else mask


def mean_attention_distance(tr: Trace, patch_size: int) -> np.ndarray:
    """(layers, heads): the attention-weighted distance in pixels between a patch and the patches
    it attends to, averaged over all patches.  CLS is left out and each patch's attention over
    the other patches is renormalised to sum to 1."""
    rows, cols = grid_shape(tr)
    yy, xx = np.meshgrid(np.arange(rows), np.arange(cols), indexing="ij")
    centres = np.stack([yy.ravel(), xx.ravel()], axis=1) * patch_size  # (N, 2) in pixels
    dist = np.linalg.norm(centres[:, None, :] - centres[None, :, :], axis=-1)  # (N, N)
    out = []
    for name in attention_layers(tr):
        a = tr.array(name)[0][:, 1:, 1:].astype(np.float64)  # (heads, N, N)
        a = a / a.sum(axis=-1, keepdims=True)
        out.append((a * dist).sum(axis=-1).mean(axis=-1))
    return np.array(out)


def upsample(grid_map: np.ndarray, size: tuple[int, int], mode: str = "bilinear") -> np.ndarray:
    """Stretch a (rows, cols) map to (height, width) pixels to lay it over the photo."""
    t = torch.as_tensor(np.asarray(grid_map, dtype=np.float32))[None, None]
    kwargs = {"align_corners": False} if mode in ("bilinear", "bicubic") else {}
    return F.interpolate(t, size=size, mode=mode, **kwargs)[0, 0].numpy()
