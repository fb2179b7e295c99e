"""What the embedding lab's pages should show, computed straight from vision_core for a small gallery
(four samples with three variants each), so that the AppTests compare page numbers with the engine."""

from __future__ import annotations

import io
from functools import cache

import numpy as np
from PIL import Image

from ui.gallery import GallerySpec
from vision_core.embeddings import gallery
from vision_core.embeddings import vectors as embeddings
from vision_core.engine import encoders

SPEC = GallerySpec(("chelsea", "coffee", "astronaut", "rocket"), 3)


def session(**extra) -> dict:
    """Session state that opens a lab page on the small gallery."""
    return {"lab_spec": SPEC, **extra}


@cache
def items() -> tuple[gallery.GalleryItem, ...]:
    return tuple(gallery.sample_items(SPEC.sample_ids, SPEC.variants, SPEC.kinds, SPEC.seed))


@cache
def vectors(name: str = "efficientnet_lite0", weights: str = "pretrained") -> np.ndarray:
    model = encoders.load_model(name) if weights == "pretrained" else encoders.seeded_model(name, seed=0)
    return embeddings.embed(model, (it.image() for it in items()), name, total=len(items()))


def labels() -> list[str]:
    return [it.label for it in items()]


def png(color=(200, 30, 30), size=(96, 64)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "PNG")
    return buffer.getvalue()


def markdown(at) -> str:
    return "\n".join(m.value for m in [*at.markdown, *at.caption])
