"""Cached calls of "why these two look alike": the two photos' last feature maps set against each
other's pooled vector (CNN), or their patch tokens matched patch to patch (ViT) — keyed on both
Subjects (each photo's hash and the encoder)."""

from __future__ import annotations

import numpy as np

from ui.cached import cnn, core
from ui.session import Subject
from vision_core.embeddings.vectors import cosine_similarity
from vision_core.engine.trace import Step, Trace
from vision_core.why import alike
from vision_core.why.alike import CellSimilarity, PatchMatches


def last_grid(subject: Subject) -> Step:
    """The CNN's last feature map before global average pooling (its name and shape)."""
    structure = cnn.structure(subject.choice)
    return structure[structure[cnn.first_step(subject.choice, "gap").name].inputs[0]]


def grid_step(subject: Subject) -> str:
    return last_grid(subject).name


def embedding_is_pooled(subject: Subject) -> bool:
    """Whether the CNN's embedding is its GAP vector made unit length (not CLIP's attention pooling)."""
    return alike.embedding_is_pooled(
        cnn.structure(subject.choice), cnn.first_step(subject.choice, "gap").name
    )


def _trace(subject: Subject) -> Trace:
    """One trace per photo serves the page: the embedding and the last grid (CNN) or patch tokens (ViT)."""
    last = "patch_grid" if subject.choice.encoder.family == "vit" else grid_step(subject)
    return core.traced(subject, keep=(last, "embedding"), precision="float32")


def embedding_cosine(a: Subject, b: Subject) -> float:
    """The two photos' embeddings' cosine similarity."""
    return cosine_similarity(_trace(a).array("embedding")[0], _trace(b).array("embedding")[0])


@core.photo_cache(max_entries=32)
def cells(a: Subject, b: Subject) -> CellSimilarity:
    """Each cell of each photo's last feature map against the other photo's GAP vector."""
    step = grid_step(a)
    return alike.cell_similarity(_trace(a).array(step)[0], _trace(b).array(step)[0])


@core.photo_cache(max_entries=32)
def matches(a: Subject, b: Subject) -> PatchMatches:
    """Each patch token's best match in the other photo (the last block's tokens, after the final norm)."""
    return alike.patch_matches(_trace(a).array("patch_grid")[0], _trace(b).array("patch_grid")[0])


def pixels(subject: Subject) -> np.ndarray:
    """The picture the encoder is given (after resize and crop), H×W×3 uint8."""
    return core.prepared(subject).pixels
