"""Work the app does once per server process, in the background, so that no learner waits for it.

UMAP's code is compiled by numba on its first call (several seconds on 2 cores), the sidebar's
first look at an encoder's shape imports part of torch, and the embedding lab's sample gallery
(the same photos for everyone) has to be embedded by each encoder its pages open with: "Encoders
compared" alone embeds it three times, the ViT taking most of the page's first visit.  :func:`start`
does all of it in a daemon thread as soon as the app starts, on one torch thread (the learners'
runs are the server's parallelism); the lab is then warm by the time a learner gets there.  The
thread imports what it needs itself, so starting it costs the first page nothing.
"""

from __future__ import annotations

import atexit
import threading

import pandas  # noqa: F401  (see start)
import streamlit as st

_stopping = threading.Event()  # the process is ending: the warm-up stops at its next step
STOP_WAIT = 60  # seconds the ending process waits for the step under way


def _warm_up() -> None:
    from vision_core.embeddings import projection
    from vision_core.engine import encoders

    for name in encoders.names():  # the sidebar's line about each encoder: its first build on
        encoders.shape(name)  # PyTorch's meta device imports torch._dynamo (1–7 s, once)
    projection.warm_up()
    embed_sample_gallery()


def _stop(thread: threading.Thread) -> None:
    """At the process's exit: a daemon thread still inside torch when Python finalises aborts the
    process ("terminate called without an active exception"), so the step under way finishes first."""
    _stopping.set()
    thread.join(timeout=STOP_WAIT)


def embed_sample_gallery() -> None:
    """The lab's default gallery embedded by the encoders its pages open with, into the cache every
    session reads (``ui.cached.lab.cached_vectors``)."""
    from ui import gallery
    from ui.cached import lab
    from ui.widgets.encoders_compared import default_choices

    s = gallery.default_spec()
    items = gallery.sample_gallery(s.sample_ids, s.variants, s.kinds, s.seed, gallery.sample_labels(s))
    for choice in default_choices():  # the lab's other pages open with A, the lab's CNN
        if _stopping.is_set():
            return
        lab.cached_vectors(items, choice)


@st.cache_resource(show_spinner=False)
def start() -> threading.Thread:
    """Start the warm-up once per process (``st.cache_resource`` keeps the thread).

    pandas is imported above, before the thread starts: the thread's UMAP import pulls pandas in,
    and a page's Plotly figure meanwhile asked for the half-imported module ("partially
    initialized module 'pandas' has no attribute 'Series'")."""
    thread = threading.Thread(target=_warm_up, name="warm-up", daemon=True)
    thread.start()
    atexit.register(_stop, thread)
    return thread
