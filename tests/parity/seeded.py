"""Seeded random weights that two different environments can reproduce exactly.

The parity fixtures are made in a separate reference environment (torchvision, timm, open_clip)
and checked here against our own models.  Neither side may ship the other its weights (a
ResNet-50 is 100 MB), so both generate them from the same recipe: every tensor is drawn from
NumPy's PCG64 generator seeded by ``(seed, crc32(key))``.  The values therefore depend only on
the checkpoint key, its shape and the seed — never on the order in which keys are visited or on
the PyTorch version.

The magnitudes are chosen so that a deep network's activations neither vanish nor explode:
fan-in scaled normal weights, norm scales near 1, small biases, positive running variances.

This module needs only NumPy; ``to_torch`` converts for loading with ``load_state_dict``.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence

import numpy as np

# Token-like parameters that are added to activations rather than multiplied with them.
_EMBEDDING_SUFFIXES = (
    "cls_token",
    "pos_embed",
    "class_token",
    "pos_embedding",
    "class_embedding",
    "positional_embedding",
    "dist_token",
    "reg_token",
)


def _rng(seed: int, key: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(key.encode("utf-8"))])


def seeded_array(key: str, shape: Sequence[int], seed: int = 0) -> np.ndarray:
    """The value of one checkpoint entry, from its key, shape and the seed."""
    shape = tuple(int(s) for s in shape)
    rng = _rng(seed, key)
    leaf = key.rsplit(".", 1)[-1]
    if leaf == "num_batches_tracked":
        return np.zeros(shape, dtype=np.int64)
    if leaf == "running_var":
        return rng.uniform(0.5, 1.5, size=shape).astype(np.float32)
    if leaf == "running_mean":
        return (0.1 * rng.standard_normal(shape)).astype(np.float32)
    if leaf.endswith(_EMBEDDING_SUFFIXES) or key.endswith(_EMBEDDING_SUFFIXES):
        return (0.5 * rng.standard_normal(shape)).astype(np.float32)
    if len(shape) <= 1:
        if leaf.endswith("bias"):
            return (0.1 * rng.standard_normal(shape)).astype(np.float32)
        # a 1-D weight is a norm's scale (BatchNorm, LayerNorm)
        return (1.0 + 0.1 * rng.standard_normal(shape)).astype(np.float32)
    fan_in = int(np.prod(shape[1:]))
    return (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(np.float32)


def seeded_state_dict(shapes: Mapping[str, Sequence[int]], seed: int = 0) -> dict[str, np.ndarray]:
    """Seeded values for every key of a state dict, given its shapes."""
    return {key: seeded_array(key, shape, seed) for key, shape in shapes.items()}


def seeded_input(shape: Sequence[int], seed: int = 0) -> np.ndarray:
    """A seeded input batch (standard normal, like a normalised photo)."""
    return np.random.default_rng([seed, 7]).standard_normal(tuple(shape)).astype(np.float32)


def fingerprint(arrays: Mapping[str, np.ndarray]) -> dict[str, float]:
    """Per-key float64 sums: a cheap check that both environments drew the same weights."""
    return {k: float(np.asarray(v, dtype=np.float64).sum()) for k, v in arrays.items()}


def to_torch(arrays: Mapping[str, np.ndarray]):
    """Convert to a ``{key: torch.Tensor}`` state dict (imports torch lazily)."""
    import torch

    return {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in arrays.items()}
