"""make_thumbnail: what the pages put on the class map always passes the store's photo check."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from vision_core.classroom import MAX_THUMBNAIL_BYTES, THUMBNAIL_SIDE, ClassError, make_thumbnail
from vision_core.classroom.thumbnails import check_thumbnail


def _open(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    assert img.format == "PNG"
    img.load()
    return img


@pytest.mark.parametrize(("size", "expected"), [((1000, 500), (128, 64)), ((300, 900), (43, 128))])
def test_the_longer_side_becomes_128(size, expected):
    img = _open(make_thumbnail(Image.new("RGB", size, (10, 20, 30))))
    assert (img.size, img.mode) == (expected, "RGB")


def test_a_small_picture_is_not_enlarged_and_size_is_a_ceiling():
    assert _open(make_thumbnail(Image.new("L", (50, 20), 99))).size == (50, 20)
    assert max(_open(make_thumbnail(Image.new("RGB", (400, 300)), size=32)).size) == 32
    with pytest.raises(ValueError):
        make_thumbnail(Image.new("RGB", (4, 4)), size=0)


def test_noise_the_worst_case_for_png_still_fits():
    noise = np.random.default_rng(0).integers(0, 256, (THUMBNAIL_SIDE, THUMBNAIL_SIDE, 3), dtype=np.uint8)
    data = make_thumbnail(Image.fromarray(noise))
    assert len(data) <= MAX_THUMBNAIL_BYTES
    check_thumbnail(data)
    np.testing.assert_array_equal(np.asarray(_open(data)), noise)  # PNG is lossless; no resize here


def test_transparency_is_laid_on_white():
    rgba = Image.new("RGBA", (20, 10), (255, 0, 0, 0))
    rgba.paste((0, 0, 255, 255), (0, 0, 10, 10))
    pixels = np.asarray(_open(make_thumbnail(rgba)))
    assert tuple(pixels[5, 2]) == (0, 0, 255) and tuple(pixels[5, 17]) == (255, 255, 255)


def test_a_decompression_bomb_header_is_refused_without_decoding():
    data = bytearray(make_thumbnail(Image.new("RGB", (8, 8))))
    data[16:24] = (100_000).to_bytes(4, "big") * 2  # IHDR claims 100000 x 100000 (CRC now wrong too)
    with pytest.raises(ClassError) as info:
        check_thumbnail(bytes(data))
    assert info.value.kind == "bad_photo"
