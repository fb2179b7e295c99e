"""The two networks a learner trains: a pocket CNN and a tiny Vision Transformer.

Both take (B, 3, 32, 32) digit pictures (:func:`vision_core.training.data.to_input`) and are
built from the traced layers of :mod:`vision_core.engine.trace`, so every lesson page that reads
a trace reads these too.

* :class:`PocketCNN` — three stages of convolution, batch norm, ReLU (and max-pool), then the
  global average pool: 32×32 → 16×16 → 8×8 → a 64-number vector.  Its steps are named like the
  lesson (``layer1.conv``, ``layer2.relu``, ``gap``, ``embedding``, ``fc``).
* :func:`tiny_vit` — the app's own :class:`~vision_core.engine.models.vit.VisionTransformer`
  with a small :class:`~vision_core.engine.models.vit.ViTConfig` (4×4 patches → an 8×8 grid of
  64 patches, CLS first, 64-number tokens, 4 heads, 3 pre-norm blocks), so the Transformer pages'
  code (``blocks.N.attn.probs``, ``patch_embed.proj``, ``pos_embed``) works on it unchanged.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import replace
from typing import Literal, overload

import torch
from torch import nn

from vision_core.engine.layers import (
    BatchNorm2d,
    Conv2d,
    GlobalAvgPool,
    L2Normalize,
    Linear,
    MaxPool2d,
    ReLU,
    Softmax,
    Stage,
)
from vision_core.engine.models.vit import VisionTransformer, ViTConfig
from vision_core.engine.trace import is_tracing

ModelKind = Literal["vit", "cnn"]
MODEL_KINDS: tuple[ModelKind, ...] = ("vit", "cnn")
CLASSES = 10

# The tiny ViT: 32×32 input, 4×4 patches (an 8×8 grid: one patch per pixel of an 8×8 digit).
TINY_VIT = ViTConfig(patch=4, dim=64, depth=3, heads=4, mlp_ratio=2.0, img_size=32, num_classes=CLASSES)


def tiny_vit(num_classes: int = CLASSES) -> VisionTransformer:
    """The tiny ViT, randomly initialised; ``num_classes=0`` leaves out the head (the CLS vector
    is then the output, as for the metric and self-supervised objectives)."""
    return VisionTransformer(replace(TINY_VIT, num_classes=num_classes))


def _stage(c_in: int, c_out: int, kernel: int, pool: bool) -> Stage:
    layers: OrderedDict[str, nn.Module] = OrderedDict(
        conv=Conv2d(c_in, c_out, kernel, padding=kernel // 2, bias=False),
        bn=BatchNorm2d(c_out),
        relu=ReLU(),
    )
    if pool:
        layers["pool"] = MaxPool2d(kernel_size=2, stride=2)
    return Stage(layers)


class PocketCNN(nn.Module):
    """conv 5×5 → BN → ReLU → max-pool, twice more with 3×3, then GAP: (B, 3, 32, 32) → (B, 64).

    ``forward_features`` returns the pooled vector (the embedding before L2 normalisation);
    ``forward`` the 10 digit logits, or the pooled vector when built with ``num_classes=0``.
    """

    def __init__(self, num_classes: int = CLASSES, widths: tuple[int, int, int] = (16, 32, 64)):
        super().__init__()
        self.layer1 = _stage(3, widths[0], 5, pool=True)  # 32×32 → 16×16
        self.layer2 = _stage(widths[0], widths[1], 3, pool=True)  # → 8×8
        self.layer3 = _stage(widths[1], widths[2], 3, pool=False)  # 8×8
        self.stages = ("layer1", "layer2", "layer3")
        self.gap = GlobalAvgPool()
        self.embedding = L2Normalize()
        self.fc = Linear(widths[2], num_classes) if num_classes else None
        self.probs = Softmax(dim=-1)
        self.num_features = widths[2]
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        self.eval()

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        x = self.layer3(self.layer2(self.layer1(x)))  # (B, 64, 8, 8)
        return self.gap(x)  # (B, 64)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.forward_features(x)
        if is_tracing():
            self.embedding(features)
        if self.fc is None:
            return features
        logits = self.fc(features)  # (B, 10)
        if is_tracing():
            self.probs(logits)
        return logits


Encoder = VisionTransformer | PocketCNN  # what a Trainer trains


@overload
def build(kind: Literal["vit"], num_classes: int, seed: int) -> VisionTransformer: ...
@overload
def build(kind: Literal["cnn"], num_classes: int, seed: int) -> PocketCNN: ...
@overload
def build(kind: ModelKind, num_classes: int, seed: int) -> Encoder: ...
def build(kind: ModelKind, num_classes: int, seed: int) -> Encoder:
    """A freshly initialised network of ``kind`` drawn from ``seed`` (torch's global generator is
    forked, so the caller's random state is left as it was), in eval mode."""
    if kind not in MODEL_KINDS:
        raise KeyError(f"unknown model {kind!r}; choose one of {', '.join(MODEL_KINDS)}")
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model: Encoder = tiny_vit(num_classes) if kind == "vit" else PocketCNN(num_classes)
    model.eval()
    return model


def first_layer(model: nn.Module) -> nn.Conv2d:
    """The first convolution: the ViT's patch embedding, the CNN's ``layer1.conv``."""
    conv = model.get_submodule(first_layer_name(model))
    if not isinstance(conv, nn.Conv2d):
        raise TypeError(f"{type(model).__name__}'s {first_layer_name(model)} is not a convolution")
    return conv


def first_layer_name(model: nn.Module) -> str:
    return "patch_embed.proj" if isinstance(model, VisionTransformer) else "layer1.conv"


def first_layer_filters(model: nn.Module) -> torch.Tensor:
    """The first layer's filters as grey pictures (F, k, k): the input's three channels carry the
    same grey, so a filter's three planes act as their sum."""
    return first_layer(model).weight.detach().sum(dim=1).clone()  # (F, 3, k, k) → (F, k, k)
