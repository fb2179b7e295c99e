"""The sidebar: language, the learner's photo (sample, upload or camera) and the encoder.

It is drawn by ``app.py`` on every run, so the choices hold across pages.
"""

from __future__ import annotations

import streamlit as st

from lessons import LANGUAGES, lesson
from ui import cache, show, state
from vision_core import samples
from vision_core.engine import encoders, weights

UPLOAD_TYPES = ["jpg", "jpeg", "png", "webp", "bmp", "gif", "tif", "tiff"]


def render(section: str) -> None:
    with st.sidebar:
        st.selectbox("Language · Язык", list(LANGUAGES), format_func=LANGUAGES.get, key="lang")
        text = lesson("sidebar", state.lang())
        _photo_picker(text)
        if section in state.SECTION_FAMILIES:
            _model_picker(section, text)


def _photo_picker(text) -> None:
    st.subheader(text("photo_heading"))
    sources = {
        "sample": text("source_sample"),
        "upload": text("source_upload"),
        "camera": text("source_camera"),
    }
    source = state.remembered_choice(
        st.radio,
        "photo_source",
        list(sources),
        "sample",
        label=text("photo_heading"),
        format_func=sources.get,
        horizontal=True,
        label_visibility="collapsed",
    )
    if source == "sample":
        options = [s.id for s in samples.list_samples("photo")]
        titles = {s.id: s.title for s in samples.list_samples("photo")}
        chosen = st.selectbox(
            text("sample_label"),
            options,
            format_func=titles.get,
            key="sample_id",
            index=options.index(state.DEFAULT_SAMPLE) if state.DEFAULT_SAMPLE in options else 0,
        )
        _offer(samples.sample_bytes(chosen), titles[chosen], source_id=f"sample:{chosen}")
    elif source == "upload":
        uploaded = st.file_uploader(
            text("upload_label"), type=UPLOAD_TYPES, key="upload", help=text("upload_help")
        )
        if uploaded is not None:
            _offer(uploaded.getvalue(), uploaded.name, source_id=f"upload:{uploaded.file_id}")
    else:
        shot = st.camera_input(text("camera_label"), key="camera")
        if shot is not None:
            _offer(shot.getvalue(), text("camera_photo"), source_id=f"camera:{shot.file_id}")

    error = st.session_state.get("photo_error")
    if error:
        st.error(error)
    current = state.current_photo()
    st.image(cache.thumbnail(current.key, current.data), caption=current.label, width="stretch")


def _offer(data: bytes, label: str, source_id: str) -> None:
    """Try a newly chosen photo once; keep the previous photo if it cannot be used."""
    if st.session_state.get("photo_source_id") == source_id:
        return
    st.session_state["photo_source_id"] = source_id
    error = state.use_photo(data, label)
    st.session_state["photo_error"] = None if error is None else f"**{label}**: {error.message} {error.hint}"


def _model_picker(section: str, text) -> None:
    st.subheader(text("model_heading"))
    names = state.models_for(section)

    def label(name: str) -> str:
        entry = encoders.get(name).weights
        if entry.embedded:
            need = text("need_embedded")
        elif encoders.available_offline(name):
            need = text("need_present")
        elif entry.sha256 is None:
            need = text("need_manual", size=entry.size_text)
        else:
            need = text("need_download", size=entry.size_text)
        return f"{encoders.get(name).title} — {need}"

    name = state.remembered_choice(
        st.selectbox,
        f"model_{section}",
        names,
        state.DEFAULT_MODELS[section],
        label=text("model_label"),
        format_func=label,
    )
    st.caption(encoders.get(name).summary)
    if not encoders.available_offline(name):
        entry = encoders.get(name).weights
        downloadable = entry.sha256 is not None  # never fetch what cannot be verified
        missing = weights.WeightsUnavailable(entry, "not_downloaded" if downloadable else "no_checksum")
        st.warning(
            text(
                "weights_missing" if downloadable else "weights_manual",
                file=missing.entry.filename,
                size=missing.entry.size_text,
                url=missing.url,
                folder=str(missing.target_dir),
            )
        )
        show.download_button(name, key=f"download_{name}")
