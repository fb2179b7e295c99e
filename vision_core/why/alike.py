"""Why two photos look alike: where in each photo the similarity of their vectors comes from.

**CNN.** The last feature map before global average pooling is a grid of cell vectors
``a_1 … a_N`` (each C numbers); GAP makes the photo's vector ``g_A = (1/N) Σ a_i``.
:func:`cell_similarity` gives, for every cell of photo A, the cosine similarity of its vector to
photo B's pooled vector ``g_B`` (and the same the other way).  Because GAP is linear, the cosine
similarity of the two pooled vectors splits exactly into one share per cell::

    cos(g_A, g_B) = g_A · ĝ_B / |g_A| = Σ_i  a_i · ĝ_B / (N |g_A|)

so cell ``i`` of A contributes ``a_i · ĝ_B / (N |g_A|)`` — its cosine to ``g_B`` weighted by its
length — and the contributions sum to the similarity (the tests check it).

**ViT.** :func:`patch_matches`: every patch token of A (the last block's tokens, after the final
norm) finds its best match among B's patch tokens by cosine similarity; a pair that picks each
other both ways is a *mutual* match.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vision_core.engine.trace import Trace
from vision_core.quiz import Choices, choices


def _unit_rows(v: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(v, axis=-1, keepdims=True)
    return np.divide(v, norm, out=np.zeros_like(v), where=norm > 0)


def _grid(grid: np.ndarray) -> tuple[int, int]:
    """The (rows, cols) of a (C, H, W) or (1, C, H, W) map."""
    rows, cols = np.shape(grid)[-2:]
    return int(rows), int(cols)


def _place(index: int, cols: int) -> tuple[int, int]:
    row, col = divmod(int(index), cols)
    return row, col


def _cells(grid: np.ndarray) -> np.ndarray:
    """(C, h, w) → (h·w, C) float64, one row per cell, row by row."""
    g = np.asarray(grid, dtype=np.float64)
    if g.ndim == 4:
        g = g[0]
    if g.ndim != 3:
        raise ValueError(f"expected a (C, H, W) feature map, got shape {g.shape}")
    return g.reshape(g.shape[0], -1).T


@dataclass(frozen=True)
class CellSimilarity:
    """Photo A's and photo B's last feature maps set against each other's pooled vector."""

    to_pooled: tuple[np.ndarray, np.ndarray]  # (h, w) each: cos(cell of A, g_B) and cos(cell of B, g_A)
    contributions: tuple[np.ndarray, np.ndarray]  # (h, w) each: one share per cell, each summing to cosine
    cosine: float  # cos(g_A, g_B), the pooled vectors' cosine similarity

    @property
    def sums(self) -> tuple[float, float]:
        """Each photo's contributions added up (each equals :attr:`cosine`, up to rounding)."""
        a, b = self.contributions
        return float(a.sum()), float(b.sum())

    @property
    def negative(self) -> tuple[int, int]:
        """How many cells of each photo pull the similarity down (a negative contribution)."""
        a, b = self.contributions
        return int((a < 0).sum()), int((b < 0).sum())


def _one_way(cells: np.ndarray, shape: tuple[int, int], other: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each cell's cosine to ``other`` (a pooled vector) and its share of cos(pooled, other)."""
    pooled = cells.mean(axis=0)
    other_unit = other / np.linalg.norm(other) if np.linalg.norm(other) > 0 else other
    length = np.linalg.norm(pooled)
    to_other = _unit_rows(cells) @ other_unit
    share = cells @ other_unit / (len(cells) * length) if length > 0 else np.zeros(len(cells))
    return to_other.reshape(shape), share.reshape(shape)


def cell_similarity(grid_a: np.ndarray, grid_b: np.ndarray) -> CellSimilarity:
    """Both ways: every cell of A against B's GAP vector, every cell of B against A's; grids
    (C, h, w), of the same C (their sides may differ)."""
    cells_a, cells_b = _cells(grid_a), _cells(grid_b)
    if cells_a.shape[1] != cells_b.shape[1]:
        raise ValueError(f"the two maps have {cells_a.shape[1]} and {cells_b.shape[1]} channels")
    g_a, g_b = cells_a.mean(axis=0), cells_b.mean(axis=0)
    a_to_b, share_a = _one_way(cells_a, _grid(grid_a), g_b)
    b_to_a, share_b = _one_way(cells_b, _grid(grid_b), g_a)
    cos = float(_unit_rows(g_a) @ _unit_rows(g_b))
    return CellSimilarity((a_to_b, b_to_a), (share_a, share_b), cos)


@dataclass(frozen=True)
class Cell:
    row: int
    col: int
    value: float  # its contribution to the similarity
    share: float  # that contribution as a share of the similarity


def top_cells(contributions: np.ndarray, k: int) -> list[Cell]:
    """The ``k`` cells that contribute most, largest first."""
    total = float(contributions.sum())
    flat = contributions.ravel()
    order = np.argsort(-flat, kind="stable")[:k]
    cols = contributions.shape[1]
    return [Cell(*_place(i, cols), float(flat[i]), float(flat[i]) / total if total else 0.0) for i in order]


def top_share(contributions: np.ndarray, k: int) -> float:
    """The share of the similarity the ``k`` largest contributions make together."""
    return sum(c.share for c in top_cells(contributions, k))


def strongest_cell(values: np.ndarray) -> tuple[int, int, float]:
    """(row, col, value) of a map's largest value."""
    row, col = np.unravel_index(int(np.argmax(values)), values.shape)
    return int(row), int(col), float(values[row, col])


def embedding_is_pooled(structure: Trace, gap_step: str) -> bool:
    """Whether the encoder's embedding is its GAP vector made unit length (not CLIP's attention
    pooling), read off the network's structure: the ``embedding`` step is fed by ``gap_step``."""
    return "embedding" in structure and structure["embedding"].inputs == (gap_step,)


# --- ViT: patch to patch -----------------------------------------------------------------------


@dataclass(frozen=True)
class PatchMatches:
    """Each patch's best match in the other photo, by cosine similarity of patch tokens."""

    grid_a: tuple[int, int]
    grid_b: tuple[int, int]
    best: np.ndarray  # (Na,) int: the index (row·cols + col) in B of each A patch's best match
    score: np.ndarray  # (Na,) float32: that match's cosine similarity
    best_back: np.ndarray  # (Nb,) int: each B patch's best match in A
    score_back: np.ndarray  # (Nb,) float32

    @property
    def mutual(self) -> np.ndarray:
        """(Na,) bool: A's patch is its own match's best match too."""
        return self.best_back[self.best] == np.arange(len(self.best))

    @property
    def mutual_count(self) -> int:
        return int(self.mutual.sum())

    def score_map(self) -> tuple[np.ndarray, np.ndarray]:
        """Each patch's best-match similarity on its own photo's grid: (rows_a, cols_a), (rows_b, cols_b)."""
        return self.score.reshape(self.grid_a), self.score_back.reshape(self.grid_b)


def patch_similarity(grid_a: np.ndarray, grid_b: np.ndarray) -> np.ndarray:
    """(Na, Nb) cosine similarity of every patch token of A with every one of B; grids (D, rows, cols)."""
    return _unit_rows(_cells(grid_a)) @ _unit_rows(_cells(grid_b)).T


def patch_matches(grid_a: np.ndarray, grid_b: np.ndarray) -> PatchMatches:
    """Best matches both ways between two patch grids (D, rows, cols) (a trace's ``patch_grid``)."""
    sim = patch_similarity(grid_a, grid_b)
    best, back = sim.argmax(axis=1), sim.argmax(axis=0)
    return PatchMatches(
        _grid(grid_a),
        _grid(grid_b),
        best,
        sim[np.arange(len(best)), best].astype(np.float32),
        back,
        sim[back, np.arange(len(back))].astype(np.float32),
    )


@dataclass(frozen=True)
class Match:
    a: tuple[int, int]  # (row, col) of the patch of A
    b: tuple[int, int]  # (row, col) of its best match in B
    score: float
    mutual: bool


def top_matches(m: PatchMatches, k: int) -> list[Match]:
    """The ``k`` best-scoring matches of A's patches, best first."""
    cols_a, cols_b = m.grid_a[1], m.grid_b[1]
    mutual = m.mutual
    order = np.argsort(-m.score, kind="stable")[:k]
    return [
        Match(
            _place(i, cols_a),
            _place(m.best[i], cols_b),
            float(m.score[i]),
            bool(mutual[i]),
        )
        for i in order
    ]


def share_numbers(contributions: np.ndarray, k: int) -> dict[str, float | int]:
    """What the lesson says about how concentrated the similarity is: the ``k`` largest
    contributions' share, an even spread's (k of the N cells), the largest cell's and twice as many
    cells'."""
    n, top = int(contributions.size), lambda j: top_share(contributions, j)
    return {"k": k, "n": n, "k2": 2 * k, "share": top(k), "even": k / n, "one": top(1), "twice": top(2 * k)}


def top_share_question(contributions: np.ndarray, k: int) -> Choices[float]:
    """ "What share of the similarity do the ``k`` cells that contribute most make together?" —
    their share (rounded to the whole percent the options show), against an even spread (k of
    the N cells), the single largest cell's share, the share of twice as many cells, and all of it."""
    said = share_numbers(contributions, k)
    rivals = [said["even"], said["one"], said["twice"], 1.0]
    return choices(round(said["share"], 2), [round(v, 2) for v in rivals], salt="top_share")
