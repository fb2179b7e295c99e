"""Activation functions applied to real feature maps, and what they do to them.

* :func:`apply` — ReLU, ReLU6, Leaky ReLU, GELU or SiLU on any array, with the same torch
  functions the networks use (so ``apply("relu6", bn_output)`` reproduces Lite0's stem exactly).
* :func:`curve` — the function itself, sampled for a plot.
* :func:`activation_stats` — what the activation did to a map: the share of values it set to
  zero, the share it capped, and the range before and after.
* :func:`balanced_channel` — the channel whose values are closest to half zeroed, a good one to
  look at first.
* :func:`histogram` — how the values before the activation are spread; :func:`nice_ticks` for its
  count axis.
* :func:`colour_bound` — a colour scale's end that one outlier cannot set; :data:`COMPARE_RANGE`,
  the inputs over which the functions are compared.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch.nn import functional as F

from vision_core.quiz import Choices, choices

ACTIVATIONS = ("relu", "relu6", "leaky_relu", "gelu", "silu")
TITLES = {
    "relu": "ReLU",
    "relu6": "ReLU6",
    "leaky_relu": "Leaky ReLU",
    "gelu": "GELU",
    "silu": "SiLU (Swish)",
}
RELU6_CAP = 6.0  # ReLU6 = min(max(0, x), 6)
LEAKY_SLOPE = 0.01  # torch.nn.LeakyReLU's default slope for negative inputs
# the largest value each function can give (None: unbounded)
CAPS: dict[str, float | None] = {
    "relu": None,
    "relu6": RELU6_CAP,
    "leaky_relu": None,
    "gelu": None,
    "silu": None,
}


def apply(name: str, values: np.ndarray, *, slope: float = LEAKY_SLOPE) -> np.ndarray:
    """``name`` applied element by element, in float32 as the networks compute it."""
    x = torch.from_numpy(np.array(values, dtype=np.float32))  # a copy: traces' arrays are read-only
    if name == "relu":
        y = torch.relu(x)
    elif name == "relu6":
        y = F.relu6(x)
    elif name == "leaky_relu":
        y = F.leaky_relu(x, negative_slope=slope)
    elif name == "gelu":
        y = F.gelu(x)
    elif name == "silu":
        y = F.silu(x)
    else:
        raise ValueError(f"unknown activation {name!r}; known: {', '.join(ACTIVATIONS)}")
    return y.numpy()


def curve(
    name: str, lo: float, hi: float, n: int = 401, *, slope: float = LEAKY_SLOPE
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points (x, f(x)) from ``lo`` to ``hi``, zero included when it lies between them."""
    x = np.linspace(lo, hi, n, dtype=np.float64)
    if lo < 0 < hi:
        x = np.unique(np.append(x, 0.0))
    return x, apply(name, x, slope=slope).astype(np.float64)


# these give exactly 0 only at x = 0; where float32 shows more zeros, it rounded tiny outputs
# (in float32, GELU(x) underflows to 0 from about x = -6 down): count |y| < NEAR_ZERO instead
ZERO_ONLY_AT_ORIGIN = frozenset({"leaky_relu", "gelu", "silu"})
NEAR_ZERO = 1e-6


def near_zero_fraction(values: np.ndarray, tol: float = NEAR_ZERO) -> float:
    """The share of values with |v| < ``tol``: "practically 0"."""
    v = np.asarray(values)
    return float(np.count_nonzero(np.abs(v) < tol) / v.size) if v.size else float("nan")


def zero_fraction(values: np.ndarray) -> float:
    """The share of values that are exactly zero."""
    v = np.asarray(values)
    return float(np.count_nonzero(v == 0) / v.size) if v.size else float("nan")


def capped_fraction(values: np.ndarray, cap: float | None) -> float:
    """The share of values sitting exactly at ``cap`` (0 when the function has no cap)."""
    v = np.asarray(values)
    if cap is None or not v.size:
        return 0.0
    return float(np.count_nonzero(v == np.float32(cap)) / v.size)


@dataclass(frozen=True)
class ActivationStats:
    """What an activation did to a map of values."""

    function: str
    size: int  # how many values
    zeros: int  # how many outputs are exactly 0
    negatives: int  # how many inputs are below 0
    zeroed: float  # share of outputs that are exactly 0
    negative_before: float  # share of inputs below 0
    capped: float  # share of outputs at the function's cap (ReLU6: 6)
    near_zero: float  # share of outputs with |y| < NEAR_ZERO
    before: tuple[float, float]  # (min, max) of the inputs
    after: tuple[float, float]  # (min, max) of the outputs

    @property
    def bound(self) -> float:
        """The largest input magnitude: one symmetric colour scale for the map before and after."""
        return max(abs(self.before[0]), abs(self.before[1]))


def activation_stats(
    name: str, before: np.ndarray, after: np.ndarray | None = None, *, slope: float = LEAKY_SLOPE
) -> ActivationStats:
    """Statistics of ``after`` = ``name(before)`` (computed here when ``after`` is not given; pass
    the network's own output to describe what it recorded)."""
    before = np.asarray(before, dtype=np.float32)
    after = apply(name, before, slope=slope) if after is None else np.asarray(after, dtype=np.float32)
    if before.shape != after.shape:
        raise ValueError(f"before {before.shape} and after {after.shape} differ in shape")
    return ActivationStats(
        name,
        int(after.size),
        int(np.count_nonzero(after == 0)),
        int(np.count_nonzero(before < 0)),
        zero_fraction(after),
        float(np.count_nonzero(before < 0) / before.size),
        capped_fraction(after, CAPS[name]),
        near_zero_fraction(after),
        (float(before.min()), float(before.max())),
        (float(after.min()), float(after.max())),
    )


def channel_zero_fractions(after: np.ndarray) -> np.ndarray:
    """(C, H, W) → the share of zeros in each channel."""
    a = np.asarray(after)
    return (a == 0).reshape(a.shape[0], -1).mean(axis=1)


def balanced_channel(after: np.ndarray) -> int:
    """The channel of a (C, H, W) map whose share of zeros is closest to one half."""
    return int(np.argmin(np.abs(channel_zero_fractions(after) - 0.5)))


def curve_range(
    values: np.ndarray, must_include: tuple[float, float] = (-3.0, RELU6_CAP + 1.0), margin: float = 0.05
) -> tuple[float, float]:
    """An x-range for plotting the functions over ``values``: their whole range, widened to hold
    ``must_include`` (so that ReLU6's cap shows) and a small margin."""
    v = np.asarray(values, dtype=np.float64)
    lo, hi = min(float(v.min()), must_include[0]), max(float(v.max()), must_include[1])
    pad = margin * (hi - lo)
    return lo - pad, hi + pad


# the functions differ from one another between -RELU6_CAP and the cap: below about -6 GELU and SiLU
# are practically 0 like ReLU, and above the cap only ReLU6 stays flat
COMPARE_RANGE = (-RELU6_CAP, RELU6_CAP + 1.0)
# a map's colour scale reaches this percentile of its |values|: one outlier does not wash it out
ROBUST_PERCENTILE = 99.0


def colour_bound(values: np.ndarray, percentile: float = ROBUST_PERCENTILE) -> float:
    """The symmetric colour scale's end for a map: the ``percentile`` of its |values| (values
    beyond it are drawn in the scale's full colour), or their maximum when that percentile is 0."""
    v = np.abs(np.asarray(values, dtype=np.float64)).ravel()
    if not v.size:
        return 1.0
    bound = float(np.percentile(v, percentile, method="higher"))  # at least that share lies within
    return bound if bound > 0 else float(v.max()) or 1.0


def nice_ticks(top: float, count: int = 5) -> list[float]:
    """Ticks from 0 to at least ``top`` at a round step (1, 2 or 5 × 10ⁿ), about ``count`` of them."""
    if top <= 0:
        return [0.0]
    raw = top / max(count - 1, 1)
    power = 10.0 ** np.floor(np.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    return [float(step * i) for i in range(int(np.ceil(top / step - 1e-9)) + 1)]


def histogram(values: np.ndarray, bins: int = 60) -> tuple[np.ndarray, np.ndarray, float]:
    """How ``values`` spread: the centres of ``bins`` equal bins between their min and max, how
    many values fall in each, and the bins' width (for drawing bars)."""
    counts, edges = np.histogram(np.asarray(values, dtype=np.float64).ravel(), bins=bins)
    return (edges[:-1] + edges[1:]) / 2, counts, float(edges[1] - edges[0])


def max_difference(a: np.ndarray, b: np.ndarray) -> float:
    """Largest absolute difference between two arrays of the same shape."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"{a.shape} and {b.shape} differ in shape")
    return float(np.abs(a - b).max()) if a.size else 0.0


def channel_capped_fractions(after: np.ndarray, cap: float | None) -> np.ndarray:
    """(C, H, W) → the share of values at ``cap`` in each channel (zeros when there is no cap)."""
    a = np.asarray(after)
    if cap is None:
        return np.zeros(a.shape[0])
    return (a == np.float32(cap)).reshape(a.shape[0], -1).mean(axis=1)


def every_activation(
    before: np.ndarray, *, slope: float = LEAKY_SLOPE
) -> dict[str, tuple[np.ndarray, ActivationStats]]:
    """Each function of :data:`ACTIVATIONS` applied to the same values, with its statistics."""
    out = {}
    for name in ACTIVATIONS:
        result = apply(name, before, slope=slope)
        out[name] = result, activation_stats(name, before, result, slope=slope)
    return out


ZERO_BUCKETS = (0.0, 0.25, 0.5, 0.75, 1.0)  # the quarters a learner picks the zeroed share from


def zero_bucket(share: float) -> int:
    """Which quarter of :data:`ZERO_BUCKETS` a share falls in (each holds its lower edge; the last
    also holds 1)."""
    inner = ZERO_BUCKETS[1:-1]
    return int(np.searchsorted(np.asarray(inner), share, side="right"))


def zeroed_share_question(stats: ActivationStats) -> Choices[int]:
    """ "What share of the layer's numbers will the activation set to 0?" — the quarter (an index
    into :data:`ZERO_BUCKETS`) the recorded share of exact zeros falls in, against the other three."""
    right = zero_bucket(stats.zeroed)
    others = [b for b in range(len(ZERO_BUCKETS) - 1) if b != right]
    return choices(right, others, salt="zeroed_share")
