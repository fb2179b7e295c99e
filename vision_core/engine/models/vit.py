"""The Vision Transformer, one implementation for DINO, DeiT, torchvision's ViT-B/16 and CLIP's ViT-B/32.

Dosovitskiy et al., "An Image is Worth 16x16 Words" (2020).  The module names are timm's
(``timm/models/vision_transformer.py``), which DINO's and DeiT's checkpoints share; torchvision's
``vit_b_16`` and OpenAI CLIP's visual tower store the same numbers under other names, and one
converter per format (:data:`FORMATS`) translates both ways.  A model built for a foreign format
speaks that format: ``state_dict()`` returns the official keys and ``load_state_dict`` takes them,
so an official file loads with ``strict=True``.

The forward pass, as the lesson tells it::

    photo (B, 3, H, W) → patch_embed.proj: a P×P, stride-P convolution → (B, D, H/P, W/P)
    → patch_embed.tokens (B, N, D) → cls_prepended (B, 1+N, D) → pos_added (+ position embeddings)
    → [norm_pre: CLIP's ln_pre] → blocks (pre-norm attention and MLP, each with a residual add)
    → norm → cls (B, D) and patch_grid (B, D, H/P, W/P) → head (logits, or CLIP's projection I_f)

Attention is fused (``scaled_dot_product_attention``) in a plain forward; while tracing it is
computed step by step so that Q, K, V, the scores and ``softmax(QKᵀ/√d)`` of every head can be
recorded — the two agree to float rounding (tested).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import torch
from torch import nn

from vision_core.engine.trace import (
    GELU,
    Add,
    Conv2d,
    L2Normalize,
    LayerNorm,
    Linear,
    QuickGELU,
    Softmax,
    TracePoint,
    is_tracing,
)


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
    checkpoint_format: str = "timm"


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


class Block(nn.Module):
    """Pre-norm encoder block: x + attn(norm1(x)), then x + mlp(norm2(x))."""

    def __init__(self, cfg: ViTConfig):
        super().__init__()
        self.norm1 = LayerNorm(cfg.dim, eps=cfg.eps)
        self.attn = Attention(cfg.dim, cfg.heads)
        self.add_attn = Add()
        self.norm2 = LayerNorm(cfg.dim, eps=cfg.eps)
        self.mlp = Mlp(cfg.dim, int(cfg.dim * cfg.mlp_ratio), cfg.act)
        self.add_mlp = Add()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.add_attn(x, self.attn(self.norm1(x)))
        return self.add_mlp(x, self.mlp(self.norm2(x)))


def resample_pos_embed(pos_embed: torch.Tensor, grid: tuple[int, int], prefix: int = 1) -> torch.Tensor:
    """Stretch the learned grid of position embeddings to another grid (timm's ``resample_abs_pos_embed``:
    bicubic, antialiased), leaving the CLS token's embedding as it is."""
    n = pos_embed.shape[1] - prefix
    if n == grid[0] * grid[1] and grid[0] == grid[1]:
        return pos_embed
    side = math.isqrt(n)
    cls_pos, patch_pos = pos_embed[:, :prefix], pos_embed[:, prefix:]
    patch_pos = patch_pos.float().reshape(1, side, side, -1).permute(0, 3, 1, 2)  # (1, D, s, s)
    patch_pos = nn.functional.interpolate(patch_pos, size=grid, mode="bicubic", antialias=True)
    patch_pos = patch_pos.permute(0, 2, 3, 1).reshape(1, grid[0] * grid[1], -1)  # (1, N', D)
    return torch.cat([cls_pos, patch_pos.to(pos_embed.dtype)], dim=1)


class VisionTransformer(nn.Module):
    def __init__(self, cfg: ViTConfig):
        super().__init__()
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
        x = self.pos_added(x + resample_pos_embed(self.pos_embed, grid), x)
        if self.norm_pre is not None:
            x = self.norm_pre(x)
        return x, grid

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """The image's vector: the CLS token after the final norm (CLIP: projected, I_f)."""
        x, grid = self.tokens(x)
        for block in self.blocks:
            x = block(x)  # (B, 1+N, D)
        x = self.norm(x)
        if is_tracing():
            b, _, d = x.shape
            self.patch_grid(x[:, 1:].transpose(1, 2).reshape(b, d, *grid), x)  # (B, D, H/P, W/P)
        cls = self.cls(x[:, 0], x)  # (B, D)
        if self.cfg.projection:
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

    # -- checkpoint formats ------------------------------------------------------------------
    def state_dict(self, *args, **kwargs):
        sd = super().state_dict(*args, **kwargs)
        if args or "prefix" in kwargs or "destination" in kwargs:
            return sd  # called as a submodule: keep torch's own protocol
        return FORMATS[self.cfg.checkpoint_format][1](sd)

    def load_state_dict(
        self, state_dict: Mapping[str, torch.Tensor], strict: bool = True, assign: bool = False
    ):
        return super().load_state_dict(FORMATS[self.cfg.checkpoint_format][0](state_dict), strict, assign)


# --------------------------------------------------------------------------------------------
# Converters: (official → ours, ours → official).  Each is a list of key renames applied in
# order plus the few tensors whose shape differs.

Renames = list[tuple[str, str]]

_TORCHVISION: Renames = [
    (r"^class_token$", "cls_token"),
    (r"^conv_proj\.", "patch_embed.proj."),
    (r"^encoder\.pos_embedding$", "pos_embed"),
    (r"^encoder\.layers\.encoder_layer_(\d+)\.ln_1\.", r"blocks.\1.norm1."),
    (r"^encoder\.layers\.encoder_layer_(\d+)\.ln_2\.", r"blocks.\1.norm2."),
    (
        r"^encoder\.layers\.encoder_layer_(\d+)\.self_attention\.in_proj_(weight|bias)$",
        r"blocks.\1.attn.qkv.\2",
    ),
    (r"^encoder\.layers\.encoder_layer_(\d+)\.self_attention\.out_proj\.", r"blocks.\1.attn.proj."),
    (r"^encoder\.layers\.encoder_layer_(\d+)\.mlp\.(0|linear_1)\.", r"blocks.\1.mlp.fc1."),
    (r"^encoder\.layers\.encoder_layer_(\d+)\.mlp\.(3|linear_2)\.", r"blocks.\1.mlp.fc2."),
    (r"^encoder\.ln\.", "norm."),
    (r"^heads\.head\.", "head."),
]

_TORCHVISION_BACK: Renames = [
    (r"^cls_token$", "class_token"),
    (r"^patch_embed\.proj\.", "conv_proj."),
    (r"^pos_embed$", "encoder.pos_embedding"),
    (r"^blocks\.(\d+)\.norm1\.", r"encoder.layers.encoder_layer_\1.ln_1."),
    (r"^blocks\.(\d+)\.norm2\.", r"encoder.layers.encoder_layer_\1.ln_2."),
    (
        r"^blocks\.(\d+)\.attn\.qkv\.(weight|bias)$",
        r"encoder.layers.encoder_layer_\1.self_attention.in_proj_\2",
    ),
    (r"^blocks\.(\d+)\.attn\.proj\.", r"encoder.layers.encoder_layer_\1.self_attention.out_proj."),
    (r"^blocks\.(\d+)\.mlp\.fc1\.", r"encoder.layers.encoder_layer_\1.mlp.0."),
    (r"^blocks\.(\d+)\.mlp\.fc2\.", r"encoder.layers.encoder_layer_\1.mlp.3."),
    (r"^norm\.", "encoder.ln."),
    (r"^head\.", "heads.head."),
]

_CLIP: Renames = [
    (r"^class_embedding$", "cls_token"),
    (r"^positional_embedding$", "pos_embed"),
    (r"^conv1\.", "patch_embed.proj."),
    (r"^ln_pre\.", "norm_pre."),
    (r"^transformer\.resblocks\.(\d+)\.ln_1\.", r"blocks.\1.norm1."),
    (r"^transformer\.resblocks\.(\d+)\.ln_2\.", r"blocks.\1.norm2."),
    (r"^transformer\.resblocks\.(\d+)\.attn\.in_proj_(weight|bias)$", r"blocks.\1.attn.qkv.\2"),
    (r"^transformer\.resblocks\.(\d+)\.attn\.out_proj\.", r"blocks.\1.attn.proj."),
    (r"^transformer\.resblocks\.(\d+)\.mlp\.c_fc\.", r"blocks.\1.mlp.fc1."),
    (r"^transformer\.resblocks\.(\d+)\.mlp\.c_proj\.", r"blocks.\1.mlp.fc2."),
    (r"^ln_post\.", "norm."),
    (r"^proj$", "head.weight"),
]

_CLIP_BACK: Renames = [
    (r"^cls_token$", "class_embedding"),
    (r"^pos_embed$", "positional_embedding"),
    (r"^patch_embed\.proj\.", "conv1."),
    (r"^norm_pre\.", "ln_pre."),
    (r"^blocks\.(\d+)\.norm1\.", r"transformer.resblocks.\1.ln_1."),
    (r"^blocks\.(\d+)\.norm2\.", r"transformer.resblocks.\1.ln_2."),
    (r"^blocks\.(\d+)\.attn\.qkv\.(weight|bias)$", r"transformer.resblocks.\1.attn.in_proj_\2"),
    (r"^blocks\.(\d+)\.attn\.proj\.", r"transformer.resblocks.\1.attn.out_proj."),
    (r"^blocks\.(\d+)\.mlp\.fc1\.", r"transformer.resblocks.\1.mlp.c_fc."),
    (r"^blocks\.(\d+)\.mlp\.fc2\.", r"transformer.resblocks.\1.mlp.c_proj."),
    (r"^norm\.", "ln_post."),
    (r"^head\.weight$", "proj"),
]


def _rename(sd: Mapping[str, torch.Tensor], renames: Renames) -> dict[str, torch.Tensor]:
    out = {}
    for key, value in sd.items():
        for pattern, repl in renames:
            new, hits = re.subn(pattern, repl, key)
            if hits:
                key = new
                break
        out[key] = value
    return out


def from_torchvision(sd: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """torchvision ``vit_b_16`` keys (old ``mlp.linear_1`` names too) → ours; shapes are equal."""
    return _rename(sd, _TORCHVISION)


def to_torchvision(sd: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return _rename(sd, _TORCHVISION_BACK)


def from_openai_clip(sd: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """OpenAI CLIP ``visual.*`` keys (prefix removed) → ours."""
    out = _rename(sd, _CLIP)
    if "cls_token" in out:
        out["cls_token"] = out["cls_token"].reshape(1, 1, -1)  # (D,) → (1, 1, D)
    if "pos_embed" in out:
        out["pos_embed"] = out["pos_embed"].unsqueeze(0)  # (1+N, D) → (1, 1+N, D)
    if "head.weight" in out:
        out["head.weight"] = out["head.weight"].t()  # x @ proj  ≡  Linear with weight projᵀ
    return out


def to_openai_clip(sd: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    out = _rename(sd, _CLIP_BACK)
    if "class_embedding" in out:
        out["class_embedding"] = out["class_embedding"].reshape(-1)
    if "positional_embedding" in out:
        out["positional_embedding"] = out["positional_embedding"].squeeze(0)
    if "proj" in out:
        out["proj"] = out["proj"].t()
    return out


def _same(sd: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return dict(sd)


FORMATS: dict[str, tuple[Callable, Callable]] = {
    "timm": (_same, _same),  # DINO and DeiT checkpoints use timm's names
    "torchvision": (from_torchvision, to_torchvision),
    "openai_clip": (from_openai_clip, to_openai_clip),
}


def dino_vits16() -> VisionTransformer:
    return VisionTransformer(ViTConfig(patch=16, dim=384, heads=6))


def dino_vits8() -> VisionTransformer:
    return VisionTransformer(ViTConfig(patch=8, dim=384, heads=6))


def deit_tiny() -> VisionTransformer:
    return VisionTransformer(ViTConfig(patch=16, dim=192, heads=3, num_classes=1000))


def deit_small() -> VisionTransformer:
    return VisionTransformer(ViTConfig(patch=16, dim=384, heads=6, num_classes=1000))


def vit_b_16() -> VisionTransformer:
    return VisionTransformer(
        ViTConfig(patch=16, dim=768, heads=12, num_classes=1000, checkpoint_format="torchvision")
    )


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
            checkpoint_format="openai_clip",
        )
    )
