"""The attention page's rollout column: the picture on top, its controls (how heads are fused, how
many of the weakest links are dropped) under it, and its caption."""

from __future__ import annotations

import numpy as np
import streamlit as st

from lessons import Lesson
from ui.cached import transformer as cached
from ui.charts.overlays import over_photo
from ui.session import Subject
from ui.widgets.captions import spread_caption

FUSIONS = ("mean", "min", "max")


def rollout_column(column, text: Lesson, subject: Subject, layers: int, pixels: np.ndarray) -> None:
    """Attention rollout through all ``layers`` blocks, in ``column``."""
    with column:
        st.subheader(text("rollout"))
        picture = st.empty()  # the controls sit under the picture, so that the three pictures line up
        # set on every run: the browser then keeps showing the choice when the language (the labels) changes
        st.session_state["tr_attention_fusion"] = st.session_state.get("tr_attention_fusion", FUSIONS[0])
        name_of = {f: text(f"fusion_{f}") for f in FUSIONS}
        fusion = st.radio(
            text("fusion_label"), FUSIONS, horizontal=True, key="tr_attention_fusion", format_func=name_of.get
        )
        discard = st.slider(
            text("discard_label"), 0.0, 0.95, 0.0, 0.05, key="tr_attention_discard", help=text("discard_help")
        )
        roll = cached.rollout_map(subject, fusion, float(discard))
        picture.image(over_photo(pixels, roll), width="stretch")
        how = {"layers": layers, "fusion": text(f"fusion_{fusion}"), "discard": discard}
        st.caption(spread_caption(text, "rollout_caption", roll, **how))
