"""Reading the number grids a page drew with ``ui.charts.grids.number_grid`` (HTML), as a learner
sees them: each grid's title, the numbers written in its cells, their colours and the cell size."""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import unescape

import numpy as np
from streamlit.testing.v1 import AppTest

_WIDTH = re.compile(r'<div style="max-width:(\d+)px;display:grid')
_TITLE = re.compile(r'<div style="font-weight:600[^"]*">(.*?)</div>')
_COLS = re.compile(r"grid-template-columns:repeat\((\d+),1fr\)")
_CELL = re.compile(r'<div style="([^"]*aspect-ratio:1)">([^<]*)</div>')
_RGB = re.compile(r"background:rgb\((\d+),(\d+),(\d+)\)")


@dataclass
class Grid:
    title: str
    labels: list[list[str]]  # the numbers as written
    colours: list[list[tuple[int, int, int] | None]]  # None: a blank (padding, not reached) cell
    cell: float  # pixels per cell

    @property
    def values(self) -> np.ndarray:
        return np.array([[float(s.replace(",", ".")) for s in row] for row in self.labels])

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.labels), len(self.labels[0])


def html_grids(at: AppTest) -> list[Grid]:
    """Every number grid on the page, in the order drawn."""
    grids = []
    for el in at.get("html"):
        body = el.proto.body
        width, cols = _WIDTH.search(body), _COLS.search(body)
        if not (width and cols):
            continue
        n = int(cols.group(1))
        cells = _CELL.findall(body)
        labels = [unescape(label) for _, label in cells]
        colours = [
            tuple(int(c) for c in m.groups()) if (m := _RGB.search(style)) else None for style, _ in cells
        ]
        title = _TITLE.search(body)
        grids.append(
            Grid(
                unescape(title.group(1)) if title else "",
                [labels[i : i + n] for i in range(0, len(labels), n)],
                [colours[i : i + n] for i in range(0, len(colours), n)],
                int(width.group(1)) / n,
            )
        )
    return grids


def grid_titled(at: AppTest, start: str) -> Grid:
    """The first number grid whose title starts with ``start``."""
    found = [g for g in html_grids(at) if g.title.startswith(start)]
    assert found, f"no grid titled {start!r}: {[g.title for g in html_grids(at)]}"
    return found[0]
