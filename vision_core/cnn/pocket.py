"""The syllabus's pocket-size CNN: a 4×4 picture, two 2×2 filters, ReLU, pooling and GAP.

Only the inputs are written here (the picture and the filters the syllabus starts from, which a
learner may edit); every number after them is computed, with the same torch operations the real
networks use.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from torch.nn import functional as F

from vision_core.cnn.convolution import output_size

# The syllabus's starting point (file 000): one grayscale channel, 4×4 pixels.
POCKET_IMAGE = np.array([[1, 2, 0, 1], [0, 1, 3, 2], [2, 1, 0, 0], [1, 2, 1, 3]], dtype=np.float64)
# Filter A sums the main diagonal; filter B subtracts the top-right from the bottom-left.
POCKET_FILTERS = {
    "A": np.array([[1, 0], [0, 1]], dtype=np.float64),
    "B": np.array([[0, -1], [1, 0]], dtype=np.float64),
}

Pooling = Literal["max", "avg", "stride2"]
# the pooling the lessons carry the example through: 2×2 windows moved 2 cells at a time
POOL_KERNEL = POOL_STRIDE = 2


def is_syllabus(image: np.ndarray, filters: dict[str, np.ndarray]) -> bool:
    """Whether ``image`` and ``filters`` are still the syllabus's own numbers (nothing edited)."""
    same = lambda a, b: np.shape(a) == np.shape(b) and np.array_equal(a, b)  # noqa: E731
    return (
        same(image, POCKET_IMAGE)
        and filters.keys() == POCKET_FILTERS.keys()
        and all(same(filters[n], k) for n, k in POCKET_FILTERS.items())
    )


@dataclass
class Window:
    """One position of the sliding window: where it sits and the multiply-and-sum it does."""

    y: int
    x: int
    rows: np.ndarray  # input rows under the kernel (may fall on padding)
    cols: np.ndarray
    patch: np.ndarray  # the input values under the kernel (zeros on padding)
    products: np.ndarray
    value: float

    @property
    def bounds(self) -> tuple[int, int, int, int]:
        """(top row, left col, bottom row, right col) of the input cells under the kernel, inclusive."""
        return int(self.rows[0]), int(self.cols[0]), int(self.rows[-1]), int(self.cols[-1])


def conv2d(
    image: np.ndarray,
    kernel: np.ndarray,
    *,
    stride: int = 1,
    padding: int = 0,
    dilation: int = 1,
    bias: float = 0.0,
) -> np.ndarray:
    """A single-channel convolution (cross-correlation, as in every deep-learning library)."""
    x = torch.as_tensor(image, dtype=torch.float64)[None, None]
    w = torch.as_tensor(kernel, dtype=torch.float64)[None, None]
    b = torch.tensor([bias], dtype=torch.float64)
    return F.conv2d(x, w, b, stride=stride, padding=padding, dilation=dilation)[0, 0].numpy()


def sliding_windows(
    image: np.ndarray,
    kernel: np.ndarray,
    *,
    stride: int = 1,
    padding: int = 0,
    dilation: int = 1,
    bias: float = 0.0,
) -> list[Window]:
    """Every window position in reading order, each with its patch, products and sum."""
    image = np.asarray(image, dtype=np.float64)
    kernel = np.asarray(kernel, dtype=np.float64)
    kh, kw = kernel.shape
    padded = np.pad(image, padding)
    out_h = output_size(image.shape[0], kh, stride, padding, dilation)
    out_w = output_size(image.shape[1], kw, stride, padding, dilation)
    windows = []
    for y in range(out_h):
        for x in range(out_w):
            rows = y * stride + dilation * np.arange(kh)
            cols = x * stride + dilation * np.arange(kw)
            patch = padded[np.ix_(rows, cols)]
            products = patch * kernel
            windows.append(
                Window(y, x, rows - padding, cols - padding, patch, products, float(products.sum() + bias))
            )
    return windows


def pool2d(feature_map: np.ndarray, op: Pooling, *, kernel: int = 2, stride: int | None = None) -> np.ndarray:
    """Max or average pooling; ``"stride2"`` is the syllabus's alternative, a 2×2 filter of ones
    moved two pixels at a time (a sum, i.e. four times the average, over each 2×2 block)."""
    x = torch.as_tensor(feature_map, dtype=torch.float64)[None, None]
    if op == "max":
        out = F.max_pool2d(x, kernel, stride or kernel)
    elif op == "avg":
        out = F.avg_pool2d(x, kernel, stride or kernel)
    elif op == "stride2":
        out = F.conv2d(x, torch.ones(1, 1, 2, 2, dtype=torch.float64), stride=2)
    else:
        raise ValueError(f"unknown pooling {op!r}")
    return out[0, 0].numpy()


@dataclass
class PocketCNN:
    """Every intermediate result of the pocket CNN, per filter name."""

    image: np.ndarray
    filters: dict[str, np.ndarray]
    conv: dict[str, np.ndarray]
    relu: dict[str, np.ndarray]
    pooled: dict[str, np.ndarray]
    vector: np.ndarray  # global average of each pooled map, in filter order


def run_pocket_cnn(
    image: np.ndarray = POCKET_IMAGE,
    filters: dict[str, np.ndarray] | None = None,
    *,
    stride: int = 1,
    padding: int = 0,
    pool: Pooling = "max",
    pool_kernel: int = POOL_KERNEL,
    pool_stride: int | None = POOL_STRIDE,
) -> PocketCNN:
    """Convolution → ReLU → pooling → GAP on a small single-channel picture."""
    filters = POCKET_FILTERS if filters is None else filters
    conv = {n: conv2d(image, k, stride=stride, padding=padding) for n, k in filters.items()}
    relu = {n: np.maximum(m, 0.0) for n, m in conv.items()}
    pooled = {n: pool2d(m, pool, kernel=pool_kernel, stride=pool_stride) for n, m in relu.items()}
    vector = np.array([m.mean() if m.size else np.nan for m in pooled.values()])
    return PocketCNN(np.asarray(image, dtype=np.float64), dict(filters), conv, relu, pooled, vector)
