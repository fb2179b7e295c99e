"""Captions under attention maps: a lesson section filled with how concentrated the map is, and the
lesson's warning that it is almost even when it is (its colours then stretch tiny differences);
and what a map's agreement with the patches' looks says (trained or untrained weights)."""

from __future__ import annotations

import dataclasses

import numpy as np

from lessons import Lesson
from vision_core.transformer.attention import ALIKE_WEAK, LooksAlike, attention_spread


def spread_caption(
    text: Lesson, section: str, grid_map: np.ndarray, *, flag: str = "flat_flag", lead: str = "", **values
) -> str:
    """``section`` filled with the map's :class:`~vision_core.transformer.attention.Spread` (``top``,
    ``uniform``, ``effective``, ``patches``; ``values`` override them), after ``lead`` when given,
    followed by the ``flag`` section when the map is almost even."""
    s = attention_spread(grid_map)
    parts = [lead, text(section, **{**dataclasses.asdict(s), **values}), text(flag) if s.flat else ""]
    return " ".join(p for p in parts if p)


def looks_alike_text(text: Lesson, alike: LooksAlike, *, trained: bool, layer: int) -> str:
    """What :class:`~vision_core.transformer.attention.LooksAlike` says of this map: the trained
    reading, or the untrained one (strong or weak, by :data:`ALIKE_WEAK`)."""
    kind = "looks_random" if alike.agreement >= ALIKE_WEAK else "looks_random_weak"
    values = {"agreement": alike.agreement, "shuffled": alike.shuffled, "layer": layer}
    return text("looks_trained" if trained else kind, **values)
