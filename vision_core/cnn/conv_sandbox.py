"""The convolution lesson's sandboxes: the pocket example edited by the learner, and a single-channel
convolution whose kernel size, stride, padding and dilation the learner sets.

* :func:`grid_from_table` — what a table editor returns, as a clean float grid (blanks are 0).
* :func:`output_so_far` — the output map after the first windows of a sliding kernel.
* :func:`small_grayscale` — the learner's photo as a small one-channel picture in [0, 1].
* :func:`sandbox_kernels` — a few hand-made k×k kernels to slide (average, edges).
* :func:`sandbox_conv` — the output size formula and the convolution for the learner's settings.
* :func:`footprint_picture` — the padded input with the cells one output value reads.
* :func:`padding_cells`, :func:`channel_sums` — reading a real layer's :class:`ConvBreakdown`.
* :func:`sum_terms` — a sum written out term by term, negative terms in brackets.
* :func:`rounded_to_sum` — terms rounded so that, as shown, they add up to the shown total;
  :func:`shown_breakdown` — a real layer's value taken apart that way.
* :func:`filters_picture`, :func:`maps_mosaic` and :func:`outline_map` — a layer's filters and
  feature maps, one marked.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image

from vision_core import figures
from vision_core.cnn import pixels
from vision_core.cnn.convolution import ConvBreakdown, output_shape
from vision_core.cnn.pocket import Window, conv2d


def grid_from_table(data) -> np.ndarray:
    """A 2-D float64 grid from a table (DataFrame, array, nested lists); empty cells become 0."""
    values = np.asarray(getattr(data, "to_numpy", lambda: data)(), dtype=object)
    grid = np.array(
        [[np.nan if v is None or v == "" else v for v in row] for row in values], dtype=np.float64
    )
    return np.nan_to_num(grid, nan=0.0, posinf=0.0, neginf=0.0)


def output_so_far(windows: Sequence[Window], done: int, shape: tuple[int, int]) -> np.ndarray:
    """The output after the first ``done`` windows (reading order); cells not reached yet are NaN."""
    out = np.full(shape, np.nan)
    for w in windows[:done]:
        out[w.y, w.x] = w.value
    return out


def small_grayscale(image: Image.Image, side: int = 32) -> np.ndarray:
    """A ``side``×``side`` grey version of a (square) picture, brightness in [0, 1]: PIL's
    ITU-R 601 luma, shrunk by averaging each block of pixels."""
    grey = image.convert("L").resize((side, side), Image.Resampling.BOX)
    return np.asarray(grey, dtype=np.float64) / 255.0


def sandbox_kernels(k: int) -> dict[str, np.ndarray]:
    """Hand-made k×k kernels: the average, and for k ≥ 2 a vertical and a horizontal edge
    detector (−1 on the left/top half, +1 on the right/bottom half, 0 on a middle line)."""
    if k < 1:
        raise ValueError("a kernel needs at least one cell")
    kernels = {"average": np.full((k, k), 1.0 / (k * k))}
    if k >= 2:
        row = np.sign(np.arange(k) - (k - 1) / 2)  # −1 … 0 … +1
        kernels["vertical_edges"] = np.tile(row, (k, 1))
        kernels["horizontal_edges"] = np.tile(row[:, None], (1, k))
    return kernels


@dataclass
class SandboxConv:
    """One convolution with the learner's settings: sizes from the formula, and the output
    (``None`` when the kernel does not fit the padded input)."""

    in_size: tuple[int, int]
    kernel: np.ndarray
    stride: int
    padding: int
    dilation: int
    out_size: tuple[int, int]  # from the formula; ≤ 0 when nothing fits
    span: int  # input cells one kernel covers along a side: dilation · (k − 1) + 1
    output: np.ndarray | None

    @property
    def fits(self) -> bool:
        return self.output is not None

    @property
    def padded(self) -> int:
        """The input's side with the padding on both sides: ``in + 2p``."""
        return self.in_size[0] + 2 * self.padding

    @property
    def cells(self) -> int:
        """How many output values there are (0 when the kernel does not fit)."""
        return max(self.out_size[0], 0) * max(self.out_size[1], 0)

    def cell(self, number: int) -> tuple[int, int]:
        """(row, col) of output value ``number``, counted from 1 in reading order."""
        if not 1 <= number <= self.cells:
            raise ValueError(f"there are {self.cells} output values, not a number {number}")
        row, col = divmod(number - 1, self.out_size[1])
        return row, col


def sandbox_conv(
    image: np.ndarray, kernel: np.ndarray, *, stride: int = 1, padding: int = 0, dilation: int = 1
) -> SandboxConv:
    """The output size from ``⌊(in + 2p − d(k − 1) − 1) / s⌋ + 1`` and the convolution itself."""
    image = np.asarray(image, dtype=np.float64)
    kernel = np.asarray(kernel, dtype=np.float64)
    if stride < 1 or dilation < 1 or padding < 0:
        raise ValueError("stride and dilation must be at least 1, padding at least 0")
    out = output_shape(image.shape, kernel.shape, stride, padding, dilation)
    fits = min(out) >= 1
    result = conv2d(image, kernel, stride=stride, padding=padding, dilation=dilation) if fits else None
    if result is not None and result.shape != out:
        raise AssertionError(f"the formula says {out} but the convolution gave {result.shape}")
    return SandboxConv(
        image.shape, kernel, stride, padding, dilation, out, dilation * (kernel.shape[0] - 1) + 1, result
    )


def window_cells(k: int, stride: int, dilation: int, y: int, x: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns, in padded coordinates, that output (``y``, ``x``) reads."""
    return y * stride + dilation * np.arange(k), x * stride + dilation * np.arange(k)


PADDING_COLOR = (170, 200, 255)
WINDOW_COLOR = (255, 45, 85)


def cell_scale(size: int, side: int = 320) -> int:
    """How many screen pixels per cell make a ``size``-cell grid about ``side`` pixels wide."""
    return max(1, side // max(1, size))


def _grid_lines(picture: np.ndarray, factor: int) -> np.ndarray:
    """Darken the first row and column of every enlarged cell, so that each cell reads as one number."""
    if factor >= 4:
        picture[::factor, :] = (picture[::factor, :] * 0.8).astype(np.uint8)
        picture[:, ::factor] = (picture[:, ::factor] * 0.8).astype(np.uint8)
    return picture


def footprint_picture(
    image: np.ndarray,
    k: int,
    *,
    stride: int = 1,
    padding: int = 0,
    dilation: int = 1,
    y: int = 0,
    x: int = 0,
    factor: int = 8,
) -> np.ndarray:
    """The input (grey, any range) with its padding drawn in pale blue and the cells output
    (``y``, ``x``) reads tinted red, each cell ``factor`` pixels wide.  Cells a window would read
    beyond the padded input are not drawn."""
    v = np.asarray(image, dtype=np.float64)
    lo, hi = float(v.min()), float(v.max())
    grey = (v - lo) / (hi - lo) if hi > lo else np.full_like(v, 0.5)
    h, w = grey.shape
    ph, pw = h + 2 * padding, w + 2 * padding
    rgb = np.empty((ph, pw, 3), dtype=np.float64)
    rgb[:] = PADDING_COLOR
    rgb[padding : padding + h, padding : padding + w] = (grey * 255)[..., None]
    rows, cols = window_cells(k, stride, dilation, y, x)
    cells = np.ix_(rows[rows < ph], cols[cols < pw])
    rgb[cells] = 0.35 * rgb[cells] + 0.65 * np.array(WINDOW_COLOR, dtype=np.float64)
    return _grid_lines(figures.enlarge(rgb.round().astype(np.uint8), factor), factor)


def output_picture(output: np.ndarray, *, signed: bool, y: int, x: int, factor: int = 8) -> np.ndarray:
    """An output map as a picture, ``factor`` pixels per cell (the input's scale, so that sizes
    compare): red/blue about zero when ``signed``, else grey from dark to light; cell (y, x) outlined."""
    rgb = figures.colorize(output, "RdBu_r", symmetric=True) if signed else figures.colorize(output, "gray")
    big = _grid_lines(figures.enlarge(rgb, factor), factor)
    return pixels.draw_box(
        big, (x * factor, y * factor, (x + 1) * factor, (y + 1) * factor), width=max(1, factor // 6)
    )


def padding_cells(rows: np.ndarray, cols: np.ndarray, height: int, width: int) -> np.ndarray:
    """(len(rows), len(cols)) mask of the kernel cells that lie on padding, not on the input."""
    r = (np.asarray(rows) < 0) | (np.asarray(rows) >= height)
    c = (np.asarray(cols) < 0) | (np.asarray(cols) >= width)
    return r[:, None] | c[None, :]


def channel_sums(b: ConvBreakdown) -> np.ndarray:
    """The sum of patch × kernel over each input channel the kernel reads (float64)."""
    return b.products.reshape(b.products.shape[0], -1).sum(axis=1)


def layer_weights(model, step: str) -> np.ndarray:
    """The weights of convolution ``step`` of ``model`` as float64 NumPy, (F, C/groups, K_h, K_w)."""
    return model.get_submodule(step).weight.detach().double().numpy()


def tile_box(
    index: int, count: int, tile: tuple[int, int], pad: int = 1, cols: int | None = None, scale: int = 1
) -> tuple[int, int, int, int]:
    """Where tile ``index`` of ``count`` sits in a picture made by :func:`vision_core.figures.mosaic`
    or :func:`~vision_core.figures.filters_mosaic` (same layout), as (left, top, right, bottom)
    with right/bottom exclusive, after enlarging the picture ``scale`` times."""
    if not 0 <= index < count:
        raise IndexError(f"tile {index} of {count}")
    h, w = tile
    cols = cols or int(np.ceil(np.sqrt(count)))
    r, c = divmod(index, cols)
    left, top = c * (w + pad), r * (h + pad)
    return left * scale, top * scale, (left + w) * scale, (top + h) * scale


def sum_terms(
    values: Sequence[float], fmt: str | Callable[[float], str] = "{:g}", names: Sequence[str] | None = None
) -> str:
    """``values`` written as a sum, ``1 + (−2) + 3``; with ``names`` each term is ``name value``.

    ``fmt`` is a format string or a function that writes one number (a lesson's ``num``, so that
    Russian gets its decimal comma).  A term is bracketed when it is written with a minus; a zero,
    or a number that rounds to zero, is written without one ("0", never "-0" or "(-0.000)")."""
    show = fmt if callable(fmt) else fmt.format
    labels = [f"{n} " for n in names] if names is not None else [""] * len(values)
    shown = [unsigned_zero(show(float(v) + 0.0)) for v in values]  # + 0.0 turns -0.0 into 0.0
    bracketed = [f"({s})" if s.startswith("-") else s for s in shown]
    return " + ".join(f"{label}{s}" for label, s in zip(labels, bracketed, strict=True))


def unsigned_zero(shown: str) -> str:
    """ "-0", "-0.000", "-0,00" → the same without the minus; any other number as it is."""
    return shown[1:] if re.fullmatch(r"-[0.,\u202f]+(e[+-]?\d+)?%?", shown) else shown


def rounded_to_sum(values: Sequence[float] | np.ndarray, total: float, decimals: int) -> np.ndarray:
    """``values`` rounded to ``decimals`` places so that, as written, they add up exactly to
    ``total`` rounded to the same places (the largest-remainder method): a learner adding the shown
    terms gets the shown total.  Where plain rounding would not add up, the terms closest to a
    rounding boundary move one unit in the last place; the others keep their plain rounding, and
    a term that needs no rounding (a 0 on padding) never moves."""
    x = np.asarray(values, dtype=np.float64)
    scale = 10.0**decimals
    scaled = x.ravel() * scale
    units = np.round(scaled)
    short = int(np.round(float(total) * scale)) - int(units.sum())
    movable = np.flatnonzero(units != scaled)
    movable = movable if movable.size else np.arange(units.size)
    if short and movable.size:
        off = (units - scaled)[movable] * np.sign(short)  # most negative: moved furthest the other way
        order = movable[np.argsort(off, kind="stable")]
        for i in range(abs(short)):
            units[order[i % order.size]] += np.sign(short)
    return (units / scale).reshape(x.shape)


SHOWN_DECIMALS = 3  # the decimals a real convolution's value is taken apart with


@dataclass(frozen=True)
class ShownBreakdown:
    """A :class:`ConvBreakdown` as written on the page, every number at ``decimals`` places, so
    that each channel's shown products add up to its shown sum, and the shown sums and bias to the
    shown value (see :func:`rounded_to_sum`)."""

    decimals: int
    patch: np.ndarray  # (C, k, k), plain rounding
    kernel: np.ndarray  # (C, k, k), plain rounding
    products: np.ndarray  # (C, k, k), adding up to ``sums``
    sums: np.ndarray  # (C,)
    bias: float
    value: float


def shown_breakdown(b: ConvBreakdown, decimals: int = SHOWN_DECIMALS) -> ShownBreakdown:
    """The numbers of ``b`` to write, rounded so that every sum on the page can be re-checked."""
    sums = channel_sums(b)
    *shown_sums, bias = rounded_to_sum([*sums, b.bias], b.value, decimals)
    products = np.stack([rounded_to_sum(p, s, decimals) for p, s in zip(b.products, shown_sums, strict=True)])
    return ShownBreakdown(
        decimals,
        np.round(b.patch, decimals),
        np.round(b.kernel, decimals),
        products,
        np.array(shown_sums),
        float(bias),
        float(np.round(b.value, decimals)),
    )


def filters_picture(weights: np.ndarray, channel: int, side: int = 480) -> np.ndarray:
    """The (F, C, K, K) filters as a mosaic of colour tiles about ``side`` pixels wide, crisp, with
    filter ``channel`` outlined."""
    tiles = figures.filters_mosaic(weights)
    scale = cell_scale(tiles.shape[1], side)
    box = tile_box(channel, len(weights), tuple(weights.shape[2:]), scale=scale)
    return pixels.draw_box(figures.enlarge(tiles, scale), box, width=3)


MAPS_PAD = 3  # white pixels between the maps of a mosaic


def maps_mosaic(maps: np.ndarray) -> np.ndarray:
    """The (F, H, W) feature maps as one RGB mosaic, each map on its own scale (none outlined)."""
    return figures.colorize_mosaic(figures.mosaic(maps, pad=MAPS_PAD))


def outline_map(mosaic: np.ndarray, channel: int, count: int, shape: tuple[int, int]) -> np.ndarray:
    """A copy of a :func:`maps_mosaic` of ``count`` maps of ``shape`` with map ``channel`` outlined."""
    box = tile_box(channel, count, shape, pad=MAPS_PAD)
    return pixels.draw_box(mosaic, box, width=4)
