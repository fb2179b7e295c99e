"""Two sections of "CNN vs ViT": the two networks' facts side by side (a table) and their top
predictions side by side, where a network has an ImageNet head."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import streamlit as st

from lessons import Lesson
from ui.session import Choice
from vision_core.cnn.stages import format_shape
from vision_core.predictions import top_k
from vision_core.transformer import saliency
from vision_core.transformer.compare import EncoderFacts


def facts_table(text: Lesson, facts: Mapping[str, EncoderFacts], titles: Mapping[str, str]) -> None:
    """Input, first layer, last grid, vector and parameters of each network, one column each."""
    rows = {
        text("fact_input"): [format_shape(f.input_size) for f in facts.values()],
        text("fact_first"): [
            text(
                "first_value",
                name=f.first_step,
                kh=f.first_kernel[0],
                kw=f.first_kernel[1],
                s=f.first_stride[0],
            )
            for f in facts.values()
        ],
        text("fact_grid"): [f"{f.grid_step}: {format_shape(f.grid_shape)}" for f in facts.values()],
        text("fact_vector"): [f"{f.vector_step}: {f.vector_dim}" for f in facts.values()],
        text("fact_params"): [f"{f.params:,}" for f in facts.values()],
    }
    table = {
        text("fact"): list(rows),
        **{t: [v[i] for v in rows.values()] for i, t in enumerate(titles.values())},
    }
    st.dataframe(table, hide_index=True, key="tr_compare_facts")
    st.markdown(text("facts_text"))


def first_layer(text: Lesson, f: EncoderFacts) -> str:
    """The first layer's name, window and stride, as the table writes it."""
    (kh, kw), stride = f.first_kernel, f.first_stride[0]
    return text("first_value", name=f.first_step, kh=kh, kw=kw, s=stride)


def predictions(text: Lesson, networks: tuple[Choice, Choice], probs: tuple[np.ndarray | None, ...]) -> None:
    """Each network's top 5 ImageNet classes, or why it has none, side by side."""
    for column, choice, p_all in zip(st.columns(2), networks, probs, strict=True):
        spec = choice.encoder
        column.subheader(spec.title)
        if spec.has_classifier and p_all is not None:
            for p in top_k(p_all, 5, spec.labels):
                column.progress(p.probability, text=f"{p.label} — {text.num(p.probability, '.1%')}")
        else:
            no_head = "no_head_decoder" if saliency.has_decoder(spec.name) else "no_head"
            column.info(text(no_head, model=spec.title), icon=":material/info:")
    if any(c.encoder.labels == "imagenet-1k" for c in networks):
        st.caption(text("labels_note"))
    if any(not c.trained and c.encoder.has_classifier for c in networks):
        st.caption(text("predict_untrained"))
