"""Cached calls of "Layer by layer": the logit lens of a photo or a held-out digit, the linear probe
at every depth over the lab's gallery, and one unit's effective receptive field.

The lens and the field are photo-derived (``core.photo_cache``, keyed on the :class:`Subject`).
The probe is keyed on (encoder, trained or not, the gallery's photos and labels:
:func:`ui.gallery.digest`); it is computed only when the learner asks (it runs every photo of the
gallery through the network: seconds, not milliseconds), with a progress bar, and then kept.
"""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from lessons import lesson
from ui import session
from ui.cached import core
from ui.cached import training as digits
from ui.cached.core import PHOTO_TTL
from ui.gallery import digest
from ui.session import Choice, Subject
from vision_core.embeddings.gallery import GalleryItem
from vision_core.training.data import to_input
from vision_core.why import erf, lens, probe

DIGITS = "digits"  # the data set whose held-out pictures the digits ViT is read on


def has_head(choice: Choice) -> bool:
    """Whether the logit lens applies: a ViT whose output is a classifier's logits."""
    return choice.encoder.family == "vit" and lens.has_head(core.model(choice))


@core.photo_cache(max_entries=32)
def lens_of_photo(subject: Subject) -> lens.LogitLens:
    return lens.logit_lens(
        core.model(subject.choice), core.prepared(subject).tensor, subject.choice.encoder.labels
    )


@st.cache_data(show_spinner=False, max_entries=32)
def lens_of_digit(choice: Choice, digit: int) -> lens.LogitLens:
    """The lens of the first held-out picture of ``digit`` (a photo means nothing to a digits model)."""
    picture, _ = digits.held_out_digit(DIGITS, digit, 0)
    return lens.logit_lens(core.model(choice), to_input(picture), DIGITS)


@st.cache_data(show_spinner=False, max_entries=32)
def digit_picture(digit: int):
    """The (32, 32, 3) picture the digits model reads for ``digit``."""
    return digits.digit_pixels(digits.held_out_digit(DIGITS, digit, 0)[0])


# --- the probe ---------------------------------------------------------------------------------


@st.cache_data(show_spinner=False, max_entries=16, ttl=PHOTO_TTL)
def _stored(key: str, _fresh: probe.DepthProbe | None = None) -> probe.DepthProbe:
    """A probe by depth already computed for ``key``; called without ``_fresh`` it raises
    ``LookupError`` on a miss (an exception is never cached), with it it stores ``_fresh``."""
    if _fresh is None:
        raise LookupError(key)
    return _fresh


def _key(items: Sequence[GalleryItem], choice: Choice) -> str:
    return digest(items, "why_layers", choice.name, choice.trained, labels=True)


def stored_probe(items: Sequence[GalleryItem], choice: Choice) -> probe.DepthProbe | None:
    """The probe of this gallery under this encoder if it has been computed, else None."""
    try:
        return _stored(_key(items, choice))
    except LookupError:
        return None


def depth_probe(items: Sequence[GalleryItem], choice: Choice) -> probe.DepthProbe:
    """Run the gallery through the network (a progress bar per batch), fit the probe at every
    depth, keep the result.  Raises ``ValueError`` when the labels cannot be probed."""
    text = lesson("why_layers", session.lang())
    bar = st.progress(0.0, text=text("probe_progress", done=0, total=len(items)))

    def report(done: int, total: int) -> None:
        bar.progress(done / total, text=text("probe_progress", done=done, total=total))

    try:
        vectors = probe.depth_vectors(
            core.model(choice),
            (it.image() for it in items),
            choice.name,
            total=len(items),
            on_progress=report,
        )
        bar.progress(1.0, text=text("probe_fitting", depths=len(vectors)))
        result = probe.probe_by_depth(vectors, [it.label for it in items])
    finally:
        bar.empty()
    return _stored(_key(items, choice), result)


# --- the effective receptive field -------------------------------------------------------------


@core.photo_cache(max_entries=64)
def effective_field(
    subject: Subject, step: str, row: int, col: int, channel: int | None
) -> erf.EffectiveField:
    return erf.effective_field(
        core.model(subject.choice), core.prepared(subject).tensor, step, row, col, channel
    )
