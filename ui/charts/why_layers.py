"""The pictures of "Layer by layer": the final answer's probability and rank block by block (the
logit lens), the top classes of every block as a table, the probe's accuracy by depth against
chance, and one unit's gradient over the photo with its theoretical and effective squares.
Only numbers a page got from vision_core are drawn; no number is made here."""

from __future__ import annotations

import numpy as np

from lessons import Lesson
from ui.charts.layout import Built, figure
from ui.charts.overlays import picture
from ui.charts.palette import GUIDE, HIGHLIGHT, NEUTRAL, SECOND
from vision_core import figures
from vision_core.why.erf import EffectiveField
from vision_core.why.lens import LogitLens
from vision_core.why.probe import EMBEDDING, DepthProbe

RANK_TICKS = (1, 2, 3, 5, 10, 20, 50, 100, 200, 500, 1000)  # ranks marked on the lens's log axis


def lens_curves(lens: LogitLens, text: Lesson) -> Built:
    """The final answer's probability (left axis) and rank (right axis, 1 on top, log scale) after
    every block."""
    blocks = np.arange(1, lens.blocks + 1)
    worst = max(int(lens.ranks().max()), 2)  # rank 1 on top, the worst rank at the bottom
    ticks = [t for t in RANK_TICKS if t <= worst]
    prob = {
        "type": "scatter", "x": blocks, "y": lens.answer_probs(), "mode": "lines+markers",
        "name": text("lens_prob_name"), "line": {"color": HIGHLIGHT},
        "hovertemplate": text("lens_prob_hover") + "<extra></extra>",
    }  # fmt: skip
    rank = {
        "type": "scatter", "x": blocks, "y": lens.ranks(), "mode": "lines+markers", "yaxis": "y2",
        "name": text("lens_rank_name"), "line": {"color": NEUTRAL, "dash": "dot"},
        "hovertemplate": text("lens_rank_hover") + "<extra></extra>",
    }  # fmt: skip
    axes = {
        "xaxis": {"title": {"text": text("lens_x")}, "dtick": 1},
        "yaxis": {"title": {"text": text("lens_prob_name")}, "range": [0, 1.05], "tickformat": ".0%"},
        "yaxis2": {
            "title": {"text": text("lens_rank_name")}, "type": "log", "overlaying": "y", "side": "right",
            "showgrid": False, "tickvals": ticks, "range": [np.log10(worst * 1.3), np.log10(0.8)],
        },
    }  # fmt: skip
    return figure([prob, rank], 320, legend={"orientation": "h", "y": -0.25}, **axes)


def lens_rows(lens: LogitLens, text: Lesson, k: int = 5) -> list[dict]:
    """One table row per block: its number, the final answer's rank and probability, the top ``k``."""
    rank, prob = lens.ranks(), lens.answer_probs()
    rows = []
    for b in range(lens.blocks):
        row: dict = {"block": b + 1, "rank": int(rank[b]), "answer": text.num(prob[b], ".1%")}
        for i, p in enumerate(lens.top(b, k), start=1):
            row[f"top{i}"] = text("top_cell", label=p.label, p=p.probability)
        rows.append(row)
    return rows


def depth_names(result: DepthProbe, text: Lesson) -> list[str]:
    """The depths as a learner reads them: a CNN's stage names, "block 3", "embedding"."""
    names = []
    for step in result.steps:
        if step == EMBEDDING:
            names.append(text("embedding_name"))
        elif step.startswith("blocks."):
            names.append(text("block_name", n=int(step.split(".")[1]) + 1))
        else:
            names.append(step)
    return names


def probe_curve(result: DepthProbe, text: Lesson) -> Built:
    """The probe's cross-validated accuracy at every depth, with chance as a dashed line."""
    names = depth_names(result, text)
    acc = {
        "type": "scatter", "x": names, "y": result.accuracies, "mode": "lines+markers",
        "name": text("probe_acc_name"), "line": {"color": HIGHLIGHT},
        "customdata": np.array(result.dims), "hovertemplate": text("probe_hover") + "<extra></extra>",
    }  # fmt: skip
    chance = {
        "type": "scatter", "x": names, "y": [result.chance] * len(names), "mode": "lines",
        "name": text("probe_chance_name"), "line": {"color": GUIDE, "dash": "dash"}, "hoverinfo": "skip",
    }  # fmt: skip
    axes = {
        "xaxis": {"title": {"text": text("probe_x")}, "type": "category"},
        "yaxis": {"title": {"text": text("probe_acc_name")}, "range": [0, 1.05], "tickformat": ".0%"},
    }
    return figure([acc, chance], 320, legend={"orientation": "h", "y": -0.3}, **axes)


def field_over_photo(pixels: np.ndarray, field: EffectiveField, title: str) -> Built:
    """The unit's |gradient| laid over the photo, the theoretical square (highlight colour) and the
    centred square holding most of the gradient (second colour); the axes widen to show a
    theoretical square that reaches past the photo."""
    heat = figures.overlay(pixels, field.gradient, alpha=0.7, cmap="inferno") if field.total else pixels
    b, e = field.box, field.effective_box()
    boxes = [(b.top, b.left, b.bottom, b.right, HIGHLIGHT), (e.top, e.left, e.bottom, e.right, SECOND)]
    return picture(heat, boxes=boxes, title=title, height=420)
