"""Streamlit's own words on the photo uploader and the camera, in the page's language.

Streamlit draws "Upload", "25MB per file • JPG, PNG, …", "Take Photo", "Clear photo" and its
camera-permission note in English on every page, and has no option for them (streamlit#13500).
On a page in another language, a style sheet hides those English words and draws the lesson's
(``lessons/<lang>/streamlit.md``) in their place with ``::after``: the learner reads one language,
and the controls work as before.  The English lesson holds Streamlit's own words, so a browser
test can check that they are still the words Streamlit draws (tests/browser/test_native_words.py).

The uploader's size limit and file types come from the same values the uploader is given
(``max_upload_size``, or the server's ``server.maxUploadSize``): each uploader's words are scoped
to it by its key (Streamlit marks a keyed element with the class ``st-key-<key>``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import streamlit as st

from lessons import lesson
from ui import session

WORDS = "streamlit"  # the lesson file
# the sizes Streamlit draws these words at (read off its computed styles; the browser test checks them)
UPLOADER_SIZE, CAMERA_SIZE = "14px", "16px"
SAME_FORMAT = {"jpeg": "jpg", "tiff": "tif"}  # one name per format in the types, as Streamlit lists them

_UPLOAD_BUTTON = (
    '[data-testid="stFileUploaderDropzone"] [data-testid="stBaseButton-secondary"]'
    ' [data-testid="stMarkdownContainer"]'
)
_LIMIT = '[data-testid="stFileUploaderDropzoneInstructions"] span'
_TAKE = '[data-testid="stCameraInputWebcamComponent"] > [data-testid="stCameraInputButton"]'
_CLEAR = '[data-testid="stCameraInput"] > [data-testid="stCameraInputButton"] > span'
_ASK = '[data-testid="stCameraInputWebcamComponent"] p'
WRAP = " display: block; white-space: normal;"


def _string(words: str) -> str:
    """A CSS string: JSON's escapes of a quote and a backslash are CSS's too (no newlines here)."""
    return json.dumps(" ".join(words.split()), ensure_ascii=False)


def _replace(selector: str, words: str, size: str, where: str = "after", extra: str = "") -> str:
    """Hide the element's own text and draw ``words`` after (or before) it at ``size``."""
    drawn = f"content: {_string(words)}; font-size: {size};{extra}"
    return f"{selector} {{ font-size: 0; }} {selector}::{where} {{ {drawn} }}"


def types_shown(types: Sequence[str]) -> str:
    """The uploader's file types as Streamlit lists them: upper case, one name per format."""
    shown: list[str] = []
    for t in types:
        name = SAME_FORMAT.get(t.lower(), t.lower()).upper()
        if name not in shown:
            shown.append(name)
    return ", ".join(shown)


def limit_words(lang: str, types: Sequence[str], max_mb: int | None = None) -> str:
    """The uploader's line under its button: the size limit of one file, then the types."""
    mb = max_mb if max_mb is not None else int(st.get_option("server.maxUploadSize"))
    return lesson(WORDS, lang)("limit", mb=mb, types=types_shown(types))


def uploader_css(lang: str, key: str, types: Sequence[str], max_mb: int | None = None) -> str:
    """The style sheet that words one uploader (``key``) in ``lang``; empty in English."""
    if lang == "en":
        return ""
    text = lesson(WORDS, lang)
    return " ".join(
        (
            f"{_UPLOAD_BUTTON} p {{ display: none; }}",
            f"{_UPLOAD_BUTTON}::after {{ content: {_string(text('upload'))}; }}",
            # Streamlit cuts its English line short with an ellipsis; these words wrap instead
            _replace(f".st-key-{key} {_LIMIT}", limit_words(lang, types, max_mb), UPLOADER_SIZE, extra=WRAP),
        )
    )


def camera_css(lang: str) -> str:
    """The style sheet that words the camera in ``lang``; empty in English."""
    if lang == "en":
        return ""
    text = lesson(WORDS, lang)
    return " ".join(
        (
            _replace(_TAKE, text("take"), CAMERA_SIZE),
            _replace(_CLEAR, text("clear"), CAMERA_SIZE),
            _replace(_ASK, text("ask"), CAMERA_SIZE, "before", " margin-right: 0.3em;"),
            _replace(f"{_ASK} a", text("how"), CAMERA_SIZE),
        )
    )


def file_uploader(label: str, *, types: Sequence[str], key: str, max_mb: int | None = None, **kwargs):
    """``st.file_uploader`` with its own words in the page's language."""
    if max_mb is not None:
        kwargs["max_upload_size"] = max_mb
    files = st.file_uploader(label, type=list(types), key=key, **kwargs)
    if css := uploader_css(session.lang(), key, types, max_mb):
        st.html(f"<style>{css}</style>")
    return files


def camera_input(label: str, *, key: str, **kwargs):
    """``st.camera_input`` with its own words in the page's language."""
    shot = st.camera_input(label, key=key, **kwargs)
    if css := camera_css(session.lang()):
        st.html(f"<style>{css}</style>")
    return shot
