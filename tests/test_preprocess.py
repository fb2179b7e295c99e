"""load_image on every kind of file a learner can upload, and preprocessing's arithmetic.

Every hostile file is made here, in memory or in tmp_path, so each test shows exactly what it feeds in.
"""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
import torch
from PIL import Image, ImageFile, features

from vision_core.engine.preprocess import (
    DEFAULT_MAX_PIXELS,
    MAX_ASPECT,
    MIN_SIDE,
    ImageError,
    Preprocessing,
    as_rgb,
    center_crop_box,
    denormalize,
    load_image,
    preprocess_steps,
    resized_size,
    to_tensor,
)
from vision_core.samples import sample_path

IMAGENET = Preprocessing(256, 224, "bilinear", (0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
ROCKET_JPEG = sample_path("rocket").read_bytes()
CHELSEA_PNG = sample_path("chelsea").read_bytes()


def encode(image: Image.Image, fmt: str = "PNG", **kw) -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt, **kw)
    return buf.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A valid PNG signature and IHDR (correct CRCs) declaring width × height, with a token IDAT:
    ~70 bytes that would take gigabytes to decode — or fail, showing the refusal came first."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit grayscale
    idat = zlib.compress(b"\0" * 16)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def refused(source, *words: str, **kw) -> ImageError:
    with pytest.raises(ImageError) as info:
        load_image(source, **kw)
    err = info.value
    text = str(err).lower()
    for word in words:
        assert word.lower() in text, f"{word!r} not in {str(err)!r}"
    assert err.message and err.hint and err.message in str(err) and err.hint in str(err)
    return err


# --- where the bytes come from ---------------------------------------------------------------


def test_image_error_is_a_value_error_with_message_and_hint():
    err = ImageError("What happened.", "What to do.")
    assert isinstance(err, ValueError)
    assert (err.message, err.hint) == ("What happened.", "What to do.")
    assert str(err) == "What happened. What to do."


def test_loads_from_bytes_path_and_file_objects(tmp_path):
    path = tmp_path / "chelsea.png"
    path.write_bytes(CHELSEA_PNG)
    expected = np.asarray(Image.open(io.BytesIO(CHELSEA_PNG)).convert("RGB"))
    already_read = io.BytesIO(CHELSEA_PNG)
    already_read.read()  # Streamlit's UploadedFile may have been read once before
    for source in (
        CHELSEA_PNG,
        bytearray(CHELSEA_PNG),
        path,
        str(path),
        io.BytesIO(CHELSEA_PNG),
        already_read,
    ):
        image = load_image(source)
        assert image.mode == "RGB" and image.size == (451, 300)
        assert np.array_equal(np.asarray(image), expected)
        assert image.info["source_format"] == "PNG"


def test_wrong_source_type_is_a_programming_error():
    with pytest.raises(TypeError):
        load_image(12345)


# --- refusals --------------------------------------------------------------------------------


def test_text_file_is_refused(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("Shopping list: milk, eggs, a photo of my cat\n" * 20)
    refused(path, "text file")


def test_pdf_is_refused():
    refused(b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n" + bytes(range(256)) * 4, "PDF")


def test_heic_is_refused_with_an_iphone_hint():
    heic = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(200)
    err = refused(heic, "HEIC")
    assert "JPEG" in err.hint


def test_unknown_binary_is_refused():
    refused(bytes(range(256)) * 8, "isn't a picture format")


def test_empty_file_is_refused(tmp_path):
    refused(b"", "empty", "0 bytes")
    (tmp_path / "empty.jpg").write_bytes(b"")
    refused(tmp_path / "empty.jpg", "empty")


@pytest.mark.parametrize("data", [ROCKET_JPEG, CHELSEA_PNG], ids=["jpeg", "png"])
def test_truncated_file_is_refused_without_touching_pil_settings(data):
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
    refused(data[: len(data) // 2], "truncated")
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_damaged_png_header_is_named_as_a_damaged_png():
    data = bytearray(CHELSEA_PNG)
    data[29] ^= 0xFF  # inside IHDR's CRC
    refused(bytes(data), "PNG", "damaged")


@pytest.mark.parametrize("side", [60_000, 10_000, 8_000], ids=["pil-error", "pil-warning", "our-limit"])
def test_decompression_bomb_is_refused_from_the_header(side, monkeypatch):
    """60000² trips PIL's own error, 10000² its warning (100 MP > 89 MP), 8000² our 50 MP limit.
    The IDAT holds 16 bytes, so any attempt to decode would fail differently ("truncated"); and
    decoding is made to fail loudly here, so the refusal must come from the header alone."""
    limit = Image.MAX_IMAGE_PIXELS
    data = png_header_only(side, side)
    assert len(data) < 100

    def no_decoding(self, *args, **kwargs):
        raise AssertionError("the pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    err = refused(data, "decompression bomb")
    assert "truncated" not in str(err).lower()
    assert limit == Image.MAX_IMAGE_PIXELS


def test_48_megapixel_photo_passes_the_size_checks():
    # 8000 × 6000 is admitted; the token pixel data then fails to decode, so the error is about that
    assert DEFAULT_MAX_PIXELS >= 8000 * 6000
    err = refused(png_header_only(8000, 6000), "truncated")
    assert "megapixels" not in err.message


def test_too_many_bytes_is_refused_before_reading_everything(tmp_path):
    path = tmp_path / "big.jpg"
    path.write_bytes(ROCKET_JPEG)
    for source in (ROCKET_JPEG, path, io.BytesIO(ROCKET_JPEG)):
        refused(source, "bigger than", max_bytes=len(ROCKET_JPEG) - 1)
    assert load_image(ROCKET_JPEG, max_bytes=len(ROCKET_JPEG)).size == (640, 427)


@pytest.mark.parametrize(
    ("size", "words"),
    [((1, 4000), "too small"), ((4000, 1), "too small"), ((4, 4), "too small"), ((10, 400), "long and thin")],
)
def test_absurd_dimensions_are_refused(size, words):
    refused(encode(Image.new("RGB", size, (90, 120, 200))), words)


def test_dimension_limits_admit_their_boundaries():
    assert load_image(encode(Image.new("RGB", (MIN_SIDE, MIN_SIDE)))).size == (MIN_SIDE, MIN_SIDE)
    long_side = int(MIN_SIDE * MAX_ASPECT)
    assert load_image(encode(Image.new("RGB", (long_side, MIN_SIDE)))).size == (long_side, MIN_SIDE)


def test_unsupported_colour_mode_is_refused():
    lab_tiff = encode(Image.new("LAB", (32, 32), (50, 20, 30)), "TIFF")
    refused(lab_tiff, "colour mode", "LAB")


# --- what a person would see -----------------------------------------------------------------


def test_animated_gif_gives_its_first_frame():
    frames = [Image.new("RGB", (32, 24), c) for c in [(255, 0, 0), (0, 0, 255), (0, 255, 0)]]
    gif = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)
    image = load_image(gif)
    assert image.getpixel((5, 5)) == (255, 0, 0)
    assert image.info["n_frames"] == 3


def test_bundled_animated_gif_gives_its_first_frame():
    path = sample_path("chelsea").parent / "no_time_for_that_tiny.gif"
    with Image.open(path) as gif:
        assert gif.n_frames > 1
        expected = np.asarray(gif.convert("RGB"))  # frame 0, which has no transparency
    image = load_image(path)
    assert np.array_equal(np.asarray(image), expected)


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_animated_png_and_webp_give_their_first_frame(fmt):
    if fmt == "WEBP" and not features.check("webp"):
        pytest.skip("Pillow built without WebP")
    frames = [Image.new("RGB", (32, 24), c) for c in [(255, 0, 0), (0, 0, 255)]]
    kw = {"lossless": True} if fmt == "WEBP" else {}
    data = encode(frames[0], fmt, save_all=True, append_images=frames[1:], **kw)
    image = load_image(data)
    assert image.getpixel((5, 5)) == (255, 0, 0)
    assert image.info["n_frames"] == 2


def test_multipage_tiff_gives_its_first_page():
    path = sample_path("chelsea").parent / "multipage.tif"
    with Image.open(path) as tiff:
        assert tiff.n_frames == 2
        expected = np.asarray(tiff.convert("RGB"))
    image = load_image(path)
    assert np.array_equal(np.asarray(image), expected)
    assert image.info["n_frames"] == 2


def test_16_bit_grayscale_is_scaled_by_its_range_not_clipped():
    values = np.array([[0, 257, 32896, 65535] * 4] * 16, dtype=np.uint16)  # 32896 = 128 × 257
    png = encode(Image.fromarray(values))
    assert Image.open(io.BytesIO(png)).mode == "I;16"
    pixels = np.asarray(load_image(png))
    assert pixels[0, :4, 0].tolist() == [0, 1, 128, 255]
    assert (pixels[..., 0] == pixels[..., 1]).all() and (pixels[..., 1] == pixels[..., 2]).all()


def test_32_bit_and_float_grayscale_use_their_conventions():
    wide = np.array([[0, 32896, 65535, 65535] * 4] * 16, dtype=np.int32)
    assert np.asarray(load_image(encode(Image.fromarray(wide, "I"), "TIFF")))[0, :3, 0].tolist() == [
        0,
        128,
        255,
    ]
    unit = np.array([[0.0, 0.5, 1.0, 1.0] * 4] * 16, dtype=np.float32)
    assert np.asarray(load_image(encode(Image.fromarray(unit, "F"), "TIFF")))[0, :3, 0].tolist() == [
        0,
        128,
        255,
    ]


def test_bilevel_image_is_black_and_white():
    bits = Image.new("1", (16, 16), 0)
    bits.paste(1, (0, 0, 8, 16))
    pixels = np.asarray(load_image(encode(bits)))
    assert pixels[0, 0].tolist() == [255, 255, 255] and pixels[0, 15].tolist() == [0, 0, 0]


def test_cmyk_jpeg_becomes_rgb():
    cmyk = Image.new("CMYK", (32, 32), (0, 255, 255, 0))  # no cyan, full magenta and yellow: red
    data = encode(cmyk, "JPEG", quality=95)
    assert Image.open(io.BytesIO(data)).mode == "CMYK"
    r, g, b = load_image(data).getpixel((16, 16))
    assert r > 230 and g < 30 and b < 30


def test_transparent_rgba_is_composited_on_white():
    rgba = Image.new("RGBA", (16, 16), (0, 0, 0, 0))
    rgba.paste((200, 10, 10, 255), (0, 0, 8, 16))
    rgba.paste((0, 0, 0, 128), (8, 0, 12, 16))
    image = load_image(encode(rgba))
    assert image.mode == "RGB"
    assert image.getpixel((2, 2)) == (200, 10, 10)
    assert image.getpixel((14, 2)) == (255, 255, 255)
    assert all(abs(v - 127) <= 1 for v in image.getpixel((9, 2)))  # half black over white


def test_palette_with_transparency_is_composited_on_white():
    pal = Image.new("P", (16, 16), 0)
    pal.putpalette([0, 0, 0, 10, 200, 10] + [0] * 762)
    pal.paste(1, (0, 0, 8, 16))
    data = encode(pal, transparency=0)
    assert Image.open(io.BytesIO(data)).info.get("transparency") == 0
    image = load_image(data)
    assert image.getpixel((2, 2)) == (10, 200, 10) and image.getpixel((14, 2)) == (255, 255, 255)
    assert load_image(encode(pal)).getpixel((14, 2)) == (0, 0, 0)  # no transparency: black stays black


def test_gray_with_alpha_and_palette_with_alpha_are_composited_on_white():
    la = Image.new("LA", (16, 16), (0, 0))
    la.paste((60, 255), (0, 0, 8, 16))
    image = load_image(encode(la))
    assert image.getpixel((2, 2)) == (60, 60, 60) and image.getpixel((14, 2)) == (255, 255, 255)
    pa = Image.new("PA", (16, 16), (0, 0))  # PA can't be saved as PNG; as_rgb is the same path
    pa.putpalette([30, 40, 50] * 256)
    assert as_rgb(pa).getpixel((3, 3)) == (255, 255, 255)


@pytest.mark.parametrize(
    ("orientation", "corner"),
    [(1, "top-left"), (3, "bottom-right"), (6, "top-right"), (8, "bottom-left")],
)
def test_exif_orientation_is_applied_as_a_viewer_would(orientation, corner):
    """A phone stores pixels as the sensor saw them and an EXIF tag saying how to turn them:
    6 means 'rotate 90° clockwise to view', so the stored top-left lands at the viewed top-right."""
    stored = Image.new("RGB", (80, 40), (20, 20, 20))
    stored.paste((255, 0, 0), (0, 0, 16, 16))  # a red mark in the stored top-left corner
    exif = Image.Exif()
    exif[0x0112] = orientation
    image = load_image(encode(stored, "JPEG", quality=95, exif=exif))
    w, h = image.size
    assert (w, h) == ((40, 80) if orientation in (6, 8) else (80, 40))
    points = {
        "top-left": (4, 4),
        "top-right": (w - 5, 4),
        "bottom-left": (4, h - 5),
        "bottom-right": (w - 5, h - 5),
    }
    for name, xy in points.items():
        r, g, _ = image.getpixel(xy)
        assert (r > 200 and g < 60) == (name == corner), (name, image.getpixel(xy))
    assert image.info["exif_orientation"] == orientation
    assert "exif" not in image.info  # the learner's EXIF (GPS, camera serial) is not carried along


def test_draft_decodes_big_jpegs_smaller_only_when_asked():
    big = Image.fromarray(np.random.default_rng(0).integers(0, 256, (1600, 2000, 3), dtype=np.uint8))
    jpeg = encode(big, "JPEG", quality=80)
    assert load_image(jpeg).size == (2000, 1600)  # default: the original, for the first lesson
    small = load_image(jpeg, draft_min_side=224)
    assert small.size == (500, 400)  # 1/4 scale: 1/8 would leave the shorter side at 200 < 224
    assert load_image(encode(big, "PNG"), draft_min_side=224).size == (2000, 1600)  # JPEG only


# --- preprocessing ---------------------------------------------------------------------------


def random_image(width: int, height: int, seed: int = 0) -> Image.Image:
    return Image.fromarray(np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8))


@pytest.mark.parametrize(
    ("size", "resized"),
    [((300, 300), (256, 256)), ((451, 300), (384, 256)), ((300, 451), (256, 384)), ((640, 427), (383, 256))],
)
def test_square_landscape_and_portrait_shapes(size, resized):
    steps = preprocess_steps(random_image(*size), IMAGENET)
    assert steps.original.size == size
    assert steps.resized.size == steps.resize_size == resized
    assert steps.cropped.size == (224, 224)
    assert steps.pixels.shape == (224, 224, 3) and steps.pixels.dtype == np.uint8
    assert steps.tensor.shape == (1, 3, 224, 224) and steps.tensor.dtype == torch.float32
    assert steps.preprocessing is IMAGENET


def test_resize_rule_truncates_the_long_side_like_torchvision():
    assert resized_size(640, 427, 256) == (383, 256)  # 256 * 640 / 427 = 383.7 → 383
    assert resized_size(427, 640, 256) == (256, 383)
    assert resized_size(300, 300, 256) == (256, 256)


def test_crop_box_arithmetic():
    assert center_crop_box(384, 256, 224, 224) == (80, 16, 304, 240)
    # Python's round (as torchvision's int(round(...))) rounds halves to even
    assert center_crop_box(385, 257, 224, 224) == (80, 16, 304, 240)  # 80.5 → 80, 16.5 → 16
    assert center_crop_box(387, 259, 224, 224) == (82, 18, 306, 242)  # 81.5 → 82, 17.5 → 18
    steps = preprocess_steps(random_image(451, 300), IMAGENET)
    assert steps.crop_box == (80, 16, 304, 240)
    assert np.array_equal(steps.pixels, np.asarray(steps.resized)[16:240, 80:304])


def test_crop_larger_than_image_pads_with_zeros_like_torchvision():
    prep = Preprocessing(50, 64, "bilinear", IMAGENET.mean, IMAGENET.std)
    steps = preprocess_steps(random_image(100, 60), prep)
    assert steps.resize_size == (83, 50)
    assert steps.crop_box == (10, -7, 74, 57)  # torchvision pads 7 above and 7 below, then crops
    assert (steps.pixels[:7] == 0).all() and (steps.pixels[57:] == 0).all()
    assert np.array_equal(steps.pixels[7:57], np.asarray(steps.resized)[:, 10:74])
    expected = [(-m / s) for m, s in zip(IMAGENET.mean, IMAGENET.std, strict=True)]
    assert torch.allclose(steps.tensor[0, :, 0, 0], torch.tensor(expected), atol=1e-6)


def test_other_input_size_scales_resize_with_crop():
    steps = preprocess_steps(random_image(451, 300), IMAGENET, size=226)
    assert steps.cropped.size == (226, 226) and steps.tensor.shape == (1, 3, 226, 226)
    assert min(steps.resize_size) == round(226 * 256 / 224) == 258


def test_keep_aspect_keeps_a_landscape_photo_landscape():
    steps = preprocess_steps(random_image(320, 240), IMAGENET, keep_aspect=True, multiple_of=16)
    assert steps.resize_size == (298, 224)
    assert steps.cropped.size == (288, 224)  # 298 trimmed to a multiple of 16, centred
    assert steps.crop_box == (5, 0, 293, 224)
    assert steps.tensor.shape == (1, 3, 224, 288)
    other = preprocess_steps(random_image(320, 240), IMAGENET, size=200, keep_aspect=True, multiple_of=16)
    assert other.resize_size == (266, 200) and other.cropped.size == (256, 192)
    portrait = preprocess_steps(random_image(240, 320), IMAGENET, keep_aspect=True, multiple_of=14)
    assert portrait.cropped.size == (224, 294)


def test_normalisation_is_pixel_over_255_minus_mean_over_std():
    steps = preprocess_steps(random_image(451, 300, seed=3), IMAGENET)
    for y, x in [(0, 0), (17, 200), (111, 5), (223, 223)]:
        for c in range(3):
            expected = (steps.pixels[y, x, c] / 255.0 - IMAGENET.mean[c]) / IMAGENET.std[c]
            assert steps.tensor[0, c, y, x].item() == pytest.approx(expected, abs=1e-6)


def test_denormalize_round_trips_to_the_pixels():
    for prep in (IMAGENET, Preprocessing(224, 224, "bicubic", (127 / 255,) * 3, (128 / 255,) * 3)):
        steps = preprocess_steps(random_image(451, 300, seed=4), prep)
        assert np.array_equal(denormalize(steps.tensor, prep), steps.pixels)
        assert np.array_equal(denormalize(steps.tensor[0], prep), steps.pixels)


def test_to_tensor_is_the_steps_tensor():
    image = random_image(300, 451)
    assert torch.equal(
        to_tensor(image, IMAGENET, size=160), preprocess_steps(image, IMAGENET, size=160).tensor
    )


def test_interpolation_is_pils_named_filter():
    image = random_image(451, 300, seed=5)
    for name, resample in [("nearest", Image.Resampling.NEAREST), ("bicubic", Image.Resampling.BICUBIC)]:
        prep = Preprocessing(256, 224, name, IMAGENET.mean, IMAGENET.std)
        steps = preprocess_steps(image, prep)
        assert np.array_equal(np.asarray(steps.resized), np.asarray(image.resize((384, 256), resample)))


def test_image_already_at_size_is_not_resampled():
    image = random_image(256, 300)
    assert preprocess_steps(image, IMAGENET).resized is image


def test_non_rgb_input_is_converted_first():
    gray = Image.fromarray(np.full((300, 300), 77, dtype=np.uint8))
    steps = preprocess_steps(gray, IMAGENET)
    assert steps.original.mode == "RGB" and (steps.pixels == 77).all()
