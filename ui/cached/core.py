"""The cached calls every section shares: models, the photo, its preparation and its trace.

Models are shared, read-only and in eval mode (``st.cache_resource``); everything computed from a
learner's photo is cached per :class:`~ui.session.Subject` by :func:`photo_cache`, keyed on the
photo's SHA-256 (never on the bytes).  Photo-derived entries live in this server's memory only,
are never written anywhere, and each holds its size under the server's memory budget
(``vision_core.engine.budget``).  An entry of a learner's own photo belongs to their session: it
leaves when the session disconnects (Streamlit's session-scoped ``st.cache_resource`` tells us,
see :func:`watch_session`) or after :data:`PHOTO_IDLE` seconds unread; results of the sample
photos, which are not private, are shared by every session and leave after the same idle time.
When the budget is full a new result is refused in words (:func:`refuse_busy`), the page stops
there, and nothing anyone holds is lost.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import threading
from collections.abc import Hashable
from typing import NoReturn

import numpy as np
import streamlit as st
import torch
from PIL import Image
from streamlit.logger import get_logger
from streamlit.runtime.scriptrunner import get_script_run_ctx
from torch import nn

from lessons import lesson
from ui import session
from ui.session import Choice, Photo, Subject
from vision_core.engine import budget, encoders
from vision_core.engine.preprocess import PreprocessSteps, load_image
from vision_core.engine.trace import Trace, trace

PHOTO_IDLE = 300  # seconds a photo's results stay cached without being read (README: Privacy)
PHOTO_TTL = 3600  # seconds the embedding lab's own caches keep an entry (ui/cached/lab.py)
# hash a subject or a photo on the photo's SHA-256: hashing megabytes of bytes on every call is waste
HASH = {Subject: lambda s: s.cache_key, Photo: lambda p: p.key}
SHARED = "shared"  # the owner of results computed from the sample photos: every session
STORE = budget.ResultStore(budget.server_budget, idle=PHOTO_IDLE)
STORE.start_sweeper(every=30)  # idle results leave even when nobody reads anything
_LOGGER = get_logger(__name__)
_busy = threading.local()  # .raising: a caller (use_photo) words the refusal itself


def photo_cache(max_entries: int, *, by_reference: bool = False):
    """Cache a function of a learner's photo (its first ``Subject`` or ``Photo`` argument) in
    :data:`STORE`: at most ``max_entries`` results per owner (the learner's session, or every
    session for a sample photo).  A reader gets a fresh copy of the result (it is kept pickled),
    or with ``by_reference`` the one kept object, its arrays made read-only (for big results that
    no caller changes: traces)."""

    def decorate(fn):
        signature = inspect.signature(fn)
        group = f"{fn.__module__}.{fn.__qualname__}"

        @functools.wraps(fn)
        def cached(*args, **kwargs):
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            owner = _owner(bound.arguments.values())
            key = (group, owner, tuple((name, _hashable(v)) for name, v in bound.arguments.items()))
            try:
                return STORE.get(
                    key,
                    lambda: fn(*args, **kwargs),
                    owner=owner,
                    group=group,
                    max_entries=max_entries,
                    by_reference=by_reference,
                )
            except budget.ServerBusy:
                if getattr(_busy, "raising", False):
                    raise
                refuse_busy()

        return cached

    return decorate


def _hashable(value) -> Hashable:
    if isinstance(value, Subject):
        return ("subject", *value.cache_key)
    if isinstance(value, Photo):
        return ("photo", value.key)
    if isinstance(value, (tuple, list)):
        return tuple(_hashable(v) for v in value)
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return value


def _owner(arguments) -> Hashable:
    """Who a result belongs to: every session for a sample photo, else the learner's session."""
    for value in arguments:
        photo = value.photo if isinstance(value, Subject) else value if isinstance(value, Photo) else None
        if photo is not None:
            return SHARED if photo.key in session.sample_ids() else session_owner()
    return session_owner()


def session_owner() -> str:
    """The current learner's session id (registering its end with :func:`watch_session`)."""
    ctx = get_script_run_ctx()
    if ctx is None:
        return "no-session"
    if ctx.session_id not in _watched:  # a page asks several times a run: one cache look-up a session
        watch_session(ctx.session_id)
        _watched.add(ctx.session_id)
    return ctx.session_id


_watched: set[str] = set()  # the sessions whose end watch_session is watching for


def _session_ended(session_id: str) -> None:
    """Streamlit calls this when a session disconnects: its results and holds leave the budget."""
    _watched.discard(session_id)  # a scoped cache cleared by hand ends its watch too: watch it again
    results, held = STORE.drop_owner(session_id), budget.server_budget().drop(session_id)
    _LOGGER.info("session ended: %d photo results and %.1f MiB of holds released", results, held / budget.MB)


@st.cache_resource(show_spinner=False, scope="session", on_release=_session_ended)
def watch_session(session_id: str) -> str:
    """A session-scoped entry whose release (Streamlit clears a session's scoped caches when it
    disconnects) drops everything the session holds: see :func:`_session_ended`."""
    return session_id


def refuse_busy() -> NoReturn:
    """Say the server is busy, where the learner is looking, and stop this run of the page."""
    text = lesson("server", session.lang())
    st.error(f"{text('busy')} {text('busy_hint')}", icon=":material/hourglass_top:")
    st.stop()


@contextlib.contextmanager
def busy_raises():
    """Inside this block a full budget raises ``budget.ServerBusy`` instead of stopping the page."""
    before = getattr(_busy, "raising", False)
    _busy.raising = True
    try:
        yield
    finally:
        _busy.raising = before


FORWARD_THREADS = 1  # torch's intra-op threads for a forward pass on this server (see model())


def model(choice: Choice) -> nn.Module:
    """The trained network, never downloaded here (the sidebar offers the download; a missing file
    raises ``WeightsUnavailable``), or the same architecture untrained, from a fixed seed.

    Every page gets its network here, so this is where the calling script thread is told to run
    torch on :data:`FORWARD_THREADS` thread (torch keeps the setting per thread; a Streamlit run is
    a thread of its own).  On the server, two intra-op threads per pass made a traced
    EfficientNet-Lite0 take 0.1–2.1 s instead of 0.04–0.1 s and a traced ViT-S/14 0.8–1.6 s instead
    of 0.3 s, even for a single learner, and with twenty learners they only wait for each other
    (bench/bench_load.py, on two shared cores)."""
    torch.set_num_threads(FORWARD_THREADS)
    return _network(choice)


@st.cache_resource(show_spinner=False, max_entries=12)
def _network(choice: Choice) -> nn.Module:
    if not choice.trained:
        return encoders.seeded_model(choice.name, seed=0)
    return encoders.load_model(choice.name, allow_download=False)


@photo_cache(max_entries=32)
def photo(p: Photo) -> Image.Image:
    """The decoded photo (raises ``ImageError`` with a learner-facing message)."""
    return load_image(p.data)


@photo_cache(max_entries=32)
def thumbnail(p: Photo, side: int = 480) -> Image.Image:
    """A small copy for the sidebar and galleries."""
    image = photo(p).copy()
    image.thumbnail((side, side))
    return image


@photo_cache(max_entries=32)
def prepared(subject: Subject) -> PreprocessSteps:
    """Every picture of the preparation for the subject's encoder."""
    return encoders.preprocess_photo(
        photo(subject.photo), subject.name, size=subject.size, keep_aspect=subject.keep_aspect
    )


@photo_cache(max_entries=64, by_reference=True)  # read-only arrays: no page changes a trace
def traced(
    subject: Subject,
    *,
    keep: tuple[str, ...] | None = None,
    stop_after: tuple[str, ...] | None = None,
    precision: str = "float16",
) -> Trace:
    """The trace of the subject's photo through its encoder: values of the ``keep`` steps (all when
    None) in ``precision``, shapes and arithmetic of every step that ran."""
    tr = trace(model(subject.choice), prepared(subject).tensor, keep=keep, stop_after=stop_after)
    return tr.compact(np.dtype(precision))


@st.cache_data(show_spinner=False, max_entries=64)
def shape_table(name: str, size: int) -> Trace:
    """Every step's shape and arithmetic for a size×size input (no values)."""
    from vision_core.cnn.convolution import shape_table as _shape_table

    return _shape_table(model(Choice(name, trained=False)), size).compact()
