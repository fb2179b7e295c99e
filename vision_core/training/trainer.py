"""Training a digit encoder one epoch at a time, with everything a page draws after each epoch.

A page keeps one :class:`Trainer` (in the learner's session), calls :meth:`Trainer.step_epoch`
once per rerun or fragment run, draws the :class:`EpochReport` it returns, and stops calling
when the learner presses stop or :attr:`Trainer.done` turns true.  Nothing blocks for longer
than one epoch (about a second for the default run on 2 cores: ``bench/bench_training.py``).

A run is fixed by its seed: the initial weights are drawn from it with torch's generator forked
(so no other code's random state matters or changes), and the batch order and the augmentation
come from the trainer's own ``torch.Generator``.  The same seed gives the same numbers.

Held-out accuracy is the classifier's own for cross-entropy and, for the two objectives without
a classifier, a linear probe's: scikit-learn's logistic regression fitted on the training
pictures' embeddings and scored on the held-out ones (the standard test of a self-supervised
encoder).  The 5-NN accuracy (cosine, the gallery's neighbour search) is given for all three.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from vision_core.engine.models.vit import VisionTransformer
from vision_core.engine.trace import trace
from vision_core.training.data import (
    Augmentation,
    DatasetName,
    augment,
    load_dataset,
    normalise,
    stretch,
    to_input,
)
from vision_core.training.models import CLASSES, Encoder, ModelKind, build, first_layer_filters
from vision_core.training.objectives import (
    OBJECTIVES,
    Objective,
    ProjectionHead,
    cross_entropy,
    info_nce,
    supervised_contrastive,
)
from vision_core.transformer.attention import cls_attention, grid_shape

NEIGHBOURS = 5
EVAL_BATCH = 512


@dataclass(frozen=True)
class TrainConfig:
    """How one run trains: AdamW with a linear warm-up and a cosine decay of the learning rate.
    ``augmentation`` ``None`` trains on the pictures as they are; ``temperature`` is the
    contrastive losses' (unused by cross-entropy)."""

    epochs: int = 20
    batch_size: int = 64
    lr: float = 2e-3
    weight_decay: float = 0.05
    warmup_epochs: float = 1.0
    temperature: float = 0.1
    augmentation: Augmentation | None = field(default_factory=Augmentation)
    projection: int = 32  # output size of the contrastive objectives' projection head
    head_batch_norm: bool = False  # a batch norm inside the projection head (SimCLR's)
    probe_c: float = 10.0  # inverse regularisation of the linear probe (unit-length inputs are small)


def default_config(
    model_kind: ModelKind, objective: Objective, dataset: DatasetName = "digits"
) -> TrainConfig:
    """The settings the lesson starts from for each model and objective (measured to train well
    within the time budget; see ``bench/bench_training.py``)."""
    config = TrainConfig()
    if model_kind == "cnn":
        config = replace(config, epochs=10)  # convolutions learn digits in far fewer steps
    if model_kind == "vit" and objective == "metric":
        # the tiny ViT starts with nearly one vector for every digit (untrained 5-NN 0.461): at 2e-3
        # the supervised contrastive loss barely moves it (0.69 after 10 epochs); a gentler rate with a
        # longer warm-up, on the pictures as they are (the labels already give the positives; a shift
        # of 0.1 moves the ink by almost a patch), reaches 0.928 in 20 epochs (bench/bench_training.py)
        config = replace(config, lr=5e-4, warmup_epochs=2.0, augmentation=None)
    if objective == "self_supervised":
        config = replace(config, temperature=0.2, augmentation=Augmentation(20.0, 0.2, 0.12, 0.3))
        if model_kind == "vit":
            # InfoNCE on the near-identical vectors of the untrained ViT barely moves it (0.639 after 10
            # epochs); SimCLR's batch norm in the head and a 2-epoch warm-up reach 0.914 in 20 epochs
            config = replace(config, warmup_epochs=2.0, head_batch_norm=True)
    if dataset == "mnist5k":
        config = replace(config, epochs=8 if model_kind == "vit" else 4)  # 2.8 times the pictures per epoch
    return config


@dataclass(frozen=True)
class EpochReport:
    """What one epoch changed, ready to draw.

    ``accuracy`` is on the held-out pictures (``accuracy_source``: the classifier, or a linear
    probe on the embeddings); ``knn_accuracy`` the held-out 5-NN accuracy on the embeddings;
    ``filters`` the first layer's filters as grey pictures (F, k, k); ``embeddings`` the held-out
    pictures' L2-normalised vectors (N, D), in the order of ``Trainer.data.test``; ``map_2d``
    their PCA map (N, 2), each axis's sign kept from the previous epoch so the map does not flip;
    ``attention`` the CLS attention (rows, cols) of the last block, heads averaged, over the probe
    picture given to :meth:`Trainer.step_epoch` (ViT only, else ``None``)."""

    epoch: int
    epochs: int
    loss: float
    accuracy: float
    accuracy_source: str
    knn_accuracy: float
    filters: np.ndarray
    embeddings: np.ndarray
    map_2d: np.ndarray
    attention: np.ndarray | None
    train_seconds: float
    report_seconds: float


class Trainer:
    """One training run: ``Trainer("vit", "classification", "digits", seed=0)``.

    ``model`` is the encoder being trained (a traced network, in eval mode between epochs, so a
    page may trace it at any time); ``data`` the data set with its fixed split; ``history`` the
    reports so far.  ``epochs`` overrides the configuration's number of epochs."""

    def __init__(
        self,
        model_kind: ModelKind = "vit",
        objective: Objective = "classification",
        dataset: DatasetName = "digits",
        seed: int = 0,
        epochs: int | None = None,
        config: TrainConfig | None = None,
    ):
        if objective not in OBJECTIVES:
            raise KeyError(f"unknown objective {objective!r}; choose one of {', '.join(OBJECTIVES)}")
        config = config or default_config(model_kind, objective, dataset)
        self.config = config if epochs is None else replace(config, epochs=epochs)
        self.model_kind, self.objective, self.seed = model_kind, objective, seed
        self.data = load_dataset(dataset)
        num_classes = CLASSES if objective == "classification" else 0
        self.model: Encoder = build(model_kind, num_classes, seed)
        self.head: nn.Module | None = None
        if objective != "classification":
            with torch.random.fork_rng():
                torch.manual_seed(seed + 1)
                self.head = ProjectionHead(
                    self.model.num_features, self.config.projection, batch_norm=self.config.head_batch_norm
                )
        self.generator = torch.Generator().manual_seed(seed)
        self._train_x = stretch(self.data.train_images)  # (N, 1, 32, 32), ink 0..1
        self._train_y = torch.as_tensor(self.data.train_labels)
        self._train_input = to_input(self.data.train_images)  # (N, 3, 32, 32)
        self._test_input = to_input(self.data.test_images)
        self.steps_per_epoch = math.ceil(len(self._train_y) / self.config.batch_size)
        self.optimizer = torch.optim.AdamW(self._param_groups(), lr=self.config.lr)
        total, warmup = (
            self.config.epochs * self.steps_per_epoch,
            self.config.warmup_epochs * self.steps_per_epoch,
        )
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, lambda s: _lr_factor(s, warmup, total)
        )
        self.epoch = 0
        self.history: list[EpochReport] = []
        self._map_axes: np.ndarray | None = None

    def _param_groups(self) -> list[dict]:
        params = list(self.model.parameters()) + (list(self.head.parameters()) if self.head else [])
        decay = [
            p for p in params if p.ndim >= 2 and p.shape[:2] != (1, 1)
        ]  # not biases, norms, CLS, positions
        decay_ids = {id(p) for p in decay}
        rest = [p for p in params if id(p) not in decay_ids]
        return [
            {"params": decay, "weight_decay": self.config.weight_decay},
            {"params": rest, "weight_decay": 0.0},
        ]

    @property
    def epochs(self) -> int:
        return self.config.epochs

    @property
    def done(self) -> bool:
        return self.epoch >= self.config.epochs

    @property
    def test_labels(self) -> np.ndarray:
        return self.data.test_labels

    # -- training ---------------------------------------------------------------------------------
    def _view(self, x: torch.Tensor) -> torch.Tensor:
        aug = self.config.augmentation
        return normalise(x if aug is None else augment(x, self.generator, aug))

    def _loss(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if self.head is None:  # classification: the network's own head gives the logits
            return cross_entropy(self.model(self._view(x)), y)
        if self.objective == "metric":
            return supervised_contrastive(self.head(self.model(self._view(x))), y, self.config.temperature)
        views = self.model(torch.cat([self._view(x), self._view(x)]))  # (2B, D): two changed copies
        z = self.head(views)
        return info_nce(z[: len(x)], z[len(x) :], self.config.temperature)

    def train_epoch(self) -> float:
        """One pass over the training pictures in a fresh random order; the mean batch loss."""
        self.model.train()
        if self.head is not None:
            self.head.train()
        order = torch.randperm(len(self._train_y), generator=self.generator)
        losses = []
        for start in range(0, len(order), self.config.batch_size):
            idx = order[start : start + self.config.batch_size]
            loss = self._loss(self._train_x[idx], self._train_y[idx])
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            self.scheduler.step()
            losses.append(loss.item())
        self.model.eval()
        if self.head is not None:
            self.head.eval()
        self.epoch += 1
        return float(np.mean(losses))

    def step_epoch(self, probe: np.ndarray | None = None) -> EpochReport:
        """Train one more epoch and return what it changed (see :class:`EpochReport`).  ``probe`` is a
        picture (side, side) of ink in 0..1 (a held-out digit, or :func:`prepare_drawing`'s result)."""
        if self.done:
            raise RuntimeError(f"the run has finished its {self.epochs} epochs")
        t0 = time.perf_counter()
        loss = self.train_epoch()
        t1 = time.perf_counter()
        test_features = self.features(self._test_input)  # (N_test, D), before L2 normalisation
        test = F.normalize(test_features, dim=-1).numpy()
        train = self.embed_inputs(self._train_input)
        if self.objective == "classification":
            accuracy, source = self._classifier_accuracy(test_features), "classifier"
        else:
            labels = self.data.train_labels
            accuracy = linear_probe(train, labels, test, self.test_labels, self.config.probe_c)
            source = "linear probe"
        knn = knn_accuracy(train, self.data.train_labels, test, self.test_labels)
        report = EpochReport(
            epoch=self.epoch,
            epochs=self.epochs,
            loss=loss,
            accuracy=accuracy,
            accuracy_source=source,
            knn_accuracy=knn,
            filters=first_layer_filters(self.model).numpy(),
            embeddings=test,
            map_2d=self._map(test),
            attention=None if probe is None else self.cls_attention(probe),
            train_seconds=t1 - t0,
            report_seconds=time.perf_counter() - t1,
        )
        self.history.append(report)
        return report

    def run(self, on_epoch: Callable[[EpochReport], object] | None = None) -> list[EpochReport]:
        """Train the remaining epochs; ``on_epoch(report)`` after each (returning ``False`` stops)."""
        while not self.done:
            report = self.step_epoch()
            if on_epoch is not None and on_epoch(report) is False:
                break
        return self.history

    # -- reading the encoder ----------------------------------------------------------------------
    @torch.no_grad()
    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Model inputs (N, 3, 32, 32) → the encoder's vectors (N, D): the CLS token / the GAP vector."""
        return torch.cat(
            [self.model.forward_features(x[i : i + EVAL_BATCH]) for i in range(0, len(x), EVAL_BATCH)]
        )

    def embed_inputs(self, x: torch.Tensor) -> np.ndarray:
        """Model inputs (N, 3, 32, 32) → L2-normalised embeddings (N, D), float32."""
        return F.normalize(self.features(x), dim=-1).numpy()

    def embed(self, pictures: np.ndarray) -> np.ndarray:
        """Pictures (N, side, side) of ink in 0..1 → L2-normalised embeddings (N, D)."""
        return self.embed_inputs(to_input(pictures))

    @torch.no_grad()
    def _classifier_accuracy(self, test_features: torch.Tensor) -> float:
        head = self.model.head if isinstance(self.model, VisionTransformer) else self.model.fc
        if head is None:
            raise RuntimeError(f"the {self.objective} run's encoder has no classifier: score it with a probe")
        return float((head(test_features).argmax(1).numpy() == self.test_labels).mean())

    def classifier_accuracy(self) -> float:
        """Held-out accuracy of the classification head (classification objective only)."""
        return self._classifier_accuracy(self.features(self._test_input))

    def cls_attention(self, picture: np.ndarray) -> np.ndarray | None:
        """Where the CLS token of the last block looks, heads averaged: (rows, cols); ``None`` for the CNN."""
        if not isinstance(self.model, VisionTransformer):
            return None
        return last_block_cls_attention(self.model, to_input(picture))[0]

    def _map(self, embeddings: np.ndarray) -> np.ndarray:
        centred = embeddings - embeddings.mean(axis=0)
        _, _, vt = np.linalg.svd(centred, full_matrices=False)
        axes = vt[:2]  # (2, D)
        if self._map_axes is not None:
            signs = np.sign(np.sum(axes * self._map_axes, axis=1, keepdims=True))
            axes = axes * np.where(signs == 0, 1, signs)
        self._map_axes = axes
        return (centred @ axes.T).astype(np.float32)  # (N, 2)


def last_block_cls_attention(model: VisionTransformer, x: torch.Tensor) -> np.ndarray:
    """CLS → patch attention of the last block, heads averaged, for each picture: (B, rows, cols),
    read from a real trace (for one picture, the Transformer lesson's own :func:`cls_attention`)."""
    name = f"blocks.{len(model.blocks) - 1}.attn.probs"
    tr = trace(model.eval(), x, keep=[name], stop_after=[name])
    if len(x) == 1:
        return cls_attention(tr, len(model.blocks) - 1).mean(axis=0)[None]  # (1, rows, cols)
    rows, cols = grid_shape(tr)
    cls_row = tr.array(name)[:, :, 0, 1:]  # (B, heads, N): the CLS token's row, CLS itself left out
    return cls_row.mean(axis=1).reshape(-1, rows, cols)  # (B, rows, cols)


def linear_probe(
    train: np.ndarray, train_labels: np.ndarray, test: np.ndarray, test_labels: np.ndarray, c: float = 10.0
) -> float:
    """Held-out accuracy of a logistic regression fitted on frozen embeddings."""
    from sklearn.linear_model import LogisticRegression

    probe = LogisticRegression(C=c, max_iter=2000)
    probe.fit(train, train_labels)
    return float(probe.score(test, test_labels))


def knn_accuracy(
    train: np.ndarray,
    train_labels: np.ndarray,
    test: np.ndarray,
    test_labels: np.ndarray,
    k: int = NEIGHBOURS,
) -> float:
    """Held-out accuracy of a majority vote of the ``k`` most similar training embeddings (cosine)."""
    from sklearn.neighbors import KNeighborsClassifier

    knn = KNeighborsClassifier(n_neighbors=k, metric="cosine")
    knn.fit(train, train_labels)
    return float(knn.score(test, test_labels))


def _lr_factor(step: int, warmup: float, total: int) -> float:
    if step < warmup:
        return (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1.0, total - warmup))
    return 0.5 * (1 + math.cos(math.pi * progress))
