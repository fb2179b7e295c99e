"""The logit lens for ViT classifiers: what the network would answer if it stopped after each block.

nostalgebraist, "interpreting GPT: the logit lens" (2020), for language models; for vision
transformers the same reading: take the CLS token after block ``i`` (step ``blocks.i.add_mlp`` of
:mod:`vision_core.engine.models.vit`), apply the network's own final LayerNorm and classification
head to it, and softmax::

    blocks.i.add_mlp (1, 1+N, D) → [:, 0] CLS (1, D) → norm → head → softmax (1, classes)

After the last block this is exactly the model's own prediction (tested); before it, the head
reads a token it was never trained to read, so the early answers say what the CLS token already
carries in the head's terms, not what a classifier trained there would say (that is the linear
probe of :mod:`vision_core.why.probe`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from vision_core.engine.models.vit import VisionTransformer
from vision_core.engine.trace import trace
from vision_core.predictions import Prediction, class_names
from vision_core.quiz import Choices, choices, nearest_rivals


def block_output(block: int) -> str:
    """The trace name of block ``block``'s output (its second residual add)."""
    return f"blocks.{block}.add_mlp"


@dataclass(frozen=True)
class LogitLens:
    """The head's softmax read off every block's CLS token, and the model's own."""

    probs: np.ndarray  # (blocks, classes) float64: row i = softmax(head(norm(CLS after block i)))
    model_probs: np.ndarray  # (classes,) float64: the model's own softmax for the photo
    classes: tuple[str, ...]

    @property
    def blocks(self) -> int:
        return int(self.probs.shape[0])

    @property
    def answer(self) -> int:
        """The model's own answer: the class of its highest probability."""
        return int(np.argmax(self.model_probs))

    def ranks(self, index: int | None = None) -> np.ndarray:
        """(blocks,) the rank of class ``index`` (the final answer by default) after each block:
        1 when it is the top class, 2 when one class is above it..."""
        index = self.answer if index is None else index
        return (self.probs > self.probs[:, [index]]).sum(axis=1) + 1

    def answer_probs(self) -> np.ndarray:
        """(blocks,) the final answer's probability after each block."""
        return self.probs[:, self.answer]

    def last_block_gap(self) -> float:
        """The largest difference between the last block's lens and the model's own softmax (the
        two are the same computation: float rounding only)."""
        return float(np.abs(self.probs[-1] - self.model_probs).max())

    def top(self, block: int, k: int = 5) -> list[Prediction]:
        """The ``k`` most probable classes after ``block`` (from 0)."""
        p = self.probs[block]
        order = np.argsort(-p, kind="stable")[:k]
        return [Prediction(int(i), self.classes[i], float(p[i])) for i in order]

    def settled_at(self) -> int | None:
        """The first block (from 0) from which on the final answer stays the top class, or None
        when even the last block's lens disagrees with the model (it never does: the last block's
        lens is the model)."""
        on_top = self.ranks() == 1
        if not on_top[-1]:
            return None
        first = self.blocks - 1
        while first > 0 and on_top[first - 1]:
            first -= 1
        return first

    def summary(self) -> dict[str, object]:
        """The numbers the lesson tells: the final answer and its probability, the number of
        blocks, the block (from 1) from which on it stays on top, and what block 1 said (its top
        class, the final answer's rank there); ``settled_first`` when block 1 already had it on top."""
        answer, first, settled = self.top(self.blocks - 1, 1)[0], self.top(0, 1)[0], self.settled_at()
        return {
            "answer": answer.label,
            "p": answer.probability,
            "blocks": self.blocks,
            "block": (self.blocks - 1 if settled is None else settled) + 1,
            "settled_first": settled == 0,
            "first": first.label,
            "rank": int(self.ranks()[0]),
        }


def has_head(model: torch.nn.Module) -> bool:
    """Whether ``model`` is a ViT whose output is a classifier's logits (not CLIP's projection)."""
    return isinstance(model, VisionTransformer) and model.head is not None and not model.cfg.projection


def logit_lens(model: VisionTransformer, x: torch.Tensor, labels: str) -> LogitLens:
    """The logit lens of one photo ``x`` (1, 3, H, W) through ``model``, whose head outputs the
    classes of ``labels`` (an encoder's ``labels``: "imagenet-1k" or "digits")."""
    if not has_head(model):
        raise ValueError("the logit lens needs a ViT with a classification head")
    assert model.head is not None  # has_head checked it
    if x.shape[0] != 1:
        raise ValueError("the logit lens reads one photo: give a batch of one")
    depth = len(model.blocks)
    tr = trace(model, x, keep=[block_output(i) for i in range(depth)] + ["probs"])
    with torch.no_grad():
        cls = torch.cat([torch.as_tensor(tr[block_output(i)].value)[:, 0] for i in range(depth)])  # (L, D)
        probs = model.head(model.norm(cls)).double().softmax(dim=-1)  # (L, classes)
    model_probs = np.asarray(tr.array("probs")[0], dtype=np.float64)
    classes = tuple(class_names(labels))
    if probs.shape[1] != len(classes):
        raise ValueError(f"the head has {probs.shape[1]} outputs, {labels!r} names {len(classes)}")
    return LogitLens(probs.numpy(), model_probs, classes)


def settled_question(lens: LogitLens) -> Choices[int]:
    """ "From which block on does the lens show the final answer on top?" — the block (from 1) of
    :meth:`LogitLens.settled_at`, against the last block (as if only the end decided), the first
    block (as if the CLS token knew from the start) and the blocks next to the answer."""
    settled = lens.settled_at()
    block = (lens.blocks - 1 if settled is None else settled) + 1  # as summary() tells it
    rivals = [lens.blocks, 1, *nearest_rivals(block, list(range(1, lens.blocks + 1)))]
    return choices(block, [int(b) for b in rivals], salt="lens_block")
