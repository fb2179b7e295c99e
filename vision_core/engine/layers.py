"""The traced layers every model is built from: torch's layers that record their output.

Each subclass keeps the state-dict keys torch gives it (weight, bias, running_mean, ...), so an
official checkpoint loads into a model built from them with ``strict=True``; the parameter-free
ones (activations, the residual add, pooling, GAP, trace points) add no keys at all.  Each one
calls :func:`vision_core.engine.trace.record` with its output and, where a lesson needs it, its
arithmetic (``step_meta``: kernel, stride, padding, dilation, groups, parameters, MACs).  An
activation is never shared and never in place, so every ReLU of a network is a step of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

import torch
from torch import nn

from vision_core.engine.trace import record


def _pair(v: int | tuple[int, ...]) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))


def _own_params(module: nn.Module) -> int:
    # module._parameters directly: parameters(recurse=False) walks torch's generic member
    # machinery, which cost ~5 ms of every EfficientNet-Lite0 trace (248 layers)
    return sum(p.numel() for p in module._parameters.values() if p is not None)


MEMO_SIZES = 32  # input sizes a layer remembers its meta for (learners' photos come in many sizes)


def _remembered(module: nn.Module, key: Hashable, make: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """A copy of ``make()``'s meta, worked out once per module and ``key`` (the shapes it depends
    on) and then remembered: a layer's arithmetic depends only on its settings, its parameter
    shapes and the input size, and working it out on every step cost ~2 ms of an
    EfficientNet-Lite0 trace.  Kept in the module's ``__dict__`` (no state-dict key); forgotten
    all at once past :data:`MEMO_SIZES` keys."""
    memo = module.__dict__.get("_step_meta_memo")
    if memo is None:
        memo = module.__dict__.setdefault("_step_meta_memo", {})
    meta = memo.get(key)
    if meta is None:
        if len(memo) >= MEMO_SIZES:
            memo.clear()
        meta = memo[key] = make()
    return dict(meta)


class Conv2d(nn.Conv2d):
    """``nn.Conv2d`` that records its output with its arithmetic."""

    kind = "conv"

    def padding_for(self, height: int, width: int) -> tuple[int, int, int, int]:
        """Zeros added (top, bottom, left, right) for an input of this size."""
        if isinstance(self.padding, str):  # "same"/"valid": not used by our models (Conv2dSame pads itself)
            raise ValueError(f"padding={self.padding!r}: give the zeros added as numbers")
        ph, pw = _pair(self.padding)
        return ph, ph, pw, pw

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return record(self, super().forward(x), x)

    def step_meta(self, inputs: tuple[torch.Tensor, ...], out: torch.Tensor) -> dict[str, Any]:
        shape, out_shape = inputs[0].shape, out.shape  # torch.Size: hashable; slicing costs more
        return _remembered(self, (shape, out_shape), lambda: self._meta(shape[-2:], out_shape))

    def _meta(self, size: tuple[int, ...], out_shape: tuple[int, ...]) -> dict[str, Any]:
        kh, kw = _pair(self.kernel_size)
        _, c_out, h_out, w_out = out_shape
        per_output = (self.in_channels // self.groups) * kh * kw
        return {
            "in_channels": self.in_channels,
            "out_channels": self.out_channels,
            "kernel": (kh, kw),
            "stride": _pair(self.stride),
            "padding": self.padding_for(*size),
            "dilation": _pair(self.dilation),
            "groups": self.groups,
            "bias": self.bias is not None,
            "params": _own_params(self),
            "macs": c_out * h_out * w_out * per_output,
        }


class Conv2dSame(Conv2d):
    """Convolution with TensorFlow's "SAME" padding, worked out for each input size.

    TensorFlow pads so that the output has ``ceil(in / stride)`` positions, putting the odd
    extra zero on the bottom/right; EfficientNet-Lite0 was trained that way.
    """

    def padding_for(self, height: int, width: int) -> tuple[int, int, int, int]:
        pads = []
        for size, k, s, d in zip(
            (height, width), _pair(self.kernel_size), _pair(self.stride), _pair(self.dilation), strict=True
        ):
            total = max((-(-size // s) - 1) * s + (k - 1) * d + 1 - size, 0)
            pads += [total // 2, total - total // 2]
        return pads[0], pads[1], pads[2], pads[3]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        top, bottom, left, right = self.padding_for(*x.shape[-2:])
        if top == bottom and left == right:  # the convolution pads symmetrically itself, without a copy
            padded, padding = x, (top, left)
        else:
            padded, padding = nn.functional.pad(x, (left, right, top, bottom)), (0, 0)
        out = nn.functional.conv2d(
            padded, self.weight, self.bias, self.stride, padding, self.dilation, self.groups
        )
        return record(self, out, x)


class Linear(nn.Linear):
    kind = "linear"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return record(self, super().forward(x), x)

    def step_meta(self, inputs: tuple[torch.Tensor, ...], out: torch.Tensor) -> dict[str, Any]:
        positions = out.numel() // self.out_features
        return _remembered(
            self,
            positions,
            lambda: {
                "in_features": self.in_features,
                "out_features": self.out_features,
                "params": _own_params(self),
                "macs": positions * self.in_features * self.out_features,
            },
        )


class BatchNorm2d(nn.BatchNorm2d):
    kind = "bn"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return record(self, super().forward(x), x)

    def step_meta(self, inputs: tuple[torch.Tensor, ...], out: torch.Tensor) -> dict[str, Any]:
        return _remembered(self, None, lambda: {"eps": self.eps, "params": _own_params(self)})


class LayerNorm(nn.LayerNorm):
    kind = "norm"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return record(self, super().forward(x), x)

    def step_meta(self, inputs: tuple[torch.Tensor, ...], out: torch.Tensor) -> dict[str, Any]:
        return _remembered(self, None, lambda: {"eps": self.eps, "params": _own_params(self)})


class _Activation(nn.Module):
    """A parameter-free activation applied out of place."""

    kind = "activation"
    function = "identity"

    def act(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return record(self, self.act(x), x)

    def step_meta(self, inputs: tuple[torch.Tensor, ...], out: torch.Tensor) -> dict[str, Any]:
        return {"function": self.function}


class ReLU(_Activation):
    kind, function = "relu", "relu"

    def act(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(x)


class ReLU6(_Activation):
    kind, function = "relu", "relu6"

    def act(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.relu6(x)


class GELU(_Activation):
    kind, function = "gelu", "gelu"

    def act(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.gelu(x)


class QuickGELU(_Activation):
    """CLIP's approximation ``x · sigmoid(1.702 x)``."""

    kind, function = "gelu", "quick_gelu"

    def act(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(1.702 * x)


class MaxPool2d(nn.MaxPool2d):
    kind = "pool"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return record(self, super().forward(x), x)

    def step_meta(self, inputs: tuple[torch.Tensor, ...], out: torch.Tensor) -> dict[str, Any]:
        p = _pair(self.padding)
        return {
            "op": "max",
            "kernel": _pair(self.kernel_size),
            "stride": _pair(self.stride),
            "padding": (p[0], p[0], p[1], p[1]),
            "dilation": _pair(self.dilation),
        }


class AvgPool2d(nn.AvgPool2d):
    kind = "pool"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return record(self, super().forward(x), x)

    def step_meta(self, inputs: tuple[torch.Tensor, ...], out: torch.Tensor) -> dict[str, Any]:
        p = _pair(self.padding)
        return {
            "op": "avg",
            "kernel": _pair(self.kernel_size),
            "stride": _pair(self.stride or self.kernel_size),
            "padding": (p[0], p[0], p[1], p[1]),
            "dilation": (1, 1),
        }


class Add(nn.Module):
    """The residual add: ``identity + branch``, both inputs remembered for the lesson."""

    kind = "add"

    def forward(self, identity: torch.Tensor, branch: torch.Tensor) -> torch.Tensor:
        return record(self, identity + branch, identity, branch)


class GlobalAvgPool(nn.Module):
    """Average every channel's grid to one number: (B, C, H, W) → (B, C)."""

    kind = "gap"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return record(self, x.mean(dim=(2, 3)), x)

    def step_meta(self, inputs: tuple[torch.Tensor, ...], out: torch.Tensor) -> dict[str, Any]:
        return {"grid": tuple(inputs[0].shape[-2:])}


class L2Normalize(nn.Module):
    """Scale a vector to unit length, so that a dot product is a cosine similarity."""

    kind = "l2norm"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return record(self, nn.functional.normalize(x, dim=-1), x)


class Softmax(nn.Module):
    kind = "softmax"

    def __init__(self, dim: int = -1):
        super().__init__()
        self.dim = dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return record(self, torch.softmax(x, dim=self.dim), x)


class TracePoint(nn.Module):
    """An identity that names a point of the forward pass (a stage's output, the token sequence)."""

    def __init__(self, kind: str = "point", **meta: Any):
        super().__init__()
        self.kind = kind
        self.meta = meta

    def forward(self, x: torch.Tensor, *sources: torch.Tensor) -> torch.Tensor:
        """Record ``x``; ``sources`` are the tensors it was made from (``x`` itself when omitted)."""
        return record(self, x, *(sources or (x,)))

    def step_meta(self, inputs: tuple[torch.Tensor, ...], out: torch.Tensor) -> dict[str, Any]:
        return dict(self.meta)


class Stage(nn.Sequential):
    """``nn.Sequential`` whose output is recorded as one stage of the network."""

    kind = "stage"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self:
            x = block(x)
        return record(self, x, x)
