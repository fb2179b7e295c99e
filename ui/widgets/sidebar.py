"""The sidebar: language, the learner's photo (sample, upload or camera) and the encoder, with what its
weights are, where they came from and how they were checked (words from ``ui.widgets.encoder``).

It is drawn by ``app.py`` on every run, so the choices hold across pages.
"""

from __future__ import annotations

import functools

import streamlit as st

from lessons import LANGUAGES, lesson
from ui import presenter, session
from ui.cached import core
from ui.widgets.encoder import picker_label, provenance, summary, weights_state
from ui.widgets.photo_source import photo_source


def render(section: str) -> None:
    with st.sidebar:
        st.selectbox("Language · Язык", list(LANGUAGES), format_func=LANGUAGES.get, key="lang")
        text = lesson("sidebar", session.lang())
        _photo_picker(text)
        if section in session.SECTION_FAMILIES:
            _encoder_picker(section, text)
        st.divider()
        presenter.toggle()


def _photo_picker(text) -> None:
    st.subheader(text("photo_heading"))
    candidate, source_id = photo_source("photo_source", collapsed=True)
    if candidate is not None and st.session_state.get("photo_source_id") != source_id:
        # try a newly chosen photo once; keep the previous photo if it cannot be used
        st.session_state["photo_source_id"] = source_id
        error = session.use_photo(candidate.data, candidate.label)
        st.session_state["photo_error"] = (
            None if error is None else f"**{candidate.label}**: {error.message} {error.hint}"
        )
    error = st.session_state.get("photo_error")
    if error:
        st.error(error)
    current = session.current_photo()
    st.image(core.thumbnail(current), caption=session.photo_name(current), width="stretch")


def _encoder_picker(section: str, text) -> None:
    st.subheader(text("model_heading"))
    name = session.remembered_choice(
        st.selectbox,
        f"model_{section}",
        session.encoders_for(section),
        session.DEFAULT_ENCODERS[section],
        label=text("model_label"),
        format_func=functools.partial(picker_label, lang=session.lang()),  # bound: a test formats it too
    )
    st.caption(summary(name))
    st.caption(provenance(name))
    weights_state(name, key=f"download_{name}")
