"""Registry names → architectures, their weights and their preprocessing.

``build_model(name)`` gives the architecture with random weights (what a network is before
training); ``load_model(name)`` gives it with its official weights, found or fetched by
:mod:`vision_core.engine.weights`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import torch
from PIL import Image
from torch import nn

from vision_core.engine import weights
from vision_core.engine.models import clip, efficientnet_lite, resnet, vit
from vision_core.engine.preprocess import Preprocessing, PreprocessSteps, preprocess_steps

Family = Literal["cnn", "vit", "clip_cnn"]


@dataclass(frozen=True)
class ModelSpec:
    """What a page needs to know about an encoder before running it."""

    name: str
    title: str
    family: Family
    build: Callable[[], nn.Module]
    embedding_dim: int
    has_classifier: bool  # ImageNet logits (else the output is an embedding)
    patch: int | None = None  # transformers: patch side in pixels
    summary: str = ""


DEFAULT_MODEL = "efficientnet_lite0"

MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            "efficientnet_lite0",
            "EfficientNet-Lite0",
            "cnn",
            efficientnet_lite.efficientnet_lite0,
            1280,
            True,
            summary="A phone-sized CNN: depthwise convolutions, ReLU6, no attention.",
        ),
        ModelSpec(
            "resnet18",
            "ResNet-18",
            "cnn",
            resnet.resnet18,
            512,
            True,
            summary="The smallest classic ResNet: 8 residual blocks of two 3×3 convolutions.",
        ),
        ModelSpec(
            "resnet50",
            "ResNet-50",
            "cnn",
            resnet.resnet50,
            2048,
            True,
            summary="The textbook encoder: 16 bottleneck blocks, a 2048-number vector.",
        ),
        ModelSpec(
            "resnet50_v2",
            "ResNet-50 (V2 weights)",
            "cnn",
            resnet.resnet50,
            2048,
            True,
            summary="ResNet-50 retrained by torchvision with a modern recipe (80.9% top-1).",
        ),
        ModelSpec(
            "dino_vits16",
            "DINO ViT-S/16",
            "vit",
            vit.dino_vits16,
            384,
            False,
            patch=16,
            summary="A ViT trained without labels (self-distillation); famous attention maps.",
        ),
        ModelSpec(
            "dino_vits8",
            "DINO ViT-S/8",
            "vit",
            vit.dino_vits8,
            384,
            False,
            patch=8,
            summary="The same with 8-pixel patches: four times the tokens, sharper maps.",
        ),
        ModelSpec(
            "deit_tiny",
            "DeiT-Tiny",
            "vit",
            vit.deit_tiny,
            192,
            True,
            patch=16,
            summary="A small supervised ViT (3 heads, 192-number tokens) with an ImageNet head.",
        ),
        ModelSpec(
            "deit_small",
            "DeiT-Small",
            "vit",
            vit.deit_small,
            384,
            True,
            patch=16,
            summary="A supervised ViT-S/16 with an ImageNet head.",
        ),
        ModelSpec(
            "vit_b_16",
            "ViT-B/16 (torchvision)",
            "vit",
            vit.vit_b_16,
            768,
            True,
            patch=16,
            summary="The original ViT-Base, 12 heads, trained on ImageNet-1k by torchvision.",
        ),
        ModelSpec(
            "clip_rn50",
            "CLIP RN50 image tower",
            "clip_cnn",
            clip.clip_rn50,
            1024,
            False,
            summary="CLIP's modified ResNet-50: blur-pool down-sampling and attention pooling.",
        ),
        ModelSpec(
            "clip_vit_b32",
            "CLIP ViT-B/32 image tower",
            "vit",
            vit.clip_vit_b32,
            512,
            False,
            patch=32,
            summary="CLIP's ViT with 32-pixel patches and an extra LayerNorm before the blocks.",
        ),
    )
}


def spec(name: str) -> ModelSpec:
    try:
        return MODELS[name]
    except KeyError:
        known = ", ".join(MODELS)
        raise KeyError(f"unknown model {name!r}; the registry has: {known}") from None


# Building a model draws its random initial weights from torch's one global generator, which every
# thread shares: a seeded build interleaved with another thread's build (two learners on a
# Streamlit server) would get other numbers.  Builds take turns.
_BUILD_LOCK = threading.RLock()


def build_model(name: str) -> nn.Module:
    """The architecture with random (untrained) weights, in eval mode."""
    with _BUILD_LOCK:
        return spec(name).build().eval()


def load_model(
    name: str, *, on_progress: Callable[[int, int], None] | None = None, allow_download: bool = True
) -> nn.Module:
    """The architecture with its official weights; raises ``weights.WeightsUnavailable`` with a
    clear message when they are neither on this machine nor downloadable."""
    model = build_model(name)
    state = weights.load_state_dict(name, on_progress=on_progress, allow_download=allow_download)
    model.load_state_dict(state, strict=True)
    return model.eval()


def seeded_model(name: str, seed: int = 0) -> nn.Module:
    """Random weights from a fixed seed: the same untrained network every time."""
    with _BUILD_LOCK, torch.random.fork_rng():
        torch.manual_seed(seed)
        return build_model(name)


def preprocessing(name: str) -> Preprocessing:
    return weights.entry(name).preprocessing


def preprocess_photo(image: Image.Image, name: str, **kwargs) -> PreprocessSteps:
    """Every picture of the preparation (original → resized → cropped → normalised) for ``name``."""
    s = spec(name)
    if kwargs.get("keep_aspect") and s.patch:
        kwargs.setdefault("multiple_of", s.patch)
    return preprocess_steps(image, preprocessing(name), **kwargs)


def preprocess(image: Image.Image, name: str, **kwargs) -> torch.Tensor:
    """The ``[1, 3, H, W]`` tensor that ``name``'s official preprocessing makes from a PIL image."""
    return preprocess_photo(image, name, **kwargs).tensor
