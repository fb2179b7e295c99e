"""Presenter mode's figures: larger text and taller, made as a new spec (the given one may be cached)."""

import copy

import plotly.graph_objects as go

from ui import presenter
from ui.charts.layout import Built, chart


def _spec() -> Built:
    heat = {"type": "heatmap", "z": [[1, 2], [3, 4]], "texttemplate": "%{z}", "textfont": {"size": 12}}
    note = {"x": 0, "y": 0, "text": "0.25", "showarrow": False, "font": {"size": 30, "color": "red"}}
    return chart(
        [heat, {"type": "bar", "x": [1], "y": [2]}], {"height": 400, "title": "Maps", "annotations": [note]}
    )


def test_presenter_off_hands_back_the_same_figure(monkeypatch):
    monkeypatch.setattr(presenter, "active", lambda: False)
    fig = _spec()
    assert presenter.figure(fig) is fig


def test_presenter_on_makes_text_larger_and_the_figure_taller_without_changing_the_given_one(monkeypatch):
    monkeypatch.setattr(presenter, "active", lambda: True)
    fig = _spec()
    before = copy.deepcopy(fig.to_dict())
    shown = presenter.figure(fig)
    assert isinstance(shown, Built)
    assert fig.to_dict() == before  # the cached spec is untouched
    layout = go.Figure(shown.to_dict()).layout  # and the new one is a valid Plotly figure
    assert layout.height == int(400 * presenter.TALLER)
    assert layout.font.size == presenter.FONT and layout.font.color == "#000000"
    assert layout.title.text == "Maps" and layout.title.font.size == presenter.TITLE_FONT
    note = layout.annotations[0]
    assert note.font.size == 30 * presenter.TALLER and note.font.color == "red"  # larger, colour kept
    heat, bar = shown.to_dict()["data"]
    assert heat["textfont"]["size"] == presenter.FONT  # 12 × 1.3 is below the floor
    assert bar == fig.to_dict()["data"][1]


def test_presenter_on_takes_a_plotly_figure_too(monkeypatch):
    monkeypatch.setattr(presenter, "active", lambda: True)
    shown = presenter.figure(go.Figure(go.Bar(x=[1], y=[2]), layout={"height": 300}))
    assert isinstance(shown, Built) and shown.to_dict()["layout"]["height"] == 390
