"""ImageNet predictions, read off a trace's softmax."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vision_core.engine.weights import imagenet_classes


@dataclass(frozen=True)
class Prediction:
    index: int
    label: str
    probability: float


def top_k(probabilities: np.ndarray, k: int = 5) -> list[Prediction]:
    """The ``k`` most probable ImageNet classes of one photo's softmax output (shape (1000,) or (1, 1000))."""
    p = np.asarray(probabilities, dtype=np.float64).reshape(-1)
    if p.size != 1000:
        raise ValueError(f"expected 1000 ImageNet probabilities, got {p.size}")
    classes = imagenet_classes()
    order = np.argsort(-p, kind="stable")[:k]
    return [Prediction(int(i), classes[i], float(p[i])) for i in order]
