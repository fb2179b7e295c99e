"""The attention page's rollout column: the picture on top with its colour key and caption, and its
controls (how heads are fused, how many of the weakest links are dropped) under it; and the
patches its question names."""

from __future__ import annotations

import numpy as np
import streamlit as st

from lessons import Lesson
from ui.cached import transformer as cached
from ui.charts.attention import key_words, map_over_photo
from ui.charts.layout import jpeg_uri, png_uri
from ui.session import Subject
from ui.widgets import question
from ui.widgets.captions import spread_caption
from vision_core import figures
from vision_core.transformer import attention, tokens

FUSIONS = ("mean", "min", "max")


def rollout_column(column, text: Lesson, subject: Subject, layers: int, pixels: np.ndarray) -> None:
    """Attention rollout through all ``layers`` blocks, in ``column``, with its colour key: the
    rollout's own lowest and highest value (it is scaled so that the largest is 1; not a weight)."""
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
        how = {"layers": layers, "fusion": text(f"fusion_{fusion}"), "discard": discard}
        caption = spread_caption(text, "rollout_caption", roll, **how)
        map_over_photo(picture, pixels, roll, caption, key=key_words(text, "key_rollout", roll))


def question_patches(
    pixels: np.ndarray, patch: int, cells: list[tuple[int, int]], labels: list[str], captions: list[str]
) -> None:
    """The patches a question names: where they sit on the picture (each box with its label), and
    each one enlarged with its caption."""
    where, crops = st.columns([2, 4])
    marked = figures.mark_patches(figures.enlarge(pixels, 2), 2 * patch, cells, labels)
    where.image(jpeg_uri(marked), width="stretch")
    enlarged = [
        figures.enlarge(tokens.patch_pixels(pixels, patch, *cell), max(1, CROP // patch)) for cell in cells
    ]
    side = enlarged[0].shape[1]
    crops.image([png_uri(c) for c in enlarged], caption=captions, width=side)  # crisp pixels: lossless


CROP = 160  # about how many pixels wide a question's patch is drawn


def top_patch_question(
    text: Lesson, pixels: np.ndarray, patch: int, grid_map: np.ndarray, says: dict
) -> None:
    """ "Which of these four patches will the CLS token attend to most?" for one head's CLS map
    (rows, cols) of the block and head in ``says``: the patches shown A–D, then the question."""
    q = attention.top_patch_question(grid_map, salt=f"top_patch|{says['layer']}|{says['head']}")
    letters = {cell: chr(ord("A") + i) for i, cell in enumerate(q.options)}  # as offered
    named = {(r, c): text("q_top_option", letter=letters[r, c], row=r, col=c) for r, c in q.options}
    question_patches(pixels, patch, list(q.options), list(letters.values()), list(named.values()))
    shares = " · ".join(f"{letters[cell]} {text.num(float(grid_map[cell]), '.2%')}" for cell in q.options)
    r, c = q.correct
    top = {"letter": letters[r, c], "top": float(grid_map[r, c]), "row": r, "col": c}
    uniform = attention.attention_spread(grid_map).uniform
    why = text("q_top_why", shares=shares, uniform=uniform, **top, **says)
    question.ask("top_patch", text("q_top", **says), q, why, format_func=named.__getitem__)
