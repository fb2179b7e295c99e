"""A real convolution slid across the photo, cell by cell, and the same photo point followed through
the layers.

* :func:`conv_cells` — every output value of one filter of a convolution with the start of its
  arithmetic: the sum of patch × kernel over each input channel, and the bias (for a hover label).
  The same numbers :func:`~vision_core.cnn.convolution.conv_breakdown` gives for one position.
* :func:`sweep` — the window's path for a play-back: the output map cut into blocks of
  ``block × block`` cells, filled block by block, row by row; :func:`filled_map` is the map after
  a frame (NaN where not yet computed) and :func:`unfilled_boxes` the cells still to come.
* :func:`cell_over` — the cell of a step whose receptive field is centred nearest a photo pixel;
  :func:`side_by_side` — that cell in several stages, with its strongest channel and its field.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from torch import nn

from vision_core.cnn.convolution import receptive_fields
from vision_core.cnn.stages import Box, receptive_box
from vision_core.engine.trace import Trace


@dataclass(frozen=True)
class ConvCells:
    """One filter's whole output map, taken apart: ``sums`` (C_in/groups, H, W) are patch × kernel
    summed over each input channel (float64), ``value = sums.sum(0) + bias`` (``bias`` is 0 for a
    layer without one: ``has_bias``) and ``recorded`` is what the network produced (the trace's
    values)."""

    step: str
    channel: int
    sums: np.ndarray
    bias: float
    value: np.ndarray
    recorded: np.ndarray
    in_channels: np.ndarray
    has_bias: bool


def conv_cells(model: nn.Module, tr: Trace, step: str, channel: int) -> ConvCells:
    """Every value of ``tr[step][0, channel]`` as per-input-channel sums plus the bias; the step's
    input must be kept in the trace.  Windows are placed as ``conv_breakdown`` places them: input row
    ``y·stride − pad_top + dilation·i``, zeros outside the input."""
    conv = model.get_submodule(step)
    s = tr[step]
    if s.kind != "conv" or not isinstance(conv, nn.Conv2d):
        raise ValueError(f"{step!r} is a {s.kind} step, not a convolution")
    inp = tr[s.inputs[0]].numpy()[0].astype(np.float64)  # (C_in, H, W)
    recorded = s.numpy()[0, channel]  # (H_out, W_out)
    h_out, w_out = recorded.shape
    (kh, kw), (sh, sw), (dh, dw) = s.meta["kernel"], s.meta["stride"], s.meta["dilation"]
    top, _, left, _ = s.meta["padding"]
    groups = s.meta["groups"]
    per_group = conv.in_channels // groups
    group = channel // (conv.out_channels // groups)
    in_channels = np.arange(group * per_group, (group + 1) * per_group)
    rows = (np.arange(h_out) * sh)[:, None] + dh * np.arange(kh)  # (H_out, K_h), in padded rows
    cols = (np.arange(w_out) * sw)[:, None] + dw * np.arange(kw)  # (W_out, K_w)
    bottom = max(0, int(rows.max()) - top - (inp.shape[1] - 1))
    right = max(0, int(cols.max()) - left - (inp.shape[2] - 1))
    padded = np.pad(inp[in_channels], ((0, 0), (top, bottom), (left, right)))
    patches = padded[:, rows[:, None, :, None], cols[None, :, None, :]]  # (C, H_out, W_out, K_h, K_w)
    kernel = conv.weight.detach()[channel].double().numpy()  # (C, K_h, K_w)
    sums = np.einsum("chwij,cij->chw", patches, kernel)
    bias = float(conv.bias.detach()[channel]) if conv.bias is not None else 0.0
    value = sums.sum(axis=0) + bias
    return ConvCells(step, channel, sums, bias, value, recorded, in_channels, conv.bias is not None)


@dataclass(frozen=True)
class Frame:
    """One step of the play-back: the output ``cells`` filled at this step, the kernel's ``window``
    on the input at the first of them, and the input pixels the whole block reads (``span``)."""

    index: int
    cells: Box
    window: Box
    span: Box


@dataclass(frozen=True)
class Sweep:
    """The window's path over a convolution's ``out_shape`` output, ``block`` cells a step."""

    out_shape: tuple[int, int]
    block: int
    frames: tuple[Frame, ...]


def window_box(meta: dict, y: int, x: int) -> Box:
    """The input pixels under the kernel for output (y, x) of a convolution (its trace ``meta``);
    the box may reach into the padding."""
    (kh, kw), (sh, sw), (dh, dw) = meta["kernel"], meta["stride"], meta["dilation"]
    top, _, left, _ = meta["padding"]
    r, c = y * sh - top, x * sw - left
    return Box(r, c, r + dh * (kh - 1), c + dw * (kw - 1))


def sweep(out_shape: tuple[int, int], meta: dict, frames: int = 64) -> Sweep:
    """The play-back path: the smallest square block that needs at most ``frames`` steps, blocks
    taken left to right, top to bottom (the order a convolution is written in)."""
    h, w = out_shape
    block = max(1, math.ceil(math.sqrt(h * w / frames)))
    while math.ceil(h / block) * math.ceil(w / block) > frames:
        block += 1
    steps: list[Frame] = []
    for r in range(0, h, block):
        for c in range(0, w, block):
            cells = Box(r, c, min(r + block, h) - 1, min(c + block, w) - 1)
            first, last = window_box(meta, r, c), window_box(meta, cells.bottom, cells.right)
            span = Box(first.top, first.left, last.bottom, last.right)
            steps.append(Frame(len(steps), cells, first, span))
    return Sweep((h, w), block, tuple(steps))


def sweep_numbers(plan: Sweep, meta: dict, frame_ms: int) -> dict[str, int | float]:
    """What a lesson says about a play-back: the kernel's side, the block's side and cell count,
    the layer's stride and how far the window jumps a step (stride × block), the input pixels the
    first block reads, the number of steps and how long they take at ``frame_ms`` a step."""
    stride = meta["stride"][0]
    return {
        "k": meta["kernel"][0],
        "block": plan.block,
        "cells": plan.block * plan.block,
        "stride": stride,
        "jump": stride * plan.block,
        "span": plan.frames[0].span.size,
        "frames": len(plan.frames),
        "seconds": len(plan.frames) * frame_ms / 1000,
    }


def filled_mask(plan: Sweep, index: int) -> np.ndarray:
    """(H, W) True where the output is computed once frame ``index`` is done."""
    mask = np.zeros(plan.out_shape, dtype=bool)
    for f in plan.frames[: index + 1]:
        mask[f.cells.top : f.cells.bottom + 1, f.cells.left : f.cells.right + 1] = True
    return mask


def filled_map(values: np.ndarray, plan: Sweep, index: int) -> np.ndarray:
    """The output map as it stands after frame ``index``: ``values`` where computed, NaN elsewhere."""
    return np.where(filled_mask(plan, index), np.asarray(values, dtype=np.float64), np.nan)


def unfilled_boxes(plan: Sweep, index: int) -> list[Box]:
    """At most two boxes covering exactly the cells not yet computed after frame ``index``: the rest
    of the current band of blocks, right of this block, and every band below it."""
    h, w = plan.out_shape
    cells = plan.frames[index].cells
    boxes = []
    if cells.right < w - 1:
        boxes.append(Box(cells.top, cells.right + 1, cells.bottom, w - 1))
    if cells.bottom < h - 1:
        boxes.append(Box(cells.bottom + 1, 0, h - 1, w - 1))
    return boxes


def cell_over(tr: Trace, step: str, row: float, col: float) -> tuple[int, int]:
    """The cell of ``step`` whose receptive field is centred nearest photo pixel (row, col), kept
    inside the step's grid."""
    first, jump = receptive_box(tr, step, 0, 0), receptive_fields(tr)[step].jump
    h, w = tr[step].shape[2:]
    centre = (first.size - 1) / 2
    y = math.floor((row - first.top - centre) / jump + 0.5)
    x = math.floor((col - first.left - centre) / jump + 0.5)
    return min(max(y, 0), h - 1), min(max(x, 0), w - 1)


@dataclass(frozen=True)
class StageView:
    """One stage at the cell over a photo point: the stage's grid, the cell, the channel strongest
    there, its value and the cell's receptive field."""

    stage: str
    grid: tuple[int, int]
    cell: tuple[int, int]
    channel: int
    value: float
    field: Box


def centre(box: Box) -> tuple[float, float]:
    """The middle of a box, in input pixels."""
    return (box.top + box.bottom) / 2, (box.left + box.right) / 2


def side_by_side(tr: Trace, stages: Sequence[str], row: float, col: float) -> list[StageView]:
    """Each of ``stages`` (kept in the trace) at the cell over photo pixel (row, col): the channel
    with the largest value at that cell (the first on ties) and the cell's receptive field."""
    views = []
    for stage in stages:
        y, x = cell_over(tr, stage, row, col)
        column = np.asarray(tr.array(stage)[0, :, y, x], dtype=np.float64)
        channel = int(np.argmax(column))
        grid = (int(tr[stage].shape[2]), int(tr[stage].shape[3]))
        field = receptive_box(tr, stage, y, x)
        views.append(StageView(stage, grid, (y, x), channel, float(column[channel]), field))
    return views


def spread(names: Sequence[str], n: int = 3) -> list[str]:
    """``n`` of ``names`` spread evenly from the first to the last (all of them when fewer)."""
    if len(names) <= n:
        return list(names)
    return [names[round(i * (len(names) - 1) / (n - 1))] for i in range(n)]
