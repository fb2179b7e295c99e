"""The "Train it yourself" pictures: the run's curves, the first layer's filters, the held-out digits'
map coloured by digit, and a digit with the CLS token's attention over it.  Only arrays a page got
from vision_core (``vision_core.training.views``) are drawn; no number is made here."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ui.charts.layout import Built, chart, figure, image_layout
from ui.charts.overlays import enlarge_rgb, over_photo
from ui.charts.palette import HIGHLIGHT, NEUTRAL, SECOND, SIGNED
from ui.charts.scatter import scatter
from vision_core.training.views import Curves

CURVE_HEIGHT = 240
PICTURE_SIDE = 256  # a 32×32 digit blown up 8 times


def _axes(x_title: str, y_title: str, **y) -> dict:
    return {"xaxis": {"title": {"text": x_title}, "dtick": 1}, "yaxis": {"title": {"text": y_title}, **y}}


def loss_curve(c: Curves, x_title: str, y_title: str, title: str) -> Built:
    """The training loss, epoch by epoch."""
    line = {
        "type": "scatter",
        "x": c.epochs,
        "y": c.loss,
        "mode": "lines+markers",
        "line": {"color": NEUTRAL},
    }
    return figure([line], CURVE_HEIGHT, title, showlegend=False, **_axes(x_title, y_title))


def accuracy_curves(c: Curves, names: tuple[str, str], x_title: str, y_title: str, title: str) -> Built:
    """Held-out accuracy (the classifier's or the linear probe's) and 5-NN accuracy, epoch by epoch."""
    data = [
        {
            "type": "scatter",
            "x": c.epochs,
            "y": y,
            "mode": "lines+markers",
            "name": n,
            "line": {"color": colour},
        }
        for y, n, colour in zip((c.accuracy, c.knn_accuracy), names, (HIGHLIGHT, SECOND), strict=True)
    ]
    axes = _axes(x_title, y_title, range=[0, 1.02], tickformat=".0%")
    return figure(data, CURVE_HEIGHT, title, legend={"orientation": "h", "y": -0.3}, **axes)


def filters_figure(mosaic: np.ndarray, title: str, height: int = 300) -> Built:
    """The filters' mosaic (``views.filter_mosaic``): red positive, blue negative, each on its scale."""
    heat = {
        "type": "heatmap", "z": mosaic, "zmin": -1, "zmax": 1, "colorscale": SIGNED["cmap"],
        "showscale": False, "hoverinfo": "skip",
    }  # fmt: skip
    return chart([heat], image_layout(height, title))


def digit_map(
    map_2d: np.ndarray, labels: np.ndarray, hover: Sequence[str], key: str, title: str, height: int = 420
) -> None:
    """The held-out digits' 2-D map, one colour per digit (the lab's map, not clickable)."""
    groups = [str(d) for d in labels]
    scatter(map_2d, groups, hover, key=key, height=height, title=title, clickable=False)


def digit_picture(pixels: np.ndarray) -> np.ndarray:
    """A (32, 32, 3) digit blown up to crisp squares."""
    return enlarge_rgb(pixels, PICTURE_SIDE)


def attention_picture(pixels: np.ndarray, attention: np.ndarray) -> np.ndarray:
    """The CLS token's (rows, cols) attention laid over the digit, blown up to crisp squares."""
    return enlarge_rgb(over_photo(pixels, attention), PICTURE_SIDE)
