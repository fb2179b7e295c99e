"""ResNet-18 and ResNet-50, in torchvision's checkpoint format.

He, Zhang, Ren and Sun, "Deep Residual Learning for Image Recognition" (2015).  The module names
copy torchvision's ``torchvision/models/resnet.py`` so its ImageNet checkpoints (V1 and V2 share
the format) load with ``strict=True``; the ResNet-50 here is torchvision's "v1.5", whose
bottleneck strides in the 3×3 convolution rather than the first 1×1.

Unlike torchvision, each ReLU is its own module (``relu1``, ``relu2``, ``relu3``) and the residual
add is a module (``add``), so that a trace records every step under its own name.  Neither adds a
state-dict key.
"""

from __future__ import annotations

import torch
from torch import nn

from vision_core.engine.layers import (
    Add,
    BatchNorm2d,
    Conv2d,
    GlobalAvgPool,
    L2Normalize,
    Linear,
    MaxPool2d,
    ReLU,
    Softmax,
    Stage,
)
from vision_core.engine.trace import is_tracing


def _downsample(in_ch: int, out_ch: int, stride: int) -> nn.Sequential | None:
    if stride == 1 and in_ch == out_ch:
        return None
    # the shortcut's 1×1 convolution: torchvision's keys downsample.0 / downsample.1
    return nn.Sequential(Conv2d(in_ch, out_ch, 1, stride=stride, bias=False), BatchNorm2d(out_ch))


class BasicBlock(nn.Module):
    """Two 3×3 convolutions and a shortcut (ResNet-18/34)."""

    expansion = 1

    def __init__(self, in_ch: int, width: int, stride: int = 1):
        super().__init__()
        out_ch = width * self.expansion
        self.conv1 = Conv2d(in_ch, width, 3, stride=stride, padding=1, bias=False)
        self.bn1 = BatchNorm2d(width)
        self.relu1 = ReLU()
        self.conv2 = Conv2d(width, width, 3, padding=1, bias=False)
        self.bn2 = BatchNorm2d(width)
        self.downsample = _downsample(in_ch, out_ch, stride)
        self.add = Add()
        self.relu2 = ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu1(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu2(self.add(identity, out))


class Bottleneck(nn.Module):
    """1×1 squeeze, 3×3 (strided), 1×1 expand ×4, and a shortcut (ResNet-50/101/152)."""

    expansion = 4

    def __init__(self, in_ch: int, width: int, stride: int = 1):
        super().__init__()
        out_ch = width * self.expansion
        self.conv1 = Conv2d(in_ch, width, 1, bias=False)
        self.bn1 = BatchNorm2d(width)
        self.relu1 = ReLU()
        self.conv2 = Conv2d(width, width, 3, stride=stride, padding=1, bias=False)
        self.bn2 = BatchNorm2d(width)
        self.relu2 = ReLU()
        self.conv3 = Conv2d(width, out_ch, 1, bias=False)
        self.bn3 = BatchNorm2d(out_ch)
        self.downsample = _downsample(in_ch, out_ch, stride)
        self.add = Add()
        self.relu3 = ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu1(self.bn1(self.conv1(x)))
        out = self.relu2(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu3(self.add(identity, out))


class ResNet(nn.Module):
    """Stem (7×7/2 conv, BN, ReLU, 3×3/2 max-pool), four stages, global average pool, classifier.

    ``forward`` returns the 1000 ImageNet logits, as torchvision's does; ``forward_features``
    returns the pooled vector (512 for ResNet-18, 2048 for ResNet-50) — the embedding.
    """

    layer1: Stage  # the four stages, set by name in __init__ (torchvision's keys)
    layer2: Stage
    layer3: Stage
    layer4: Stage

    def __init__(self, block: type[BasicBlock | Bottleneck], layers: list[int], num_classes: int = 1000):
        super().__init__()
        self.conv1 = Conv2d(3, 64, 7, stride=2, padding=3, bias=False)
        self.bn1 = BatchNorm2d(64)
        self.relu = ReLU()
        self.maxpool = MaxPool2d(kernel_size=3, stride=2, padding=1)
        in_ch = 64
        for i, (width, depth) in enumerate(zip((64, 128, 256, 512), layers, strict=True), start=1):
            stride = 1 if i == 1 else 2
            blocks = []
            for j in range(depth):
                blocks.append(block(in_ch, width, stride if j == 0 else 1))
                in_ch = width * block.expansion
            setattr(self, f"layer{i}", Stage(*blocks))
        self.stages = ("layer1", "layer2", "layer3", "layer4")
        self.gap = GlobalAvgPool()
        self.embedding = L2Normalize()
        self.fc = Linear(in_ch, num_classes)
        self.probs = Softmax(dim=-1)
        self.num_features = in_ch
        _init_like_torchvision(self)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))  # (B, 64, H/4, W/4)
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))  # (B, C, H/32, W/32)
        return self.gap(x)  # (B, C)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.forward_features(x)
        if is_tracing():
            self.embedding(features)
        logits = self.fc(features)  # (B, 1000)
        if is_tracing():
            self.probs(logits)
        return logits


def _init_like_torchvision(model: nn.Module) -> None:
    """Kaiming-normal convolutions and unit batch norms, as torchvision initialises untrained ResNets."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
    model.eval()


def resnet18(num_classes: int = 1000) -> ResNet:
    return ResNet(BasicBlock, [2, 2, 2, 2], num_classes)


def resnet50(num_classes: int = 1000) -> ResNet:
    return ResNet(Bottleneck, [3, 4, 6, 3], num_classes)
