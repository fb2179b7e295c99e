"""Cached calls of "Why this prediction": class-activation maps, occlusion and the random-weights check.

Everything is keyed on the :class:`~ui.session.Subject` and the target: a class index for a
classifier, or — for an encoder without a head — the second photo whose embedding the cosine
similarity is taken to.  The forward and backward pass of a target (:func:`parts`) is cached once
and serves all three methods; a method's map (:func:`cam_map`) is then NumPy only.
"""

from __future__ import annotations

from ui.cached import core
from ui.session import Choice, Photo, Subject
from vision_core.engine.trace import Trace
from vision_core.why import cam, occlusion

KEEP = ("probs", "embedding")


def predictions(subject: Subject) -> Trace:
    """The photo's softmax (classifiers) and embedding; its shapes also name the map's layer."""
    return core.traced(subject, keep=KEEP, precision="float32")


def untrained(subject: Subject) -> Subject:
    """The same photo through the same architecture with seeded random weights."""
    return subject.replace(choice=Choice(subject.name, trained=False))


def target(subject: Subject, label: int | None, second: Photo | None) -> cam.Target:
    """Class ``label``'s target, or the cosine similarity to ``second``'s embedding under the same network."""
    if label is not None:
        return cam.ClassTarget(label)
    if second is None:
        raise ValueError("an encoder without a classifier head needs a second photo to compare with")
    reference = predictions(subject.replace(photo=second)).array("embedding")[0]
    return cam.SimilarityTarget(reference)


@core.photo_cache(max_entries=32)
def parts(subject: Subject, label: int | None, second: Photo | None) -> cam.CamParts:
    """One forward and one backward pass for the target, at the network's map layer."""
    layer = cam.cam_layer(predictions(subject))
    x = core.prepared(subject).tensor
    return cam.cam_parts(core.model(subject.choice), x, target(subject, label, second), layer)


@core.photo_cache(max_entries=64)
def cam_map(subject: Subject, method: cam.Method, label: int | None, second: Photo | None) -> cam.CamMap:
    """``method``'s map of the target, over the network's input picture."""
    size = tuple(core.prepared(subject).tensor.shape[2:])
    return cam.cam_map(parts(subject, label, second), method, (int(size[0]), int(size[1])))


@core.photo_cache(max_entries=32)
def occlusion_map(
    subject: Subject, label: int | None, second: Photo | None, patch: int, stride: int
) -> occlusion.OcclusionMap:
    """The drop of the target's score with a ``patch``-pixel square at every ``stride`` pixels."""
    x = core.prepared(subject).tensor
    return occlusion.occlusion_map(
        core.model(subject.choice), x, target(subject, label, second), patch, stride
    )


@core.photo_cache(max_entries=32)
def region_check(
    subject: Subject, method: cam.Method, label: int | None, second: Photo | None, side: int
) -> occlusion.RegionCheck:
    """Covering the map's hottest ``side``-pixel square against random squares of that size."""
    hottest = cam.hottest_box(cam_map(subject, method, label, second).pixels, side)
    x = core.prepared(subject).tensor
    return occlusion.region_check(
        core.model(subject.choice), x, target(subject, label, second), hottest, side
    )


@core.photo_cache(max_entries=32)
def sanity(
    subject: Subject, method: cam.Method, label: int | None, second: Photo | None
) -> tuple[cam.CamMap, float]:
    """The map of the same target with seeded random weights, and Spearman's ρ between the two maps."""
    trained = cam_map(subject, method, label, second)
    random = cam_map(untrained(subject), method, label, second)
    return random, cam.rank_correlation(trained.raw, random.raw)
