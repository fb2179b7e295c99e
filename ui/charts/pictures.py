"""A row (or rows) of pictures with their captions, sent as one element: ``st.html`` with a grid of
``<figure>``s, each picture as wide as its share of the row.

Drawn with ``st.columns`` and ``st.image``, six maps over the photo are fourteen elements (two rows
of columns, a picture each); every element is a message of its own that the server makes, queues
and sends, and on a page a learner reruns by moving a slider that cost counts (the attention page's
block slider: ``bench/bench_load.py``).  Pictures are data URIs made by ``ui.charts.layout``;
captions are plain text, escaped here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

CAPTION_CLASS = "el-caption"  # the presenter's theme makes these as large as Streamlit's captions
# as Streamlit draws an image's caption (its default theme's caption size and colour)
_CAPTION = "font-size:0.875rem;color:rgba(49,51,63,0.6);margin-top:0.25rem;line-height:1.4;text-align:center"


@dataclass(frozen=True)
class Picture:
    uri: str  # a data URI
    caption: str  # plain text; paragraphs apart by a blank line
    alt: str  # what the picture shows, for a screen reader


class _Markup:
    """HTML that ``st.html`` takes as it is: given a ``str``, Streamlit dedents it first, line by
    line, which for six pictures' data URIs (some 360 kB of text) took 8 ms a run."""

    def __init__(self, body: str) -> None:
        self.body = body

    def _repr_html_(self) -> str:
        return self.body


def grid_html(pictures: Sequence[Picture], per_row: int) -> str:
    """The pictures ``per_row`` to a row, equal shares of the row's width, each caption under its picture."""
    cells = "".join(
        f'<figure style="margin:0"><img src="{p.uri}" alt="{escape(p.alt)}" style="width:100%;display:block">'
        f'<figcaption class="{CAPTION_CLASS}" style="{_CAPTION}">{_lines(p.caption)}</figcaption></figure>'
        for p in pictures
    )
    grid = f"display:grid;grid-template-columns:repeat({per_row},minmax(0,1fr));gap:1rem"
    return f'<div style="{grid}">{cells}</div>'


def _lines(caption: str) -> str:
    return "<br>".join(escape(paragraph) for paragraph in caption.split("\n\n"))


def picture_grid(container, pictures: Sequence[Picture], per_row: int) -> None:
    """Draw :func:`grid_html` in ``container`` (``st`` or a column) as one element."""
    container.html(_Markup(grid_html(pictures, per_row)))
