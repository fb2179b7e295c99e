"""The embedding lab's UMAP map and the photo chosen on it: a part of the map page."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import streamlit as st

from lessons import Lesson
from ui.cached import lab as cached
from ui.charts import lab as charts
from ui.charts.scatter import scatter
from ui.parts import part, rerun_part
from ui.widgets.pickers import focus_picker
from vision_core.embeddings import neighbours
from vision_core.embeddings.gallery import GalleryItem
from vision_core.embeddings.projection import Projection


@part
def umap_and_focus(
    text: Lesson,
    items: Sequence[GalleryItem],
    vectors: np.ndarray,
    umap: Projection,
    groups: Sequence[str],
    hover: Sequence[str],
    dims: int,
) -> None:
    """The UMAP map with the chosen photo ringed and lines to its nearest neighbours, and beside it
    that photo and its neighbours. A part of the page (``ui.parts``): picking a photo, in the box or
    on the map, reruns this alone."""
    n = len(items)
    focus = int(st.session_state.get("lab_focus", 0)) if st.session_state.get("lab_focus", 0) < n else 0
    near = neighbours.nearest(vectors, focus, 5)
    map_col, panel = st.columns([3, 2])
    with map_col:
        clicked = scatter(
            umap.coords, groups, hover, key="lab_umap_map", selected=focus, links=[h.index for h in near]
        )
        st.caption(
            text(
                "umap_numbers",
                photos=n,
                dim=vectors.shape[1],
                pca=umap.reduced.data.shape[1],
                kept=umap.reduced.kept_variance,
                k=umap.params["n_neighbors"],
                seconds=umap.seconds,
            )
        )
    with panel:
        if focus_picker(items, "lab_focus", text("focus_label"), clicked) != focus:
            rerun_part()  # a click on the map: the new photo's ring and panel
        st.image(cached.thumbnail(items[focus], 360), caption=hover[focus], width="stretch")
        st.markdown(text("focus_neighbours", n=len(near)))
        charts.neighbour_thumbs(items, near, text, cols=len(near) or 1, side=120)
        st.caption(text("click_hint") if dims == 2 else text("click_hint_3d"))
