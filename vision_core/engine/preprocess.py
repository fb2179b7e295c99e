"""Photo → tensor, keeping every intermediate picture for the first lesson.

Each weights entry carries its own :class:`Preprocessing` (torchvision's weights entries do the
same): the size the shorter side is resized to, the centre crop, the interpolation, and the
per-channel mean and standard deviation applied after scaling pixels to [0, 1].

:func:`load_image` turns whatever a learner uploads into the RGB picture a person would see, or
refuses it with an :class:`ImageError` that says what went wrong and what to do.  Photos stay in
memory: nothing here writes a file.  :func:`preprocess_steps` then reproduces torchvision's
classification presets (``Resize`` → ``CenterCrop`` → ``ToTensor`` → ``Normalize``) on PIL
images, keeping each step for display.
"""

from __future__ import annotations

import io
import os
import warnings
from dataclasses import dataclass
from typing import BinaryIO, Literal

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

Interpolation = Literal["nearest", "bilinear", "bicubic"]


@dataclass(frozen=True)
class Preprocessing:
    """How a model's weights expect a photo to be prepared.

    ``resize`` is the length the shorter side is scaled to (torchvision's ``Resize(int)``),
    ``crop`` the side of the centre square cut from it, and ``mean``/``std`` act on pixels
    already divided by 255: ``x = (pixel / 255 - mean) / std``.  EfficientNet-Lite0's
    ``(pixel - 127) / 128`` is ``mean = 127/255``, ``std = 128/255``.
    """

    resize: int
    crop: int
    interpolation: Interpolation
    mean: tuple[float, float, float]
    std: tuple[float, float, float]


# --- limits -----------------------------------------------------------------------------------
# 25 MB holds any phone JPEG (a 48 MP photo is 8-20 MB) while keeping a single upload from
# filling a shared server's memory.  Streamlit's own upload limit should be set to match.
DEFAULT_MAX_BYTES = 25 * 1024 * 1024
# 50 megapixels admits 48 MP phone photos (8000 x 6000); decoded as RGB that is 150 MB.  It is
# also below PIL's own bomb warning (89 MP), so our check fires first with our message.
DEFAULT_MAX_PIXELS = 50_000_000
# A side under 8 px holds nothing a learner can see and would be blown up ~30x to 224 px; ViT's
# patches are 14-16 px, so such an image is less than one patch.
MIN_SIDE = 8
# Phone panoramas reach about 1:8; beyond 1:20 the centre crop keeps under 5% of the picture and
# the lesson's square crop would show almost nothing of it.
MAX_ASPECT = 20.0
# Formats a learner's photo plausibly comes in.  Restricting Image.open keeps PIL from handing
# odd files to plugins that shell out (EPS → Ghostscript) or parse exotic containers.
ALLOWED_FORMATS = ("JPEG", "PNG", "GIF", "WEBP", "BMP", "TIFF", "PPM", "AVIF")
# Modes we can turn into what a viewer shows.  LAB/HSV files exist but PIL's conversion of them
# is not colorimetric, so we refuse rather than show wrong colours.
SUPPORTED_MODES = frozenset(
    {"1", "L", "P", "RGB", "RGBA", "RGBX", "RGBa", "CMYK", "YCbCr", "LA", "La", "PA", "I", "F"}
    | {"I;16", "I;16L", "I;16B", "I;16N"}
)
_HEIC_BRANDS = (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis")
_FORMATS_HINT = "Use a JPEG, PNG, WebP, GIF, BMP or TIFF photo."
_SIGNATURES = (
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"GIF8", "GIF"),
    (b"RIFF", "WebP"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"BM", "BMP"),
)


class ImageError(ValueError):
    """A photo we cannot use: ``message`` says what happened, ``hint`` what to do about it."""

    def __init__(self, message: str, hint: str = "") -> None:
        self.message = message
        self.hint = hint
        super().__init__(f"{message} {hint}".strip())


Source = bytes | bytearray | memoryview | str | os.PathLike | BinaryIO


def _read_source(source: Source, max_bytes: int) -> bytes:
    """All the bytes of ``source``, refusing more than ``max_bytes`` without reading them all."""
    too_big = ImageError(
        f"This file is bigger than {max_bytes / 1e6:.0f} MB.",
        "Share a smaller copy (phones offer 'medium' or 'large' sizes when sending a photo).",
    )
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    elif isinstance(source, (str, os.PathLike)):
        if os.path.getsize(source) > max_bytes:
            raise too_big
        with open(source, "rb") as f:
            data = f.read(max_bytes + 1)
    elif hasattr(source, "read"):
        if getattr(source, "seekable", lambda: False)():
            source.seek(0)  # a Streamlit UploadedFile may already have been read once
        data = source.read(max_bytes + 1)
    else:
        raise TypeError(f"load_image takes bytes, a path or a binary file, not {type(source).__name__}")
    if len(data) > max_bytes:
        raise too_big
    if not data:
        raise ImageError("This file is empty (0 bytes).", "The upload may have failed: try again.")
    return data


def _not_an_image(data: bytes) -> ImageError:
    """Say what the file looks like instead, for the learner's benefit."""
    head = data[:1024]
    if head.startswith(b"%PDF"):
        return ImageError("This is a PDF document, not a photo.", "Export the page as a PNG or JPEG first.")
    if head[4:8] == b"ftyp" and head[8:12] in _HEIC_BRANDS:
        return ImageError(
            "This is an HEIC photo (the iPhone's default format), which we can't read.",
            "Share it as JPEG (iPhone: Settings → Camera → Formats → Most Compatible).",
        )
    for signature, name in _SIGNATURES:
        if head.startswith(signature) and (name != "WebP" or head[8:12] == b"WEBP"):
            return ImageError(
                f"This looks like a {name} file, but it is damaged and can't be opened.",
                "Try exporting or sending the photo again.",
            )
    text = head.decode("utf-8", errors="replace")  # "replace": the cut may split a character
    if "\x00" not in text and text.count("\ufffd") <= 1:
        return ImageError("This is a text file, not a photo.", _FORMATS_HINT)
    return ImageError("This file isn't a picture format we can read.", _FORMATS_HINT)


def _check_size(width: int, height: int, max_pixels: int) -> None:
    """Refuse from the header's declared size, before any pixel is decoded."""
    if width * height > max_pixels:
        raise ImageError(
            f"This picture declares {width} × {height} pixels ({width * height / 1e6:.0f} megapixels), "
            f"more than our limit of {max_pixels / 1e6:.0f}: it may be a 'decompression bomb'.",
            "If it is a real photo, share a smaller copy of it.",
        )
    short, long = min(width, height), max(width, height)
    if short < MIN_SIDE:
        raise ImageError(
            f"This picture is too small: {width} × {height} pixels (each side needs at least {MIN_SIDE}).",
            "Use a real photo.",
        )
    if long / short > MAX_ASPECT:
        raise ImageError(
            f"This picture is too long and thin ({width} × {height}, more than 1:{MAX_ASPECT:.0f}).",
            "Crop it to a more ordinary shape first.",
        )


def _rescale_to_uint8(image: Image.Image) -> Image.Image:
    """Wide grey modes to 8 bits by the range their values are meant in, never by clipping."""
    values = np.nan_to_num(np.asarray(image).astype(np.float64))
    top: float | None
    if image.mode.startswith("I;16"):
        top = 65535.0  # 16-bit files use the full 0..65535 range
    elif image.mode == "I":
        top = 255.0 if values.max() <= 255 else 65535.0 if values.max() <= 65535 else None
    else:  # "F": 0..1 is the float convention, 0..255 the integer one
        top = 1.0 if values.max() <= 1.0 else 255.0 if values.max() <= 255 else None
    if top is None or values.min() < 0:  # values outside any convention: stretch min..max
        low, span = values.min(), np.ptp(values) or 1.0
        values, top = values - low, span
    gray = np.clip(np.round(values * (255.0 / top)), 0, 255).astype(np.uint8)
    return Image.fromarray(gray)


def as_rgb(image: Image.Image) -> Image.Image:
    """The picture a viewer shows, as plain RGB: transparency on white, grey and CMYK as colour."""
    mode = image.mode
    if mode not in SUPPORTED_MODES:
        raise ImageError(
            f"This picture uses the '{mode}' colour mode, which we can't show faithfully.",
            "Save it as an ordinary RGB JPEG or PNG.",
        )
    if mode == "RGB":
        return image
    if mode in ("I", "F") or mode.startswith("I;16"):
        image, mode = _rescale_to_uint8(image), "L"
    if mode in ("RGBA", "RGBa", "LA", "La", "PA", "P"):  # P: may carry transparency in its palette
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return image.convert("RGB")


def load_image(
    source: Source,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    draft_min_side: int | None = None,
) -> Image.Image:
    """Read an uploaded photo into the RGB image a person would see, or raise :class:`ImageError`.

    ``source`` is bytes, a path, or a binary file object (Streamlit's ``UploadedFile`` is one).
    EXIF orientation is applied, animations and multi-page files give their first frame, and the
    declared size is checked from the header before decoding.  ``draft_min_side`` (off by
    default: the first lesson shows the original) lets a large JPEG decode at 1/2, 1/4 or 1/8
    scale while its shorter side stays at least that many pixels — far cheaper for 48 MP photos.
    The returned image's ``info`` records ``source_format``, ``source_size``, ``n_frames`` and
    ``exif_orientation`` for the lessons to mention.
    """
    data = _read_source(source, max_bytes)
    try:
        with warnings.catch_warnings():
            # PIL warns (89 MP) then refuses (179 MP) on its own; make the warning an error here.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            pil = Image.open(io.BytesIO(data), formats=list(ALLOWED_FORMATS))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise ImageError(
            "This file declares a picture far too large to open: it may be a 'decompression bomb'.",
            "Share a smaller copy of the photo.",
        ) from e
    except UnidentifiedImageError as e:
        raise _not_an_image(data) from e
    except Exception as e:  # plugins raise SyntaxError, struct.error, ValueError… on broken headers
        raise ImageError(
            "This file's header is damaged, so it can't be opened.", "Try exporting the photo again."
        ) from e
    with pil:
        fmt, declared = pil.format, pil.size
        _check_size(*declared, max_pixels)
        n_frames = getattr(pil, "n_frames", 1)
        try:
            pil.seek(0)  # first frame of an animation, first page of a TIFF
            if draft_min_side and fmt == "JPEG" and min(declared) >= 2 * draft_min_side:
                pil.draft(None, (draft_min_side, draft_min_side))
            pil.load()
        except Exception as e:
            truncated = "truncated" in str(e).lower()
            raise ImageError(
                "This photo file is cut short (truncated), so it can't be decoded."
                if truncated
                else f"This {fmt} file is damaged and can't be decoded.",
                "The upload or copy may have been interrupted: try again with the original file.",
            ) from e
        try:
            orientation = pil.getexif().get(0x0112, 1)
            upright = ImageOps.exif_transpose(pil)
        except (OSError, ValueError, TypeError, KeyError, SyntaxError):  # broken EXIF: keep the photo
            orientation, upright = 1, pil.copy()
        rgb = as_rgb(upright)
    rgb.info = {
        "source_format": fmt,
        "source_size": declared,
        "n_frames": n_frames,
        "exif_orientation": orientation,
    }
    return rgb


# --- preprocessing ----------------------------------------------------------------------------
_RESAMPLE = {
    "nearest": Image.Resampling.NEAREST,
    "bilinear": Image.Resampling.BILINEAR,
    "bicubic": Image.Resampling.BICUBIC,
}


@dataclass
class PreprocessSteps:
    """Every picture on the way from photo to tensor, with the geometry for drawing boxes.

    ``crop_box`` is ``(left, top, right, bottom)`` in ``resized`` coordinates; it extends past
    the image (negative or beyond the size) where torchvision pads with zeros.
    """

    original: Image.Image
    resized: Image.Image
    cropped: Image.Image
    pixels: np.ndarray
    tensor: torch.Tensor
    preprocessing: Preprocessing
    resize_size: tuple[int, int]
    crop_box: tuple[int, int, int, int]


def resized_size(width: int, height: int, short_side: int) -> tuple[int, int]:
    """torchvision's ``Resize(int)`` output ``(w, h)``: the shorter side becomes ``short_side``,
    the longer ``int(short_side * long / short)`` (truncated, as ``_compute_resized_output_size``)."""
    if width <= height:
        return short_side, int(short_side * height / width)
    return int(short_side * width / height), short_side


def center_crop_box(width: int, height: int, crop_w: int, crop_h: int) -> tuple[int, int, int, int]:
    """torchvision's ``center_crop`` as a box ``(left, top, right, bottom)`` on a ``width × height`` image.

    Where the crop is larger than the image torchvision first pads ``(crop - size) // 2`` zeros on
    the left/top (the extra one on the right/bottom) and crops the padded image at the origin.
    """
    left = -((crop_w - width) // 2) if crop_w > width else round((width - crop_w) / 2.0)
    top = -((crop_h - height) // 2) if crop_h > height else round((height - crop_h) / 2.0)
    return left, top, left + crop_w, top + crop_h


def preprocess_steps(
    image: Image.Image,
    prep: Preprocessing,
    *,
    size: int | None = None,
    keep_aspect: bool = False,
    multiple_of: int = 1,
) -> PreprocessSteps:
    """Resize, crop, scale and normalise ``image`` exactly as torchvision's preset does on PIL input.

    ``size`` asks for another input size: the crop becomes ``size`` and the resize scales with
    it (``round(size * prep.resize / prep.crop)``).  ``keep_aspect`` skips the square crop: the
    shorter side becomes ``size or prep.crop`` and both sides are trimmed, centred, down to a
    multiple of ``multiple_of`` (16 for ViT-B/16's patches), so a landscape photo stays landscape.
    """
    if prep.interpolation not in _RESAMPLE:
        raise ValueError(f"unknown interpolation {prep.interpolation!r}")
    if multiple_of < 1:
        raise ValueError("multiple_of must be at least 1")
    original = as_rgb(image)
    w, h = original.size
    if keep_aspect:
        short = size or prep.crop
    else:
        crop = size or prep.crop
        short = prep.resize if size is None else round(size * prep.resize / prep.crop)
    new_w, new_h = resized_size(w, h, short)
    # torchvision returns the image untouched when it already has the target size
    if (new_w, new_h) == (w, h):
        resized = original
    else:
        resized = original.resize((new_w, new_h), _RESAMPLE[prep.interpolation])
    if keep_aspect:
        crop_w, crop_h = new_w - new_w % multiple_of, new_h - new_h % multiple_of
        if crop_w < 1 or crop_h < 1:
            raise ValueError(f"{size or prep.crop} px is smaller than one {multiple_of}-pixel patch")
    else:
        crop_w = crop_h = crop
    box = center_crop_box(new_w, new_h, crop_w, crop_h)
    cropped = resized.crop(box)  # PIL fills outside the image with zeros, as torchvision's padding
    pixels = np.asarray(cropped, dtype=np.uint8).copy()
    tensor = _normalised(pixels, prep)
    return PreprocessSteps(original, resized, cropped, pixels, tensor, prep, (new_w, new_h), box)


def squash_steps(image: Image.Image, prep: Preprocessing, *, size: int | None = None) -> PreprocessSteps:
    """The whole photo resized straight to the network's ``size``×``size`` square (its crop size by
    default), its shape ignored and nothing cut away: what the preset's crop is compared with."""
    if prep.interpolation not in _RESAMPLE:
        raise ValueError(f"unknown interpolation {prep.interpolation!r}")
    original = as_rgb(image)
    side = size or prep.crop
    squashed = (
        original
        if original.size == (side, side)
        else original.resize((side, side), _RESAMPLE[prep.interpolation])
    )
    pixels = np.asarray(squashed, dtype=np.uint8).copy()
    return PreprocessSteps(
        original,
        squashed,
        squashed,
        pixels,
        _normalised(pixels, prep),
        prep,
        (side, side),
        (0, 0, side, side),
    )


def _normalised(pixels: np.ndarray, prep: Preprocessing) -> torch.Tensor:
    """ToTensor + Normalize of H×W×3 ``pixels``, in float32 and in torchvision's order of operations."""
    x = torch.from_numpy(pixels).permute(2, 0, 1).contiguous().to(torch.float32).div(255)
    mean = torch.as_tensor(prep.mean, dtype=torch.float32)[:, None, None]
    std = torch.as_tensor(prep.std, dtype=torch.float32)[:, None, None]
    return x.sub(mean).div(std).unsqueeze(0)


def to_tensor(image: Image.Image, prep: Preprocessing, **kw) -> torch.Tensor:
    """Just the normalised ``[1, 3, H, W]`` tensor of :func:`preprocess_steps`."""
    return preprocess_steps(image, prep, **kw).tensor


def denormalize(tensor: torch.Tensor, prep: Preprocessing) -> np.ndarray:
    """Undo ``Normalize`` and ``/255``: the uint8 ``H × W × 3`` picture the network is given."""
    x = tensor.detach().to(torch.float32).cpu()
    if x.ndim == 4:
        x = x[0]
    if x.ndim != 3 or x.shape[0] != 3:
        raise ValueError(f"expected [1, 3, H, W] or [3, H, W], got {tuple(tensor.shape)}")
    mean = torch.as_tensor(prep.mean, dtype=torch.float32)[:, None, None]
    std = torch.as_tensor(prep.std, dtype=torch.float32)[:, None, None]
    pixels = (x * std + mean).mul(255).round().clamp(0, 255).to(torch.uint8)
    return pixels.permute(1, 2, 0).numpy().copy()
