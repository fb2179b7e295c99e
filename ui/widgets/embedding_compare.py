"""The last section of "GAP → the embedding": a second photo through the same encoder, a
prediction question about the two embeddings' cosine similarity, then the answer beside both photos."""

from __future__ import annotations

import numpy as np
import streamlit as st

from lessons import Lesson
from ui.cached import core
from ui.session import Subject
from ui.widgets import question
from ui.widgets.photo_source import second_photo
from vision_core.cnn import squeeze
from vision_core.embeddings.vectors import cosine_similarity
from vision_core.engine.encoders import Encoder
from vision_core.predictions import top_k


def compare_second_photo(text: Lesson, subject: Subject, spec: Encoder, embedding: np.ndarray) -> None:
    """The learner's photo's ``embedding`` against a second photo's, once they pick one."""
    st.markdown(text("compare_intro"))
    second = second_photo(text, "emb")
    if second is None:
        return
    tr2 = core.traced(subject.replace(photo=second), keep=("embedding", "probs"), precision="float32")
    cos, line = cosine_similarity(embedding, tr2.array("embedding")[0]), squeeze.SIMILAR
    verdict = "q_cosine_why_above" if cos > line else "q_cosine_why_below"
    question.ask(
        "emb_cosine",
        text("q_cosine", label=second.label, line=line),
        squeeze.above_question(cos),
        text(verdict, cos=cos, line=line, model=spec.title),
        format_func=lambda above: text("q_cosine_yes" if above else "q_cosine_no", line=line),
    )
    a, b, c = st.columns([1, 1, 2])
    caption = text("your_photo_caption", label=subject.photo.label)
    a.image(core.thumbnail(subject.photo), caption=caption, width="stretch")
    b.image(core.thumbnail(second), caption=second.label, width="stretch")
    c.markdown(text("cosine_text", cos=cos, model=spec.title))
    c.progress(squeeze.bar_share(cos))
    if spec.has_classifier and "probs" in tr2:
        best = top_k(tr2.array("probs")[0], 1)[0]
        c.caption(text("second_label", label=best.label, probability=best.probability))
