"""The opening every lesson page shares: its title, the sidebar's photo error repeated where the
learner is looking, and the page's introduction."""

from __future__ import annotations

import threading

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from lessons import Lesson, lesson
from ui import presenter, session


def photo_error_banner() -> None:
    """Repeat the sidebar's photo error at the top of the page."""
    error = st.session_state.get("photo_error")
    if error:
        st.error(error, icon=":material/broken_image:")


_app_has_run = False  # set by app.py's first run in this server process (entry_point_ran)


def entry_point_ran() -> None:
    """Called by ``app.py`` on every run: from now on this server's pages run inside it."""
    global _app_has_run
    _app_has_run = True


def through_app() -> None:
    """Make sure this page runs inside ``app.py``'s navigation and sidebar.

    A server that has never run ``app.py`` still treats the top-level ``pages/`` folder the old
    way: a first visit to a deep link (``/cnn_convolution?...``) runs the page file on its own, in
    Streamlit's automatic page listing. ``st.navigation`` turns that off for the whole server,
    but only once the entry point has run. So a page run before ``app.py`` ever ran turns it off
    itself and asks for a rerun, which runs ``app.py`` and opens the same page (the same URL
    path, so the same page) in the app's own navigation. Checked in a real browser on a fresh
    server (tests/browser/test_deep_links.py)."""
    _top.slot = None  # a new run: no slot until this page's header makes one
    if not _app_has_run and PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


# a formula on a line of its own is read from the back of a room: about 30 px at 1920×1080
FORMULA_CSS = "<style>.katex-display > .katex { font-size: 1.6em; }</style>"

_top = threading.local()  # this script run's slot under the page title (scripts run one per thread)


def top_of_page():
    """The slot under this page's title, for what the learner must see first (an encoder that fell
    back to another); the page itself when the page has no header."""
    return getattr(_top, "slot", None) or st


def page_header(page_id: str, *, intro: bool = True) -> Lesson:
    """Title, photo error and introduction of ``page_id``; returns the page's lesson text."""
    through_app()
    text = lesson(page_id, session.lang())
    st.title(text("title"))
    st.html(FORMULA_CSS)
    _top.slot = st.container()
    photo_error_banner()
    presenter.after_title()  # in presenter mode, the introduction is step 0
    if intro:
        st.markdown(text("intro"))
    return text
