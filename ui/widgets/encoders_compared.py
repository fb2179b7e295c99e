"""The last section of "Encoders compared": one photo's nearest neighbours under encoders A and
B, side by side, with how much the two lists agree.  A part of the page (``ui.parts``): picking
another photo reruns it alone."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import streamlit as st

from lessons import Lesson
from ui import session
from ui.cached import lab as cached
from ui.charts import lab as charts
from ui.parts import part
from ui.session import Choice
from ui.widgets.encoder import offline_choice
from ui.widgets.pickers import focus_picker
from vision_core.embeddings import neighbours
from vision_core.embeddings.gallery import GalleryItem
from vision_core.engine import encoders

A_DEFAULT = encoders.DEFAULT  # the lab's CNN
B_DEFAULT = session.DEFAULT_ENCODERS["transformer"]  # the Transformer pages' ViT: trained, works offline


def default_choices() -> list[Choice]:
    """What the page compares until the learner changes it: A, B, and A with random weights (the
    toggle starts on; an A already without its weights is its own random twin)."""
    a = offline_choice(A_DEFAULT)
    return [a, offline_choice(B_DEFAULT)] + ([offline_choice(A_DEFAULT, random=True)] if a.trained else [])


@part
def one_photo(
    text: Lesson,
    items: Sequence[GalleryItem],
    vecs: Mapping[str, np.ndarray],
    ab: neighbours.Agreement,
    titles: Mapping[str, str],
    k: int,
) -> None:
    """The chosen photo (the one A and B agree on least, to start with) and both neighbour lists."""
    st.session_state.setdefault("lab_compare_photo", ab.least)
    i = focus_picker(items, "lab_compare_photo", text("photo_label"))
    st.markdown(text("photo_result", name=items[i].name, j=float(ab.per_photo[i]), k=k))
    q_col, *list_cols = st.columns([1, 3, 3])
    q_col.image(cached.thumbnail(items[i], 240), caption=items[i].name, width="stretch")
    for col, tag in zip(list_cols, ("A", "B"), strict=True):
        with col:
            st.markdown(f"**{titles[tag]}**")
            charts.neighbour_thumbs(
                items, neighbours.nearest(vecs[tag], i, k), text, cols=min(k, 5), side=110
            )
