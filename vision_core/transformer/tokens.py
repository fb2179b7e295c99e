"""From photo to token sequence: patches, the patch embedding, position embeddings and LayerNorm.

Read off a real Vision Transformer (:mod:`vision_core.engine.models.vit`) and its trace; pure NumPy
results, so a page or a notebook only draws them.

* :func:`patch_arithmetic` — the grid of P×P patches of an H×W photo: N = HW/P², 1 + N tokens,
  3·P² numbers per patch.
* :func:`flatten_patch`, :func:`patches_matrix` — a patch's numbers in a row, in the order of the
  patch convolution's weights (channel, then row, then column).
* :func:`patch_embedding` — one patch's embedding computed as ``W·x + b`` from its flattened
  numbers, next to what the P×P, stride-P convolution recorded (and the same check on every patch).
* :func:`position_embeddings`, :func:`position_similarity`, :func:`similarity_mosaic`,
  :func:`neighbour_similarity` — the learned position embeddings and how alike they are
  (Dosovitskiy et al. 2020, figure 7: trained ViTs learn a 2-D grid).
* :func:`layer_norm_breakdown` — one token through a LayerNorm (CLIP's ``ln_pre``, a block's
  ``norm1``): mean, spread, normalised, scaled and shifted, next to the recorded output.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from vision_core.engine.models.vit import POS_INTERP, VisionTransformer, resample_pos_embed
from vision_core.engine.trace import Trace
from vision_core.quiz import Choices, choices


def _submodule(model: nn.Module, name: str, kind: type[nn.Module]):
    """``model``'s submodule ``name``, refused with a clear message unless it is a ``kind``."""
    module = model.get_submodule(name)
    if not isinstance(module, kind):
        raise TypeError(f"{name} is a {type(module).__name__}, not a {kind.__name__}")
    return module


def _vit(model: nn.Module) -> VisionTransformer:
    if not isinstance(model, VisionTransformer):
        raise TypeError(f"position embeddings need a VisionTransformer, not a {type(model).__name__}")
    return model


@dataclass(frozen=True)
class PatchArithmetic:
    """How an H×W photo becomes a sequence of P×P patches.  ``unused`` is the pixels at the bottom
    and right that no patch covers (0 when H and W are multiples of P, as our crops make them)."""

    height: int
    width: int
    patch: int
    rows: int
    cols: int
    patches: int  # N = (H/P)·(W/P) = HW/P²
    tokens: int  # 1 + N: the CLS token first
    values_per_patch: int  # channels · P²
    unused: tuple[int, int]


def patch_arithmetic(height: int, width: int, patch: int, channels: int = 3) -> PatchArithmetic:
    if patch < 1 or height < patch or width < patch:
        raise ValueError(f"a {height}×{width} photo holds no {patch}×{patch} patch")
    rows, cols = height // patch, width // patch
    return PatchArithmetic(
        height,
        width,
        patch,
        rows,
        cols,
        rows * cols,
        1 + rows * cols,
        channels * patch * patch,
        (height - rows * patch, width - cols * patch),
    )


def token_index(row: int, col: int, cols: int) -> int:
    """Position of patch (row, col) in the sequence: the CLS token is 0, patches follow row by row."""
    return 1 + row * cols + col


def token_names(count: int, cols: int) -> list[str]:
    """Labels of the first ``count`` tokens: ``CLS``, then each patch's ``(row, col)``."""
    return ["CLS"] + [f"({(i - 1) // cols}, {(i - 1) % cols})" for i in range(1, count)]


def _chw(tensor: np.ndarray | torch.Tensor) -> np.ndarray:
    x = tensor.detach().float().numpy() if isinstance(tensor, torch.Tensor) else np.asarray(tensor)
    x = x[0] if x.ndim == 4 else x
    if x.ndim != 3:
        raise ValueError(f"expected a (C, H, W) or (1, C, H, W) tensor, got {x.shape}")
    return x.astype(np.float64)


def flatten_patch(tensor: np.ndarray | torch.Tensor, patch: int, row: int, col: int) -> np.ndarray:
    """The C·P² numbers of patch (row, col) of a normalised (1, C, H, W) tensor, in a row: all
    of channel 0 (row by row), then channel 1, then channel 2 — the layout of the convolution's
    weights, so that ``weight.reshape(D, -1) @ flat`` is the convolution at that position."""
    x = _chw(tensor)
    rows, cols = x.shape[1] // patch, x.shape[2] // patch
    if not (0 <= row < rows and 0 <= col < cols):
        raise IndexError(f"patch ({row}, {col}) is outside the {rows}×{cols} grid")
    return x[:, row * patch : (row + 1) * patch, col * patch : (col + 1) * patch].reshape(-1)


def patches_matrix(tensor: np.ndarray | torch.Tensor, patch: int) -> np.ndarray:
    """Every patch flattened (:func:`flatten_patch`), one per line, row by row: (N, C·P²)."""
    x = _chw(tensor)
    c = x.shape[0]
    rows, cols = x.shape[1] // patch, x.shape[2] // patch
    x = x[:, : rows * patch, : cols * patch].reshape(c, rows, patch, cols, patch)
    return x.transpose(1, 3, 0, 2, 4).reshape(rows * cols, c * patch * patch)


def patch_pixels(pixels: np.ndarray, patch: int, row: int, col: int) -> np.ndarray:
    """The P×P×3 pixels (0–255) of patch (row, col) of the picture the network is given."""
    return np.asarray(pixels)[row * patch : (row + 1) * patch, col * patch : (col + 1) * patch]


@dataclass
class PatchEmbedding:
    """Patch (row, col) through the patch embedding, two ways.

    ``flat`` is the patch's C·P² normalised numbers; the patch embedding's (D, C·P²) matrix
    ``W`` is the convolution's D kernels laid flat, and ``linear = W @ flat + bias`` (float64);
    ``conv`` is what the convolution ``patch_embed.proj`` recorded at (row, col), which is also
    the patch's token in ``patch_embed.tokens``.  ``max_difference`` compares the two for this
    patch, ``grid_max_difference`` for every patch of the photo at once.  Number ``channel`` of
    the embedding is taken apart: ``weight_row`` (C·P²,) times ``flat``, summed, plus its bias.
    """

    row: int
    col: int
    token: int
    patch: int
    flat: np.ndarray
    linear: np.ndarray
    conv: np.ndarray
    max_difference: float
    grid_max_difference: float
    channel: int
    weight_row: np.ndarray
    products: np.ndarray
    bias: float
    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int, int, int]
    params: int

    @property
    def kernel_weights(self) -> np.ndarray:
        """Number ``channel``'s weights back in the kernel's shape (1, C, P, P), for a picture."""
        return self.weight_row.reshape(1, -1, self.patch, self.patch)

    @property
    def channel_sum(self) -> float:
        """Σ weight·value for number ``channel``: the matrix product before its bias."""
        return float(self.products.sum())

    @property
    def channel_difference(self) -> float:
        """|matrix product − convolution| for number ``channel``."""
        return float(abs(self.linear[self.channel] - self.conv[self.channel]))


def patch_embedding(model: nn.Module, tr: Trace, row: int, col: int, channel: int = 0) -> PatchEmbedding:
    """Needs ``input`` and ``patch_embed.proj`` kept in ``tr`` (float32 for exact comparisons)."""
    proj: nn.Conv2d = _submodule(model, "patch_embed.proj", nn.Conv2d)
    step = tr["patch_embed.proj"]
    p = proj.kernel_size[0]
    x = tr.array("input")
    conv = tr.array("patch_embed.proj")[0].astype(np.float64)  # (D, rows, cols)
    d, rows, cols = conv.shape
    weight = proj.weight.detach().double().numpy().reshape(d, -1)  # (D, C·P²)
    bias = proj.bias.detach().double().numpy() if proj.bias is not None else np.zeros(d)
    flat = flatten_patch(x, p, row, col)
    linear = weight @ flat + bias
    everything = patches_matrix(x, p) @ weight.T + bias  # (N, D)
    recorded = conv.reshape(d, rows * cols).T  # (N, D): the tokens, row by row
    return PatchEmbedding(
        row,
        col,
        token_index(row, col, cols),
        p,
        flat,
        linear,
        conv[:, row, col],
        float(np.abs(linear - conv[:, row, col]).max()),
        float(np.abs(everything - recorded).max()),
        channel,
        weight[channel],
        weight[channel] * flat,
        float(bias[channel]),
        step.meta["kernel"],
        step.meta["stride"],
        step.meta["padding"],
        step.meta["params"],
    )


# --- position embeddings ---------------------------------------------------------------------


def learned_grid(model: nn.Module) -> tuple[int, int]:
    """The grid the position embeddings were trained for (14×14 for ViT-S/16 at 224 pixels)."""
    side = math.isqrt(_vit(model).pos_embed.shape[1] - 1)
    return side, side


def position_embeddings(model: nn.Module, grid: tuple[int, int] | None = None) -> np.ndarray:
    """(1 + N, D): the CLS token's position embedding, then each patch position's, row by row;
    stretched to ``grid`` exactly as the forward pass does for another input size (antialiased as
    timm does, or not, as Hugging Face's DINOv2 does: the model's ``cfg.pos_interp``)."""
    vit = _vit(model)
    pos = vit.pos_embed.detach()
    if grid is not None:
        antialias = POS_INTERP[vit.cfg.pos_interp]
        pos = resample_pos_embed(pos, (int(grid[0]), int(grid[1])), antialias=antialias)
    return pos[0].double().numpy()


def added_positions(tr: Trace) -> np.ndarray:
    """(1 + N, D): what the forward pass added to the sequence at ``pos_added`` — read back as
    ``pos_added − cls_prepended`` (both kept in ``tr``); it equals :func:`position_embeddings`
    for the photo's grid."""
    return tr.array("pos_added")[0].astype(np.float64) - tr.array("cls_prepended")[0].astype(np.float64)


def position_difference(model: nn.Module, tr: Trace) -> float:
    """Largest difference between what was added at ``pos_added`` and the model's position
    embeddings stretched to the photo's grid (0 up to float rounding)."""
    rows, cols = tr["patch_embed.proj"].shape[-2:]
    return float(np.abs(added_positions(tr) - position_embeddings(model, (rows, cols))).max())


def position_similarity(pos: np.ndarray, grid: tuple[int, int]) -> np.ndarray:
    """(rows, cols, rows, cols): the cosine similarity of the position embedding at (r, c) with
    the one at (r', c').  ``pos`` is (1 + N, D) with the CLS token's first, or (N, D)."""
    rows, cols = grid
    p = np.asarray(pos, dtype=np.float64)
    if p.shape[0] == rows * cols + 1:
        p = p[1:]
    if p.shape[0] != rows * cols:
        raise ValueError(f"{p.shape[0]} position embeddings do not fill a {rows}×{cols} grid")
    norms = np.linalg.norm(p, axis=1, keepdims=True)
    unit = np.divide(p, norms, out=np.zeros_like(p), where=norms > 0)
    return (unit @ unit.T).reshape(rows, cols, rows, cols)


def similarity_mosaic(sim: np.ndarray, pad: int = 1) -> np.ndarray:
    """Tile :func:`position_similarity` as the ViT paper draws it: one small map per position,
    placed where that position is, showing its similarity to every position.  Values stay
    cosines in [−1, 1]; the padding between tiles is NaN."""
    rows, cols = sim.shape[:2]
    out = np.full((rows * (rows + pad) - pad, cols * (cols + pad) - pad), np.nan)
    for r in range(rows):
        for c in range(cols):
            out[r * (rows + pad) : r * (rows + pad) + rows, c * (cols + pad) : c * (cols + pad) + cols] = sim[
                r, c
            ]
    return out


@dataclass(frozen=True)
class NeighbourSimilarity:
    """Average cosine similarity of position embeddings: of touching positions (left/right/up/down
    neighbours), of far positions (at least half the grid apart along a side), and of all pairs of
    different positions.  A learned 2-D structure makes neighbours much more alike than far pairs."""

    neighbours: float
    far: float
    all_pairs: float


def neighbour_similarity(sim: np.ndarray) -> NeighbourSimilarity:
    rows, cols = sim.shape[:2]
    s = sim.reshape(rows * cols, rows * cols)
    yy, xx = np.divmod(np.arange(rows * cols), cols)
    dy = np.abs(yy[:, None] - yy[None, :])
    dx = np.abs(xx[:, None] - xx[None, :])
    near = dy + dx == 1
    far = np.maximum(dy, dx) >= max(1, max(rows, cols) // 2)
    other = ~np.eye(rows * cols, dtype=bool)
    mean = lambda mask: float(s[mask].mean()) if mask.any() else float("nan")  # noqa: E731
    return NeighbourSimilarity(mean(near), mean(far), mean(other))


def stretched_similarity(model: nn.Module, grid: tuple[int, int]) -> NeighbourSimilarity:
    """:func:`neighbour_similarity` of the position embeddings as the forward pass stretches them to
    ``grid`` (the photo's): stretching to a finer grid makes neighbours more alike, shrinking
    (37×37 → 16×16) puts learned positions two or more apart side by side, less alike."""
    return neighbour_similarity(position_similarity(position_embeddings(model, grid), grid))


# --- the patch embedding's kernels -------------------------------------------------------------

SMOOTH = 0.5  # a kernel whose neighbouring weights correlate above this looks smooth, not like noise


def kernel_smoothness(kernels: np.ndarray) -> np.ndarray:
    """(K,) for kernels (K, C, P, P): the correlation of each weight with its right and lower
    neighbours in the same colour channel — about 0 for noise, near 1 for smooth gradients and
    blobs, negative for checkerboards."""
    w = np.asarray(kernels, dtype=np.float64)
    w = w - w.mean(axis=(1, 2, 3), keepdims=True)
    pairs = (
        (w[..., :, :-1], w[..., :, 1:]),  # left and right
        (w[..., :-1, :], w[..., 1:, :]),  # up and down
    )
    a = np.concatenate([x.reshape(len(w), -1) for x, _ in pairs], axis=1)
    b = np.concatenate([y.reshape(len(w), -1) for _, y in pairs], axis=1)
    norm = np.sqrt((a * a).sum(axis=1) * (b * b).sum(axis=1))
    return np.divide((a * b).sum(axis=1), norm, out=np.zeros(len(w)), where=norm > 0)


# --- LayerNorm ---------------------------------------------------------------------------------


@dataclass
class NormBreakdown:
    """Token ``token`` through the LayerNorm ``step``: ``normalised = (before − mean) / std`` with
    ``std = sqrt(variance + eps)`` over the token's D numbers, then ``after = gamma · normalised +
    beta`` (float64), next to the recorded output.  ``std_before`` / ``std_after`` hold every
    token's spread, to show the norm giving all tokens the same scale."""

    step: str
    token: int
    before: np.ndarray
    mean: float
    std: float
    eps: float
    normalised: np.ndarray
    gamma: np.ndarray
    beta: np.ndarray
    after: np.ndarray
    recorded: np.ndarray
    max_difference: float
    std_before: np.ndarray
    std_after: np.ndarray

    @property
    def after_mean(self) -> float:
        return float(self.after.mean())

    @property
    def after_std(self) -> float:
        return float(self.after.std())


def layer_norm_breakdown(model: nn.Module, tr: Trace, step: str, token: int = 0) -> NormBreakdown:
    """Needs ``step`` and the step that fed it kept in ``tr``."""
    norm: nn.LayerNorm = _submodule(model, step, nn.LayerNorm)
    source = tr[step].inputs[0]
    x = tr.array(source)[0].astype(np.float64)  # (T, D)
    y = tr.array(step)[0].astype(np.float64)
    before = x[token]
    mean = float(before.mean())
    std = float(np.sqrt(before.var() + norm.eps))
    normalised = (before - mean) / std
    gamma = norm.weight.detach().double().numpy()
    beta = norm.bias.detach().double().numpy()
    after = gamma * normalised + beta
    return NormBreakdown(
        step,
        token,
        before,
        mean,
        std,
        float(norm.eps),
        normalised,
        gamma,
        beta,
        after,
        y[token],
        float(np.abs(after - y[token]).max()),
        x.std(axis=1),
        y.std(axis=1),
    )


# --- predict-then-reveal questions -------------------------------------------------------------


def patch_count_question(
    height: int, width: int, patch: int, other_patches: Iterable[int] = ()
) -> Choices[int]:
    """ "How many patches will the network cut this H×W picture into?" — N = (H/P)·(W/P), against
    N + 1 (counting the CLS token as a patch), the count with the nearest other patch size among
    ``other_patches``, one row of patches only (H/P, not squared) and H·W/P (the area divided by P
    once instead of P²)."""
    grid = patch_arithmetic(height, width, patch)
    others = sorted(
        {p for p in other_patches if p != patch and p <= min(height, width)}, key=lambda p: abs(p - patch)
    )
    rivals = [grid.tokens]
    rivals += [patch_arithmetic(height, width, others[0]).patches] if others else []
    rivals += [grid.cols, height * width // patch]
    return choices(grid.patches, rivals, salt="patch_count")


def sequence_length_question(tr: Trace, learned: tuple[int, int]) -> Choices[int]:
    """ "How many tokens enter the first block?" — the length of the recorded sequence once the
    CLS token is in front (``cls_prepended``, kept in ``tr``), against the patches alone (the CLS
    token forgotten), the length of the learned position table (1 + its grid: it is stretched to
    the photo's grid, not the sequence to it), the tokens' width D, and N + 2 (an end token as in
    BERT, which a ViT does not have)."""
    n, dim = tr["patch_embed.tokens"].shape[1:]
    length = tr["cls_prepended"].shape[1]
    return choices(length, [n, 1 + learned[0] * learned[1], dim, n + 2], salt="sequence_length")
