"""Turning arrays into pictures: colour maps, mosaics of feature maps, heat maps over a photo.

Pure NumPy (and matplotlib's colour maps), so that pages only hand the results to ``st.image``
and the same pictures can be made in a notebook.
"""

from __future__ import annotations

from functools import cache

import numpy as np
from matplotlib import colormaps
from matplotlib.colors import Colormap


@cache
def colour_map(name: str) -> Colormap:
    """Matplotlib's colour map ``name``, made once. ``colormaps[name]`` hands out a fresh copy each
    time, and a copy builds its 256-colour table on first use: about 7 ms, which every drawn grid
    paid again (a quarter of a widget change's time on the convolution page). Read-only use only."""
    cmap = colormaps[name]
    cmap(0.0)  # build the table now, once
    return cmap


def normalize(
    values: np.ndarray, vmin: float | None = None, vmax: float | None = None, symmetric: bool = False
) -> np.ndarray:
    """Scale to [0, 1] between ``vmin`` and ``vmax`` (the array's own range by default).
    ``symmetric`` centres zero at 0.5 — right for signed values such as filters."""
    v = np.asarray(values, dtype=np.float64)
    if symmetric:
        m = float(np.max(np.abs(v))) if vmax is None else float(vmax)
        return np.clip(0.5 + v / (2 * m), 0, 1) if m > 0 else np.full_like(v, 0.5)
    lo = float(v.min()) if vmin is None else float(vmin)
    hi = float(v.max()) if vmax is None else float(vmax)
    return np.clip((v - lo) / (hi - lo), 0, 1) if hi > lo else np.zeros_like(v)


@cache
def _rgb_table(name: str) -> np.ndarray:
    """Colour map ``name``'s table as uint8 RGB rows, one per entry."""
    cmap = colour_map(name)
    return (cmap(np.arange(cmap.N))[:, :3] * 255).round().astype(np.uint8)


def _through(name: str, unit: np.ndarray) -> np.ndarray:
    """Values in [0, 1] (no NaN) as uint8 RGB through colour map ``name``: the entry matplotlib
    picks (``floor(x·N)``, 1 → the last, outside [0, 1] → the ends), read from the table at once
    instead of through matplotlib's float pipeline (a tenth of the time for a 32-map mosaic)."""
    table = _rgb_table(name)
    n = len(table)
    index = np.clip(np.floor(np.asarray(unit, dtype=np.float64) * n), 0, n - 1).astype(np.intp)
    return table[index]


def colorize(values: np.ndarray, cmap: str = "viridis", **norm) -> np.ndarray:
    """A 2-D array as an RGB uint8 picture through a matplotlib colour map."""
    return _through(cmap, normalize(values, **norm))


def enlarge(image: np.ndarray, factor: int) -> np.ndarray:
    """Nearest-neighbour enlargement, so that each value stays a crisp square."""
    return np.repeat(np.repeat(image, factor, axis=0), factor, axis=1)


def mosaic(
    maps: np.ndarray, cols: int | None = None, pad: int = 1, pad_value: float = np.nan, per_map: bool = True
) -> np.ndarray:
    """Tile (N, H, W) maps into one 2-D array, each map scaled to [0, 1] on its own
    (``per_map``) or all together; padding is NaN (drawn as the background)."""
    maps = np.asarray(maps, dtype=np.float64)
    n, h, w = maps.shape
    cols = cols or int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / cols))
    scaled = np.stack([normalize(m) for m in maps]) if per_map else normalize(maps)
    out = np.full((rows * (h + pad) - pad, cols * (w + pad) - pad), pad_value)
    for i in range(n):
        r, c = divmod(i, cols)
        out[r * (h + pad) : r * (h + pad) + h, c * (w + pad) : c * (w + pad) + w] = scaled[i]
    return out


def colorize_mosaic(
    mosaic_values: np.ndarray, cmap: str = "viridis", background=(255, 255, 255)
) -> np.ndarray:
    """Colour a mosaic already in [0, 1]; NaN padding becomes ``background``."""
    nan = np.isnan(mosaic_values)
    rgb = _through(cmap, np.nan_to_num(mosaic_values))
    rgb[nan] = background
    return rgb


def filters_mosaic(weights: np.ndarray, cols: int | None = None, pad: int = 1) -> np.ndarray:
    """First-layer filters (F, 3, k, k) as RGB tiles: each filter scaled symmetrically about zero
    so that grey means 0, as in the classic AlexNet/ResNet filter pictures."""
    w = np.asarray(weights, dtype=np.float64)
    f, c, kh, kw = w.shape
    if c != 3:
        raise ValueError("colour filter pictures need 3 input channels")
    cols = cols or int(np.ceil(np.sqrt(f)))
    rows = int(np.ceil(f / cols))
    out = np.full((rows * (kh + pad) - pad, cols * (kw + pad) - pad, 3), 255, dtype=np.uint8)
    for i in range(f):
        tile = normalize(w[i].transpose(1, 2, 0), symmetric=True)
        r, c_ = divmod(i, cols)
        out[r * (kh + pad) : r * (kh + pad) + kh, c_ * (kw + pad) : c_ * (kw + pad) + kw] = (
            tile * 255
        ).round()
    return out


def overlay_weights(values: np.ndarray, alpha: float) -> np.ndarray:
    """How much of a map's colour covers the photo at each value: in proportion to the value
    within the map's range, 0 at its lowest (the photo shows as it is), ``alpha`` at its highest.
    A map with one value everywhere covers nothing."""
    return alpha * normalize(values)


def _blend(photo: np.ndarray, colored: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``photo · (1 − w) + colour · w``, rounded to uint8: in float32 (exact enough for 0…255, and
    half the time of float64 on a page of twenty 336×336 overlays)."""
    a = np.asarray(weights, dtype=np.float32)[..., None]
    return _mix(photo, 1 - a, np.asarray(colored, dtype=np.float32) * a)


def _mix(photo: np.ndarray, keep: np.ndarray, tint: np.ndarray) -> np.ndarray:
    """``photo · keep + tint`` in float32, rounded to uint8: the two terms of :func:`_blend`, given
    at the photo's shape (``keep`` with a last axis of 1)."""
    out = np.asarray(photo).astype(np.float32)
    out *= keep
    out += tint
    return np.rint(out, out=out).astype(np.uint8)


def overlay(photo: np.ndarray, heat: np.ndarray, alpha: float = 0.75, cmap: str = "inferno") -> np.ndarray:
    """Lay a heat map (same H×W as the photo, any range) over an RGB uint8 photo, each pixel's
    colour blended in by :func:`overlay_weights`: low values leave the photo visible."""
    if heat.shape != photo.shape[:2]:
        raise ValueError(f"heat map {heat.shape} and photo {photo.shape[:2]} differ in size")
    return _blend(photo, colorize(heat, cmap), overlay_weights(heat, alpha))


def overlay_key(width: int = 360, height: int = 14, alpha: float = 0.75, cmap: str = "inferno") -> np.ndarray:
    """The colour key of :func:`overlay`: the lowest value (left) to the highest (right), blended
    the same way over a grey checkerboard that stands for the photo (it shows through at the low
    end)."""
    t = np.tile(np.linspace(0.0, 1.0, width), (height, 1))  # (height, width)
    yy, xx = np.indices((height, width))
    ground = np.where(((yy // 7) + (xx // 7)) % 2, 200, 240).astype(np.uint8)
    return _blend(np.stack([ground] * 3, axis=-1), colorize(t, cmap), overlay_weights(t, alpha))


def grid_lines(photo: np.ndarray, step: int, color=(255, 255, 255), width: int = 1) -> np.ndarray:
    """The photo with a line every ``step`` pixels (the patch grid of a ViT)."""
    out = photo.copy()
    h, w = out.shape[:2]
    for y in range(0, h + 1, step):
        out[max(0, min(y, h - width)) : max(0, min(y, h - width)) + width, :] = color
    for x in range(0, w + 1, step):
        out[:, max(0, min(x, w - width)) : max(0, min(x, w - width)) + width] = color
    return out


def overlay_grid(
    photo: np.ndarray, grid_map: np.ndarray, alpha: float = 0.75, cmap: str = "inferno"
) -> np.ndarray:
    """Lay a (rows, cols) map — a ViT's patch grid, a CNN's last grid — over an RGB uint8 photo
    whose sides are whole multiples of the grid, each cell one crisp square of colour.  The same
    picture as ``overlay(photo, nearest-upsampled map)``, colouring rows·cols values instead of
    every pixel."""
    h, w = photo.shape[:2]
    rows, cols = grid_map.shape
    if h % rows or w % cols:
        raise ValueError(f"a {rows}×{cols} grid does not tile a {h}×{w} photo")

    # _blend's two terms made per cell, then repeated over each patch (so the same numbers), so
    # that the blend runs over whole rows of pixels rather than broadcasting over small patches
    a = np.asarray(overlay_weights(grid_map, alpha), dtype=np.float32)
    tint = colorize(grid_map, cmap).astype(np.float32) * a[..., None]
    over_patches = lambda cells: np.repeat(np.repeat(cells, h // rows, axis=0), w // cols, axis=1)  # noqa: E731
    return _mix(photo, over_patches(1 - a)[..., None], over_patches(tint))


def mark_patches(
    photo: np.ndarray, patch: int, cells: list[tuple[int, int]], labels: list[str], color=(255, 255, 255)
) -> np.ndarray:
    """A copy of an H×W×3 picture with the P×P patches at ``cells`` (row, col) outlined and each
    labelled (a letter above its box, or below it on the top row), for a question that names them."""
    from PIL import Image, ImageDraw, ImageFont

    img = Image.fromarray(np.asarray(photo, dtype=np.uint8))
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default(size=max(10, patch))
    for (row, col), label in zip(cells, labels, strict=True):
        left, top = col * patch, row * patch
        draw.rectangle(
            (left, top, left + patch - 1, top + patch - 1), outline=color, width=max(2, patch // 8)
        )
        below = row == 0
        anchor, y = ("mt", top + patch + 1) if below else ("mb", top - 1)
        draw.text(
            (left + patch / 2, y),
            label,
            fill=color,
            font=font,
            anchor=anchor,
            stroke_width=2,
            stroke_fill=(0, 0, 0),
        )
    return np.asarray(img)
