"""A CNN and a Vision Transformer on the same photo: the facts a side-by-side table needs, read
off each network's trace (never typed in)."""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from vision_core.engine.trace import Trace
from vision_core.quiz import Choices, choices


@dataclass(frozen=True)
class EncoderFacts:
    """``first_*``: the network's first convolution (a CNN's small window; a ViT's patch cut);
    ``grid_*``: the last grid of the photo before it becomes one vector (the step feeding GAP, or
    a ViT's ``patch_grid``); ``vector_*``: the step whose output is the image's vector (GAP, or the
    CLS token) and its length; ``params``: every learned number of the model."""

    family: str  # "cnn" or "vit"
    input_size: tuple[int, int]
    first_step: str
    first_kernel: tuple[int, int]
    first_stride: tuple[int, int]
    grid_step: str
    grid_shape: tuple[int, int, int]
    vector_step: str
    vector_dim: int
    params: int


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def encoder_facts(model: nn.Module, tr: Trace) -> EncoderFacts:
    """Works from the shapes and arithmetic alone, so any trace of the model will do."""
    first = tr.of_kind("conv")[0]
    if "patch_grid" in tr:
        family, grid_step, vector_step = "vit", "patch_grid", "cls"
    else:
        gap = tr.of_kind("gap")[0]
        family, grid_step, vector_step = "cnn", gap.inputs[0], gap.name
    (height, width), (c, h, w) = tr["input"].shape[-2:], tr[grid_step].shape[1:]
    return EncoderFacts(
        family,
        (height, width),
        first.name,
        tuple(first.meta["kernel"]),
        tuple(first.meta["stride"]),
        grid_step,
        (c, h, w),
        vector_step,
        int(tr[vector_step].shape[-1]),
        count_parameters(model),
    )


# --- predict-then-reveal ----------------------------------------------------------------------

LONGER = ("cnn", "vit", "same")  # the options of longer_vector_question


def longer_vector_question(cnn: EncoderFacts, vit: EncoderFacts) -> Choices[str]:
    """ "Whose image vector is longer: the CNN's GAP vector or the ViT's CLS token?" — ``"cnn"``,
    ``"vit"`` or ``"same"``, from the two networks' own vector lengths."""
    if cnn.vector_dim == vit.vector_dim:
        correct = "same"
    else:
        correct = "cnn" if cnn.vector_dim > vit.vector_dim else "vit"
    return choices(correct, [o for o in LONGER if o != correct], salt="longer_vector")


def clip_embedding_question(
    image_embedding: int, cls_width: int, other_tower: int, other_channels: int
) -> Choices[int]:
    """ "How long is the ViT tower's image embedding I_f?" — its recorded length, against the CLS
    token's width before the projection (the projection forgotten), the other tower's I_f (as if
    both towers of CLIP gave the same length) and the other tower's channels before its pooling."""
    return choices(image_embedding, [cls_width, other_tower, other_channels], salt="clip_embedding")
