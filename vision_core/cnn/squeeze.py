"""The last grid squeezed into the embedding (CNN lesson 6), read number by number: the first
numbers of a vector as the lesson writes them, the three ways of pooling side by side, and a
cosine similarity as the share of a bar, and the page's two questions (GAP's length for another
input size; two photos' similarity above a line).  The pooling itself is
``vision_core.embeddings.vectors``."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from vision_core.embeddings.vectors import GlobalPools, pooled_lengths
from vision_core.quiz import Choices, choices

POOLS = ("gap", "gmp", "flatten")  # global average, global max, every number in a row


def first_numbers(v: np.ndarray, n: int = 3, num: Callable[[float], str] = "{:.3f}".format) -> str:
    """The first ``n`` numbers of a vector to 3 decimals, then an ellipsis: ``0.125, -0.500, …``
    (``num`` writes one number: a lesson's ``num`` gives Russian its decimal comma)."""
    return ", ".join(num(float(a)) for a in np.asarray(v).reshape(-1)[:n]) + ", …"


def pool_summary(pools: GlobalPools) -> list[tuple[str, int, str]]:
    """For each way of pooling (:data:`POOLS`): its name, how many numbers it keeps and its first ones."""
    return [(m, len(getattr(pools, m)), first_numbers(getattr(pools, m))) for m in POOLS]


def bar_share(cosine: float) -> float:
    """A cosine similarity as the filled share of a bar: negative similarities show an empty bar."""
    return min(max(float(cosine), 0.0), 1.0)


def gap_length_question(grid_shape: tuple[int, ...], own_grid_shape: tuple[int, ...]) -> Choices[int]:
    """ "How many numbers does GAP make of this grid?" — one per channel, against flattening it
    (C·H·W), one number per cell (H·W) and flattening the grid of the learner's own photo (the
    number the table above shows, mistaken for this one's)."""
    c, h, w = (int(d) for d in grid_shape[-3:])
    own = pooled_lengths(own_grid_shape)["flatten"]
    return choices(pooled_lengths(grid_shape)["gap"], [c * h * w, h * w, own], salt="gap_length")


SIMILAR = 0.5  # the line the "are these two photos alike?" question draws


def above_question(cosine: float, line: float = SIMILAR) -> Choices[bool]:
    """ "Will the cosine similarity of the two embeddings be above ``line``?" — yes or no."""
    above = bool(cosine > line)
    return choices(above, [not above], salt="cosine_above")
