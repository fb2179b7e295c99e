"""The photo-source picker: a sample that ships with the installed packages, an upload, the camera,
or the photo already chosen in the sidebar — one widget wherever a page asks for a photo."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import streamlit as st

from lessons import Lesson, lesson
from ui import session
from ui.session import Photo
from ui.widgets import native_words
from vision_core import samples
from vision_core.engine.preprocess import ImageError

UPLOAD_TYPES = ["jpg", "jpeg", "png", "webp", "bmp", "gif", "tif", "tiff"]


def photo_source(
    key: str,
    *,
    sources: Sequence[str] = ("sample", "upload", "camera"),
    default_sample: str = session.DEFAULT_SAMPLE,
    label: str | None = None,
    collapsed: bool = False,
    wording: Mapping[str, str] | None = None,
    upload_key: str | None = None,
    sample_key: str | None = None,
) -> tuple[Photo | None, str | None]:
    """Ask for a photo; returns it (``None`` while an upload or a shot is awaited) and an id that
    changes only when the learner picks another photo.  ``sources`` are ``"sample"``,
    ``"upload"``, ``"camera"`` and ``"current"`` (the sidebar's photo).  Nothing is decoded here:
    the caller checks the photo with ``ui.cached.core.photo``.  ``wording`` gives a page's own
    words for some of the picker's (``source_current``, ``upload_label``...); ``upload_key`` the
    uploader's own widget key, ``sample_key`` the sample box's."""
    sidebar_text, own = lesson("sidebar", session.lang()), dict(wording or {})

    def text(name: str) -> str:
        return own.get(name) or sidebar_text(name)

    names = {s: text(f"source_{s}") for s in sources}
    source = sources[0]
    if len(sources) > 1:
        source = session.remembered_choice(
            st.radio,
            key,
            list(names),
            sources[0],
            label=label or text("photo_heading"),
            format_func=names.get,
            horizontal=True,
            label_visibility="collapsed" if collapsed else "visible",
        )
    if source == "current":
        photo = session.current_photo()
        return photo, f"current:{photo.key}"
    if source == "sample":
        titles = {s.id: session.sample_title(s.id) for s in samples.list_samples("photo")}
        options = list(titles)
        index = options.index(default_sample) if default_sample in options else 0
        box_key = sample_key or f"{key}_sample"
        chosen = st.selectbox(text("sample_label"), options, format_func=titles.get, key=box_key, index=index)
        return Photo.from_bytes(samples.sample_bytes(chosen), titles[chosen]), f"sample:{chosen}"
    if source == "upload":
        uploaded = native_words.file_uploader(
            text("upload_label"),
            types=UPLOAD_TYPES,
            key=upload_key or f"{key}_upload",
            help=text("upload_help"),
        )
        if uploaded is None:
            return None, None
        return Photo.from_bytes(uploaded.getvalue(), uploaded.name), f"upload:{uploaded.file_id}"
    shot = native_words.camera_input(text("camera_label"), key=f"{key}_camera")
    if shot is None:
        return None, None
    return Photo.from_bytes(shot.getvalue(), text("camera_photo")), f"camera:{shot.file_id}"


def second_photo(text: Lesson, key: str) -> Photo | None:
    """A second photo to compare the learner's with: a sample (the coffee cup first) or an upload,
    checked as the sidebar checks its uploads. Worded by the page's lesson (``source_label``,
    ``source_sample``, ``source_upload``, ``sample_label``, ``upload_label``, ``upload_wait``,
    ``second_error``); widget keys ``{key}_source``, ``{key}_upload``, ``{key}_sample``.  None, with
    the wait or the refusal said, while there is no usable photo."""
    from ui.cached import core  # the photo's checks (core does not import the widgets)

    wording = {k: text(k) for k in ("source_sample", "source_upload", "sample_label", "upload_label")}
    second, _ = photo_source(
        f"{key}_source",
        sources=("sample", "upload"),
        default_sample="coffee",
        label=text("source_label"),
        wording=wording,
        upload_key=f"{key}_upload",
        sample_key=f"{key}_sample",
    )
    if second is None:
        st.caption(text("upload_wait"))
        return None
    try:
        core.photo(second)  # the same checks as the sidebar's upload
    except ImageError as error:
        message = text("second_error", label=second.label, message=error.message, hint=error.hint)
        st.error(message, icon=":material/broken_image:")
        return None
    return second
