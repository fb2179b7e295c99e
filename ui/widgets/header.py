"""The opening every lesson page shares: its title, the sidebar's photo error repeated where the
learner is looking, and the page's introduction."""

from __future__ import annotations

import streamlit as st

from lessons import Lesson, lesson
from ui import session


def photo_error_banner() -> None:
    """Repeat the sidebar's photo error at the top of the page."""
    error = st.session_state.get("photo_error")
    if error:
        st.error(error, icon=":material/broken_image:")


def page_header(page_id: str, *, intro: bool = True) -> Lesson:
    """Title, photo error and introduction of ``page_id``; returns the page's lesson text."""
    text = lesson(page_id, session.lang())
    st.title(text("title"))
    photo_error_banner()
    if intro:
        st.markdown(text("intro"))
    return text
