"""The bundled sample pictures: all present, all loadable offline, all credited."""

from __future__ import annotations

import importlib.util
import socket
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from vision_core import samples
from vision_core.engine.preprocess import load_image

PARITY_PHOTOS = ("chelsea", "china", "grace_hopper", "camera")  # the parity fixtures use these ids


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a sample tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_ids_are_unique_and_every_sample_is_credited():
    ids = [s.id for s in samples.SAMPLES]
    assert len(ids) == len(set(ids))
    for s in samples.SAMPLES:
        assert s.title and s.credit and s.package in s.credit
        assert s.kind in ("photo", "texture", "science", "graphic")


def test_every_sample_is_installed_and_loads_as_rgb_offline(no_network):
    assert samples.list_samples() == list(samples.SAMPLES)  # the dev environment has all three packages
    for s in samples.SAMPLES:
        image = s.load()
        assert image.mode == "RGB" and min(image.size) >= 8, s.id


def test_paths_point_into_the_installed_packages():
    roots = {
        "scikit-image": "skimage",
        "scikit-learn": "sklearn",
        "matplotlib": "matplotlib",
    }
    for s in samples.SAMPLES:
        package_dir = Path(importlib.util.find_spec(roots[s.package]).origin).parent
        path = samples.sample_path(s.id)
        assert path.is_file() and path.name == s.filename
        assert path.resolve().is_relative_to(package_dir.resolve()), path


def test_photo_picker_offers_real_photographs_including_the_parity_photos():
    photos = samples.list_samples("photo")
    assert all(s.is_photo for s in photos)
    assert {s.id for s in photos} >= set(PARITY_PHOTOS)
    assert not {s.id for s in photos} & {"brick", "grass", "gravel", "logo", "text", "page", "present"}
    assert {s.id for s in samples.list_samples("texture")} == {"brick", "grass", "gravel"}


def test_sample_bytes_are_the_file_and_load_like_an_upload():
    for sample_id in PARITY_PHOTOS:
        data = samples.sample_bytes(sample_id)
        assert data == samples.sample_path(sample_id).read_bytes()
        assert np.array_equal(np.asarray(samples.load_sample(sample_id)), np.asarray(load_image(data)))


def test_known_pictures_have_their_known_shapes():
    assert samples.load_sample("chelsea").size == (451, 300)
    assert samples.load_sample("china").size == (640, 427)
    assert samples.load_sample("grace_hopper").size == (512, 600)


def test_grayscale_sample_becomes_gray_rgb():
    with Image.open(samples.sample_path("camera")) as raw:
        assert raw.mode == "L"
        gray = np.asarray(raw)
    pixels = np.asarray(samples.load_sample("camera"))
    assert all(np.array_equal(pixels[..., c], gray) for c in range(3))


def test_transparent_sample_is_composited_on_white():
    with Image.open(samples.sample_path("present")) as raw:
        assert raw.mode == "RGBA"
        rgba = np.asarray(raw).astype(np.float64)
    alpha = rgba[..., 3:] / 255
    assert (alpha == 0).any() and ((alpha > 0) & (alpha < 1)).any()
    expected = rgba[..., :3] * alpha + 255 * (1 - alpha)
    pixels = np.asarray(samples.load_sample("present")).astype(np.float64)
    assert np.abs(pixels - expected).max() <= 1
    assert (pixels[alpha[..., 0] == 0] == 255).all()


def test_unknown_sample_names_the_known_ones():
    with pytest.raises(KeyError, match="chelsea"):
        samples.load_sample("no-such-picture")


def test_missing_package_hides_its_samples(monkeypatch):
    real_find_spec = importlib.util.find_spec
    samples._package_folder.cache_clear()
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "sklearn" else real_find_spec(name, *a)
    )
    try:
        ids = {s.id for s in samples.list_samples()}
        assert "china" not in ids and "flower" not in ids and "chelsea" in ids
        with pytest.raises(FileNotFoundError, match="scikit-learn"):
            samples.sample_path("china")
    finally:
        samples._package_folder.cache_clear()
