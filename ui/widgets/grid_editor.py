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


def pocket_editors(text: Lesson, key: str = "conv_pocket") -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The pocket picture and its filters in editable tables beside a reset button; returns the
    edited picture and filters.  A reset gives fresh editors (a new version in their keys)."""
    version = st.session_state.setdefault(f"{key}_version", 0)
    cols = st.columns([4, 2, 2, 2])
    with cols[0]:
        st.caption(text("picture_label"))
        picture = grid_editor(POCKET_IMAGE, f"{key}_picture_{version}")
    kernels = {}
    for col, (name, kernel) in zip(cols[1:3], POCKET_FILTERS.items(), strict=True):
        with col:
            st.caption(text("filter_label", name=name))
            kernels[name] = grid_editor(kernel, f"{key}_filter_{name}_{version}")
    if cols[3].button(text("reset"), key=f"{key}_reset", icon=":material/restart_alt:"):
        st.session_state[f"{key}_version"] = version + 1
        st.rerun()
    return picture, kernels
