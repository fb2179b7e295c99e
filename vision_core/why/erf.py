"""The effective receptive field of one unit: which input pixels actually move it, and how much.

Luo, Li, Urtasun and Zemel, "Understanding the Effective Receptive Field in Deep Convolutional
Neural Networks" (NeurIPS 2016): the gradient of one unit with respect to the input photo,
``|∂unit/∂input|`` summed over the colour channels, is a picture of how strongly each pixel
moves that unit.  It is zero outside the theoretical receptive field (the square the kernels,
strides and paddings allow: :func:`vision_core.cnn.stages.receptive_box`), and inside it is
usually concentrated in the middle, far smaller than the square.

The unit is one value of a spatial step (``stage3``, ``_blocks.4._depthwise_conv``) at a grid
position, of one channel or of the sum of all channels.  The forward pass runs with autograd on
up to that step only: a recorder of our own (the same context variable as
:func:`vision_core.engine.trace.trace`, so the shared model gets no hooks) keeps the step's live
output and stops the pass there.  The recorder also keeps every earlier step's shape and
arithmetic, from which the theoretical square is computed.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from vision_core.cnn.stages import Box, receptive_box
from vision_core.engine import trace as tracing
from vision_core.engine.trace import Trace
from vision_core.quiz import Choices, choices

FIELD_KINDS = ("conv", "pool", "stage")  # the steps whose unit a learner can pick
MASS = 0.9  # the share of the gradient whose centred square is called the effective field


class _LiveStep(tracing._Recorder):
    """Records shapes and arithmetic like a trace (no values) and keeps ``step``'s output with its
    autograd graph; stops the forward pass there."""

    def __init__(self, model: nn.Module, step: str):
        super().__init__(model, keep=[], stop_after=None)
        try:
            self.target = model.get_submodule(step)
        except AttributeError:
            raise KeyError(f"the model has no step {step!r}") from None
        self.output: torch.Tensor | None = None

    def add(self, module: nn.Module, output: torch.Tensor, inputs: tuple[torch.Tensor, ...]) -> None:
        super().add(module, output, inputs)
        if module is self.target:
            self.output = output
            raise tracing._StopTrace


def live_step(model: nn.Module, x: torch.Tensor, step: str) -> tuple[torch.Tensor, Trace]:
    """``step``'s output for input ``x`` with its autograd graph, and the shapes-and-arithmetic
    trace of every step up to it."""
    recorder = _LiveStep(model, step)
    token = tracing._RECORDER.set(recorder)
    try:
        recorder.add_input(x)
        with torch.enable_grad(), contextlib.suppress(tracing._StopTrace):
            model(x)
    finally:
        tracing._RECORDER.reset(token)
    if recorder.output is None:
        raise KeyError(f"the forward pass never ran a step {step!r}")
    return recorder.output, Trace(recorder.steps)


def field_steps(tr: Trace) -> list[str]:
    """The steps a learner can pick a unit of: every top-level convolution, pooling and stage output
    whose value is a grid (the rows of the stage table that have a receptive field)."""
    return [s.name for s in tr if "." not in s.name and s.kind in FIELD_KINDS and len(s.shape) == 4]


@dataclass(frozen=True)
class EffectiveField:
    """One unit's gradient with respect to the input, and its theoretical receptive field."""

    step: str
    channel: int | None  # None: the sum of all channels at the position
    row: int
    col: int
    grid: tuple[int, int]  # the step's (rows, cols)
    value: float  # the unit's value on this photo
    gradient: np.ndarray  # (H, W) float32: |∂unit/∂input| summed over the colour channels
    box: Box  # the theoretical receptive field, in input pixels (may reach past the edges)

    @property
    def total(self) -> float:
        return float(self.gradient.sum(dtype=np.float64))

    def _inside(self, box: Box) -> np.ndarray:
        h, w = self.gradient.shape
        mask = np.zeros((h, w), dtype=bool)
        c = box.clipped(h, w)
        if c.top <= c.bottom and c.left <= c.right:
            mask[c.top : c.bottom + 1, c.left : c.right + 1] = True
        return mask

    def share_inside(self, box: Box | None = None) -> float:
        """The share of the gradient mass inside ``box`` (the theoretical square by default);
        nan when the unit does not depend on the input at all (zero gradient)."""
        total = self.total
        if total == 0:
            return float("nan")
        inside = self.gradient[self._inside(box or self.box)].sum(dtype=np.float64)
        return float(inside / total)

    def nonzero_outside(self) -> int:
        """How many input pixels outside the theoretical square have a non-zero gradient."""
        return int(np.count_nonzero(self.gradient[~self._inside(self.box)]))

    def effective_box(self, mass: float = MASS) -> Box:
        """The smallest square centred on the theoretical square's centre that holds ``mass`` of
        the gradient: the effective receptive field's size, in the lesson's terms."""
        b = self.box
        for side in range(2 - b.size % 2, b.size + 1, 2):  # the square's parity: centred exactly
            top, left = b.top + (b.size - side) // 2, b.left + (b.size - side) // 2
            square = Box(top, left, top + side - 1, left + side - 1)
            if self.share_inside(square) >= mass:
                return square
        return b

    def effective_ratio(self, mass: float = MASS) -> float:
        """The effective square's side as a share of the theoretical square's."""
        return self.effective_box(mass).size / self.box.size

    def summary(self, mass: float = MASS) -> dict[str, object]:
        """The numbers the lesson tells: the unit's place and value, the theoretical square's side,
        the share of the gradient inside it, the pixels outside it with any gradient, the
        effective square's side holding ``mass`` of the gradient and its share of the side."""
        return {
            "step": self.step,
            "row": self.row,
            "col": self.col,
            "value": self.value,
            "side": self.box.size,
            "share": self.share_inside(),
            "outside": self.nonzero_outside(),
            "mass": mass,
            "eff": self.effective_box(mass).size,
            "ratio": self.effective_ratio(mass),
        }


def effective_field(
    model: nn.Module, x: torch.Tensor, step: str, row: int, col: int, channel: int | None = None
) -> EffectiveField:
    """The effective receptive field of value (``row``, ``col``) of ``step`` — of ``channel``, or of
    the sum of all channels when None — for the input ``x`` (1, 3, H, W)."""
    if x.shape[0] != 1:
        raise ValueError("the effective receptive field is of one photo: give a batch of one")
    inp = x.detach().clone().requires_grad_(True)
    out, tr = live_step(model, inp, step)  # (1, C, h, w)
    if out.ndim != 4:
        raise ValueError(f"{step!r} is not a grid of values (its shape is {tuple(out.shape)})")
    _, channels, rows, cols = out.shape
    if not (0 <= row < rows and 0 <= col < cols):
        raise ValueError(f"position ({row}, {col}) is outside {step!r}'s {rows}×{cols} grid")
    if channel is not None and not 0 <= channel < channels:
        raise ValueError(f"{step!r} has {channels} channels, not a channel {channel}")
    unit = out[0, :, row, col].sum() if channel is None else out[0, channel, row, col]
    (grad,) = torch.autograd.grad(unit, inp)  # (1, 3, H, W); the model's parameters get no .grad
    gradient = grad[0].abs().sum(dim=0).numpy().astype(np.float32)  # (H, W)
    return EffectiveField(
        step,
        channel,
        row,
        col,
        (rows, cols),
        float(unit.detach()),
        gradient,
        receptive_box(tr, step, row, col),
    )


def _centred(field: EffectiveField, s: float) -> int:
    """The nearest side ≥ ``s`` that a square centred on the theoretical square can have."""
    side = field.box.size
    n = min(side, max(1, math.ceil(s)))
    return n if n % 2 == side % 2 else min(side, n + 1)


def even_side(field: EffectiveField, mass: float = MASS) -> int:
    """The side of the centred square that would hold ``mass`` of the gradient if every pixel of the
    theoretical square moved the unit alike (its area ``mass`` of the square's)."""
    return _centred(field, field.box.size * math.sqrt(mass))


def effective_side_question(field: EffectiveField, mass: float = MASS) -> Choices[int]:
    """ "How wide is the central square that holds ``mass`` of this unit's gradient?" — the
    effective square's side, against the whole theoretical square (as if every pixel in it
    counted alike), the square that would hold ``mass`` of an evenly spread gradient, and half
    and a quarter of the theoretical side (every side of the theoretical square's parity)."""
    side, eff = field.box.size, field.effective_box(mass).size
    rivals = [side, even_side(field, mass), _centred(field, side / 2), _centred(field, side / 4)]
    return choices(eff, rivals, salt="erf_side")
