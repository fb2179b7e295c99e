"""Reading a Vision Transformer's attention off a trace.

Every function here is pure: it takes the recorded attention probabilities
(``blocks.{i}.attn.probs``, shape (B, heads, T, T) with T = 1 + N tokens, the CLS token first)
and returns NumPy maps on the patch grid, ready to be upsampled over the photo.

* :func:`cls_attention` — where the CLS token looks, per head or averaged (raw attention of one
  layer; in the last layer this is what DINO's famous pictures show).
* :func:`token_attention` — where any chosen patch looks.
* :func:`rollout` — attention rollout (Abnar & Zuidema, "Quantifying Attention Flow in
  Transformers", 2020): the layers' attention, with the residual path added as an identity,
  multiplied through the network; heads fused by mean, min or max, and the weakest links
  optionally discarded (Gildenblat's ``vit-explain``).
* :func:`mean_attention_distance` — how far, in pixels, each head of each layer looks on
  average (Dosovitskiy et al. 2020, figure 7): local heads early, global heads later.
* :func:`attention_spread`, :func:`uniform_attention_distance`, :func:`attention_views` — how far
  a map is from even attention, and everything small the attention page draws, in one pass.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from torch.nn import functional as F

from vision_core.engine.trace import Trace
from vision_core.quiz import Choices, choices

Fusion = Literal["mean", "min", "max"]


def attention_layers(tr: Trace) -> list[str]:
    """Names of the recorded attention-probability steps, first layer first."""
    return [s.name for s in tr.of_kind("attn_probs") if s.name.startswith("blocks.")]


def grid_shape(tr: Trace) -> tuple[int, int]:
    """The patch grid (rows, columns) of the traced photo."""
    return tuple(tr["patch_embed.proj"].shape[-2:])  # type: ignore[return-value]


def probs(tr: Trace, layer: int) -> np.ndarray:
    """Layer ``layer``'s attention of the first photo: (heads, T, T), each row summing to 1."""
    return tr.array(f"blocks.{layer}.attn.probs")[0]


def _fuse(a: np.ndarray, fusion: Fusion) -> np.ndarray:
    if fusion == "mean":
        return a.mean(axis=0)
    if fusion == "min":
        return a.min(axis=0)
    if fusion == "max":
        return a.max(axis=0)
    raise ValueError(f"unknown head fusion {fusion!r}")


def cls_attention(tr: Trace, layer: int, head: int | None = None) -> np.ndarray:
    """CLS → patch attention on the grid: (heads, rows, cols), or (rows, cols) for one head.

    The CLS token's own share (attention to itself) is left out, so a map's values sum to
    1 − that share."""
    rows, cols = grid_shape(tr)
    a = probs(tr, layer)[:, 0, 1:].reshape(-1, rows, cols)
    return a if head is None else a[head]


def token_attention(tr: Trace, layer: int, row: int, col: int, head: int | None = None) -> np.ndarray:
    """Where the patch at (row, col) looks: (heads, rows, cols), or (rows, cols) for one head."""
    rows, cols = grid_shape(tr)
    token = 1 + row * cols + col
    a = probs(tr, layer)[:, token, 1:].reshape(-1, rows, cols)
    return a if head is None else a[head]


def rollout_matrix(
    attentions: list[np.ndarray], fusion: Fusion = "mean", discard_ratio: float = 0.0
) -> np.ndarray:
    """Attention rollout over ``attentions`` (each (heads, T, T)), returning the (T, T) product.

    Per layer: fuse the heads, zero the weakest ``discard_ratio`` of the links (never the CLS
    token's attention to itself), add the identity for the residual connection, renormalise
    the rows, and multiply onto the layers below.
    """
    if not 0.0 <= discard_ratio < 1.0:
        raise ValueError("discard_ratio must be in [0, 1)")
    t = attentions[0].shape[-1]
    result = np.eye(t)
    for a in attentions:
        fused = _fuse(np.asarray(a, dtype=np.float64), fusion)
        if discard_ratio > 0:
            flat = fused.reshape(-1).copy()
            weakest = np.argsort(flat, kind="stable")[: int(flat.size * discard_ratio)]
            flat[weakest[weakest != 0]] = 0.0
            fused = flat.reshape(t, t)
        step = (fused + np.eye(t)) / 2.0
        step = step / step.sum(axis=-1, keepdims=True)
        result = step @ result
    return result


def rollout(
    tr: Trace, fusion: Fusion = "mean", discard_ratio: float = 0.0, upto: int | None = None
) -> np.ndarray:
    """The CLS token's rolled-out attention on the patch grid (rows, cols), scaled to max 1."""
    names = attention_layers(tr)[: None if upto is None else upto + 1]
    matrix = rollout_matrix([tr.array(n)[0] for n in names], fusion, discard_ratio)
    rows, cols = grid_shape(tr)
    mask = matrix[0, 1:].reshape(rows, cols)
    return mask / mask.max() if mask.max() > 0 else mask


def mean_attention_distance(tr: Trace, patch_size: int) -> np.ndarray:
    """(layers, heads): the attention-weighted distance in pixels between a patch and the patches
    it attends to, averaged over all patches.  CLS is left out and each patch's attention over
    the other patches is renormalised to sum to 1."""
    rows, cols = grid_shape(tr)
    yy, xx = np.meshgrid(np.arange(rows), np.arange(cols), indexing="ij")
    centres = np.stack([yy.ravel(), xx.ravel()], axis=1) * patch_size  # (N, 2) in pixels
    dist = np.linalg.norm(centres[:, None, :] - centres[None, :, :], axis=-1)  # (N, N)
    out = []
    for name in attention_layers(tr):
        a = tr.array(name)[0][:, 1:, 1:].astype(np.float64)  # (heads, N, N)
        a = a / a.sum(axis=-1, keepdims=True)
        out.append((a * dist).sum(axis=-1).mean(axis=-1))
    return np.array(out)


def upsample(grid_map: np.ndarray, size: tuple[int, int], mode: str = "bilinear") -> np.ndarray:
    """Stretch a (rows, cols) map to (height, width) pixels to lay it over the photo."""
    t = torch.as_tensor(np.asarray(grid_map, dtype=np.float32))[None, None]
    kwargs = {"align_corners": False} if mode in ("bilinear", "bicubic") else {}
    return F.interpolate(t, size=size, mode=mode, **kwargs)[0, 0].numpy()


# --- summaries for the attention page -----------------------------------------------------------

# A map whose weights reach at least this share of its patches (by the exponential of their
# entropy) is spread almost evenly: its colours show small differences, not a place it looks.
FLAT_SHARE = 0.9


@dataclass(frozen=True)
class Spread:
    """How concentrated one attention map (rows, cols) is.

    ``total`` is the weight the map holds (for a CLS map, 1 minus what CLS gives itself);
    ``uniform = total / patches`` is what each patch would get if that weight were spread evenly;
    ``effective`` is ``exp(entropy)`` of the weights scaled to sum to 1 — the number of patches
    the attention is really spread over (``patches`` when even, 1 when on a single patch)."""

    total: float
    top: float
    top_at: tuple[int, int]
    uniform: float
    effective: float
    patches: int

    @property
    def flat(self) -> bool:
        return self.effective >= FLAT_SHARE * self.patches


def attention_spread(grid_map: np.ndarray) -> Spread:
    a = np.asarray(grid_map, dtype=np.float64)
    total = float(a.sum())
    p = a.reshape(-1) / total if total > 0 else np.full(a.size, 1.0 / a.size)
    nz = p[p > 0]
    effective = float(np.exp(-(nz * np.log(nz)).sum()))
    r, c = np.unravel_index(int(np.argmax(a)), a.shape)
    return Spread(total, float(a.max()), (int(r), int(c)), total / a.size, effective, int(a.size))


def uniform_attention_distance(grid: tuple[int, int], patch_size: int) -> float:
    """The mean attention distance (pixels) of a head that attends to every patch equally: the
    average distance between two patch centres of the grid (the line that separates local heads
    from global ones in :func:`mean_attention_distance`)."""
    rows, cols = grid
    yy, xx = np.meshgrid(np.arange(rows), np.arange(cols), indexing="ij")
    centres = np.stack([yy.ravel(), xx.ravel()], axis=1) * patch_size
    return float(np.linalg.norm(centres[:, None, :] - centres[None, :, :], axis=-1).mean())


@dataclass
class AttentionViews:
    """Everything small the attention page draws, computed once per photo from a trace.

    ``cls`` is (layers, heads, rows, cols): CLS → patch attention; ``cls_mean`` its average over
    the heads; ``cls_self`` (layers, heads) the weight CLS gives itself; ``distance`` (layers,
    heads) the mean attention distance in pixels and ``uniform_distance`` that of an even head."""

    grid: tuple[int, int]
    patch: int
    cls: np.ndarray
    cls_mean: np.ndarray
    cls_self: np.ndarray
    distance: np.ndarray
    uniform_distance: float

    @property
    def layers(self) -> int:
        return self.cls.shape[0]

    @property
    def heads(self) -> int:
        return self.cls.shape[1]

    def distance_span(self, layer: int) -> tuple[float, float]:
        """The shortest and the longest mean attention distance (pixels) of the heads of ``layer``."""
        return float(self.distance[layer].min()), float(self.distance[layer].max())

    def most_local_head(self) -> tuple[int, int, float]:
        """(layer, head, pixels) of the head with the shortest mean attention distance anywhere."""
        layer, head = np.unravel_index(int(np.argmin(self.distance)), self.distance.shape)
        return int(layer), int(head), float(self.distance[layer, head])

    def distance_summary(self) -> DistanceSummary:
        """The heads' span of mean attention distance in the first and the last block, and the
        most local head of all."""
        (first_min, first_max), (last_min, last_max) = self.distance_span(0), self.distance_span(-1)
        layer, head, near = self.most_local_head()
        return DistanceSummary(first_min, first_max, last_min, last_max, layer, head, near, near / self.patch)


@dataclass(frozen=True)
class DistanceSummary:
    """:meth:`AttentionViews.distance_summary`, in pixels (``near_patches``: in patch sides)."""

    first_min: float
    first_max: float
    last_min: float
    last_max: float
    near_layer: int
    near_head: int
    near: float
    near_patches: float


def attention_views(tr: Trace, patch_size: int) -> AttentionViews:
    """Needs every ``blocks.{i}.attn.probs`` kept in ``tr``."""
    names = attention_layers(tr)
    cls = np.stack([cls_attention(tr, i) for i in range(len(names))]).astype(np.float32)
    self_share = np.stack([probs(tr, i)[:, 0, 0] for i in range(len(names))]).astype(np.float32)
    grid = grid_shape(tr)
    distance = mean_attention_distance(tr, patch_size)
    return AttentionViews(
        grid,
        patch_size,
        cls,
        cls.mean(axis=1),
        self_share,
        distance,
        uniform_attention_distance(grid, patch_size),
    )


def mean_over_heads(maps: np.ndarray) -> np.ndarray:
    """The heads' average of (heads, rows, cols) maps: what the layer as a whole mixes in."""
    return np.asarray(maps, dtype=np.float64).mean(axis=0)


ALIKE_WEAK = 0.25  # below this rank correlation, "patches that look alike get alike weights" is weak


@dataclass(frozen=True)
class LooksAlike:
    """How much an attention map follows what the patches look like.

    ``agreement`` is Spearman's rank correlation, over every pair of patches, between how different
    the two patches look (distance between their mean colour and contrast, :func:`patch_looks`)
    and how different their attention weights are (|log a − log b|): near 1, patches that look
    alike get alike weights and the map copies the photo's regions and outlines; near 0, the
    weights ignore colour and contrast. ``shuffled`` is the same measure with the weights shuffled
    over the grid (a fixed seed): what no relation at all gives. ``looks`` is every patch's mean
    colour, (rows, cols, 3) uint8, to draw beside the map."""

    agreement: float
    shuffled: float
    looks: np.ndarray


def patch_looks(pixels: np.ndarray, grid: tuple[int, int]) -> np.ndarray:
    """Each patch's mean and standard deviation per colour channel, (rows·cols, 6), on a 0…1 scale,
    from the H×W×3 picture the encoder is given (cut into the ``grid`` of patches)."""
    rows, cols = grid
    p_h, p_w = pixels.shape[0] // rows, pixels.shape[1] // cols
    cut = np.asarray(pixels[: rows * p_h, : cols * p_w], dtype=np.float64) / 255.0
    patches = cut.reshape(rows, p_h, cols, p_w, 3).transpose(0, 2, 1, 3, 4).reshape(rows * cols, -1, 3)
    return np.concatenate([patches.mean(axis=1), patches.std(axis=1)], axis=1)


def _centred(values: np.ndarray) -> np.ndarray:
    return values - values.mean()


@dataclass(frozen=True)
class PatchGaps:
    """How different every two patches of a picture look, ranked: the half of
    :func:`looks_alike` that depends on the picture only (made once for all the layers)."""

    first: np.ndarray  # the pairs of patches (first[i], second[i]), first < second
    second: np.ndarray
    rank: np.ndarray  # each pair's rank by look gap (ties: their average rank), minus the mean
    colours: np.ndarray  # each patch's mean colour, (rows, cols, 3) uint8


def patch_gaps(pixels: np.ndarray, grid: tuple[int, int]) -> PatchGaps:
    from scipy.stats import rankdata

    looks = patch_looks(pixels, grid)
    first, second = np.triu_indices(len(looks), k=1)
    rank = _centred(rankdata(np.linalg.norm(looks[first] - looks[second], axis=1)))
    colours = np.clip(np.rint(looks[:, :3] * 255), 0, 255).astype(np.uint8).reshape(*grid, 3)
    return PatchGaps(first, second, rank, colours)


def looks_alike(
    grid_map: np.ndarray, pixels: np.ndarray | None = None, seed: int = 0, gaps: PatchGaps | None = None
) -> LooksAlike:
    """:class:`LooksAlike` of one (rows, cols) attention map over the picture it was computed on
    (``pixels``, or its :func:`patch_gaps`)."""
    from scipy.stats import rankdata

    if gaps is None:
        if pixels is None:
            raise ValueError("looks_alike needs the picture or its patch gaps")
        gaps = patch_gaps(pixels, grid_map.shape)
    first, second, look_rank = gaps.first, gaps.second, gaps.rank
    log_weight = np.log(np.maximum(np.asarray(grid_map, dtype=np.float64).ravel(), 1e-30))

    def agreement(weights: np.ndarray) -> float:
        # Spearman's rank correlation: Pearson's of the ranks (ties get their average rank), as
        # scipy.stats.spearmanr gives it, with the looks' ranks made once for every map
        weight_rank = _centred(rankdata(np.abs(weights[first] - weights[second])))
        spread = np.sqrt(np.dot(look_rank, look_rank) * np.dot(weight_rank, weight_rank))
        return float(np.dot(look_rank, weight_rank) / spread) if spread > 0 else float("nan")

    shuffled = np.random.default_rng(seed).permutation(log_weight)
    return LooksAlike(agreement(log_weight), agreement(shuffled), gaps.colours)


# --- predict-then-reveal ----------------------------------------------------------------------


def top_patch_question(cls_map: np.ndarray, salt: str = "") -> Choices[tuple[int, int]]:
    """ "Which of these four patches will the CLS token attend to most?" — patches as (row, col)
    of one head's CLS map (rows, cols): the map's top patch against the patch with its median
    weight, the corner it weighs least and one drawn at random (seeded by ``salt``, so it does
    not move when the page reruns). Patches that tie with the top are never offered as rivals."""
    a = np.asarray(cls_map, dtype=np.float64)
    rows, cols = a.shape
    flat = a.ravel()
    top = int(np.argmax(flat))
    below = [i for i in np.argsort(flat, kind="stable") if flat[i] < flat[top]]  # weakest first
    rivals: list[int] = []
    if below:
        rivals.append(int(below[len(below) // 2]))  # the median weight
        weaker = set(below) - set(rivals)
        corners = [i for i in (0, cols - 1, (rows - 1) * cols, rows * cols - 1) if i in weaker]
        rivals += [min(corners, key=lambda i: (flat[i], i))] if corners else []
        rest = [i for i in below if i not in rivals]
        seed = int.from_bytes(hashlib.sha256(salt.encode()).digest()[:8], "little")
        rivals += [int(np.random.default_rng(seed).choice(rest))] if rest else []
    cell = lambda i: (int(i) // cols, int(i) % cols)  # noqa: E731
    return choices(cell(top), [cell(i) for i in rivals], salt=salt)
