"""Presenter mode: the app as a projector shows it to a room (see ``ui.widgets.present``)."""

from __future__ import annotations

import streamlit as st

KEY = "present"  # the session-state key and the query parameter (?present=1)


def active() -> bool:
    return bool(st.session_state.get(KEY, False))
