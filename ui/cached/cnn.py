"""Cached calls of the CNN lessons: one network's structure, its first convolution and activation,
one output value of a convolution or a pooling taken apart, and one feature map's trace.

Photo-derived calls take a :class:`ui.session.Subject` and are keyed on its photo's hash; the
structure of a network needs no photo and no weights (``core.shape_table``).
"""

from __future__ import annotations

import numpy as np

from ui.cached import core
from ui.cached.core import photo_cache
from ui.session import Choice, Subject
from vision_core.cnn import conv_sandbox, sliding
from vision_core.cnn.convolution import ConvBreakdown, conv_breakdown
from vision_core.cnn.pooling import PoolWindow, pool_window
from vision_core.cnn.sliding import ConvCells
from vision_core.engine.preprocess import squash_steps
from vision_core.engine.trace import Step, Trace, trace
from vision_core.predictions import CropEffect
from vision_core.predictions import crop_effect as crop_effect_of


def structure(choice: Choice, size: int | None = None) -> Trace:
    """Every step's shape and arithmetic for the encoder's own crop (or a ``size``×``size`` input)."""
    return core.shape_table(choice.name, size or choice.encoder.preprocessing.crop)


def first_step(choice: Choice, kind: str) -> Step:
    """The first step of ``kind`` ("conv", "relu", "gap", ...) of the chosen network."""
    return next(s for s in structure(choice) if s.kind == kind)


def step_values(subject: Subject, step: str, *inputs: str, precision: str = "float16") -> Trace:
    """A trace that keeps ``step`` (and ``inputs``) and stops after ``step``."""
    return core.traced(subject, keep=(*inputs, step), stop_after=(step,), precision=precision)


def layer_weights(choice: Choice, step: str) -> np.ndarray:
    """The filters of convolution ``step`` (F, C, K, K) of the chosen network."""
    return conv_sandbox.layer_weights(core.model(choice), step)


@photo_cache(max_entries=256)
def breakdown(subject: Subject, step: str, channel: int, y: int, x: int) -> ConvBreakdown:
    """The exact numbers behind one output value of convolution ``step`` (full precision)."""
    m = core.model(subject.choice)
    tr = trace(m, core.prepared(subject).tensor, stop_after=[step])
    return conv_breakdown(m, tr, step, channel, y, x)


@photo_cache(max_entries=32)
def conv_cells(subject: Subject, step: str, channel: int) -> ConvCells:
    """Every output value of filter ``channel`` of convolution ``step`` with its sum over each input
    channel and the bias (full precision): the hover labels and the play-back of the first layer."""
    m = core.model(subject.choice)
    tr = trace(m, core.prepared(subject).tensor, stop_after=[step])
    return sliding.conv_cells(m, tr, step, channel)


@photo_cache(max_entries=256)
def pooled_window(subject: Subject, step: str, channel: int, y: int, x: int) -> PoolWindow:
    """The window behind one output value of pooling ``step`` (full precision)."""
    tr = trace(core.model(subject.choice), core.prepared(subject).tensor, stop_after=[step])
    return pool_window(tr, step, channel, y, x)


@photo_cache(max_entries=32)
def crop_effect(subject: Subject) -> CropEffect:
    """The trained classifier's best classes with the preset's centre crop and with the whole photo
    squashed to the same square (the subject's ``size``, else the encoder's crop)."""
    prep = subject.choice.encoder.preprocessing
    squashed = squash_steps(core.photo(subject.photo), prep, size=subject.size)
    cropped = core.prepared(subject).tensor
    return crop_effect_of(core.model(subject.choice), cropped, squashed.tensor, subject.choice.encoder.labels)


@photo_cache(max_entries=32)
def squashed_picture(subject: Subject):
    """The whole photo squashed to the network's square (for showing beside the crop)."""
    prep = subject.choice.encoder.preprocessing
    return squash_steps(core.photo(subject.photo), prep, size=subject.size).cropped


@photo_cache(max_entries=8, by_reference=True)
def maps_mosaic(subject: Subject, step: str) -> np.ndarray:
    """All feature maps of convolution ``step`` as one picture (``conv_sandbox.maps_mosaic``): the
    same for every filter the learner picks, so made once; a pick only outlines its map."""
    return conv_sandbox.maps_mosaic(step_values(subject, step).array(step)[0])


def sweep_chart(subject: Subject, step: str, channel: int, lang: str) -> dict:
    """The play-back figure of ``step``'s ``channel`` on the subject's photo (``ui.charts.sliding``).
    Not cached: as a plain spec (``layout.Built``) it takes under 20 ms to make, less than the cache
    took to measure and keep its 64 frames."""
    from lessons import lesson
    from ui.charts.sliding import sweep_figure
    from vision_core import figures

    conv = next(s for s in structure(subject.choice) if s.name == step)
    maps = step_values(subject, step).array(step)[0]
    plan = sliding.sweep(maps.shape[1:], conv.meta)
    image = figures.colorize(maps[channel])
    return sweep_figure(core.prepared(subject).pixels, image, plan, lesson("cnn_convolution", lang))
