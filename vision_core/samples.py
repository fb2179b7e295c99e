"""Sample pictures that ship inside installed packages — never fetched from the network.

scikit-image, scikit-learn and matplotlib each bundle a few pictures in their wheels.  We read
those files directly by path: scikit-image's ``skimage.data.<name>()`` would reach for pooch and
the network for anything not bundled, and importing ``sklearn.datasets`` or ``matplotlib`` just
to find a folder is slow, so the package folder is located with ``importlib.util.find_spec``.

Every sample goes through :func:`vision_core.engine.preprocess.load_image`, exactly like a learner's
upload, so the grayscale, transparent and JPEG samples also show that path working.

Credits come from what each package says about its pictures: scikit-image's docstrings in
``skimage/data/_fetchers.py`` (its ``data/README.txt`` carries no licences), scikit-learn's
``datasets/images/README.txt``; matplotlib's ``sample_data/README.txt`` names no sources, so
those two credits are the pictures' well-known origins.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

from PIL import Image

from vision_core.engine.preprocess import load_image

Kind = Literal["photo", "texture", "science", "graphic"]

# Where each package keeps its pictures, relative to the package's own folder.
_FOLDERS = {
    "scikit-image": ("skimage", "data"),
    "scikit-learn": ("sklearn", "datasets/images"),
    "matplotlib": ("matplotlib", "mpl-data/sample_data"),
}


@dataclass(frozen=True)
class Sample:
    """One bundled picture: ``kind`` says whether it is a real photograph (good for the lessons'
    default picker) or a texture, scientific image or graphic (good for showing edge cases)."""

    id: str
    title: str
    credit: str
    package: str
    filename: str
    kind: Kind

    @property
    def is_photo(self) -> bool:
        return self.kind == "photo"

    def path(self) -> Path:
        """The bundled file inside its installed package (raises if the package is missing)."""
        return _package_folder(self.package) / self.filename

    def exists(self) -> bool:
        try:
            return self.path().is_file()
        except FileNotFoundError:
            return False

    def load(self) -> Image.Image:
        """The picture as RGB, through the same :func:`load_image` a learner's upload takes."""
        return load_image(self.path())


@cache
def _package_folder(package: str) -> Path:
    module, sub = _FOLDERS[package]
    spec = importlib.util.find_spec(module)  # locates the package without importing it
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"{package} is not installed, so its sample pictures are not available")
    return Path(next(iter(spec.submodule_search_locations))) / sub


_SK = "scikit-image"
_SKL = "scikit-learn"
_MPL = "matplotlib"
_SKL_CC = "CC BY 2.0 (creativecommons.org/licenses/by/2.0)"

SAMPLES: tuple[Sample, ...] = (
    # --- real photographs ---------------------------------------------------------------------
    Sample(
        "chelsea",
        "Chelsea the cat",
        "Stefan van der Walt, CC0 — via scikit-image",
        _SK,
        "chelsea.png",
        "photo",
    ),
    Sample(
        "coffee",
        "Coffee cup",
        "Rachel Michetti (courtesy Pikolo Espresso Bar), CC0 — via scikit-image",
        _SK,
        "coffee.png",
        "photo",
    ),
    Sample(
        "astronaut",
        "Astronaut Eileen Collins",
        "NASA, public domain — via scikit-image",
        _SK,
        "astronaut.png",
        "photo",
    ),
    Sample(
        "rocket",
        "Falcon 9 launching DSCOVR",
        "SpaceX, public domain — via scikit-image",
        _SK,
        "rocket.jpg",
        "photo",
    ),
    Sample(
        "motorcycle",
        "Motorcycle",
        "Middlebury 2014 stereo dataset (Scharstein et al.) — via scikit-image",
        _SK,
        "motorcycle_left.png",
        "photo",
    ),
    Sample(
        "china",
        "Summer palace, China",
        f"Flickr user danielbuechele, {_SKL_CC} — via scikit-learn",
        _SKL,
        "china.jpg",
        "photo",
    ),
    # scikit-learn's README attributes flower.jpg to danielbuechele but links vultilion's photo page;
    # the link is the photo's real source.
    Sample(
        "flower",
        "Flower",
        f"Flickr user vultilion, {_SKL_CC} — via scikit-learn",
        _SKL,
        "flower.jpg",
        "photo",
    ),
    Sample(
        "grace_hopper",
        "Grace Hopper",
        "Official U.S. Navy photograph, public domain — via matplotlib",
        _MPL,
        "grace_hopper.jpg",
        "photo",
    ),
    Sample(
        "camera",
        "Photographer (grayscale)",
        "Lav Varshney, CC0 — via scikit-image",
        _SK,
        "camera.png",
        "photo",
    ),
    Sample(
        "coins",
        "Greek coins from Pompeii (grayscale)",
        "Brooklyn Museum Collection, no known copyright restrictions — via scikit-image",
        _SK,
        "coins.png",
        "photo",
    ),
    Sample(
        "clock",
        "Motion-blurred clock (grayscale)",
        "Stefan van der Walt, public domain — via scikit-image",
        _SK,
        "clock_motion.png",
        "photo",
    ),
    # --- textures -----------------------------------------------------------------------------
    Sample(
        "brick", "Brick wall", "CC0 Textures (Bricks25), CC0 — via scikit-image", _SK, "brick.png", "texture"
    ),
    Sample("grass", "Grass", "linolafett on DeviantArt, CC0 — via scikit-image", _SK, "grass.png", "texture"),
    Sample(
        "gravel", "Gravel", "CC0 Textures (Gravel04), CC0 — via scikit-image", _SK, "gravel.png", "texture"
    ),
    # --- scientific images --------------------------------------------------------------------
    Sample(
        "hubble",
        "Hubble eXtreme Deep Field",
        "NASA, public domain — via scikit-image",
        _SK,
        "hubble_deep_field.jpg",
        "science",
    ),
    Sample(
        "retina",
        "Human retina",
        "Mikael Häggström (Wikimedia Commons), CC0 — via scikit-image",
        _SK,
        "retina.jpg",
        "science",
    ),
    Sample(
        "ihc",
        "Immunohistochemistry stain",
        "Center for Microscopy And Molecular Imaging, no known copyright restrictions — via scikit-image",
        _SK,
        "ihc.png",
        "science",
    ),
    Sample(
        "moon",
        "Surface of the moon",
        "no credit given by scikit-image — via scikit-image",
        _SK,
        "moon.png",
        "science",
    ),
    # --- graphics and documents ---------------------------------------------------------------
    Sample(
        "page",
        "Scanned page of text",
        "no credit given by scikit-image — via scikit-image",
        _SK,
        "page.png",
        "graphic",
    ),
    Sample(
        "text",
        "Text for corner detection",
        "Wikipedia File:Corner.png, public domain — via scikit-image",
        _SK,
        "text.png",
        "graphic",
    ),
    Sample(
        "logo",
        "scikit-image logo",
        "scikit-image project — via scikit-image",
        _SK,
        "logo.png",
        "graphic",
    ),
    Sample(
        "color",
        "Colour wheel",
        "no credit given by scikit-image — via scikit-image",
        _SK,
        "color.png",
        "graphic",
    ),
    Sample(
        "horse",
        "Horse silhouette (transparent)",
        "Andreas Preuss (openclipart), CC0 — via scikit-image",
        _SK,
        "horse.png",
        "graphic",
    ),
    Sample(
        "present",
        "Blue present (transparent clip art)",
        "Minduka (openclipart), public domain — via matplotlib",
        _MPL,
        "Minduka_Present_Blue_Pack.png",
        "graphic",
    ),
)
_BY_ID = {s.id: s for s in SAMPLES}


def list_samples(kind: Kind | None = None) -> list[Sample]:
    """The samples whose files are installed, optionally of one ``kind`` (``"photo"`` for pickers)."""
    return [s for s in SAMPLES if (kind is None or s.kind == kind) and s.exists()]


def get_sample(sample_id: str) -> Sample:
    try:
        return _BY_ID[sample_id]
    except KeyError:
        raise KeyError(f"no sample {sample_id!r}; known: {', '.join(_BY_ID)}") from None


def sample_path(sample_id: str) -> Path:
    """The raw bundled file of a sample (for tests and for hashing)."""
    return get_sample(sample_id).path()


def sample_bytes(sample_id: str) -> bytes:
    """The file's bytes, as if the learner had uploaded it (cache keys hash these)."""
    return sample_path(sample_id).read_bytes()


def load_sample(sample_id: str) -> Image.Image:
    """A sample as an RGB PIL image, through :func:`load_image`."""
    return get_sample(sample_id).load()
