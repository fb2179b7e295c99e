"""One pre-norm encoder block taken apart, with the real numbers of one token (the CLS token).

A ViT block (:class:`vision_core.engine.models.vit.Block`) is::

    x ─ norm1 ─ qkv ─ q·kᵀ/√d ─ softmax ─ ·v ─ merge heads ─ proj ─ [ls1] ─(+ x)─ add_attn
    add_attn ─ norm2 ─ fc1 ─ GELU ─ fc2 ─ [ls2] ─(+ add_attn)─ add_mlp

``ls1`` / ``ls2`` are DINOv2's layer scale (Touvron et al., CaiT, 2021): each branch multiplied by
a learned number per channel, ``γ``, before it is added.  Blocks without it (DINO, DeiT, CLIP,
torchvision) add the branch as it is, and their walkthrough has no layer-scale rows.

:func:`block_walkthrough` recomputes every step for one token in float64 from the block's
recorded input and the model's own weights, and sets each result next to the value the traced
forward pass recorded, so a page can show both and how little they differ.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from vision_core.engine.models.vit import Block, LayerScale
from vision_core.engine.trace import Trace
from vision_core.quiz import Choices, choices

# The steps of a block in the order of the forward pass; ``op`` names the lesson's line for it.
OPS = (
    "input",
    "norm1",
    "qkv",
    "scores",
    "softmax",
    "weighted_sum",
    "merged",
    "proj",
    "add_attn",
    "norm2",
    "fc1",
    "act",
    "fc2",
    "add_mlp",
)
# the same with DINOv2's layer scale: each branch scaled by its γ before the residual add
OPS_LAYER_SCALE = (*OPS[: OPS.index("add_attn")], "ls1", *OPS[OPS.index("add_attn") : -1], "ls2", "add_mlp")


@dataclass(frozen=True)
class BlockStep:
    """One step for the chosen token: ``values`` recomputed here, ``recorded`` from the trace.

    For ``scores``/``softmax`` the values are the token's row of one head (one number per token
    of the sequence); for ``weighted_sum`` the head's d numbers; otherwise the token's vector.
    ``shape`` is the whole step's recorded shape (every token, every head); for ``weighted_sum``
    it is ``attn.merged`` seen per head, (1, T, heads, d), as the row shows one head's part of it."""

    op: str
    name: str
    shape: tuple[int, ...]
    values: np.ndarray
    recorded: np.ndarray
    max_difference: float


@dataclass
class BlockWalk:
    layer: int
    head: int
    token: int
    tokens: int  # T = 1 + N
    dim: int  # D
    heads: int
    head_dim: int  # d = D / heads
    hidden: int  # the MLP's width, 4·D
    scale: float  # 1/√d
    activation: str  # "gelu" or "quick_gelu"
    steps: list[BlockStep]
    mean1: float  # norm1's mean and std of the token
    std1: float
    mean2: float
    std2: float
    top_tokens: list[tuple[int, float]]  # the head's five largest attention weights: (token, weight)
    attn_share: float  # |attention branch| / |x|: how much the attention step changes the token
    mlp_share: float  # |MLP branch| / |add_attn| (a branch: after its layer scale, when it has one)
    query: np.ndarray  # the token's query in the chosen head (d,), before the 1/√d scale
    gamma1: np.ndarray | None = None  # layer scale of the attention branch (D,), None without it
    gamma2: np.ndarray | None = None  # layer scale of the MLP branch (D,)

    @property
    def layer_scale(self) -> bool:
        """Whether the block scales each branch by a learned γ (DINOv2) before adding it."""
        return self.gamma1 is not None

    def gamma_summary(self, branch: int) -> dict[str, float]:
        """Branch 1 (attention) or 2 (MLP): the layer scale's mean, smallest and largest |γ|."""
        gamma = self.gamma1 if branch == 1 else self.gamma2
        if gamma is None:
            raise ValueError(f"block {self.layer} has no layer scale")
        size = np.abs(gamma)
        return {"gamma": float(size.mean()), "gamma_min": float(size.min()), "gamma_max": float(size.max())}

    @property
    def uniform(self) -> float:
        """The weight every token would get from an even softmax: 1/T."""
        return 1.0 / self.tokens

    def step(self, op: str) -> BlockStep:
        return next(s for s in self.steps if s.op == op)

    @property
    def worst_difference(self) -> float:
        """The largest gap between a recomputed step and the recorded one, over the whole block."""
        return max(s.max_difference for s in self.steps)

    @property
    def softmax_total(self) -> float:
        """The chosen head's attention weights of the token, summed (1 up to rounding)."""
        return float(self.step("softmax").values.sum())

    def activation_curve(self, n: int = 301) -> tuple[np.ndarray, np.ndarray]:
        """The MLP's activation function over the range its ``fc1`` values of the token span."""
        fc1 = self.step("fc1").values
        return activation_curve(self.activation, float(fc1.min()), float(fc1.max()), n)


def _layer_norm(x: np.ndarray, norm: nn.LayerNorm) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    mean = x.mean(axis=-1, keepdims=True)
    std = np.sqrt(x.var(axis=-1, keepdims=True) + norm.eps)
    w, b = norm.weight.detach().double().numpy(), norm.bias.detach().double().numpy()
    return (x - mean) / std * w + b, mean[..., 0], std[..., 0]


def _linear(x: np.ndarray, layer: nn.Linear) -> np.ndarray:
    out = x @ layer.weight.detach().double().numpy().T
    return out + layer.bias.detach().double().numpy() if layer.bias is not None else out


def gelu(x: np.ndarray, function: str = "gelu") -> np.ndarray:
    """GELU as the networks compute it: exact ``x·Φ(x)`` (DINO, DeiT, torchvision) or CLIP's
    ``x·sigmoid(1.702·x)``."""
    x = np.asarray(x, dtype=np.float64)
    if function == "quick_gelu":
        return x / (1.0 + np.exp(-1.702 * x))
    if function == "gelu":
        return torch.nn.functional.gelu(torch.from_numpy(x)).numpy()  # float64, with erf
    raise ValueError(f"unknown activation {function!r}")


def activation_curve(function: str, lo: float, hi: float, n: int = 301) -> tuple[np.ndarray, np.ndarray]:
    """The MLP's activation sampled on [lo, hi], for drawing under the real values."""
    x = np.linspace(lo, hi, n)
    return x, gelu(x, function)


def _gamma(scale: nn.Module) -> np.ndarray | None:
    """A layer scale's γ (D,), or None for the identity that stands in for it."""
    if isinstance(scale, LayerScale):
        return scale.gamma.detach().double().numpy()
    return None


def block_walkthrough(model: nn.Module, tr: Trace, layer: int, head: int = 0, token: int = 0) -> BlockWalk:
    """Block ``layer`` for ``token`` (0: CLS).  ``tr`` must keep ``blocks.{layer}.*`` and the step
    that fed the block, in float32 for exact comparisons."""
    block = model.get_submodule(f"blocks.{layer}")
    if not isinstance(block, Block):
        raise TypeError(f"blocks.{layer} is a {type(block).__name__}, not a ViT Block")
    gamma1, gamma2 = _gamma(block.ls1), _gamma(block.ls2)
    p = f"blocks.{layer}."
    rec = lambda name: tr.array(p + name)[0].astype(np.float64)  # noqa: E731
    source = tr[p + "norm1"].inputs[0]
    x = tr.array(source)[0].astype(np.float64)  # (T, D): every token, needed for keys and values
    t, d_model = x.shape
    heads = block.attn.heads
    d = d_model // heads
    scale = d**-0.5
    if not 0 <= head < heads:
        raise IndexError(f"head {head} of {heads}")

    n1, mean1, std1 = _layer_norm(x, block.norm1)  # (T, D)
    qkv = _linear(n1, block.attn.qkv)  # (T, 3D)
    q, k, v = qkv.reshape(t, 3, heads, d).transpose(1, 2, 0, 3)  # each (heads, T, d)
    scores = (q[:, token] * scale)[:, None, :] @ k.transpose(0, 2, 1)  # (heads, 1, T)
    scores = scores[:, 0]  # (heads, T)
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    probs = e / e.sum(axis=-1, keepdims=True)  # (heads, T)
    per_head = np.einsum("ht,htd->hd", probs, v)  # (heads, d)
    merged = per_head.reshape(-1)  # (D,)
    proj = _linear(merged, block.attn.proj)
    ls1 = proj * gamma1 if gamma1 is not None else proj  # the attention branch as it is added
    add_attn = x[token] + ls1
    n2, mean2, std2 = _layer_norm(add_attn, block.norm2)
    fc1 = _linear(n2, block.mlp.fc1)
    function = getattr(block.mlp.act, "function", "gelu")
    act = gelu(fc1, function)
    fc2 = _linear(act, block.mlp.fc2)
    ls2 = fc2 * gamma2 if gamma2 is not None else fc2
    add_mlp = add_attn + ls2

    recorded = {
        "input": (source, x[token]),
        "norm1": (p + "norm1", rec("norm1")[token]),
        "qkv": (p + "attn.qkv", rec("attn.qkv")[token]),
        "scores": (p + "attn.scores", rec("attn.scores")[head, token]),
        "softmax": (p + "attn.probs", rec("attn.probs")[head, token]),
        "weighted_sum": (p + "attn.merged", rec("attn.merged")[token].reshape(heads, d)[head]),
        "merged": (p + "attn.merged", rec("attn.merged")[token]),
        "proj": (p + "attn.proj", rec("attn.proj")[token]),
        "ls1": (p + "ls1", rec("ls1")[token] if gamma1 is not None else None),
        "add_attn": (p + "add_attn", rec("add_attn")[token]),
        "norm2": (p + "norm2", rec("norm2")[token]),
        "fc1": (p + "mlp.fc1", rec("mlp.fc1")[token]),
        "act": (p + "mlp.act", rec("mlp.act")[token]),
        "fc2": (p + "mlp.fc2", rec("mlp.fc2")[token]),
        "ls2": (p + "ls2", rec("ls2")[token] if gamma2 is not None else None),
        "add_mlp": (p + "add_mlp", rec("add_mlp")[token]),
    }
    computed = {
        "input": x[token],
        "norm1": n1[token],
        "qkv": qkv[token],
        "scores": scores[head],
        "softmax": probs[head],
        "weighted_sum": per_head[head],
        "merged": merged,
        "proj": proj,
        "ls1": ls1,
        "add_attn": add_attn,
        "norm2": n2,
        "fc1": fc1,
        "act": act,
        "fc2": fc2,
        "ls2": ls2,
        "add_mlp": add_mlp,
    }
    steps = []
    for op in OPS_LAYER_SCALE if gamma1 is not None else OPS:
        name, r = recorded[op]
        c = computed[op]
        shape = tuple(tr[name].shape)
        if op == "weighted_sum":  # one head's part of attn.merged: the merged tensor seen per head
            shape = (*shape[:-1], heads, d)
        steps.append(BlockStep(op, name, shape, c, r, float(np.abs(c - r).max())))
    order = np.argsort(-probs[head], kind="stable")[:5]
    length = lambda a: float(np.linalg.norm(a))  # noqa: E731
    return BlockWalk(
        layer,
        head,
        token,
        t,
        d_model,
        heads,
        d,
        fc1.shape[-1],
        scale,
        function,
        steps,
        float(mean1[token]),
        float(std1[token]),
        float(mean2),
        float(std2),
        [(int(i), float(probs[head, i])) for i in order],
        length(ls1) / length(x[token]) if length(x[token]) > 0 else float("inf"),
        length(ls2) / length(add_attn) if length(add_attn) > 0 else float("inf"),
        q[head, token],
        gamma1,
        gamma2,
    )


def mlp_width_question(walk: BlockWalk) -> Choices[int]:
    """ "How many numbers does each token have right after the MLP's first layer?" — the width
    ``fc1`` recorded, against the token's own width D (as if the MLP kept the shape all the way),
    3·D (the query, key and value together: the attention's first layer) and 2·D."""
    width = walk.step("fc1").shape[-1]
    return choices(width, [walk.dim, 3 * walk.dim, 2 * walk.dim], salt="mlp_width")
