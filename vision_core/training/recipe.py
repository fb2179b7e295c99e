"""The committed recipe: the tiny ViT trained on scikit-learn's digits, and its weights as a file.

:data:`RECIPE` is the run the lesson starts with (tiny ViT, cross-entropy, 8×8 digits, seed 0).
:func:`train_recipe` trains it from scratch; ``tiny_vit_digits.pt`` beside this file holds the
result, written by this module's ``main`` (``python -m vision_core.training.recipe``), and
:data:`WEIGHTS_SHA256` its digest, checked before the file is read.  The file is committed rather
than trained on first use so that the Transformer pages show trained weights at once on any
machine; training it again gives a model of the same accuracy (float rounding of another CPU or
thread count may change the last bits, so the digest is of the committed file, not a promise
about every retraining).

The file is ``torch.save`` of a plain dict of tensors, read back with
``torch.load(weights_only=True)`` and ``load_state_dict(strict=True)``.

:data:`PREPROCESSING` is how a photo becomes the model input in the app's usual terms; a learner's
drawing is best prepared first with :func:`vision_core.training.data.prepare_drawing` (ink made
bright, cut to its box, shrunk to 8×8 levels 0..16) and then :func:`~vision_core.training.data.to_input`.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from vision_core.engine.models.vit import VisionTransformer
from vision_core.engine.preprocess import Preprocessing
from vision_core.training.data import INPUT_SIDE, DatasetName, load_dataset, stretch, to_input
from vision_core.training.models import ModelKind, build, tiny_vit
from vision_core.training.objectives import Objective
from vision_core.training.trainer import EpochReport, Trainer, last_block_cls_attention


@dataclass(frozen=True)
class Recipe:
    model_kind: ModelKind = "vit"
    objective: Objective = "classification"
    dataset: DatasetName = "digits"
    seed: int = 0
    epochs: int | None = None  # None: the configuration's (trainer.default_config)


RECIPE = Recipe()
WEIGHTS_FILE = Path(__file__).with_name("tiny_vit_digits.pt")
WEIGHTS_SHA256 = "266fcf3e9c9d90618196858502dd2d1e94c43c0947ccb5e59a692d1d311e5320"

# A picture of bright ink on a dark ground, as the digits are: stretched to 32×32 and scaled
# to −1..1, x = (pixel / 255 − 0.5) / 0.5 on each of the three (equal) channels.
PREPROCESSING = Preprocessing(
    resize=INPUT_SIDE, crop=INPUT_SIDE, interpolation="bilinear", mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5)
)
# A patch "contains ink" when the mean ink of its 4×4 pixels of the stretched picture reaches this
# (a quarter of full strength: an 8×8 digit pixel of 4 inked cells out of 16)
INK_THRESHOLD = 0.25


def recipe_trainer(recipe: Recipe = RECIPE) -> Trainer:
    return Trainer(
        recipe.model_kind, recipe.objective, recipe.dataset, seed=recipe.seed, epochs=recipe.epochs
    )


def train_recipe(
    recipe: Recipe = RECIPE, on_epoch: Callable[[EpochReport], object] | None = None
) -> VisionTransformer:
    """Train the recipe from scratch (every epoch's report goes to ``on_epoch``); the trained ViT,
    in eval mode."""
    if recipe.model_kind != "vit":
        raise ValueError(f"a recipe trains the tiny ViT, not {recipe.model_kind!r}")
    trainer = recipe_trainer(recipe)
    trainer.run(on_epoch)
    assert isinstance(trainer.model, VisionTransformer)  # built from model_kind "vit"
    return trainer.model


def untrained_tiny_vit(seed: int = RECIPE.seed) -> VisionTransformer:
    """The same network before training: the recipe's initial weights."""
    return build("vit", 10, seed)


@torch.no_grad()
def held_out_accuracy(model: torch.nn.Module, dataset: DatasetName = "digits") -> float:
    """The classifier's accuracy on the held-out pictures of ``dataset``."""
    data = load_dataset(dataset)
    logits = model.eval()(to_input(data.test_images))  # (N, 10)
    return float((logits.argmax(1).numpy() == data.test_labels).mean())


def ink_patches(pictures: np.ndarray, patch: int = 4) -> np.ndarray:
    """(N, rows, cols) booleans: which patches of the stretched pictures hold ink."""
    x = stretch(pictures)[:, 0]  # (N, 32, 32)
    n, side = x.shape[0], x.shape[-1]
    means = x.reshape(n, side // patch, patch, side // patch, patch).mean(dim=(2, 4))  # (N, rows, cols)
    return (means >= INK_THRESHOLD).numpy()


def attention_on_ink(model: VisionTransformer, pictures: np.ndarray) -> np.ndarray:
    """(N,) the share of the last block's CLS attention (heads averaged, CLS itself left out) that
    lands on patches holding ink."""
    maps = last_block_cls_attention(model, to_input(pictures))  # (N, rows, cols)
    ink = ink_patches(pictures, model.patch_size)
    return (maps * ink).sum(axis=(1, 2)) / maps.sum(axis=(1, 2))


def save_weights(model: torch.nn.Module, path: Path | str) -> str:
    """Write the model's weights as a plain dict of tensors; returns the file's SHA-256."""
    state = {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}
    torch.save(state, path)
    return file_sha256(path)


def load_weights(path: Path | str, sha256: str | None = None) -> VisionTransformer:
    """A tiny ViT with the weights of ``path`` (checked against ``sha256`` first when given)."""
    if sha256 is not None and (found := file_sha256(path)) != sha256:
        raise ValueError(f"{path} has SHA-256 {found}, not the recorded {sha256}: the file was changed")
    state = torch.load(path, map_location="cpu", weights_only=True)
    model = tiny_vit()
    model.load_state_dict(state, strict=True)
    return model.eval()


def tiny_vit_digits() -> VisionTransformer:
    """The committed trained tiny ViT (a fresh copy each call: cache it with ``st.cache_resource``)."""
    return load_weights(WEIGHTS_FILE, WEIGHTS_SHA256)


def file_sha256(path: Path | str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def main() -> None:
    """Train the recipe and write ``tiny_vit_digits.pt``; print its accuracy and SHA-256."""

    def show(r: EpochReport) -> None:
        print(
            f"epoch {r.epoch}/{r.epochs}: loss {r.loss:.3f}, held-out accuracy {r.accuracy:.3f}", flush=True
        )

    model = train_recipe(on_epoch=show)
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else WEIGHTS_FILE
    digest = save_weights(model, path)
    print(f"wrote {path} ({path.stat().st_size} bytes), held-out accuracy {held_out_accuracy(model):.4f}")
    print(f"WEIGHTS_SHA256 = {digest!r}")


if __name__ == "__main__":
    main()
