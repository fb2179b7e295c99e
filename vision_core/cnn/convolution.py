"""The arithmetic of convolution and pooling, read off a real trace.

* :func:`conv_breakdown` — the exact numbers behind one output value of a convolution: the input
  patch under the kernel (with the zeros of the padding), the kernel, the products, their sum and
  the bias, next to the value the network really produced.
* :func:`output_size`, :func:`conv_params`, :func:`conv_macs` — the lesson's formulas.
* :func:`receptive_fields` — how many input pixels each step's value can see, from the trace's
  recorded kernels, strides and inputs.
* :func:`shape_table` — every step's shape for any input size.
* :func:`conv_shape_question` — "what shape leaves the first convolution?", with its rivals.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from vision_core.engine.trace import Trace, trace
from vision_core.quiz import Choices, choices


def output_size(
    size: int, kernel: int, stride: int = 1, padding: int | tuple[int, int] = 0, dilation: int = 1
) -> int:
    """``floor((size + pad_before + pad_after − dilation·(kernel − 1) − 1) / stride) + 1``."""
    pad = padding if isinstance(padding, tuple) else (padding, padding)
    return (size + pad[0] + pad[1] - dilation * (kernel - 1) - 1) // stride + 1


def edge_windows(size: int, kernel: int, stride: int, padding: tuple[int, int]) -> list[int]:
    """The output positions (along one side) whose window reaches into the padding: those that
    start before the first input cell or end after the last one."""
    before, after = padding
    out = output_size(size, kernel, stride, (before, after))
    return [i for i in range(out) if i * stride - before < 0 or i * stride - before + kernel > size]


def index_spans(indices: list[int]) -> list[tuple[int, int]]:
    """Consecutive runs of sorted indices as (first, last): [0, 1, 111] → [(0, 1), (111, 111)]."""
    spans: list[tuple[int, int]] = []
    for i in indices:
        if spans and i == spans[-1][1] + 1:
            spans[-1] = (spans[-1][0], i)
        else:
            spans.append((i, i))
    return spans


def output_shape(
    in_shape: tuple[int, ...],
    kernel_shape: tuple[int, ...],
    stride: int = 1,
    padding: int = 0,
    dilation: int = 1,
) -> tuple[int, int]:
    """(height, width) after a 2-D kernel slides over a 2-D grid: :func:`output_size` of each side."""
    if len(in_shape) != 2 or len(kernel_shape) != 2:
        raise ValueError(f"a 2-D grid and a 2-D kernel, not {in_shape} and {kernel_shape}")
    return (
        output_size(in_shape[0], kernel_shape[0], stride, padding, dilation),
        output_size(in_shape[1], kernel_shape[1], stride, padding, dilation),
    )


def conv_params(
    in_channels: int, out_channels: int, kernel: tuple[int, int], groups: int = 1, bias: bool = True
) -> int:
    """``F · (K_h · K_w · C / groups) + F`` (the ``+ F`` only with a bias)."""
    return out_channels * (in_channels // groups) * kernel[0] * kernel[1] + (out_channels if bias else 0)


def conv_macs(
    out_shape: tuple[int, int, int], in_channels: int, kernel: tuple[int, int], groups: int = 1
) -> int:
    """Multiply-accumulates: every output value costs ``K_h · K_w · C / groups`` of them."""
    c_out, h_out, w_out = out_shape
    return c_out * h_out * w_out * (in_channels // groups) * kernel[0] * kernel[1]


@dataclass
class ConvBreakdown:
    """One output value of a convolution, taken apart.

    ``patch`` and ``kernel`` are (C_in/groups, K_h, K_w); ``products = patch · kernel``;
    ``value = products.sum() + bias`` (computed in float64); ``recorded`` is what the network
    produced at that position in float32.  ``rows``/``cols`` are the input coordinates under the
    kernel (negative or past the edge where the kernel sits on padding) and ``in_channels`` the
    input channels it reads.
    """

    step: str
    channel: int
    y: int
    x: int
    patch: np.ndarray
    kernel: np.ndarray
    products: np.ndarray
    bias: float
    value: float
    recorded: float
    rows: np.ndarray
    cols: np.ndarray
    in_channels: np.ndarray

    @property
    def difference(self) -> float:
        """How far the value computed here is from the one the network recorded."""
        return abs(self.value - self.recorded)


def conv_breakdown(model: nn.Module, tr: Trace, step: str, channel: int, y: int, x: int) -> ConvBreakdown:
    """The numbers behind ``tr[step][0, channel, y, x]``; the step's input must be kept in the trace."""
    conv = model.get_submodule(step)
    s = tr[step]
    if s.kind != "conv" or not isinstance(conv, nn.Conv2d):
        raise ValueError(f"{step!r} is a {s.kind} step, not a convolution")
    if not s.inputs:
        raise ValueError(f"the trace does not say which step fed {step!r}")
    inp = tr[s.inputs[0]].numpy()[0].astype(np.float64)  # (C_in, H, W)
    top, _, left, _ = s.meta["padding"]
    kh, kw = s.meta["kernel"]
    sh, sw = s.meta["stride"]
    dh, dw = s.meta["dilation"]
    groups = s.meta["groups"]
    per_group = conv.in_channels // groups
    group = channel // (conv.out_channels // groups)
    in_channels = np.arange(group * per_group, (group + 1) * per_group)
    rows = y * sh - top + dh * np.arange(kh)
    cols = x * sw - left + dw * np.arange(kw)
    patch = np.zeros((per_group, kh, kw))
    inside_r = (rows >= 0) & (rows < inp.shape[1])
    inside_c = (cols >= 0) & (cols < inp.shape[2])
    block = inp[np.ix_(in_channels, rows[inside_r], cols[inside_c])]
    patch[np.ix_(np.arange(per_group), np.flatnonzero(inside_r), np.flatnonzero(inside_c))] = block
    kernel = conv.weight.detach()[channel].double().numpy()
    bias = float(conv.bias.detach()[channel]) if conv.bias is not None else 0.0
    products = patch * kernel
    recorded = float(s.numpy()[0, channel, y, x])
    return ConvBreakdown(
        step,
        channel,
        y,
        x,
        patch,
        kernel,
        products,
        bias,
        float(products.sum() + bias),
        recorded,
        rows,
        cols,
        in_channels,
    )


@dataclass(frozen=True)
class ReceptiveField:
    size: int  # side of the square of input pixels one value can see
    jump: int  # input pixels between neighbouring values (the product of the strides so far)


def receptive_fields(tr: Trace) -> dict[str, ReceptiveField]:
    """Receptive field of every spatial step, following the recorded inputs of each step.

    A convolution or pooling with kernel k, dilation d and stride s grows the field by
    ``(k − 1)·d·jump`` and multiplies the jump by s; a residual add sees what its widest input
    sees; every other step (BN, ReLU, ...) keeps its input's field.
    """
    fields: dict[str, ReceptiveField] = {"input": ReceptiveField(1, 1)}
    for step in tr:
        if step.name == "input" or len(step.shape) != 4:
            continue
        known = [fields[name] for name in step.inputs if name in fields]
        if not known:
            continue
        base = max(known, key=lambda f: f.size)
        if step.kind in ("conv", "pool"):
            k, d, s = step.meta["kernel"][0], step.meta["dilation"][0], step.meta["stride"][0]
            fields[step.name] = ReceptiveField(base.size + (k - 1) * d * base.jump, base.jump * s)
        else:
            fields[step.name] = base
    return fields


def shape_table(model: nn.Module, size: int | tuple[int, int]) -> Trace:
    """Every step's shape and arithmetic for a ``size``×``size`` input, without keeping values."""
    h, w = (size, size) if isinstance(size, int) else size
    return trace(model, torch.zeros(1, 3, h, w), keep=[])


def conv_formulas(meta: dict, in_shape: tuple[int, int, int], out_shape: tuple[int, int, int]) -> dict:
    """The three formulas of a convolution filled with its numbers, each next to what the trace
    recorded: ``"size"`` (output side), ``"params"`` and ``"macs"``.  ``meta`` is the step's
    trace meta; shapes are (C, H, W)."""
    c_in, h_in, _ = in_shape
    f, h_out, w_out = out_shape
    (kh, kw), (sh, _), (dh, _) = meta["kernel"], meta["stride"], meta["dilation"]
    top, bottom = meta["padding"][:2]
    groups = meta["groups"]
    return {
        "size": {
            "size": h_in,
            "top": top,
            "bottom": bottom,
            "d": dh,
            "k": kh,
            "s": sh,
            "out": output_size(h_in, kh, sh, (top, bottom), dh),
            "recorded": h_out,
        },
        "params": {
            "filters": f,
            "k": kh,
            "channels": c_in,
            "params": conv_params(c_in, f, (kh, kw), groups, meta["bias"]),
            "recorded": meta["params"],
        },
        "macs": {
            "height": h_out,
            "width": w_out,
            "filters": f,
            "k": kh,
            "channels": c_in,
            "macs": conv_macs(out_shape, c_in, (kh, kw), groups),
            "recorded": meta["macs"],
            "per_value": kh * kw * c_in // groups,
        },
    }


def conv_shape_question(meta: dict, in_shape: tuple[int, int, int]) -> Choices[tuple[int, int, int]]:
    """ "What shape leaves the first convolution?" — (filters, height, width) by the output-size
    formula with the layer's own kernel, stride, padding and dilation (``meta``: the step's trace
    meta; ``in_shape``: (C, H, W) of its input), against the same with the padding forgotten, with
    the stride forgotten, and one row and column too many (the classic off-by-one)."""
    _, h, w = in_shape
    (kh, kw), (sh, sw), (dh, dw) = meta["kernel"], meta["stride"], meta["dilation"]
    top, bottom, left, right = meta["padding"]
    f = meta["out_channels"]

    def shape(stride: tuple[int, int], pads: tuple[int, int, int, int]) -> tuple[int, int, int]:
        rows = output_size(h, kh, stride[0], pads[:2], dh)
        cols = output_size(w, kw, stride[1], pads[2:], dw)
        return f, rows, cols

    correct = shape((sh, sw), (top, bottom, left, right))
    no_padding = shape((sh, sw), (0, 0, 0, 0))
    no_stride = shape((1, 1), (top, bottom, left, right))
    off_by_one = [(f, correct[1] + 1, correct[2] + 1), (f, correct[1] - 1, correct[2] - 1)]
    return choices(correct, [no_padding, no_stride, *off_by_one], salt="conv_shape")
