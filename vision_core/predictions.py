"""A classifier's predictions, read off a trace's softmax: ImageNet classes, or digits for the tiny ViT."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vision_core.engine.weights import imagenet_classes


@dataclass(frozen=True)
class Prediction:
    index: int
    label: str
    probability: float


DIGITS = tuple(str(d) for d in range(10))  # the tiny ViT's head (labels "digits"): output i is digit i


def class_names(labels: str | None = "imagenet-1k") -> list[str]:
    """The class names of a classifier head, in the order of its outputs (``Encoder.labels``)."""
    if labels == "digits":
        return list(DIGITS)
    if labels == "imagenet-1k":
        return imagenet_classes()
    raise KeyError(f"no class names for labels {labels!r}: 'imagenet-1k' or 'digits'")


def top_k(probabilities: np.ndarray, k: int = 5, labels: str | None = "imagenet-1k") -> list[Prediction]:
    """The ``k`` most probable classes of one photo's softmax output (shape (C,) or (1, C)), named by
    ``labels`` (an encoder's ``labels``: 1000 ImageNet classes, or 10 digits)."""
    p = np.asarray(probabilities, dtype=np.float64).reshape(-1)
    classes = class_names(labels)
    if p.size != len(classes):
        raise ValueError(f"expected {len(classes)} {labels} probabilities, got {p.size}")
    order = np.argsort(-p, kind="stable")[:k]
    return [Prediction(int(i), classes[i], float(p[i])) for i in order]
