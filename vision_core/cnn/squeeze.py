"""The last grid squeezed into the embedding (CNN lesson 6), read number by number: the first
numbers of a vector as the lesson writes them, the three ways of pooling side by side, and a
cosine similarity as the share of a bar.  The pooling itself is ``vision_core.embeddings.vectors``."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from vision_core.embeddings.vectors import GlobalPools

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
