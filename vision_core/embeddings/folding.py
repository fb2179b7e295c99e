"""A folded copy of a CNN for embedding many photos fast — the same vectors, fewer operations.

At inference a batch norm is a fixed per-channel affine map, ``y = γ (x − μ) / √(σ² + ε) + β``,
so it can be folded into the convolution before it: the weights are scaled by
``s = γ / √(σ² + ε)`` and the bias becomes ``β − μ s`` (Jacob et al. 2018, §3.2; PyTorch's
``torch.fx.experimental.optimization.fuse`` does the same on FX graphs).  What follows the
convolution — the residual add, the ReLU or ReLU6 — is then done in place, or, where this PyTorch
has it, inside oneDNN's fused "convolution + bias + activation (+ add)" operator with pre-packed
weights (what ``torch.compile`` emits for CPUs; used only after it has agreed with the plain path
on this machine).  TensorFlow's "SAME" padding, which EfficientNet-Lite0 was trained with, pads
one row more at the bottom than at the top for a strided convolution; instead of copying every
such input into a padded tensor we use a kernel one larger with a zero first row and column, and
pad symmetrically — the same sums, without the copy.  Everything runs channels-last.

The copy is used only by :func:`vision_core.embeddings.vectors.embed`.  The lessons trace the original
model, and the tests check that the copy's vectors equal ``forward_features`` (and the trace's
``gap`` step) within float tolerance, on both paths.  ``bench/bench_embedding.py`` measures it
against plain PyTorch and ONNX Runtime.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import NamedTuple, cast

import torch
from torch import nn

from vision_core.engine.layers import Conv2dSame
from vision_core.engine.models.efficientnet_lite import EfficientNetLite, MBConvBlock
from vision_core.engine.models.resnet import BasicBlock, Bottleneck, ResNet

Activation = str | None  # "relu", "relu6" or None
# Photos per forward pass the copy is tuned for (embeddings.EMBED_BATCH): on 2 cores a batch of 4
# runs fastest; larger batches' feature maps outgrow the caches (bench/bench_embedding.py).
BATCH = 4


def fold_conv_bn(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> tuple[torch.Tensor, torch.Tensor]:
    """The weight and bias of one convolution that computes ``bn(conv(x))`` in eval mode."""
    mean, var = bn.running_mean, bn.running_var
    if mean is None or var is None:
        raise ValueError("a batch norm without running statistics has no fixed affine map to fold")
    scale = bn.weight.detach() / torch.sqrt(var + bn.eps)  # (C_out,)
    weight = conv.weight.detach() * scale[:, None, None, None]  # (C_out, C_in/groups, kh, kw)
    bias = bn.bias.detach() - mean * scale
    if conv.bias is not None:
        bias = bias + conv.bias.detach() * scale
    return weight.clone(), bias.clone()


_ONEDNN_ACT = {None: ("none", []), "relu": ("relu", []), "relu6": ("hardtanh", [0.0, 6.0])}


def onednn_fusion_available() -> bool:
    """Whether this PyTorch has oneDNN's fused "convolution + bias + activation (+ add)" operator
    with pre-packed weights (``torch.ops.mkldnn._convolution_pointwise``, what ``torch.compile``
    emits on CPUs)."""
    ops = getattr(torch.ops, "mkldnn", None)
    return bool(
        torch.backends.mkldnn.is_available()
        and ops is not None
        and hasattr(ops, "_convolution_pointwise")
        and hasattr(ops, "_reorder_convolution_weight")
    )


class Plan(NamedTuple):
    """How one convolution runs on inputs of one size."""

    weight: torch.Tensor  # channels-last, maybe with the extra zero row/column
    padding: tuple[int, int]  # symmetric padding given to the convolution
    explicit: tuple[int, int, int, int] | None  # (left, right, top, bottom) padded beforehand, if any
    packed: torch.Tensor | None  # the weight pre-packed for oneDNN's fused operator, if used


class FoldedConv(nn.Module):
    """``act(bn(conv(x)) + residual)`` as one biased convolution: with oneDNN's fused operator
    when :attr:`fused` (bias, activation and residual add inside the convolution's own loop),
    else a plain ``conv2d`` followed by in-place add and activation."""

    weight: torch.Tensor  # buffers, declared: nn.Module types what it does not know as Tensor | Module
    bias: torch.Tensor

    def __init__(self, conv: nn.Conv2d, bn: nn.BatchNorm2d, act: Activation = None):
        super().__init__()
        if isinstance(conv.padding, str):
            raise ValueError(f"padding={conv.padding!r}: only padding given as numbers can be folded")
        weight, bias = fold_conv_bn(conv, bn)
        self.register_buffer("weight", weight.contiguous(memory_format=torch.channels_last))
        self.register_buffer("bias", bias)
        self.stride = tuple(conv.stride)
        self.dilation = tuple(conv.dilation)
        self.groups = conv.groups
        self.act = act
        self.fused = False
        self._same = conv if isinstance(conv, Conv2dSame) else None  # asked for its padding per input size
        self._static_padding = (int(conv.padding[0]), int(conv.padding[1]))
        self._plans: dict[tuple[int, int, bool, int], Plan] = {}  # (height, width, fused, batch)

    def _plan(self, height: int, width: int, batch: int = 1) -> Plan:
        # oneDNN lays packed weights out for a batch size: one packing for single photos, one for batches
        batch = (1 if batch == 1 else BATCH) if self.fused else 0
        key = (height, width, self.fused, batch)
        plan = self._plans.get(key)
        if plan is not None:
            return plan
        weight, padding = self.weight, self._static_padding
        explicit: tuple[int, int, int, int] | None = None
        if self._same is not None:
            top, bottom, left, right = self._same.padding_for(height, width)
            if top == bottom and left == right:
                padding = (top, left)
            elif bottom == top + 1 and right == left + 1 and self.dilation == (1, 1):
                # one extra zero row/column in front of the kernel turns (t, t+1) into (t+1, t+1)
                c_out, c_in, kh, kw = self.weight.shape
                bigger = self.weight.new_zeros(c_out, c_in, kh + 1, kw + 1)
                bigger[:, :, 1:, 1:] = self.weight
                weight, padding = bigger.contiguous(memory_format=torch.channels_last), (bottom, right)
            else:  # any other asymmetry: pad explicitly, as the original does
                padding, explicit = (0, 0), (left, right, top, bottom)
        packed = None
        if self.fused:
            h = height + (0 if explicit is None else explicit[2] + explicit[3])
            w = width + (0 if explicit is None else explicit[0] + explicit[1])
            packed = torch.ops.mkldnn._reorder_convolution_weight(
                weight,
                list(padding),
                list(self.stride),
                list(self.dilation),
                self.groups,
                [batch, weight.shape[1] * self.groups, h, w],
            )
        plan = self._plans[key] = Plan(weight, padding, explicit, packed)
        return plan

    def forward(self, x: torch.Tensor, residual: torch.Tensor | None = None) -> torch.Tensor:
        plan = self._plan(x.shape[-2], x.shape[-1], x.shape[0])
        if plan.explicit is not None:
            x = nn.functional.pad(x, plan.explicit)
        if plan.packed is not None:
            args = (
                plan.packed,
                self.bias,
                list(plan.padding),
                list(self.stride),
                list(self.dilation),
                self.groups,
            )
            if residual is None:
                attr, scalars = _ONEDNN_ACT[self.act]
                return torch.ops.mkldnn._convolution_pointwise(x, *args, attr, scalars, None)
            if self.act in (None, "relu"):
                return torch.ops.mkldnn._convolution_pointwise.binary(
                    x, residual, *args, "add", None, self.act, [], None
                )
        y = nn.functional.conv2d(
            x, plan.weight, self.bias, self.stride, plan.padding, self.dilation, self.groups
        )
        if residual is not None:
            y = y.add_(residual)
        if self.act == "relu6":
            return y.clamp_(0.0, 6.0)
        if self.act == "relu":
            return y.relu_()
        return y


# --- EfficientNet-Lite ------------------------------------------------------------------------


class FoldedMBConv(nn.Module):
    def __init__(self, block: MBConvBlock):
        super().__init__()
        has_expand = hasattr(block, "_expand_conv")
        self.expand = FoldedConv(block._expand_conv, block._bn0, "relu6") if has_expand else None
        self.depthwise = FoldedConv(block._depthwise_conv, block._bn1, "relu6")
        self.project = FoldedConv(block._project_conv, block._bn2)
        self.residual = block.add is not None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = x if self.expand is None else self.expand(x)
        return self.project(self.depthwise(out), x if self.residual else None)


class FoldedEfficientNetLite(nn.Module):
    def __init__(self, model: EfficientNetLite):
        super().__init__()
        self.stem = FoldedConv(model._conv_stem, model._bn0, "relu6")
        blocks = (cast(MBConvBlock, b) for b in model._blocks)  # a ModuleList of MBConvBlocks only
        self.blocks = nn.ModuleList(FoldedMBConv(b) for b in blocks)
        self.head = FoldedConv(model._conv_head, model._bn1, "relu6")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x.contiguous(memory_format=torch.channels_last))
        for block in self.blocks:
            x = block(x)
        return self.head(x).mean(dim=(2, 3))  # (B, 1280): the GAP vector


# --- ResNet -----------------------------------------------------------------------------------


class FoldedResidual(nn.Module):
    def __init__(self, block: BasicBlock | Bottleneck):
        super().__init__()
        if isinstance(block, Bottleneck):
            self.convs = nn.ModuleList(
                [
                    FoldedConv(block.conv1, block.bn1, "relu"),
                    FoldedConv(block.conv2, block.bn2, "relu"),
                    FoldedConv(block.conv3, block.bn3, "relu"),  # relu after the residual add
                ]
            )
        else:
            self.convs = nn.ModuleList(
                [FoldedConv(block.conv1, block.bn1, "relu"), FoldedConv(block.conv2, block.bn2, "relu")]
            )
        self.downsample = None if block.downsample is None else FoldedConv(*block.downsample)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = x
        for conv in self.convs[:-1]:
            out = conv(out)
        return self.convs[-1](out, identity)


class FoldedResNet(nn.Module):
    def __init__(self, model: ResNet):
        super().__init__()
        self.stem = FoldedConv(model.conv1, model.bn1, "relu")
        mp = model.maxpool
        self.pool = (mp.kernel_size, mp.stride, mp.padding)
        blocks = [b for stage in model.stages for b in getattr(model, stage)]
        self.blocks = nn.ModuleList(FoldedResidual(b) for b in blocks)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x.contiguous(memory_format=torch.channels_last))
        x = nn.functional.max_pool2d(x, *self.pool)
        for block in self.blocks:
            x = block(x)
        return x.mean(dim=(2, 3))  # (B, C)


# --- any other encoder ------------------------------------------------------------------------


class PlainFeatures(nn.Module):
    """Encoders with nothing to fold (transformers, CLIP's attention-pooled ResNet): their own
    ``forward_features``."""

    def __init__(self, model: nn.Module):
        super().__init__()
        if not callable(getattr(model, "forward_features", None)):
            raise TypeError(f"{type(model).__name__} has no forward_features: no vector to embed with")
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # checked in __init__; nn.Module types the attributes it does not know as Tensor | Module
        features = cast(Callable[[torch.Tensor], torch.Tensor], self.model.forward_features)
        return features(x)


_COPIES: weakref.WeakKeyDictionary[nn.Module, nn.Module] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def set_fused(folded: nn.Module, on: bool) -> nn.Module:
    """Run every convolution of a folded copy through oneDNN's fused operator (``on``) or not."""
    for m in folded.modules():
        if isinstance(m, FoldedConv):
            m.fused = on
    return folded


def uses_onednn(folded: nn.Module) -> bool:
    return any(isinstance(m, FoldedConv) and m.fused for m in folded.modules())


def _fused_works(folded: nn.Module) -> bool:
    """The fused operator is private to PyTorch: use it only if it runs here and agrees with the
    plain path on a small input."""
    x = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    try:
        with torch.inference_mode():
            plain = set_fused(folded, False)(x)
            fused = set_fused(folded, True)(x)
        return bool(torch.allclose(fused, plain, rtol=1e-4, atol=1e-4 * float(plain.abs().max())))
    except (RuntimeError, TypeError, NotImplementedError):
        return False
    finally:
        set_fused(folded, False)


def fold(model: nn.Module, onednn: bool | None = None) -> nn.Module:
    """A new module computing ``model.forward_features`` with batch norms folded (CNNs we know),
    or a thin wrapper around ``forward_features`` (everything else).  ``model`` is not changed.
    ``onednn``: use the fused oneDNN operator — by default when it is available and checks out."""
    if isinstance(model, EfficientNetLite):
        folded: nn.Module = FoldedEfficientNetLite(model)
    elif isinstance(model, ResNet):
        folded = FoldedResNet(model)
    else:
        return PlainFeatures(model).eval().requires_grad_(False)
    folded = folded.eval().requires_grad_(False)
    if onednn is None:
        onednn = onednn_fusion_available() and _fused_works(folded)
    return set_fused(folded, bool(onednn))


def inference_copy(model: nn.Module) -> nn.Module:
    """:func:`fold` of ``model``, made once per model object and shared (models are read-only).
    Only folded copies are kept: they hold new tensors, never the model itself."""
    with _LOCK:
        copy = _COPIES.get(model)
        if copy is None:
            copy = fold(model)
            if is_folded(copy):
                _COPIES[model] = copy
        return copy


def is_folded(copy: nn.Module) -> bool:
    """True for a folded copy, False for :class:`PlainFeatures`."""
    return not isinstance(copy, PlainFeatures)
