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


@dataclass(frozen=True)
class CropEffect:
    """A classifier's best classes for the photo as its preset prepares it (resized, centre-cropped)
    and for the whole photo squashed to the same square: the crop is part of the answer."""

    cropped: list[Prediction]
    squashed: list[Prediction]

    @property
    def same_top(self) -> bool:
        return self.cropped[0].index == self.squashed[0].index

    def top_when_squashed(self) -> tuple[int, Prediction] | None:
        """Where the cropped photo's best class ranks for the squashed photo (1 = also best) and its
        probability there, among the classes listed; None when it is not among them."""
        top = self.cropped[0].index
        return next(((i + 1, p) for i, p in enumerate(self.squashed) if p.index == top), None)


def crop_effect(
    model, cropped: np.ndarray, squashed: np.ndarray, labels: str | None, k: int = 3
) -> CropEffect:
    """:class:`CropEffect` of ``model`` (a classifier returning logits) on two prepared ``[1, 3, S, S]``
    tensors (``cropped``: the preset's; ``squashed``: the whole photo)."""
    import torch

    with torch.inference_mode():
        logits = model(torch.cat([torch.as_tensor(cropped), torch.as_tensor(squashed)]))
    probs = torch.softmax(logits.float(), dim=-1).numpy()
    return CropEffect(top_k(probs[0], k, labels), top_k(probs[1], k, labels))
