"""Cached calls of the perturbation lab: the original picture's response, one perturbed picture's
comparison with it, and the similarity sweeps over shifts and angles — keyed on a Subject (the
photo's hash and the encoder) and, for a perturbed picture, the perturbation's settings.

A slider move that misses the cache costs one perturbation (Pillow) and one traced forward pass;
a sweep costs one batched forward pass of all its pictures, once per photo and encoder.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ui.cached import core
from ui.session import Subject
from vision_core.why import perturb
from vision_core.why.perturb import Comparison, Perturbation, Response, Sweep, SweepKind

SHOWN_CHANNELS = 4  # first feature maps shown, the original's strongest


def network_pixels(subject: Subject) -> np.ndarray:
    """The picture the subject's encoder is given (after resize and crop), H×W×3 uint8."""
    return core.prepared(subject).pixels


def fill(subject: Subject) -> tuple[int, int, int]:
    """The colour covered and uncovered pixels are painted: the encoder's mean colour."""
    return perturb.fill_colour(subject.choice.encoder.preprocessing)


@core.photo_cache(max_entries=8, by_reference=True)  # read-only: compare() only reads it
def original(subject: Subject) -> Response:
    """The unchanged picture's response (full precision: every perturbed picture is compared with it)."""
    network, pixels = core.model(subject.choice), network_pixels(subject)
    return perturb.respond(network, subject.choice.encoder, pixels)


def _small(a: np.ndarray | None) -> np.ndarray | None:
    return None if a is None else a.astype(np.float16)  # pictures only


@core.photo_cache(max_entries=64)
def moved(subject: Subject, p: Perturbation) -> Comparison:
    """The picture with ``p`` applied, run once through the encoder and set against the original."""
    encoder = subject.choice.encoder
    base = original(subject)
    network, pixels = core.model(subject.choice), perturb.perturb(network_pixels(subject), p, fill(subject))
    response = perturb.respond(network, encoder, pixels)
    channels = (
        perturb.strongest_channels(base.first_maps, SHOWN_CHANNELS) if base.first_maps is not None else ()
    )
    c = perturb.compare(base, response, channels, encoder.labels)
    return dataclasses.replace(c, maps_before=_small(c.maps_before), maps_after=_small(c.maps_after))


@core.photo_cache(max_entries=16)
def sweep(subject: Subject, kind: SweepKind) -> Sweep:
    """The embedding's similarity to the original's over a sweep of shifts or angles (one batched pass)."""
    network, pixels = core.model(subject.choice), network_pixels(subject)
    return perturb.sweep(network, subject.choice.encoder, pixels, kind)
