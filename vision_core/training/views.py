"""What the "Train it yourself" pages show of a run, computed from a :class:`Trainer` and its reports.

* :func:`curves` — loss, held-out accuracy and 5-NN accuracy, epoch by epoch, and the run's time.
* :func:`filter_mosaic` — the first layer's filters side by side, each on its own scale.
* :func:`digit_pixels` — a digit picture as the RGB image the model sees (stretched to 32×32).
* :func:`read_digit` — which digit the encoder reads in one picture: its classifier's answer, or
  (no classifier) the vote of the 5 training pictures whose embeddings are nearest.
* :class:`LiveRun` — a learner's run of one trainer or of several side by side, one epoch per
  call, with its go/stop state and its wall-clock time.
* :func:`canvas_digit` — a learner's drawing on the canvas as a digit picture.
* :func:`misreads`, :func:`misread_question` — which held-out digits the run's encoder reads
  wrong, and "which digit will it misread most often?" with its rivals.
* :func:`objective_scores` — the numbers that compare objectives on an equal footing: 5-NN and a
  linear probe on the frozen embeddings (computed for cross-entropy too, whose report gives the
  classifier's own accuracy instead).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from vision_core.engine.models.vit import VisionTransformer
from vision_core.quiz import Choices, choices
from vision_core.training import data, recipe
from vision_core.training.data import DigitData, stretch, to_input
from vision_core.training.models import CLASSES
from vision_core.training.trainer import NEIGHBOURS, EpochReport, Trainer, linear_probe

CHANCE = 1 / CLASSES  # the expected accuracy of guessing one of the ten digits at random


@dataclass(frozen=True)
class Curves:
    """One value per finished epoch (``epochs`` counts from 1); ``seconds`` is the run's time so far:
    training plus the figures of every epoch, as the trainer measured them."""

    epochs: np.ndarray
    loss: np.ndarray
    accuracy: np.ndarray
    knn_accuracy: np.ndarray
    accuracy_source: str
    seconds: float

    def projected(self, epochs: int) -> float:
        """The run's time at ``epochs`` epochs, at the pace of the epochs so far."""
        return self.seconds / len(self.epochs) * epochs if len(self.epochs) else 0.0


def curves(history: Sequence[EpochReport]) -> Curves:
    """The curves of a run's reports (an empty run gives empty curves)."""

    def column(field: str) -> np.ndarray:
        return np.array([getattr(r, field) for r in history], dtype=np.float64)

    seconds = float(sum(r.train_seconds + r.report_seconds for r in history))
    source = history[-1].accuracy_source if history else ""
    return Curves(
        column("epoch"), column("loss"), column("accuracy"), column("knn_accuracy"), source, seconds
    )


def filter_mosaic(filters: np.ndarray, per_row: int = 8, gap: int = 1) -> np.ndarray:
    """Filters (F, k, k) as one picture (rows·(k+gap)−gap, per_row·(k+gap)−gap): each filter divided
    by its own largest |weight| (so each spans −1..1 and its pattern shows whatever its size),
    NaN in the gaps and the unused cells of the last row."""
    f = np.asarray(filters, dtype=np.float64)
    n, k = f.shape[0], f.shape[-1]
    scale = np.abs(f).reshape(n, -1).max(axis=1)  # (F,)
    f = f / np.where(scale > 0, scale, 1.0)[:, None, None]
    rows = -(-n // per_row)
    step = k + gap
    mosaic = np.full((rows * step - gap, per_row * step - gap), np.nan)
    for i in range(n):
        r, c = divmod(i, per_row)
        mosaic[r * step : r * step + k, c * step : c * step + k] = f[i]
    return mosaic


def digit_pixels(picture: np.ndarray) -> np.ndarray:
    """A digit picture (side, side) of ink in 0..1 → the (32, 32, 3) uint8 grey image the model sees."""
    grey = stretch(picture)[0, 0].numpy()  # (32, 32)
    return np.repeat((np.clip(grey, 0, 1) * 255).round().astype(np.uint8)[..., None], 3, axis=2)


@dataclass(frozen=True)
class DigitReading:
    """The digit an encoder reads in a picture and how sure it is: ``share`` is the classifier's
    probability (``source`` "classifier") or the share of the 5 nearest training pictures that
    voted for it (``source`` "neighbours")."""

    digit: int
    share: float
    source: str


@torch.no_grad()
def read_digit(trainer: Trainer, picture: np.ndarray) -> DigitReading:
    """Which digit the run's encoder, as it is now, reads in ``picture`` (side, side)."""
    model = trainer.model.eval()
    if trainer.objective == "classification":
        probs = torch.softmax(model(to_input(picture)), dim=-1)[0].numpy()  # (10,)
        return DigitReading(int(probs.argmax()), float(probs.max()), "classifier")
    from sklearn.neighbors import KNeighborsClassifier

    knn = KNeighborsClassifier(n_neighbors=NEIGHBOURS, metric="cosine")
    knn.fit(trainer.embed(trainer.data.train_images), trainer.data.train_labels)
    votes = knn.predict_proba(trainer.embed(picture[None]))[0]  # (10,) shares of the 5 votes
    return DigitReading(int(knn.classes_[votes.argmax()]), float(votes.max()), "neighbours")


def has_attention(trainer: Trainer) -> bool:
    """Whether the run's network has a CLS token to look with (the tiny ViT, not the pocket CNN)."""
    return isinstance(trainer.model, VisionTransformer)


@dataclass(frozen=True)
class ObjectiveScores:
    """Held-out scores of one objective's encoder after ``epoch`` epochs."""

    objective: str
    epoch: int
    loss: float
    knn_accuracy: float
    probe_accuracy: float


def objective_scores(trainer: Trainer, report: EpochReport) -> ObjectiveScores:
    """5-NN and linear-probe accuracy of ``report``'s embeddings (the probe fitted here for the
    cross-entropy run, whose report gives its classifier's accuracy; the same probe as the others')."""
    if report.accuracy_source == "linear probe":
        probe = report.accuracy
    else:
        train = trainer.embed(trainer.data.train_images)
        probe = linear_probe(
            train, trainer.data.train_labels, report.embeddings, trainer.test_labels, trainer.config.probe_c
        )
    return ObjectiveScores(trainer.objective, report.epoch, report.loss, report.knn_accuracy, probe)


class LiveRun:
    """A learner's run of one or more trainers (one per objective), trained one epoch per call of
    :meth:`step` — the trainer furthest behind goes next, so side-by-side runs advance together.

    ``running`` is the learner's go/stop; ``scores`` the latest :class:`ObjectiveScores` of each
    objective (when built with ``score=True``); :attr:`elapsed` the wall-clock seconds from the
    start to now, or to the end when stopped or finished (time spent stopped is not counted)."""

    def __init__(self, trainers: Sequence[Trainer], *, score: bool = False):
        self.trainers = {t.objective: t for t in trainers}
        self.score = score
        self.scores: dict[str, ObjectiveScores] = {}
        self.running = True
        self._counted = 0.0  # seconds of earlier stretches of running
        self._since: float | None = time.perf_counter()

    @property
    def done(self) -> bool:
        return all(t.done for t in self.trainers.values())

    @property
    def elapsed(self) -> float:
        return self._counted + (time.perf_counter() - self._since if self._since is not None else 0.0)

    @property
    def epochs_done(self) -> int:
        return sum(t.epoch for t in self.trainers.values())

    @property
    def epochs_planned(self) -> int:
        return sum(t.epochs for t in self.trainers.values())

    def step(self) -> EpochReport | None:
        """One more epoch of the trainer furthest behind (``None`` when stopped or finished)."""
        if not self.running or self.done:
            return None
        trainer = min((t for t in self.trainers.values() if not t.done), key=lambda t: t.epoch)
        report = trainer.step_epoch()
        if self.score:
            self.scores[trainer.objective] = objective_scores(trainer, report)
        if self.done:
            self.stop()
        return report

    def stop(self) -> None:
        if self._since is not None:
            self._counted += time.perf_counter() - self._since
        self._since, self.running = None, False

    def resume(self) -> None:
        if not self.running and not self.done:
            self._since, self.running = time.perf_counter(), True


def held_out_of_digit(data: DigitData, digit: int) -> np.ndarray:
    """Positions, in the held-out set, of the pictures of ``digit`` (in the set's order)."""
    return np.flatnonzero(data.test_labels == digit)


def cpu_threads() -> int:
    """The CPU threads torch trains with in this process (the run's times depend on them)."""
    return torch.get_num_threads()


@dataclass(frozen=True)
class InkShare:
    """How much of the CLS token's attention (last block, heads averaged) lands on the patches that
    hold ink, and what share of the patches hold ink (what an even look would give)."""

    on_ink: float
    ink_patches: float


def attention_on_ink(trainer: Trainer, picture: np.ndarray) -> InkShare:
    """:class:`InkShare` of the run's tiny ViT, as it is now, on one picture (side, side)."""
    model = trainer.model
    if not isinstance(model, VisionTransformer):
        raise ValueError("the pocket CNN has no CLS token: only a ViT run's attention lands anywhere")
    on_ink = float(recipe.attention_on_ink(model, picture[None])[0])
    return InkShare(on_ink, float(recipe.ink_patches(picture[None], model.patch_size).mean()))


def canvas_digit(image: np.ndarray, side: int = 8) -> np.ndarray:
    """A drawing canvas's RGBA picture (H, W, 4) → a digit picture (side, side), as
    :func:`~vision_core.training.data.prepare_drawing` makes it.  An opaque canvas (a painted
    ground, alpha 255 everywhere) is read from its colours alone: averaged in, the alpha would lift
    the ground to a quarter of full ink.  Raises ``ValueError`` when the canvas holds no ink."""
    a = np.asarray(image)
    if a.ndim == 3 and a.shape[-1] == 4 and a[..., 3].min() == a[..., 3].max():
        a = a[..., :3]
    return data.prepare_drawing(a, side=side)


@dataclass(frozen=True)
class Misreads:
    """How the run's encoder, as it is now, reads the held-out pictures, digit by digit: ``pictures``
    of each digit, how many of them it reads as another digit (``wrong``), and the other digit each
    is most often taken for (``read_as``, −1 where none is misread).  ``source`` as in
    :class:`DigitReading`: the classifier's answer, or the vote of the 5 nearest training pictures."""

    source: str
    pictures: np.ndarray  # (10,)
    wrong: np.ndarray  # (10,)
    read_as: np.ndarray  # (10,)

    @property
    def total_wrong(self) -> int:
        return int(self.wrong.sum())

    def about(self, digit: int) -> dict[str, int | str]:
        """What a lesson says of ``digit``: its misread and held-out pictures, the digit it is most
        often taken for, the run's total of misread pictures, and the digits tied with it (as text:
        "" when none)."""
        ties = [str(d) for d in misread_ties(self) if d != digit]
        return {
            "digit": digit,
            "wrong": int(self.wrong[digit]),
            "pictures": int(self.pictures[digit]),
            "read_as": int(self.read_as[digit]),
            "total": self.total_wrong,
            "ties": ", ".join(ties),
        }


@torch.no_grad()
def misreads(trainer: Trainer, *, vote: bool = False) -> Misreads:
    """:class:`Misreads` of the held-out set: by the classifier of a cross-entropy run, or (any run
    with ``vote``, and every other objective) by the 5-NN vote that gives the run's 5-NN accuracy."""
    from sklearn.neighbors import KNeighborsClassifier

    truth, pictures = trainer.test_labels, trainer.data.test_images
    if trainer.objective == "classification" and not vote:
        read = trainer.model.eval()(to_input(pictures)).argmax(dim=1).numpy()
        source = "classifier"
    else:
        knn = KNeighborsClassifier(n_neighbors=NEIGHBOURS, metric="cosine")
        knn.fit(trainer.embed(trainer.data.train_images), trainer.data.train_labels)
        read, source = knn.predict(trainer.embed(pictures)), "neighbours"
    confusion = np.zeros((CLASSES, CLASSES), dtype=np.int64)  # (truth, read)
    np.add.at(confusion, (truth, read), 1)
    off = confusion - np.diag(np.diag(confusion))
    read_as = np.where(off.sum(axis=1) > 0, off.argmax(axis=1), -1)
    return Misreads(source, confusion.sum(axis=1), off.sum(axis=1), read_as)


def misread_question(m: Misreads) -> Choices[int] | None:
    """ "Which digit will the encoder misread most often?" — the digit with the most held-out
    pictures read wrong (the smallest, when several tie), against the next most misread digits
    with strictly fewer (so exactly one option is right); ``None`` when no digit stands out."""
    worst = int(m.wrong.max())
    if worst == 0:
        return None
    answer = int(np.argmax(m.wrong))
    fewer = [d for d in np.argsort(-m.wrong, kind="stable") if m.wrong[d] < worst]
    if not fewer:
        return None
    return choices(answer, [int(d) for d in fewer], salt="misread")


def misread_ties(m: Misreads) -> list[int]:
    """The other digits misread as often as the most misread one (left out of the question)."""
    worst = m.wrong.max()
    return [int(d) for d in np.flatnonzero(m.wrong == worst)][1:] if worst else []
