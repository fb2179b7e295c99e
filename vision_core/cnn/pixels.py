"""Photo → tensor, read number by number: what happens to one pixel, and to the whole grid.

* :func:`pixel_journey` — one pixel's three channel values on their way into the network:
  0–255, ÷ 255, − mean, ÷ std, next to the value the tensor really holds.
* :func:`value_ranges` — the smallest and largest numbers before and after normalisation, and
  the range any pixel could reach.
* :func:`corner` — the top-left block of one channel, raw and normalised.
* :func:`preparation`, :func:`normalisation_rule` — the sizes of resize and crop, and the
  normalisation written on the 0–255 scale.
* :func:`channel_planes`, :func:`draw_box`, :func:`roundtrip_error` — the pictures of the lesson.

Every number is computed in float32 in torchvision's order (``ToTensor`` then ``Normalize``),
so the last step of :func:`pixel_journey` equals the tensor bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vision_core.engine.preprocess import PreprocessSteps, denormalize
from vision_core.quiz import Choices, choices

CHANNELS = ("R", "G", "B")


@dataclass(frozen=True)
class ChannelJourney:
    """One channel of one pixel: ``value = (raw / 255 − mean) / std``, step by step."""

    channel: str
    raw: int  # 0..255, as stored in the photo
    scaled: float  # raw / 255
    centred: float  # scaled − mean
    value: float  # centred / std: the number the network is given
    mean: float
    std: float
    tensor: float  # what the prepared tensor holds at that place


def _f32(v) -> np.float32:
    return np.float32(v)


def pixel_journey(steps: PreprocessSteps, y: int, x: int) -> list[ChannelJourney]:
    """The R, G and B values of pixel (``y``, ``x``) of the cropped picture, step by step."""
    h, w = steps.pixels.shape[:2]
    if not (0 <= y < h and 0 <= x < w):
        raise IndexError(f"pixel ({y}, {x}) is outside the {h}×{w} picture")
    prep = steps.preprocessing
    tensor = steps.tensor[0].numpy()
    out = []
    for c, name in enumerate(CHANNELS):
        raw = int(steps.pixels[y, x, c])
        scaled = _f32(raw) / _f32(255)
        centred = scaled - _f32(prep.mean[c])
        value = centred / _f32(prep.std[c])
        out.append(
            ChannelJourney(
                name,
                raw,
                float(scaled),
                float(centred),
                float(value),
                float(_f32(prep.mean[c])),
                float(_f32(prep.std[c])),
                float(tensor[c, y, x]),
            )
        )
    return out


@dataclass(frozen=True)
class ValueRanges:
    """Smallest and largest numbers of the photo (0–255) and of the tensor, and the limits any
    pixel could reach after normalisation (per channel: 0 and 255 sent through the formula)."""

    raw: tuple[int, int]
    normalised: tuple[float, float]
    limits: tuple[tuple[float, float], ...]  # per channel (lowest, highest) possible

    @property
    def possible(self) -> tuple[float, float]:
        """The lowest and highest value any pixel of any channel can become."""
        return min(lo for lo, _ in self.limits), max(hi for _, hi in self.limits)


def value_ranges(steps: PreprocessSteps) -> ValueRanges:
    prep = steps.preprocessing
    t = steps.tensor[0].numpy()
    limits = tuple(
        (float((_f32(0) - _f32(m)) / _f32(s)), float((_f32(1) - _f32(m)) / _f32(s)))
        for m, s in zip(prep.mean, prep.std, strict=True)
    )
    return ValueRanges(
        (int(steps.pixels.min()), int(steps.pixels.max())), (float(t.min()), float(t.max())), limits
    )


def corner(steps: PreprocessSteps, channel: int, size: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """The top-left ``size``×``size`` block of one channel: raw 0–255 values and the tensor's."""
    raw = steps.pixels[:size, :size, channel].astype(np.int64)
    normalised = steps.tensor[0, channel, :size, :size].numpy().astype(np.float64)
    return raw, normalised


def channel_planes(pixels: np.ndarray) -> dict[str, np.ndarray]:
    """The R, G and B pages of an H×W×3 picture, each an H×W grid of 0–255 numbers."""
    return {name: np.ascontiguousarray(pixels[..., c]) for c, name in enumerate(CHANNELS)}


def scale_formula(steps: PreprocessSteps) -> list[tuple[float, float]]:
    """Per channel, the same normalisation written on the 0–255 scale: ``(raw − a) / b`` with
    ``a = 255 · mean`` and ``b = 255 · std`` (EfficientNet-Lite0: 127 and 128)."""
    prep = steps.preprocessing
    return [(255 * m, 255 * s) for m, s in zip(prep.mean, prep.std, strict=True)]


def normalisation_rule(steps: PreprocessSteps) -> str:
    """The normalisation on the 0–255 scale as a formula: one rule when all three channels share
    it (EfficientNet-Lite0: ``(x − 127) / 128``), else one rule per channel."""
    rules = [f"(x − {a:g}) / {b:g}" for a, b in scale_formula(steps)]
    if len(set(rules)) == 1:
        return rules[0]
    return "; ".join(f"{ch}: {rule}" for ch, rule in zip(CHANNELS, rules, strict=True))


@dataclass(frozen=True)
class Preparation:
    """The sizes of the preparation: the photo's, the resized one's (its shorter side ``short``),
    the square crop's side and where the crop starts in the resized picture."""

    width: int
    height: int
    short: int
    resized_w: int
    resized_h: int
    crop: int
    left: int
    top: int


def preparation(steps: PreprocessSteps) -> Preparation:
    (w, h), (rw, rh) = steps.original.size, steps.resize_size
    left, top, right, _ = steps.crop_box
    return Preparation(w, h, min(rw, rh), rw, rh, right - left, left, top)


def _clip(v: int, hi: int) -> int:
    return max(0, min(int(v), hi))


def draw_box(
    image: np.ndarray, box: tuple[int, int, int, int], color=(255, 45, 85), width: int = 3
) -> np.ndarray:
    """A copy of an H×W×3 picture with the outline of ``box`` = (left, top, right, bottom),
    right/bottom exclusive, as :class:`PreprocessSteps` gives its ``crop_box``; parts of the box
    beyond the picture are left out."""
    out = np.array(image, dtype=np.uint8, copy=True)
    h, w = out.shape[:2]
    left, top, right, bottom = box
    y0, y1, x0, x1 = _clip(top, h), _clip(bottom, h), _clip(left, w), _clip(right, w)
    if y1 <= y0 or x1 <= x0:
        return out
    width = max(1, min(width, (y1 - y0) // 2 or 1, (x1 - x0) // 2 or 1))
    for rows, cols in (
        (slice(y0, y0 + width), slice(x0, x1)),
        (slice(y1 - width, y1), slice(x0, x1)),
        (slice(y0, y1), slice(x0, x0 + width)),
        (slice(y0, y1), slice(x1 - width, x1)),
    ):
        out[rows, cols] = color
    return out


def network_view(steps: PreprocessSteps) -> np.ndarray:
    """The tensor turned back into a picture (``× std + mean``, ``× 255``): what the network is given."""
    return denormalize(steps.tensor, steps.preprocessing)


def roundtrip_error(steps: PreprocessSteps) -> int:
    """Largest difference, in 0–255 steps, between the cropped picture and the tensor turned back
    into a picture (0: normalisation loses nothing a picture can show)."""
    back = network_view(steps).astype(np.int64)
    return int(np.abs(back - steps.pixels.astype(np.int64)).max())


def zoom(image: np.ndarray, y: int, x: int, radius: int = 7, factor: int = 16) -> np.ndarray:
    """The (2·radius + 1)-pixel square around pixel (``y``, ``x``), enlarged ``factor`` times with
    crisp pixels and the chosen one outlined; near an edge the square slides to stay inside."""
    h, w = image.shape[:2]
    side_h, side_w = min(2 * radius + 1, h), min(2 * radius + 1, w)
    top = min(max(y - radius, 0), h - side_h)
    left = min(max(x - radius, 0), w - side_w)
    patch = np.asarray(image[top : top + side_h, left : left + side_w], dtype=np.uint8)
    big = np.repeat(np.repeat(patch, factor, axis=0), factor, axis=1)
    cy, cx = (y - top) * factor, (x - left) * factor
    return draw_box(big, (cx, cy, cx + factor, cy + factor), width=max(1, factor // 8))


def tensor_size_question(steps: PreprocessSteps) -> Choices[int]:
    """ "How many numbers does the network receive?" — the tensor's count, against one colour page
    only, four pages (as if transparency came along) and the whole uncropped photo's pixels × 3."""
    c, h, w = steps.tensor.shape[1:]
    photo_w, photo_h = steps.original.size
    return choices(c * h * w, [h * w, 4 * h * w, 3 * photo_h * photo_w], salt="tensor_size")
