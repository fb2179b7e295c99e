"""Which network a page runs, said where the learner looks: the section's encoder from the sidebar
(or a page's own), its fallbacks when the trained weights are absent, the random-weights toggle,
how to get the weights, and the transformers' keep-the-photo's-shape toggle."""

from __future__ import annotations

import streamlit as st

from lessons import lesson
from ui import session
from ui.session import Choice
from vision_core.engine import encoders, weights

KEEP_ASPECT = "tr_keep_aspect"  # the learner's choice, carried from page to page


def choose_encoder(section: str, *, allow_random_toggle: bool = False, key: str = "random_weights") -> Choice:
    """The section's encoder, falling back clearly when its weights are not on this machine.

    CNN pages fall back to the embedded EfficientNet-Lite0; the other sections to the same
    architecture with random weights, labelled as untrained.  With ``allow_random_toggle`` the
    learner can ask for random weights on purpose, to see that the structure comes from training.
    """
    text = lesson("common", session.lang())
    name = session.encoder_name(section)
    chosen = Choice(name)
    if allow_random_toggle and st.toggle(text("random_toggle"), key=key, help=text("random_help")):
        chosen = Choice(name, trained=False)
    if chosen.trained and not encoders.available_offline(name):
        title = encoders.get(name).title
        if section == "cnn" and name != encoders.DEFAULT:
            st.info(text("fallback_embedded", model=title, default=encoders.get(encoders.DEFAULT).title))
            chosen = Choice(encoders.DEFAULT)
        else:
            st.info(text("fallback_random", model=title))
            chosen = Choice(name, trained=False)
    if not chosen.trained:
        st.warning(text("untrained_label", model=chosen.encoder.title), icon=":material/casino:")
    return chosen


def fixed_choice(name: str, *, random: bool = False, fallback: str | None = None) -> Choice:
    """A page's own encoder (not the sidebar's): its trained weights when they are on this machine,
    else ``fallback`` (trained) when given, else the same architecture untrained — always said."""
    common, text = lesson("common", session.lang()), lesson("tr_common", session.lang())
    title = encoders.get(name).title
    chosen = Choice(name, trained=not random)
    if chosen.trained and not encoders.available_offline(name):
        if fallback is not None and encoders.available_offline(fallback):
            st.info(text("fallback_embedded", model=title, default=encoders.get(fallback).title))
            chosen = Choice(fallback)
        else:
            st.info(text("fallback_random", model=title))
            chosen = Choice(name, trained=False)
    if not chosen.trained:
        st.warning(common("untrained_label", model=chosen.encoder.title), icon=":material/casino:")
    return chosen


def encoder_title(choice: Choice) -> str:
    """The encoder's title, marked untrained when its weights are random."""
    text = lesson("emb_common", session.lang())
    title = choice.encoder.title
    return title if choice.trained else text("untrained_title", model=title)


def offline_choice(name: str, random: bool = False) -> Choice:
    """``name`` with its trained weights when they are on this machine, else with random ones."""
    return Choice(name, trained=not random and encoders.available_offline(name))


def weights_note(name: str) -> str | None:
    """How to get ``name``'s trained weights (the file, its size, where it comes from and where
    it goes), or None when they are on this machine."""
    if encoders.available_offline(name):
        return None
    text = lesson("tr_common", session.lang())
    missing = weights.WeightsUnavailable(encoders.get(name).weights, "not_downloaded")
    e = missing.entry
    key = "weights_place" if e.sha256 is None else "weights_download"
    return text(
        key,
        model=encoders.get(name).title,
        file=e.filename,
        size=e.size_text,
        url=missing.url,
        folder=str(missing.target_dir),
    )


def download_button(name: str, key: str) -> None:
    """A button that downloads ``name``'s official weights (checked against their published
    checksum) with a progress bar, then reruns the page; nothing for files without a checksum."""
    entry = encoders.get(name).weights
    if entry.sha256 is None:  # never fetch what cannot be verified
        return
    text = lesson("sidebar", session.lang())
    if not st.button(text("download_button", size=entry.size_text), key=key):
        return
    bar = st.progress(0.0, text=entry.filename)

    def progress(done: int, total: int) -> None:
        share = min(done / total, 1.0) if total else 0.0
        bar.progress(share, text=f"{done / 1e6:.1f} / {total / 1e6:.1f} MB")

    try:
        weights.fetch(entry, on_progress=progress)
    except weights.WeightsUnavailable as error:
        bar.empty()
        st.error(str(error))
    else:
        st.rerun()


def weights_help(name: str) -> None:
    """How to get ``name``'s trained weights when they are missing, with a download button where a
    checksum is published."""
    note = weights_note(name)
    if note is None:
        return
    st.caption(note)
    download_button(name, key=f"tr_download_{name}")


def untrained_note(choice: Choice) -> None:
    """Under an untrained network's pictures: how to get the trained one."""
    if not choice.trained:
        weights_help(choice.name)


def keep_aspect_toggle(key: str) -> bool:
    """The toggle between the square centre crop and keeping the photo's shape (each side cropped
    to a multiple of the patch).  Each page has its own widget ``key``; the choice travels
    between pages."""
    text = lesson("tr_common", session.lang())
    if key not in st.session_state:
        st.session_state[key] = bool(st.session_state.get(KEEP_ASPECT, False))
    value = st.toggle(text("keep_aspect"), key=key, help=text("keep_aspect_help"))
    st.session_state[KEEP_ASPECT] = value
    return value
