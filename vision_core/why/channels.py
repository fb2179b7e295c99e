"""What one channel responds to, Microscope-style: the photos of a gallery that excite it most.

A *channel* of a CNN layer is one (H, W) map of the layer's (C, H, W) output; of a ViT block, one of
the D dimensions of the block's token output, read over the patch grid (the CLS token left out).
For every photo of a gallery and every channel of every layer a learner can pick, one batched,
traced forward pass keeps two numbers: the channel's largest value on the photo's grid and the
cell where it is (:func:`gallery_maxima`).  Switching channel (or layer) is then a sort of one
column (:func:`top_hits`), with no network run.

Each top photo is shown with the square of input pixels its maximum cell can see: the theoretical
receptive field of a CNN's cell (:func:`vision_core.cnn.stages.receptive_box`, from the kernels,
strides and paddings up to the layer), clipped to the picture.  A ViT's token sees the whole
picture after the first attention, so for a ViT the square is the token's own patch: where the
token sits, not all that it sees (:attr:`Layer.token`).

The gallery is prepared at the encoder's own square crop, so the cells of every photo share one
grid and one receptive-field geometry (:func:`shapes`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image
from torch import nn

from vision_core.cnn.convolution import receptive_fields, shape_table
from vision_core.cnn.stages import Box, receptive_box
from vision_core.embeddings.gallery import GalleryItem
from vision_core.engine import encoders
from vision_core.engine.trace import Trace, trace
from vision_core.quiz import Choices, choices

LAYER_KINDS = ("conv", "pool", "stage")  # CNN steps whose channels can be browsed (top level only)
_BLOCK_OUTPUT = re.compile(r"blocks\.\d+\.add_mlp")  # a ViT block's output tokens
BATCH = 4  # photos per traced forward pass (on 2 cores larger batches outgrow the caches)

# per photo: layer name → (largest value of each channel (C,) float32, its flat cell (C,) int32)
PhotoMaxima = dict[str, tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class Layer:
    """A layer whose channels can be browsed."""

    name: str  # the trace step
    channels: int
    grid: tuple[int, int]  # (rows, cols) of one channel's map
    token: bool  # True: a ViT block's tokens (a channel is one dimension over the patch grid)

    @property
    def field_step(self) -> str:
        """The step whose receptive field a cell's square is: the layer, or for a ViT the patch
        embedding (the token's own patch)."""
        return "patch_embed.proj" if self.token else self.name


def shapes(model: nn.Module, name: str) -> Trace:
    """Every step's shape and arithmetic for the encoder's own square crop (no values)."""
    return shape_table(model, encoders.get(name).preprocessing.crop)


def channel_layers(tr: Trace) -> list[Layer]:
    """The layers a learner can pick: for a CNN every top-level convolution, pooling and stage output
    (a grid), for a ViT every block's output."""
    if "patch_embed.proj" in tr:
        rows, cols = tr["patch_embed.proj"].shape[-2:]
        return [Layer(s.name, s.shape[-1], (rows, cols), True) for s in tr if _BLOCK_OUTPUT.fullmatch(s.name)]
    return [
        Layer(s.name, s.shape[1], (s.shape[2], s.shape[3]), False)
        for s in tr
        if "." not in s.name and s.kind in LAYER_KINDS and len(s.shape) == 4
    ]


def channel_maps(value, layer: Layer, grid: tuple[int, int] | None = None):
    """A layer's value (NumPy, or a live tensor) as (B, C, rows, cols): a CNN's as it is; a ViT's
    (B, T, D) tokens without the prefix (CLS) tokens, each dimension laid out on the patch grid
    (``grid``, when the picture is not the encoder's own size)."""
    if not layer.token:
        return value
    rows, cols = grid or layer.grid
    # (B, N, D) → (B, rows, cols, D): the prefix tokens come first
    patches = value[:, value.shape[1] - rows * cols :, :].reshape(len(value), rows, cols, -1)
    return patches.permute(0, 3, 1, 2) if isinstance(patches, torch.Tensor) else patches.transpose(0, 3, 1, 2)


def batch_maxima(model: nn.Module, batch: torch.Tensor, layers: Sequence[Layer]) -> list[PhotoMaxima]:
    """One traced forward pass of ``batch`` (B, 3, H, W) up to the last of ``layers``: for every
    photo and layer, each channel's largest value and its flat cell (row · cols + col; the first
    in reading order on ties)."""
    names = [layer.name for layer in layers]
    tr = trace(model, batch, keep=names, stop_after=names)
    out: list[PhotoMaxima] = [{} for _ in range(len(batch))]
    for layer in layers:
        maps = channel_maps(tr.array(layer.name), layer)
        flat = maps.reshape(len(batch), layer.channels, -1)  # (B, C, rows·cols)
        values, cells = flat.max(axis=2), flat.argmax(axis=2)
        for i, photo in enumerate(out):
            photo[layer.name] = (values[i].astype(np.float32), cells[i].astype(np.int32))
    return out


def gallery_maxima(
    model: nn.Module,
    images: Iterable[Image.Image],
    name: str,
    layers: Sequence[Layer],
    *,
    batch_size: int = BATCH,
    total: int | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> list[PhotoMaxima]:
    """:func:`batch_maxima` for every photo of ``images`` (prepared with ``name``'s own
    preprocessing), ``batch_size`` photos a pass; ``on_progress(done, total)`` after each pass."""
    out: list[PhotoMaxima] = []
    batch: list[torch.Tensor] = []

    def run() -> None:
        out.extend(batch_maxima(model, torch.cat(batch), layers))
        batch.clear()
        if on_progress is not None:
            on_progress(len(out), total if total is not None else len(out))

    for image in images:
        batch.append(encoders.preprocess(image, name))  # (1, 3, H, W)
        if len(batch) == batch_size:
            run()
    if batch:
        run()
    return out


@dataclass(frozen=True)
class Maxima:
    """One layer over a gallery: ``values[n, c]`` is channel c's largest value on photo n, at flat
    cell ``cells[n, c]`` of the layer's grid."""

    layer: Layer
    values: np.ndarray  # (N, C) float32
    cells: np.ndarray  # (N, C) int32


def stack(photos: Sequence[PhotoMaxima], layer: Layer) -> Maxima:
    """One layer's numbers of every photo, as (N, C) arrays."""
    if not photos:
        empty = np.zeros((0, layer.channels))
        return Maxima(layer, empty.astype(np.float32), empty.astype(np.int32))
    values = np.stack([p[layer.name][0] for p in photos])
    cells = np.stack([p[layer.name][1] for p in photos])
    return Maxima(layer, values, cells)


@dataclass(frozen=True)
class Hit:
    """One of a channel's top photos: its index in the gallery, the channel's largest value on it
    and the cell where that value is."""

    photo: int
    value: float
    row: int
    col: int


def top_hits(maxima: Maxima, channel: int, k: int) -> list[Hit]:
    """The ``k`` photos on which ``channel`` reaches its largest values, strongest first (ties by
    gallery order), one hit per photo."""
    if not 0 <= channel < maxima.layer.channels:
        raise IndexError(f"{maxima.layer.name} has channels 0–{maxima.layer.channels - 1}, not {channel}")
    column = maxima.values[:, channel].astype(np.float64)
    cols = maxima.layer.grid[1]
    hits = []
    for n in np.argsort(-column, kind="stable")[:k]:
        row, col = divmod(int(maxima.cells[n, channel]), cols)
        hits.append(Hit(int(n), float(column[n]), row, col))
    return hits


def field_box(tr: Trace, layer: Layer, row: int, col: int, side: int) -> Box:
    """The square of input pixels of cell (row, col) — a CNN cell's theoretical receptive field, a
    ViT token's own patch — clipped to the ``side``×``side`` picture."""
    return receptive_box(tr, layer.field_step, row, col).clipped(side, side)


def crop(pixels: np.ndarray, box: Box) -> np.ndarray:
    """The pixels of an (H, W, 3) picture inside ``box`` (already clipped to the picture)."""
    return pixels[box.top : box.bottom + 1, box.left : box.right + 1]


def covers_all(box: Box, side: int) -> bool:
    """Whether a clipped box is the whole ``side``×``side`` picture."""
    return box == Box(0, 0, side - 1, side - 1)


def opening_channel(maxima: Maxima) -> int:
    """The channel a layer opens on: the one whose best photo stands out most from the rest of the
    gallery (the largest (best − median) / standard deviation of its per-photo maxima), so that
    a layer opens on a channel that prefers some photos, not one that is as strong on all."""
    if len(maxima.values) < 2:
        return 0
    v = maxima.values.astype(np.float64)  # (N, C)
    spread = v.std(axis=0)
    score = (v.max(axis=0) - np.median(v, axis=0)) / np.where(spread > 0, spread, np.inf)
    return int(np.argmax(score))


def hit_rows(items: Sequence[GalleryItem], hits: Sequence[Hit]) -> list[dict[str, object]]:
    """One caption's values per hit: rank, the name of the photo it is (or was made from), whether
    it is a variant, the cell and the value."""
    names = {it.key: it.name for it in items}
    rows = []
    for rank, h in enumerate(hits, start=1):
        it = items[h.photo]
        name = names.get(it.parent, it.name) if it.parent else it.name
        rows.append(
            {
                "rank": rank,
                "name": name,
                "variant": it.parent is not None,
                "row": h.row,
                "col": h.col,
                "value": h.value,
            }
        )
    return rows


def summary(
    maxima: Maxima, channel: int, hits: Sequence[Hit], items: Sequence[GalleryItem]
) -> dict[str, object]:
    """What the lesson says about a channel's top photos: how many of how many, the first and last
    value, the gallery's median maximum and how many different photos the hits come from."""
    return {
        "k": len(hits),
        "photos": len(items),
        "channel": channel,
        "best": hits[0].value if hits else float("nan"),
        "last": hits[-1].value if hits else float("nan"),
        "median": median_peak(maxima, channel),
        "originals": originals(items, [h.photo for h in hits]),
    }


def median_peak(maxima: Maxima, channel: int) -> float:
    """The median over the gallery of the channel's largest value on each photo."""
    return float(np.median(maxima.values[:, channel].astype(np.float64)))


def originals(items: Sequence[GalleryItem], indices: Iterable[int]) -> int:
    """How many different photos the gallery ``items`` at ``indices`` come from (a variant counts
    as the photo it was made from)."""
    return len({items[i].parent or items[i].key for i in indices})


def source_counts(items: Sequence[GalleryItem]) -> dict[str, int]:
    """How many of the gallery's photos are bundled samples, their variants, and the learner's."""
    return {s: sum(it.source == s for it in items) for s in ("sample", "variant", "upload")}


def field_side(tr: Trace, layer: Layer) -> int:
    """The side in input pixels of the square one cell's value can see (a ViT token: its patch)."""
    return receptive_fields(tr)[layer.field_step].size


def field_jump(tr: Trace, layer: Layer) -> int:
    """How many input pixels apart two neighbouring cells of ``layer`` sit (the strides multiplied)."""
    return receptive_fields(tr)[layer.field_step].jump


def field_question(tr: Trace, layers: Sequence[Layer], layer: Layer, side: int) -> Choices[int]:
    """ "How wide a square of the ``side``-pixel picture can one cell of ``layer`` see?" — a CNN
    cell's theoretical receptive field, against the pixels between two neighbouring cells (as if a
    cell saw only its own tile) and the fields of the layers just before and after it.  A ViT
    token: the whole picture, against its own patch, a 3×3 block of patches and half the picture."""
    fields = receptive_fields(tr)
    own = fields[layer.field_step]
    if layer.token:
        return choices(side, [own.size, 3 * own.size, side // 2], salt="field_token")
    at = [x.name for x in layers].index(layer.name)
    near = [fields[x.field_step].size for x in (*layers[at + 1 : at + 2], *layers[max(0, at - 1) : at])]
    further = [fields[x.field_step].size for x in (*layers[at + 2 :], *reversed(layers[: at - 1]))]
    return choices(own.size, [own.jump, *near, *further, side], salt="field_cnn")
