"""Cached calls of the "Train it yourself" pages: the data sets and the held-out digits a learner picks.

What is cached here is read-only and the same for every learner.  A training run is not: each
learner's :class:`~vision_core.training.trainer.Trainer` lives in their own session
(``ui.widgets.training``), never in a cache shared across sessions.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from vision_core.training import data, views
from vision_core.training.data import DigitData


@st.cache_resource(show_spinner=False)
def dataset(name: data.DatasetName) -> DigitData:
    """One of the data sets with its fixed held-out split (read-only arrays, shared)."""
    return data.load_dataset(name)


@st.cache_data(show_spinner=False, max_entries=64)
def held_out_count(name: data.DatasetName, digit: int) -> int:
    """How many held-out pictures of ``digit`` data set ``name`` has."""
    return len(views.held_out_of_digit(dataset(name), digit))


@st.cache_data(show_spinner=False, max_entries=64)
def held_out_digit(name: data.DatasetName, digit: int, which: int) -> tuple[np.ndarray, int]:
    """The ``which``-th (from 0) held-out picture of ``digit`` in data set ``name`` (side, side) and
    its position in the held-out set."""
    d = dataset(name)
    position = int(views.held_out_of_digit(d, digit)[which])
    return np.array(d.test_images[position]), position


@st.cache_data(show_spinner=False, max_entries=64)
def digit_pixels(picture: np.ndarray) -> np.ndarray:
    """The picture as the (32, 32, 3) image the model sees."""
    return views.digit_pixels(picture)


@st.cache_data(show_spinner=False, max_entries=16)
def default_epochs(model_kind: str, objective: str, name: data.DatasetName) -> int:
    """The engine's number of epochs for a model, objective and data set."""
    from vision_core.training.trainer import default_config

    return default_config(model_kind, objective, name).epochs  # type: ignore[arg-type]
