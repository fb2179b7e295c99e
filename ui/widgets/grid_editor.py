"""Small grids of numbers the learner edits in place: the pocket example's picture and filters."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from lessons import Lesson
from vision_core.cnn import conv_sandbox
from vision_core.cnn.pocket import POCKET_FILTERS, POCKET_IMAGE


def grid_editor(values: np.ndarray, key: str) -> np.ndarray:
    """An editable table of ``values`` (2-D); returns the edited grid, blanks read as 0."""
    labels = [str(i) for i in range(values.shape[1])]
    number = st.column_config.NumberColumn(format="%g", width="small")
    table = pd.DataFrame(values, columns=labels)
    edited = st.data_editor(table, key=key, hide_index=True, column_config=dict.fromkeys(labels, number))
    return conv_sandbox.grid_from_table(edited)


# The learner's pocket picture and filters, as last edited on the convolution page: a plain session
# key (Streamlit forgets a widget's state when its page is left), read by the ReLU, pooling and GAP
# pages so that the example they carry on is the learner's own.  {"picture": grid, "A": grid, ...}
POCKET = "pocket_grids"


def pocket_grids() -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The learner's pocket picture and filters (the syllabus's until they edit them)."""
    kept = st.session_state.get(POCKET) or {}
    picture = np.asarray(kept.get("picture", POCKET_IMAGE), dtype=np.float64)
    filters = {n: np.asarray(kept.get(n, k), dtype=np.float64) for n, k in POCKET_FILTERS.items()}
    return picture, filters


def pocket_editors(text: Lesson, key: str = "conv_pocket") -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The pocket picture and its filters in editable tables beside a reset button; returns the
    edited picture and filters, and keeps them for the pages after.  Editors drawn afresh (on a
    return to the page) start from the kept grids; a reset gives fresh editors (a new version in
    their keys) on the syllabus's numbers."""
    version = st.session_state.setdefault(f"{key}_version", 0)
    names = [f"{key}_picture_{version}"] + [f"{key}_filter_{n}_{version}" for n in POCKET_FILTERS]
    if not any(n in st.session_state for n in names):  # fresh editors: start from the kept grids
        st.session_state[f"{key}_base"] = pocket_grids()
    base_picture, base_filters = st.session_state.get(f"{key}_base") or pocket_grids()
    cols = st.columns([4, 2, 2, 2])
    with cols[0]:
        st.caption(text("picture_label"))
        picture = grid_editor(base_picture, names[0])
    kernels = {}
    for col, name, editor in zip(cols[1:3], POCKET_FILTERS, names[1:], strict=True):
        with col:
            st.caption(text("filter_label", name=name))
            kernels[name] = grid_editor(base_filters[name], editor)
    st.session_state[POCKET] = {"picture": picture, **kernels}
    if cols[3].button(text("reset"), key=f"{key}_reset", icon=":material/restart_alt:"):
        st.session_state[f"{key}_version"] = version + 1
        st.session_state.pop(POCKET, None)
        st.rerun()
    return picture, kernels
