"""Two sections of the perturbation lab: the top predictions before and after the change, and how
far the embedding's cosine similarity to the original falls as the photo is shifted or turned
(a part of the page, ``ui.parts``: the threshold slider reruns the curves alone)."""

from __future__ import annotations

import streamlit as st

from lessons import Lesson
from ui.cached import why_perturb as cached
from ui.charts.layout import draw
from ui.charts.why_perturb import similarity_curve
from ui.parts import part
from ui.session import Subject
from vision_core.engine.encoders import Encoder
from vision_core.why.perturb import Comparison, first_below


def top_predictions(text: Lesson, c: Comparison, spec: Encoder) -> None:
    """The top classes of the original and of the changed photo (``c``: ``cached.moved``), or why
    there are none."""
    if c.top_before and c.top_after and c.before_after is not None:
        first, (was, now) = c.top_before[0], c.before_after
        if c.top_after[0].index == first.index:
            st.markdown(text("top_same", label=first.label, before=was, after=now))
        else:
            st.markdown(
                text(
                    "top_changed",
                    before_label=first.label,
                    after_label=c.top_after[0].label,
                    before=was,
                    after=now,
                )
            )
        for column, top, caption in zip(
            st.columns(2), (c.top_before, c.top_after), ("top_original", "top_perturbed"), strict=True
        ):
            column.markdown(text(caption))
            for pred in top:
                column.progress(
                    pred.probability, text=text("top_row", label=pred.label, probability=pred.probability)
                )
    else:
        st.info(text("no_classifier", model=spec.title))


@part
def invariance_curves(text: Lesson, subject: Subject) -> None:
    """The cosine similarity against each shift and each turn, with where it first falls below the
    learner's threshold."""
    threshold = st.slider(text("threshold_label"), 0.5, 0.99, 0.9, 0.01, key="why_perturb_threshold")
    names = (text("curve_name"), text("threshold_name", threshold=threshold), text("below_name"))
    for kind, column in zip(("shift", "angle"), st.columns(2), strict=True):
        with st.spinner(text("sweep_wait")):
            s = cached.sweep(subject, kind)
        reading = first_below(s, threshold)
        column.subheader(text(f"{kind}_title"))
        figure = similarity_curve(s, reading, threshold, names, text(f"{kind}_axis"), text("cos_axis"))
        draw(column, figure, f"why_perturb_{kind}_sweep")
        says = {
            "threshold": threshold,
            "lowest": reading.lowest,
            "lowest_at": reading.lowest_at,
            "reach": reading.reach,
        }
        if reading.below_at is None:
            column.markdown(text(f"{kind}_never", **says))
        else:
            column.markdown(text(f"{kind}_below", at=reading.below_at, below=reading.below_cosine, **says))
        if kind == "angle":
            column.markdown(text("angle_flip", flip=s.at(180.0)))
        column.caption(text("sweep_note", count=len(s.values)))
