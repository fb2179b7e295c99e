"""The picture of a dot on the class map: a small PNG made here, and the check every stored
thumbnail passes (the store never trusts bytes it did not make)."""

from __future__ import annotations

import io
import warnings

from PIL import Image, UnidentifiedImageError

from vision_core.classroom.records import MAX_THUMBNAIL_BYTES, THUMBNAIL_SIDE, ClassError

_SIGNATURES = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")


def make_thumbnail(image: Image.Image, size: int = THUMBNAIL_SIDE) -> bytes:
    """``image`` → PNG bytes, RGB, its longer side at most ``size`` (never enlarged).
    Transparent parts are laid on white, as a viewer shows them."""
    if size < 1:
        raise ValueError(f"size must be at least 1 pixel, not {size}")
    picture = image
    if picture.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        picture.mode == "P" and "transparency" in picture.info
    ):
        rgba = picture.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        picture = Image.alpha_composite(white, rgba)
    picture = picture.convert("RGB")  # convert() always copies: thumbnail() below works in place
    picture.thumbnail((size, size), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    picture.save(out, format="PNG", optimize=True)
    return out.getvalue()


def check_thumbnail(data: bytes) -> None:
    """Refuse (``bad_photo``) anything but a PNG or JPEG under 64 KB that decodes whole to at most
    128 px on its longer side."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise ClassError("bad_photo", "A thumbnail must be the bytes of a PNG or JPEG picture.")
    data = bytes(data)
    if len(data) > MAX_THUMBNAIL_BYTES:
        raise ClassError(
            "bad_photo",
            f"This thumbnail is {len(data) / 1024:.0f} KB: at most {MAX_THUMBNAIL_BYTES // 1024} KB fits.",
        )
    if not data.startswith(_SIGNATURES):
        raise ClassError("bad_photo", "A thumbnail must be a PNG or JPEG picture.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a truncated or odd file is refused, not half-read
            with Image.open(io.BytesIO(data), formats=("PNG", "JPEG")) as img:
                width, height = img.size
                if max(width, height) > THUMBNAIL_SIDE or min(width, height) < 1:
                    raise ClassError(
                        "bad_photo",
                        f"This thumbnail is {width} x {height} px: its longer side may be at most "
                        f"{THUMBNAIL_SIDE} px.",
                    )
                img.load()
    except ClassError:
        raise
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        OSError,
        SyntaxError,
        ValueError,
        Warning,
    ) as exc:
        raise ClassError("bad_photo", "This thumbnail is not a picture that can be read whole.") from exc
