"""CLIP's RN50 image tower: the "modified ResNet" of OpenAI CLIP, in the official ``visual.*`` format.

Radford et al., "Learning Transferable Visual Models From Natural Language Supervision" (2021),
section 2.4; reference code ``openai/CLIP`` ``clip/model.py`` (``ModifiedResNet``) and open_clip's
``modified_resnet.py``.  Three changes from torchvision's ResNet-50:

* a three-convolution stem (3×3 convs with 32, 32, 64 filters) ending in a 2×2 average pool
  instead of one 7×7 convolution and a max-pool (ResNet-D, He et al. 2019);
* anti-aliased down-sampling: a stride-2 block first averages 2×2 neighbourhoods and then
  convolves with stride 1 (Zhang 2019), on the main path and on the shortcut;
* attention pooling instead of global average pooling: the grid's average becomes a query that
  attends over every grid position (plus itself), and the attended value, projected, is the image
  embedding I_f.

CLIP's ViT-B/32 tower is :func:`vision_core.engine.models.vit.clip_vit_b32` (one ViT implementation).
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from vision_core.engine.layers import (
    Add,
    AvgPool2d,
    BatchNorm2d,
    Conv2d,
    GlobalAvgPool,
    L2Normalize,
    Linear,
    ReLU,
    Softmax,
    Stage,
    TracePoint,
)
from vision_core.engine.models.vit import resample_pos_embed
from vision_core.engine.trace import is_tracing


class Bottleneck(nn.Module):
    """1×1, 3×3, [2×2 average pool], 1×1 ×4; the shortcut pools before its 1×1 convolution too."""

    expansion = 4

    def __init__(self, in_ch: int, width: int, stride: int = 1):
        super().__init__()
        out_ch = width * self.expansion
        self.conv1 = Conv2d(in_ch, width, 1, bias=False)
        self.bn1 = BatchNorm2d(width)
        self.relu1 = ReLU()
        self.conv2 = Conv2d(width, width, 3, padding=1, bias=False)
        self.bn2 = BatchNorm2d(width)
        self.relu2 = ReLU()
        self.avgpool = AvgPool2d(stride) if stride > 1 else None
        self.conv3 = Conv2d(width, out_ch, 1, bias=False)
        self.bn3 = BatchNorm2d(out_ch)
        self.downsample = None
        if stride > 1 or in_ch != out_ch:
            self.downsample = nn.Sequential(
                OrderedDict(
                    [
                        ("-1", AvgPool2d(stride)),
                        ("0", Conv2d(in_ch, out_ch, 1, bias=False)),
                        ("1", BatchNorm2d(out_ch)),
                    ]
                )
            )
        self.add = Add()
        self.relu3 = ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu1(self.bn1(self.conv1(x)))
        out = self.relu2(self.bn2(self.conv2(out)))
        if self.avgpool is not None:
            out = self.avgpool(out)  # (B, width, H/2, W/2)
        out = self.bn3(self.conv3(out))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu3(self.add(identity, out))


class AttentionPool2d(nn.Module):
    """Pool a (B, C, h, w) grid to one vector by attention, with the grid's mean as the query."""

    def __init__(self, grid: int, dim: int, heads: int, out_dim: int):
        super().__init__()
        self.positional_embedding = nn.Parameter(torch.randn(grid * grid + 1, dim) / dim**0.5)
        self.k_proj = Linear(dim, dim)
        self.q_proj = Linear(dim, dim)
        self.v_proj = Linear(dim, dim)
        self.c_proj = Linear(dim, out_dim)
        self.heads = heads
        self.gap = GlobalAvgPool()
        self.tokens = TracePoint("tokens")
        self.probs = Softmax(dim=-1)
        self.probs.kind = "attn_probs"
        self.pooled = TracePoint("attn_out")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        mean = self.gap(x)  # (B, C): what plain GAP would give
        tokens = torch.cat([mean[:, None], x.flatten(2).transpose(1, 2)], dim=1)  # (B, 1+hw, C)
        pos = resample_pos_embed(self.positional_embedding[None], (h, w))  # (1, 1+hw, C)
        tokens = self.tokens(tokens + pos, mean, x)
        d = c // self.heads
        q = self.q_proj(tokens[:, :1]).reshape(b, 1, self.heads, d).transpose(1, 2)  # (B, heads, 1, d)
        k = self.k_proj(tokens).reshape(b, -1, self.heads, d).transpose(1, 2)  # (B, heads, 1+hw, d)
        v = self.v_proj(tokens).reshape(b, -1, self.heads, d).transpose(1, 2)
        probs = self.probs((q * d**-0.5) @ k.transpose(-2, -1))  # (B, heads, 1, 1+hw)
        pooled = self.pooled((probs @ v).transpose(1, 2).reshape(b, c))  # (B, C)
        return self.c_proj(pooled)  # (B, out_dim)


class ModifiedResNet(nn.Module):
    """CLIP's RN50 visual tower: ``forward`` returns the image embedding I_f (1024 numbers)."""

    layer1: Stage  # the four stages, set by name in __init__ (OpenAI's keys)
    layer2: Stage
    layer3: Stage
    layer4: Stage

    def __init__(
        self, layers=(3, 4, 6, 3), out_dim: int = 1024, heads: int = 32, img_size: int = 224, width: int = 64
    ):
        super().__init__()
        self.conv1 = Conv2d(3, width // 2, 3, stride=2, padding=1, bias=False)
        self.bn1 = BatchNorm2d(width // 2)
        self.relu1 = ReLU()
        self.conv2 = Conv2d(width // 2, width // 2, 3, padding=1, bias=False)
        self.bn2 = BatchNorm2d(width // 2)
        self.relu2 = ReLU()
        self.conv3 = Conv2d(width // 2, width, 3, padding=1, bias=False)
        self.bn3 = BatchNorm2d(width)
        self.relu3 = ReLU()
        self.avgpool = AvgPool2d(2)
        in_ch = width
        for i, depth in enumerate(layers, start=1):
            planes = width * 2 ** (i - 1)
            blocks = []
            for j in range(depth):
                blocks.append(Bottleneck(in_ch, planes, 2 if (i > 1 and j == 0) else 1))
                in_ch = planes * Bottleneck.expansion
            setattr(self, f"layer{i}", Stage(*blocks))
        self.stages = tuple(f"layer{i}" for i in range(1, len(layers) + 1))
        self.attnpool = AttentionPool2d(img_size // 32, in_ch, heads, out_dim)
        self.embedding = L2Normalize()
        self.num_features = out_dim
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, std=in_ch**-0.5)
        self.eval()

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu1(self.bn1(self.conv1(x)))  # (B, 32, H/2, W/2)
        x = self.relu2(self.bn2(self.conv2(x)))
        x = self.relu3(self.bn3(self.conv3(x)))  # (B, 64, H/2, W/2)
        x = self.avgpool(x)  # (B, 64, H/4, W/4)
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))  # (B, 2048, H/32, W/32)
        return self.attnpool(x)  # (B, 1024)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.forward_features(x)
        if is_tracing():
            self.embedding(features)
        return features


def clip_rn50() -> ModifiedResNet:
    return ModifiedResNet()
