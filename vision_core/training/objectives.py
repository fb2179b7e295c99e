"""The three ways a lesson trains an encoder, each a loss over one batch.

* ``"classification"`` — cross-entropy of a linear head's 10 logits against the digit's label;
  the embedding is the vector *before* the head.
* ``"metric"`` — supervised contrastive learning (Khosla et al., "Supervised Contrastive
  Learning", 2020, the L_out form): every picture is pulled towards the other pictures of its
  digit in the batch and pushed from the rest, on the unit sphere, with a temperature.
* ``"self_supervised"`` — SimCLR's InfoNCE / NT-Xent (Chen et al., "A Simple Framework for
  Contrastive Learning of Visual Representations", 2020): two randomly changed views of each
  picture; each view must pick its twin out of the batch.  No label is used.

The two contrastive losses act on a small projection head's output (SimCLR's g(·), an MLP); the
embedding the lesson shows is the encoder's vector under it, as in both papers.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn
from torch.nn import functional as F

Objective = Literal["classification", "metric", "self_supervised"]
OBJECTIVES: tuple[Objective, ...] = ("classification", "metric", "self_supervised")
TITLES: dict[Objective, str] = {
    "classification": "classification (cross-entropy)",
    "metric": "metric learning (supervised contrastive)",
    "self_supervised": "self-supervised (two views, InfoNCE)",
}


def cross_entropy(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    return F.cross_entropy(logits, labels)


def supervised_contrastive(z: torch.Tensor, labels: torch.Tensor, temperature: float) -> torch.Tensor:
    """SupCon over a batch of L2-normalised vectors ``z`` (B, E): for each anchor, the mean over its
    positives (same label, not itself) of −log softmax of the similarities over all the others."""
    n = z.shape[0]
    sim = z @ z.T / temperature  # (B, B)
    self_mask = torch.eye(n, dtype=torch.bool, device=z.device)
    sim = sim.masked_fill(self_mask, float("-inf"))
    log_prob = sim - torch.logsumexp(sim, dim=1, keepdim=True)
    positives = (labels[:, None] == labels[None, :]) & ~self_mask  # (B, B)
    counts = positives.sum(dim=1)
    has = counts > 0
    mean_pos = log_prob.masked_fill(~positives, 0.0).sum(dim=1)[has] / counts[has]
    return -mean_pos.mean()


def info_nce(z1: torch.Tensor, z2: torch.Tensor, temperature: float) -> torch.Tensor:
    """NT-Xent over two views (each (B, E), L2-normalised): view i's twin is the positive, the
    other 2B − 2 vectors the negatives."""
    n = z1.shape[0]
    z = torch.cat([z1, z2])  # (2B, E)
    sim = z @ z.T / temperature  # (2B, 2B)
    sim = sim.masked_fill(torch.eye(2 * n, dtype=torch.bool, device=z.device), float("-inf"))
    twins = torch.cat([torch.arange(n, 2 * n), torch.arange(n)]).to(z.device)
    return F.cross_entropy(sim, twins)


class ProjectionHead(nn.Module):
    """SimCLR's g(·): Linear → ReLU → Linear, its output L2-normalised for the contrastive loss.

    ``batch_norm`` puts a batch norm after the first Linear, as SimCLR's own head has: it spreads
    the batch out even when the encoder starts with nearly one vector for every picture (the
    untrained tiny ViT), so InfoNCE gets a gradient from the first step."""

    def __init__(self, dim: int, out: int = 32, *, batch_norm: bool = False):
        super().__init__()
        self.fc1 = nn.Linear(dim, dim)
        self.bn: nn.Module = nn.BatchNorm1d(dim) if batch_norm else nn.Identity()
        self.fc2 = nn.Linear(dim, out)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.fc2(torch.relu(self.bn(self.fc1(h)))), dim=-1)
