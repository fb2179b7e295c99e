"""One house layout for every Plotly figure: margins, titles, legends and how a figure is drawn.

Figures are built in one go from plain dicts: Plotly validates each ``update_*`` call and
``add_shape`` on its own (10 ms for a 6×6 number grid), the dict in one pass (under 2 ms).
"""

from __future__ import annotations

import base64
import io
import os
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from PIL import Image

from ui import presenter

# (top row, left col, bottom row, right col) inclusive, and a colour
CellBox = tuple[int, int, int, int, str]


PNG_LEVEL = 1  # zlib's fastest: for a 224×224 photo 7 ms instead of 19 ms at the default 6, 6 % larger


def encoded(image: np.ndarray, fmt: str) -> bytes:
    """An RGB (or grey) picture written as ``fmt`` ("PNG" at :data:`PNG_LEVEL`, "JPEG" at
    :data:`JPEG_QUALITY`)."""
    options = {"PNG": {"compress_level": PNG_LEVEL}, "JPEG": {"quality": JPEG_QUALITY}}[fmt]
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image, dtype=np.uint8)).save(buffer, fmt, **options)
    return buffer.getvalue()


def png(image: np.ndarray) -> bytes:
    """An RGB (or grey) picture as PNG bytes: lossless, so a map keeps its exact colours and crisp
    cells (``st.image`` would write a picture as JPEG, or as PNG at the slow default level)."""
    return encoded(image, "PNG")


def png_uri(image: np.ndarray | bytes) -> str:
    """:func:`png` (or PNG bytes already written) as a data URI."""
    data = image if isinstance(image, bytes) else png(image)
    return "data:image/png;base64," + base64.b64encode(data).decode()


# for photos with colour laid over them (bench/bench_pictures.py measures both formats on one)
JPEG_QUALITY = 92


def jpeg_uri(image: np.ndarray) -> str:
    """An RGB photo-like picture as a JPEG data URI, for ``st.image``: written once, here, and
    sent inside the page's message (Streamlit would reopen given bytes to check their format,
    keep them in its media store and serve them on a request of their own)."""
    return "data:image/jpeg;base64," + base64.b64encode(encoded(image, "JPEG")).decode()


def image_trace(image: np.ndarray, source: str | None = None) -> dict:
    """An RGB picture (H×W×3 uint8) as a Plotly image trace that carries a PNG, not the numbers:
    a 448×448 map is some 20 kB instead of 800 kB of pixel values, which the browser would parse
    and paint value by value.  Axes and cells are those of ``z`` (one unit a pixel, from 0).
    ``source``: the picture's data URI where it is already written (:func:`png_uri`)."""
    return {"type": "image", "source": source or png_uri(image), "hoverinfo": "skip"}


CHECK = "PYTEST_CURRENT_TEST" in os.environ  # tests check every figure; a served app trusts its own


class Built(go.Figure):
    """A figure spec that ``st.plotly_chart`` sends as it is: every chart of the app is one. Given
    a dict, Streamlit has Plotly check every property of it on every run (0.6 s per run for the
    convolution page's 64-frame play-back, 30 ms for a clickable map with hover values); given a
    ``go.Figure``, Plotly checks it when it is made and deep-copies it (and writes its arrays
    again) when Streamlit asks for its dict, on every run of the page. Our
    specs are dicts made by this package and checked by every test run (:data:`CHECK`), so the
    served app skips the check, and Streamlit is handed the dict itself. Nothing but
    :meth:`to_dict` is used; a spec is never changed in place (it may be cached):
    :meth:`with_marks` makes a new one."""

    def __init__(self, spec: dict) -> None:  # no BaseFigure state: Streamlit only calls to_dict
        self._spec = spec

    def to_dict(self) -> dict:
        return self._spec

    def __reduce__(self):  # pickled by st.cache_data: the spec, not a Plotly figure
        return (Built, (self._spec,))

    def with_marks(self, shapes: Sequence[dict] = (), annotations: Sequence[dict] = ()) -> Built:
        """A new figure: this one's, with more shapes and annotations on top."""
        lay = self._spec.get("layout", {})
        more = {"shapes": [*lay.get("shapes", ()), *shapes]}
        if annotations:
            more["annotations"] = [*lay.get("annotations", ()), *annotations]
        return Built({**self._spec, "layout": {**lay, **more}})


SEPARATORS = {"ru": ",\u202f"}  # Plotly's decimal and thousands marks, as the lessons write numbers


def separators() -> dict:
    """The layout entry that makes Plotly write numbers (ticks, colour bars, hover labels) the way
    the page's language does: "0,25" and "1 280" on Russian pages."""
    from ui import session

    lang = session.lang()
    return {"separators": SEPARATORS[lang]} if lang in SEPARATORS else {}


def built(fig: go.Figure | dict) -> Built:
    """``fig`` ready for ``st.plotly_chart``: a :class:`Built` (a dict checked first when the
    tests run) written in the page's language (:func:`separators`)."""
    marks = separators()
    if isinstance(fig, Built):
        spec = fig.to_dict()
        if not marks or "separators" in spec.get("layout", {}):
            return fig
        fig = spec
    elif isinstance(fig, go.Figure):
        fig = fig.to_dict()  # a copy: the figure itself may be cached, and shared by languages
    if marks and "separators" not in fig.get("layout", {}):
        fig = {**fig, "layout": {**fig.get("layout", {}), **marks}}
    if CHECK:
        go.Figure(fig)  # raises on a property Plotly does not know
    return Built(fig)


def chart(data: Sequence[dict], layout: dict) -> Built:
    """A figure from trace dicts and a layout dict."""
    return built({"data": list(data), "layout": layout})


def hline(y: float, text: str, dash: str = "dot", color: str | None = None, left: bool = False):
    """A horizontal line across the plot at ``y`` and its label above it, at the right end (or
    the left): a shape and an annotation for :meth:`Built.with_marks`."""
    line = {"dash": dash, **({"color": color} if color else {})}
    shape = {"type": "line", "xref": "paper", "x0": 0, "x1": 1, "yref": "y", "y0": y, "y1": y, "line": line}
    side = "left" if left else "right"
    note = {
        "xref": "paper",
        "x": 0 if left else 1,
        "yref": "y",
        "y": y,
        "text": text,
        "showarrow": False,
        "xanchor": side,
        "yanchor": "bottom",
    }
    return shape, note


def draw(container, fig: go.Figure | dict, key: str) -> None:
    """Show a figure without Plotly's tool bar (these pictures are for looking, not zooming)."""
    container.plotly_chart(presenter.figure(built(fig)), key=key, config={"displayModeBar": False})


def layout(height: int, title: str | None = None, **more) -> dict:
    """The house layout of a chart: no outer margins, room for a title only when there is one."""
    return {
        "height": height,
        "margin": {"l": 0, "r": 0, "t": 30 if title else 10, "b": 0},
        **({"title": {"text": title}} if title else {}),
        **more,
    }


def figure(data: Sequence[dict], height: int, title: str | None = None, **more) -> Built:
    """A figure from trace dicts and the house layout."""
    return chart(data, layout(height, title, **more))


def image_layout(height: int, title: str | None, shapes: Sequence[dict] = (), **axes) -> dict:
    """An image-like layout: no axes, y pointing down, square cells."""
    return {
        "xaxis": {"visible": False, **axes.get("xaxis", {})},
        "yaxis": {"autorange": "reversed", "scaleanchor": "x", "visible": False, **axes.get("yaxis", {})},
        "height": height,
        "margin": {"l": 0, "r": 0, "t": 30 if title else 0, "b": 0},
        "title": {"text": title} if title else {},
        "showlegend": False,
        "dragmode": False,
        "shapes": list(shapes),
    }


def boxes(cells: Sequence[CellBox], scale: float = 1.0, width: int = 3) -> list[dict]:
    """Rectangles around cells of a grid drawn ``scale`` pixels to a cell."""
    return [
        {
            "type": "rect",
            "x0": left * scale - 0.5,
            "x1": (right + 1) * scale - 0.5,
            "y0": top * scale - 0.5,
            "y1": (bottom + 1) * scale - 0.5,
            "line": {"color": color, "width": width},
        }
        for top, left, bottom, right, color in cells
    ]
