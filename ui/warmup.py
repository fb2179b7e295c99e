"""Work the app does once per server process, in the background, so that no learner waits for it.

UMAP's code is compiled by numba on its first call (several seconds on 2 cores), and the sidebar's
first look at an encoder's shape imports part of torch.  :func:`start` does both in a daemon
thread as soon as the app starts; the embedding lab's map is then warm by the time a learner gets
there.  The thread imports what it needs itself, so starting it costs the first page nothing.
"""

from __future__ import annotations

import threading

import pandas  # noqa: F401  (see start)
import streamlit as st


def _warm_up() -> None:
    from vision_core.embeddings import projection
    from vision_core.engine import encoders

    for name in encoders.names():  # the sidebar's line about each encoder: its first build on
        encoders.shape(name)  # PyTorch's meta device imports torch._dynamo (1–7 s, once)
    projection.warm_up()


@st.cache_resource(show_spinner=False)
def start() -> threading.Thread:
    """Start the warm-up once per process (``st.cache_resource`` keeps the thread).

    pandas is imported above, before the thread starts: the thread's UMAP import pulls pandas in,
    and a page's Plotly figure meanwhile asked for the half-imported module ("partially
    initialized module 'pandas' has no attribute 'Series'")."""
    thread = threading.Thread(target=_warm_up, name="umap-warm-up", daemon=True)
    thread.start()
    return thread
