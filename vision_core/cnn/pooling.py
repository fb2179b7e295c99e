"""Down-sampling, window by window: pooling on the pocket example and in the real networks.

* :func:`pool_windows` — every window of a max / average pooling, or of the syllabus's 2×2 filter
  of ones moved two pixels at a time, with the numbers under it and the one number it leaves.
* :func:`downsampling_steps` — the steps of a trace that shrink the grid (stride > 1): ResNet's
  max-pool and strided convolutions, or EfficientNet-Lite0's strided convolutions, which replace
  pooling altogether.
* :func:`shrink_count_question` — "how many times does the grid shrink?", with its rivals.
* :func:`pool_window` — one output value of a real pooling step, with its input window (the
  padding marked) and where the kept value came from.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from vision_core.cnn.convolution import output_size
from vision_core.cnn.pocket import Pooling
from vision_core.cnn.stages import format_shape
from vision_core.engine.trace import Trace
from vision_core.quiz import Choices, choices


@dataclass(frozen=True)
class PoolWindow:
    """One window of a pooling: output cell (y, x), the input rows/cols it covers, the numbers
    under it (NaN where it lies on padding), the number it leaves, and for max-pooling the input
    (row, col) that number came from."""

    y: int
    x: int
    rows: np.ndarray
    cols: np.ndarray
    patch: np.ndarray
    value: float
    source: tuple[int, int] | None = None

    @property
    def bounds(self) -> tuple[int, int, int, int]:
        """(top row, left col, bottom row, right col) of the window's input cells, inclusive."""
        return int(self.rows[0]), int(self.cols[0]), int(self.rows[-1]), int(self.cols[-1])

    @property
    def source_in_window(self) -> tuple[int, int] | None:
        """Where the kept value sits inside ``patch`` (row, col), for max-pooling."""
        if self.source is None:
            return None
        return self.source[0] - int(self.rows[0]), self.source[1] - int(self.cols[0])


def _reduce(patch: np.ndarray, op: str) -> float:
    if op == "max":
        return float(np.nanmax(patch))
    if op == "avg":
        return float(np.nanmean(patch))
    if op == "stride2":
        return float(np.nansum(patch))
    raise ValueError(f"unknown pooling {op!r}")


def _argmax(patch: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> tuple[int, int]:
    """The input position of the first largest value (reading order, as torch picks it)."""
    i, j = np.unravel_index(int(np.nanargmax(patch)), patch.shape)
    return int(rows[i]), int(cols[j])


def pool_windows(
    feature_map: np.ndarray, op: Pooling, *, kernel: int = 2, stride: int | None = None
) -> list[PoolWindow]:
    """Every window of a pooling of one 2-D map, in reading order (matches :func:`pocket.pool2d`).

    ``"stride2"`` is the 2×2 filter of ones moved two pixels at a time: it adds the four numbers.
    Windows that would hang over the edge are never visited, so a 3×3 map pooled 2×2 with
    stride 2 gives one number and its last row and column are dropped.
    """
    m = np.asarray(feature_map, dtype=np.float64)
    if op == "stride2":
        kernel, stride = 2, 2
    stride = stride or kernel
    out_h, out_w = output_size(m.shape[0], kernel, stride), output_size(m.shape[1], kernel, stride)
    windows = []
    for y in range(out_h):
        for x in range(out_w):
            rows = y * stride + np.arange(kernel)
            cols = x * stride + np.arange(kernel)
            patch = m[np.ix_(rows, cols)]
            source = _argmax(patch, rows, cols) if op == "max" else None
            windows.append(PoolWindow(y, x, rows, cols, patch, _reduce(patch, op), source))
    return windows


@dataclass(frozen=True)
class Downsampling:
    """A step that shrinks the grid: its kind, arithmetic and shapes (channels, height, width)."""

    name: str
    kind: str  # "max-pool", "avg-pool", "depthwise conv" or "conv"
    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int, int, int]  # top, bottom, left, right
    input: str
    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]

    @property
    def per_channel(self) -> bool:
        """True when output channel c is made from input channel c alone (pooling, depthwise
        convolution), so that "before" and "after" pictures of one channel can be compared."""
        return self.kind in ("max-pool", "avg-pool", "depthwise conv")

    @property
    def pooling(self) -> bool:
        """True for a max- or average pooling, False for a strided convolution."""
        return self.kind.endswith("pool")

    @property
    def kind_id(self) -> str:
        """The kind as a name: ``max_pool``, ``avg_pool``, ``depthwise_conv``, ``conv``."""
        return self.kind.replace("-", "_").replace(" ", "_")

    @property
    def label(self) -> str:
        """``name · in → out``, e.g. ``maxpool · 64×112×112 → 64×56×56``."""
        return f"{self.name} · {format_shape(self.in_shape)} → {format_shape(self.out_shape)}"

    def row(self) -> dict[str, object]:
        """The step as a line of the lesson's table (the kind as :attr:`kind_id`)."""
        return {
            "step": self.name,
            "kind": self.kind_id,
            "kernel": format_shape(self.kernel),
            "stride": self.stride[0],
            "padding": str(self.padding),
            "in": format_shape(self.in_shape),
            "out": format_shape(self.out_shape),
        }


def downsampling_steps(tr: Trace) -> list[Downsampling]:
    """The convolutions and poolings whose stride is more than 1, in the order they run."""
    found = []
    for step in tr.of_kind("conv", "pool"):
        stride = tuple(step.meta["stride"])
        if max(stride) <= 1 or not step.inputs:
            continue
        if step.kind == "pool":
            kind = f"{step.meta['op']}-pool"
        elif (
            step.meta["groups"] > 1
            and step.meta["groups"] == step.meta["in_channels"] == step.meta["out_channels"]
        ):
            kind = "depthwise conv"
        else:
            kind = "conv"
        found.append(
            Downsampling(
                step.name,
                kind,
                tuple(step.meta["kernel"]),
                stride,
                tuple(step.meta["padding"]),
                step.inputs[0],
                tr[step.inputs[0]].shape[1:],
                step.shape[1:],
            )
        )
    return found


def grid_sizes(steps: Sequence[Downsampling]) -> list[tuple[int, int]]:
    """The grid's height and width before the first step and after each time it shrinks, in order.

    A layer that shrinks in parallel with another (ResNet's ``downsample.0`` shortcut, beside the
    strided convolution of the same block) gives the same size again and is not a new step: the
    grid shrinks ``len(grid_sizes(steps)) - 1`` times."""
    if not steps:
        return []
    sizes = [tuple(steps[0].in_shape[-2:])]
    for d in steps:
        size = tuple(d.out_shape[-2:])
        if size not in sizes:
            sizes.append(size)
    return sizes  # type: ignore[return-value]


def parallel_steps(steps: Sequence[Downsampling]) -> list[Downsampling]:
    """The steps whose output grid an earlier step already made: shortcuts that shrink in parallel."""
    seen: set[tuple[int, ...]] = set()
    parallel = []
    for d in steps:
        size = tuple(d.out_shape[-2:])
        if size in seen:
            parallel.append(d)
        seen.add(size)
    return parallel


def first_pool(steps: Sequence[Downsampling]) -> Downsampling | None:
    """The first pooling among the down-sampling steps (None for a network that only strides)."""
    return next((d for d in steps if d.pooling), None)


def depthwise_count(steps: Sequence[Downsampling]) -> int:
    """How many of the down-sampling steps are depthwise convolutions."""
    return sum(d.kind == "depthwise conv" for d in steps)


def pool_window(tr: Trace, step: str, channel: int, y: int, x: int) -> PoolWindow:
    """The window behind ``tr[step][0, channel, y, x]`` of a max or average pooling step.

    The step and its input must be kept in the trace.  Cells on the padding are NaN in
    ``patch``; ``value`` is what the network recorded there.  Torch's max-pool pads with −∞ (a
    padding cell never wins); its average pool counts padding zeros, unless told otherwise.
    """
    s = tr[step]
    if s.kind != "pool":
        raise ValueError(f"{step!r} is a {s.kind} step, not a pooling")
    inp = tr[s.inputs[0]].numpy()[0, channel].astype(np.float64)  # (H, W)
    top, _, left, _ = s.meta["padding"]
    kh, kw = s.meta["kernel"]
    sh, sw = s.meta["stride"]
    dh, dw = s.meta["dilation"]
    rows = y * sh - top + dh * np.arange(kh)
    cols = x * sw - left + dw * np.arange(kw)
    inside_r = (rows >= 0) & (rows < inp.shape[0])
    inside_c = (cols >= 0) & (cols < inp.shape[1])
    patch = np.full((kh, kw), np.nan)
    patch[np.ix_(inside_r, inside_c)] = inp[np.ix_(rows[inside_r], cols[inside_c])]
    value = float(s.numpy()[0, channel, y, x])
    source = _argmax(patch, rows, cols) if s.meta["op"] == "max" else None
    return PoolWindow(y, x, rows, cols, patch, value, source)


def padding_mask(rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Which cells of a window over rows × cols lie past the edge of a ``shape`` map (on padding)."""
    rows, cols = np.asarray(rows), np.asarray(cols)
    outside_r = (rows < 0) | (rows >= shape[0])
    outside_c = (cols < 0) | (cols >= shape[1])
    return outside_r[:, None] | outside_c[None, :]


def edge_never_read(size: int, kernel: int, stride: int) -> int:
    """How many rows (or columns) at the far edge no window ever covers, without padding:
    ``size − ((out − 1)·stride + kernel)``, e.g. 1 for a 3-wide map pooled 2×2 with stride 2."""
    out = output_size(size, kernel, stride)
    return max(size - ((out - 1) * stride + kernel), 0)


def window_place(y: int, x: int, rows: np.ndarray, cols: np.ndarray) -> dict[str, object]:
    """Where an output value's window sits: its output position and the input rows and columns it
    spans, written ``first–last`` (negative or past the edge on padding)."""
    return {
        "row": y,
        "col": x,
        "rows": f"{int(rows[0])}–{int(rows[-1])}",
        "cols": f"{int(cols[0])}–{int(cols[-1])}",
    }


def shrink_factor(sizes: Sequence[tuple[int, int]]) -> float:
    """How many times narrower the last grid of :func:`grid_sizes` is than the first."""
    return sizes[0][0] / sizes[-1][0]


def shrink_count_question(sizes: Sequence[tuple[int, int]]) -> Choices[int]:
    """ "How many times does the grid shrink?" — the number of times it gets smaller
    (``len(sizes) - 1``, ``sizes`` from :func:`grid_sizes`), against one fewer, one more, and the
    whole shrinking factor (first side / last side: the times narrower, mistaken for the steps)."""
    count = len(sizes) - 1
    if count < 1:
        raise ValueError("the grid never shrinks: there is nothing to ask")
    factor = round(shrink_factor(sizes))
    return choices(count, [count + 1, max(count - 1, 0), factor, count + 2], salt="shrink_count")
