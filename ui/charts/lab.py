"""The embedding lab's pictures besides its maps (``scatter``): grids of gallery thumbnails, the
gallery's vectors as a heatmap, the similarity and confusion matrices, the anomaly scores as bars.
They only draw what a page got from vision_core; no number is made here."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import streamlit as st

from lessons import Lesson
from ui.cached import lab as cached
from ui.charts.layout import Built, figure, hline
from ui.charts.palette import HIGHLIGHT, NEUTRAL, NORMAL, ODD
from vision_core.embeddings.gallery import GalleryItem
from vision_core.embeddings.neighbours import Neighbour
from vision_core.embeddings.outliers import OutlierReport

NAMED_ROWS = 60  # up to this many photos, a matrix names its rows


def thumbs(
    items: Sequence[GalleryItem],
    indices: Sequence[int],
    captions: Sequence[str],
    cols: int = 6,
    side: int = 160,
) -> None:
    """Thumbnails of ``items[indices]`` in a grid of ``cols`` columns."""
    for start in range(0, len(indices), cols):
        row = st.columns(cols)
        for col, i, caption in zip(
            row, indices[start : start + cols], captions[start : start + cols], strict=False
        ):
            col.image(cached.thumbnail(items[i], side), caption=caption, width="stretch")


def neighbour_thumbs(
    items: Sequence[GalleryItem], hits: Sequence[Neighbour], text: Lesson, cols: int = 5, side: int = 140
) -> None:
    """A photo's nearest gallery photos, each captioned with its cosine similarity and label."""
    captions = [f"{text.num(h.similarity, '.3f')} · {items[h.index].label}" for h in hits]
    thumbs(items, [h.index for h in hits], captions, cols=cols, side=side)


def hover_names(items: Sequence[GalleryItem], groups: Sequence[str] = ()) -> list[str]:
    """``name — label`` of every photo (``· group`` after it, when given): what a map shows
    under the pointer."""
    names = [f"{it.name} — {it.label}" for it in items]
    return [f"{n} · {g}" for n, g in zip(names, groups, strict=True)] if groups else names


def photo_names(items: Sequence[GalleryItem], order: Sequence[int]) -> list[str]:
    """``label · name`` of each photo in ``order``: a matrix's row names."""
    return [f"{items[i].label} · {items[i].name}" for i in order]


def _separators(groups: Sequence[tuple[str, int, int]], n: int, *, columns: bool) -> list[dict]:
    """A line between every two label groups of a matrix's rows (and columns, when ``columns``),
    in the rows' serial numbers (a category axis counts its rows from 0)."""
    line = {"color": "white", "width": 1.5}
    shapes = []
    for _, start, _ in groups[1:]:
        y = start - 0.5
        shapes.append({"type": "line", "x0": 0, "x1": 1, "xref": "paper", "y0": y, "y1": y, "line": line})
        if columns:
            shapes.append({"type": "line", "y0": 0, "y1": 1, "yref": "paper", "x0": y, "x1": y, "line": line})
    return shapes


def _row_ticks(rows: Sequence[str], groups: Sequence[tuple[str, int, int]]) -> dict:
    """Every row named, up to :data:`NAMED_ROWS` rows; past that, each label named once, at the
    middle row of its group."""
    if len(rows) <= NAMED_ROWS:
        return {"showticklabels": True}
    middle = [rows[(start + end - 1) // 2] for _, start, end in groups]
    return {"tickmode": "array", "tickvals": middle, "ticktext": [g[0] for g in groups]}


def vectors_heatmap(
    values: np.ndarray, rows: Sequence[str], groups: Sequence[tuple[str, int, int]], x_title: str
) -> Built:
    """The gallery's vectors, one row a photo (``values``: (N, shown numbers)), rows in label
    ``groups`` (:func:`neighbours.label_groups`) with a line between every two labels."""
    n = len(rows)
    heat = {
        "type": "heatmap",
        "z": values,
        "colorscale": "Viridis",
        "y": list(rows),
        "hovertemplate": "%{y}<br>v%{x} = %{z:.3f}<extra></extra>",
        "colorbar": {"thickness": 10},
    }
    return figure(
        [heat],
        min(700, 140 + 9 * n),
        yaxis={"autorange": "reversed", **_row_ticks(rows, groups)},
        xaxis={"title": {"text": x_title}},
        shapes=_separators(groups, n, columns=False),
    )


def similarity_matrix(
    sims: np.ndarray,
    names: Sequence[str],
    groups: Sequence[tuple[str, int, int]],
    scale: tuple[float, float],
    scale_title: str,
) -> Built:
    """Every photo's cosine similarity with every other, coloured over ``scale`` (the lowest and
    highest similarity of two different photos, :func:`neighbours.off_diagonal_range`) with a
    colour bar, a line between every two label groups."""
    n = len(names)
    heat = {
        "type": "heatmap",
        "z": sims,
        "x": list(names),
        "y": list(names),
        "colorscale": "Viridis",
        "zmin": scale[0],
        "zmax": scale[1],
        "colorbar": {"title": {"text": scale_title}, "thickness": 12},
        "hovertemplate": "%{y}<br>%{x}<br>cos = %{z:.3f}<extra></extra>",
    }
    return figure(
        [heat],
        min(760, 200 + 8 * n),
        xaxis={"showticklabels": False},
        yaxis={"autorange": "reversed", **_row_ticks(names, groups)},
        shapes=_separators(groups, n, columns=True),
    )


def seed_bars(
    purity: np.ndarray,
    seeds: Sequence[int],
    chosen: int,
    names: Sequence[str],
    shown: Sequence[str],
    y_title: str,
) -> Built:
    """Each k-means seed's purity as a bar (``names``: the bars' names, ``shown``: each purity as
    the page formats it), the seed shown on the page in the highlight colour."""
    colours = [HIGHLIGHT if s == chosen else NEUTRAL for s in seeds]
    bar = {
        "type": "bar",
        "x": list(names),
        "y": purity,
        "marker": {"color": colours},
        "text": list(shown),
        "textposition": "outside",
        "hovertemplate": "%{x}: %{text}<extra></extra>",
    }
    lo = float(np.min(purity))
    return figure(
        [bar],
        260,
        yaxis={"title": {"text": y_title}, "range": [max(0.0, lo - 0.15), 1.05], "tickformat": ".0%"},
    )


def confusion_matrix(
    confusion: np.ndarray, classes: Sequence[str], hover: str, x_title: str, y_title: str
) -> Built:
    """A probe's confusion matrix, true labels down, predicted across, each cell's count written."""
    heat = {
        "type": "heatmap",
        "z": confusion,
        "x": list(classes),
        "y": list(classes),
        "colorscale": "Blues",
        "text": confusion,
        "texttemplate": "%{text}",
        "hovertemplate": hover + "<extra></extra>",
        "showscale": False,
    }
    return figure(
        [heat],
        min(700, 160 + 28 * len(classes)),
        xaxis={"title": {"text": x_title}, "tickangle": -35},
        yaxis={"title": {"text": y_title}, "autorange": "reversed"},
    )


def score_bars(
    report: OutlierReport,
    hover: Sequence[str],
    names: tuple[str, str],
    line_label: str,
    x_title: str,
    y_title: str,
) -> Built:
    """Every photo's anomaly score by rank, normal and other photos in two colours, and a dotted
    line at the highest normal score."""
    data = []
    for flag, name, colour in ((True, names[0], NORMAL), (False, names[1], ODD)):
        idx = [int(i) for i in report.order if report.normal[i] == flag]
        data.append(
            {
                "type": "bar",
                "x": report.ranks[idx],
                "y": report.scores[idx],
                "name": name,
                "marker": {"color": colour},
                "customdata": [hover[i] for i in idx],
                "hovertemplate": "%{customdata}<br>%{y:.3f}<extra></extra>",
            }
        )
    fig = figure(
        data,
        340,
        barmode="overlay",
        xaxis={"title": {"text": x_title}},
        yaxis={"title": {"text": y_title}},
    )
    if np.isfinite(report.highest_normal):
        shape, note = hline(report.highest_normal, line_label)
        fig = fig.with_marks([shape], [note])
    return fig
