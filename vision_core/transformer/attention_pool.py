"""CLIP RN50's attention pooling set against plain global average pooling, on one photo.

GAP gives each of the h·w positions of the last grid the same weight, 1/(h·w).  CLIP's
:class:`vision_core.engine.models.clip.AttentionPool2d` instead lets the grid's average ask, with 32
heads, how much of each position (and of the average itself) to take; the weighted values,
projected by ``c_proj``, are the image embedding I_f.  :func:`attention_pool` reads those weights
off a trace, recomputes the pooled vector from them, and also computes what I_f would be if the
weights were GAP's, so a page can say how much the learned weights change the embedding.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from torch import nn

from vision_core.engine.models.clip import AttentionPool2d
from vision_core.engine.trace import Trace

KEEP = (
    "attnpool.gap",
    "attnpool.tokens",
    "attnpool.probs",
    "attnpool.pooled",
    "attnpool.c_proj",
    "embedding",
)


@dataclass
class AttentionPool:
    """``weights`` (heads, h, w): each head's weight on each grid position; ``mean_weight`` (heads,):
    its weight on the grid's average (the query token); ``average`` (h, w): the heads' mean.
    ``uniform`` is GAP's weight for every position.  ``gap`` is the plain average (C,),
    ``pooled`` the attention-pooled vector (C,), ``recomputed_max_difference`` how far
    Σ weight·value is from the recorded ``pooled``.  ``embedding`` is I_f (E,) and
    ``uniform_embedding`` what I_f would be with GAP's weights; ``cosine`` compares the two."""

    grid: tuple[int, int]
    heads: int
    weights: np.ndarray
    mean_weight: np.ndarray
    average: np.ndarray
    uniform: float
    gap: np.ndarray
    pooled: np.ndarray
    recomputed_max_difference: float
    embedding: np.ndarray
    uniform_embedding: np.ndarray
    cosine: float

    @property
    def positions(self) -> int:
        """h·w: the grid positions GAP averages (the attention also sees one more token, the average)."""
        return self.grid[0] * self.grid[1]

    @property
    def head_dim(self) -> int:
        return self.gap.size // self.heads

    @property
    def uniform_weights(self) -> np.ndarray:
        """GAP's weights on the grid: 1/(h·w) everywhere."""
        return np.full(self.grid, self.uniform)

    @property
    def mean_weight_average(self) -> float:
        """The heads' average weight on the grid's own average token."""
        return float(self.mean_weight.mean())


def _linear(x: np.ndarray, layer: nn.Linear) -> np.ndarray:
    return x @ layer.weight.detach().double().numpy().T + layer.bias.detach().double().numpy()


def attention_pool(model: nn.Module, tr: Trace) -> AttentionPool:
    """Needs the :data:`KEEP` steps of a CLIP RN50 trace (float32 for exact comparisons)."""
    pool = model.get_submodule("attnpool")
    if not isinstance(pool, AttentionPool2d):
        raise TypeError(f"attention pooling needs CLIP's AttentionPool2d, not a {type(pool).__name__}")
    h, w = tr[tr["attnpool.gap"].inputs[0]].shape[-2:]
    tokens = tr.array("attnpool.tokens")[0].astype(np.float64)  # (1 + hw, C)
    probs = tr.array("attnpool.probs")[0, :, 0].astype(np.float64)  # (heads, 1 + hw)
    heads, c = probs.shape[0], tokens.shape[1]
    v = _linear(tokens, pool.v_proj).reshape(-1, heads, c // heads)  # (1 + hw, heads, d)
    pooled = np.einsum("ht,thd->hd", probs, v).reshape(c)
    recorded = tr.array("attnpool.pooled")[0].astype(np.float64)
    uniform_pooled = _linear(tokens[1:].mean(axis=0), pool.v_proj)  # GAP's weights: 1/(hw) each
    embedding = tr.array("attnpool.c_proj")[0].astype(np.float64)
    uniform_embedding = _linear(uniform_pooled, pool.c_proj)
    cos = float(
        embedding @ uniform_embedding / (np.linalg.norm(embedding) * np.linalg.norm(uniform_embedding))
    )
    weights = probs[:, 1:].reshape(heads, h, w)
    return AttentionPool(
        (h, w),
        heads,
        weights,
        probs[:, 0],
        weights.mean(axis=0),
        1.0 / (h * w),
        tr.array("attnpool.gap")[0].astype(np.float64),
        recorded,
        float(np.abs(pooled - recorded).max()),
        embedding,
        uniform_embedding,
        cos,
    )
