"""The perturbation lab: change the picture the network sees and watch what moves.

A :class:`Perturbation` is a handful of Pillow operations on the network's own input picture
(after the encoder's resize and crop, so that every pixel count is one the network sees): cover
boxes, a centre crop blown back up, a rotation, a shift, a Gaussian blur, a turn of the hue, a
change of saturation and of brightness — applied in that order by :func:`perturb`.  Where the
picture is uncovered by a rotation or a shift, and under a cover box, it is painted the encoder's
mean colour (:func:`fill_colour`), which the normalisation turns into zeros: "no information".

:func:`respond` runs one forward pass and keeps what the page compares: the embedding, the
classifier's probabilities, a CNN's first feature maps or a ViT's CLS attention in every layer.
:func:`compare` sets a perturbed response against the original's.  :func:`sweep` measures the
embedding's cosine similarity to the original's over a range of shifts or angles in one batched
forward pass — how invariant the embedding is — and :func:`first_below` reads the curve.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter
from torch import nn

from vision_core.embeddings.folding import PlainFeatures
from vision_core.engine.encoders import Encoder
from vision_core.engine.preprocess import Preprocessing
from vision_core.engine.trace import trace
from vision_core.predictions import Prediction, top_k
from vision_core.quiz import Choices, choices

Box = tuple[int, int, int, int]  # (left, top, right, bottom) in the network's pixels, right/bottom excluded
SweepKind = Literal["shift", "angle"]


@dataclass(frozen=True)
class Perturbation:
    """What is done to the network's input picture; the defaults change nothing."""

    covers: tuple[Box, ...] = ()  # boxes painted the fill colour
    crop: float = 1.0  # the share of each side kept around the centre, then enlarged back (a zoom)
    angle: float = 0.0  # degrees, counter-clockwise, about the centre
    shift: tuple[int, int] = (0, 0)  # pixels (right, down)
    blur: float = 0.0  # the Gaussian's radius in pixels
    hue: float = 0.0  # degrees around the colour wheel
    saturation: float = 1.0  # 0 grey, 1 unchanged
    brightness: float = 1.0  # 0 black, 1 unchanged

    @property
    def is_null(self) -> bool:
        """Whether :func:`perturb` leaves the picture exactly as it is."""
        return (
            not any(_area(b) for b in self.covers)
            and self.crop >= 1.0
            and self.angle % 360 == 0
            and self.shift == (0, 0)
            and self.blur <= 0
            and self.hue % 360 == 0
            and self.saturation == 1.0
            and self.brightness == 1.0
        )


def _area(box: Box) -> int:
    left, top, right, bottom = box
    return max(0, right - left) * max(0, bottom - top)


def fill_colour(prep: Preprocessing) -> tuple[int, int, int]:
    """The encoder's mean colour as RGB pixels: what the normalisation maps to zero."""
    r, g, b = (round(255 * m) for m in prep.mean)
    return r, g, b


def perturb(pixels: np.ndarray, p: Perturbation, fill: tuple[int, int, int]) -> np.ndarray:
    """``pixels`` (H, W, 3) uint8 with ``p`` applied, the same shape; neutral settings are skipped,
    so the null perturbation returns the very same pixels."""
    image = Image.fromarray(np.asarray(pixels, dtype=np.uint8))
    w, h = image.size
    boxes = [b for b in p.covers if _area(b)]
    if boxes:
        draw = ImageDraw.Draw(image)
        for left, top, right, bottom in boxes:
            draw.rectangle((left, top, right - 1, bottom - 1), fill=fill)  # PIL includes the far edge
    if p.crop < 1.0:
        cw, ch = max(1, round(w * p.crop)), max(1, round(h * p.crop))
        left, top = (w - cw) // 2, (h - ch) // 2
        image = image.resize((w, h), Image.Resampling.BICUBIC, box=(left, top, left + cw, top + ch))
    if p.angle % 360:
        image = image.rotate(p.angle, resample=Image.Resampling.BILINEAR, fillcolor=fill)
    dx, dy = p.shift
    if dx or dy:  # output pixel (x, y) takes input pixel (x − dx, y − dy)
        affine = (1, 0, -dx, 0, 1, -dy)
        image = image.transform(
            (w, h), Image.Transform.AFFINE, affine, Image.Resampling.NEAREST, fillcolor=fill
        )
    if p.blur > 0:
        image = image.filter(ImageFilter.GaussianBlur(p.blur))
    if p.hue % 360:
        hsv = np.asarray(image.convert("HSV")).copy()
        turn = round(p.hue / 360 * 256)
        hsv[..., 0] = ((hsv[..., 0].astype(np.int32) + turn) % 256).astype(np.uint8)
        image = Image.fromarray(hsv, "HSV").convert("RGB")
    if p.saturation != 1.0:
        image = ImageEnhance.Color(image).enhance(p.saturation)
    if p.brightness != 1.0:
        image = ImageEnhance.Brightness(image).enhance(p.brightness)
    return np.asarray(image, dtype=np.uint8).copy()


def to_tensor(pictures: Sequence[np.ndarray], prep: Preprocessing) -> torch.Tensor:
    """(B, 3, H, W) float32 from uint8 pictures, normalised in the same order of operations as
    :func:`vision_core.engine.preprocess.preprocess_steps` (so the same pixels give the same tensor)."""
    x = torch.from_numpy(np.stack(pictures)).permute(0, 3, 1, 2).contiguous().to(torch.float32).div(255)
    mean = torch.as_tensor(prep.mean, dtype=torch.float32)[:, None, None]
    std = torch.as_tensor(prep.std, dtype=torch.float32)[:, None, None]
    return x.sub(mean).div(std)


@dataclass(frozen=True)
class Response:
    """What one picture did to the network."""

    pixels: np.ndarray  # (H, W, 3) uint8: the picture the network saw
    embedding: np.ndarray  # (D,) float32, unit length
    probs: np.ndarray | None  # (classes,) float32, when the encoder has a classifier
    first_step: str | None  # CNN: the first activation's trace name
    first_maps: np.ndarray | None  # CNN: (C, h, w) float32, the first activation's feature maps
    cls_maps: np.ndarray | None  # ViT: (layers, rows, cols), CLS → patch attention averaged over heads


def first_activation(model: nn.Module) -> str:
    """The name of a CNN's first activation (after its first convolution): the first feature maps."""
    for name, module in model.named_modules():
        if getattr(module, "kind", None) == "relu":  # ReLU and ReLU6: the CNNs' activations
            return name
    raise ValueError(f"{type(model).__name__} has no traced activation")


def respond(model: nn.Module, encoder: Encoder, pixels: np.ndarray) -> Response:
    """One forward pass of ``pixels`` (H, W, 3) uint8 through ``model``, traced."""
    x = to_tensor([pixels], encoder.preprocessing)
    is_vit = encoder.family == "vit"
    first_step = None if is_vit else first_activation(model)
    keep = ("embedding", "probs", "blocks.*.attn.probs" if is_vit else str(first_step))
    tr = trace(model, x, keep=keep)
    probs = tr.array("probs")[0] if "probs" in tr else None
    first_maps = cls_maps = None
    if is_vit:
        rows, cols = tr["patch_embed.proj"].shape[-2:]
        layers = [s.name for s in tr.of_kind("attn_probs") if s.name.startswith("blocks.")]
        cls_maps = np.stack([tr.array(n)[0, :, 0, 1:].mean(axis=0).reshape(rows, cols) for n in layers])
    else:
        first_maps = tr.array(str(first_step))[0]
    return Response(pixels, tr.array("embedding")[0], probs, first_step, first_maps, cls_maps)


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    """The cosine similarity of two arrays read as long vectors (float64)."""
    a64, b64 = np.asarray(a, np.float64).ravel(), np.asarray(b, np.float64).ravel()
    na, nb = np.linalg.norm(a64), np.linalg.norm(b64)
    return float(a64 @ b64 / (na * nb)) if na > 0 and nb > 0 else 0.0


@dataclass(frozen=True)
class Comparison:
    """A perturbed picture's response set against the original's: what the page shows."""

    pixels: np.ndarray  # (H, W, 3) uint8, the perturbed picture
    cosine: float  # cos(embedding, original's embedding)
    top_before: list[Prediction]  # empty without a classifier
    top_after: list[Prediction]
    before_after: tuple[float, float] | None  # the original top class's probability, before and after
    first_step: str | None
    first_shape: tuple[int, ...] | None  # (C, h, w) of the first feature maps (CNN)
    channels: tuple[int, ...]  # the first maps' channels kept below (CNN)
    maps_before: np.ndarray | None  # (len(channels), h, w) float32
    maps_after: np.ndarray | None
    first_cosine: float | None  # cos of all the first maps (read as one vector), before vs after
    cls_before: np.ndarray | None  # ViT: (layers, rows, cols)
    cls_after: np.ndarray | None


def strongest_channels(maps: np.ndarray, n: int) -> tuple[int, ...]:
    """The ``n`` channels of (C, h, w) maps with the largest mean, strongest first."""
    return tuple(int(c) for c in np.argsort(-maps.mean(axis=(1, 2)), kind="stable")[:n])


def compare(original: Response, moved: Response, channels: Sequence[int], labels: str | None) -> Comparison:
    """``moved`` against ``original``: the embedding's cosine, the top-5, the first maps' channels
    ``channels`` (CNN) and the CLS attention (ViT) of both."""
    top_before = top_k(original.probs, 5, labels) if original.probs is not None and labels else []
    top_after = top_k(moved.probs, 5, labels) if moved.probs is not None and labels else []
    before_after = None
    if top_before and moved.probs is not None:
        before_after = (top_before[0].probability, float(moved.probs[top_before[0].index]))
    kept = tuple(int(c) for c in channels)
    maps_before = maps_after = None
    first_cos, first_shape = None, None
    if original.first_maps is not None and moved.first_maps is not None:
        first_shape = tuple(original.first_maps.shape)
        maps_before, maps_after = original.first_maps[list(kept)], moved.first_maps[list(kept)]
        first_cos = cosine(original.first_maps, moved.first_maps)
    return Comparison(
        pixels=moved.pixels, cosine=cosine(original.embedding, moved.embedding), top_before=top_before,
        top_after=top_after, before_after=before_after, first_step=original.first_step,
        first_shape=first_shape, channels=kept, maps_before=maps_before, maps_after=maps_after,
        first_cosine=first_cos, cls_before=original.cls_maps, cls_after=moved.cls_maps,
    )  # fmt: skip


def peak_patch(grid_map: np.ndarray) -> tuple[int, int]:
    """(row, col) of a map's largest value."""
    row, col = np.unravel_index(int(np.argmax(grid_map)), grid_map.shape)
    return int(row), int(col)


# --- how invariant is the embedding? -----------------------------------------------------------


def sweep_values(kind: SweepKind, side: int) -> np.ndarray:
    """The shifts (pixels, right, up to a quarter of the picture's side either way, in steps of
    1/32 of it) or the angles (degrees, −180 to 180 in steps of 15) a sweep measures."""
    if kind == "shift":
        step = max(1, side // 32)
        reach = step * max(1, (side // 4) // step)
        return np.arange(-reach, reach + 1, step, dtype=np.float64)
    if kind == "angle":
        return np.arange(-180, 181, 15, dtype=np.float64)
    raise ValueError(f"unknown sweep {kind!r}: 'shift' or 'angle'")


def swept(kind: SweepKind, value: float) -> Perturbation:
    """The perturbation a sweep applies at ``value``."""
    return Perturbation(shift=(int(value), 0)) if kind == "shift" else Perturbation(angle=float(value))


@dataclass(frozen=True)
class Sweep:
    kind: SweepKind
    values: np.ndarray  # (n,) pixels or degrees
    cosines: np.ndarray  # (n,) cos(embedding at value, original's embedding)

    def at(self, value: float) -> float:
        """The similarity measured at ``value`` (one of :attr:`values`)."""
        hits = np.flatnonzero(self.values == value)
        if not len(hits):
            raise KeyError(f"the {self.kind} sweep did not measure {value:g}")
        return float(self.cosines[hits[0]])


def sweep(model: nn.Module, encoder: Encoder, pixels: np.ndarray, kind: SweepKind) -> Sweep:
    """The embedding's cosine similarity to the unchanged picture's across ``sweep_values``: every
    picture of the sweep (and the unchanged one) in one batched forward pass."""
    values = sweep_values(kind, pixels.shape[1])
    fill = fill_colour(encoder.preprocessing)
    pictures = [pixels, *(perturb(pixels, swept(kind, v), fill) for v in values)]
    with torch.inference_mode():
        features = PlainFeatures(model)(to_tensor(pictures, encoder.preprocessing)).double().numpy()
    unit = features / np.linalg.norm(features, axis=1, keepdims=True)
    return Sweep(kind, values, unit[1:] @ unit[0])


@dataclass(frozen=True)
class Reading:
    """What the prose says about a sweep's curve."""

    below_at: float | None  # the value nearest the unchanged picture whose similarity is under the threshold
    below_cosine: float | None  # the similarity there
    lowest: float  # the lowest similarity of the sweep
    lowest_at: float  # where it is (the smallest |value| among ties)
    reach: float  # the largest |value| measured


def first_below(s: Sweep, threshold: float) -> Reading:
    """Read the curve: from the unchanged picture outwards (by |value|, the negative side first at
    a tie), the first value whose similarity falls under ``threshold`` (None if none does): every
    value nearer zero stays at or above it.  And the lowest point."""
    order = np.lexsort((s.values, np.abs(s.values)))  # by |value|, the negative side first
    below = [int(i) for i in order if s.cosines[i] < threshold]
    low = int(order[np.argmin(s.cosines[order])])
    return Reading(
        float(s.values[below[0]]) if below else None,
        float(s.cosines[below[0]]) if below else None,
        float(s.cosines[low]),
        float(s.values[low]),
        float(np.abs(s.values).max()),
    )


SMALL_TURN = 15.0  # degrees: the small turn the upside-down question's explanation compares with


def flip_question(angles: Sweep, turns: Sequence[float] = (90.0, SMALL_TURN, 45.0, 0.0)) -> Choices[float]:
    """ "Turned upside down, how similar is the picture's embedding to the original's?" — the angle
    sweep's cosine at 180°, against the sweep's lowest (when another angle gives it), its cosines
    after a quarter turn, after small turns and unturned (as if the network ignored how the
    picture is turned), each rounded to the two decimals the options show."""
    if angles.kind != "angle":
        raise ValueError("the upside-down question reads the angle sweep")
    flip = round(angles.at(180.0), 2)
    rivals = [float(angles.cosines.min()), *(angles.at(a) for a in turns)]
    return choices(flip, [round(v, 2) for v in rivals], salt="flip")
