"""A gallery of labelled photos for the embedding lab: samples, augmented variants, uploads, zips.

Every photo — a bundled sample, a learner's upload, a file inside a zip — goes through
:func:`vision_core.engine.preprocess.load_image`, so a bad file is refused with the same learner-facing
:class:`ImageError` as anywhere else; a batch lists its bad files and carries on with the rest.
A gallery keeps a compact copy of each photo (JPEG, shorter side at most :data:`STORE_SIDE`
pixels: more than any encoder's 224-pixel crop needs), in memory only: nothing here writes a file.

Augmented variants ("the same thing seen differently": a random crop, a mirror image, shifted
colours) come from a seeded random generator, so a gallery is the same every time it is built.

Zip files are read defensively: at most :data:`MAX_ZIP_ENTRIES` entries are looked at, each
member is read with a byte limit whatever its header claims, the whole zip may unpack to at most
:data:`MAX_ZIP_TOTAL` bytes, members compressed suspiciously well (zip bombs) are refused, and a
gallery never holds more than :data:`MAX_ITEMS` photos.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import PurePosixPath
from typing import Literal

import numpy as np
from PIL import Image, ImageEnhance, ImageOps

from vision_core import samples
from vision_core.engine.preprocess import DEFAULT_MAX_BYTES, ImageError, load_image

STORE_SIDE = 448  # shorter side of the copy a gallery keeps (the encoders crop 224 from ~256)
JPEG_QUALITY = 90
MAX_ITEMS = 2000  # photos in one gallery (a class's photos; ~60 kB each as stored)
MAX_ZIP_ENTRIES = 5000  # entries of one zip that are looked at
MAX_ZIP_TOTAL = 512 * 1024 * 1024  # bytes one zip may unpack to, all members together
MAX_RATIO = 200  # a member that unpacks to more than 200× its compressed size is refused
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff", ".avif"}
AugmentKind = Literal["crop", "flip", "colour"]
AUGMENT_KINDS: tuple[AugmentKind, ...] = ("crop", "flip", "colour")
Source = Literal["sample", "upload", "variant"]


@dataclass(frozen=True)
class Augmentation:
    """One recipe: a crop box as fractions of the photo, a mirror flip, and colour factors
    (1.0 = unchanged; ``hue`` is a fraction of a turn of the colour wheel)."""

    crop: tuple[float, float, float, float] | None = None  # (left, top, right, bottom) in 0..1
    flip: bool = False
    brightness: float = 1.0
    contrast: float = 1.0
    saturation: float = 1.0
    hue: float = 0.0

    def apply(self, image: Image.Image) -> Image.Image:
        out = image.convert("RGB")
        if self.crop is not None:
            w, h = out.size
            left, top, right, bottom = (round(f * s) for f, s in zip(self.crop, (w, h, w, h), strict=True))
            out = out.crop((left, top, max(right, left + 1), max(bottom, top + 1)))
        if self.flip:
            out = ImageOps.mirror(out)
        if self.brightness != 1.0:
            out = ImageEnhance.Brightness(out).enhance(self.brightness)
        if self.contrast != 1.0:
            out = ImageEnhance.Contrast(out).enhance(self.contrast)
        if self.saturation != 1.0:
            out = ImageEnhance.Color(out).enhance(self.saturation)
        if self.hue:
            out = _shift_hue(out, self.hue)
        return out

    def describe(self) -> str:
        parts = []
        if self.crop is not None:
            left, top, right, bottom = self.crop
            parts.append(f"crop {100 * (right - left) * (bottom - top):.0f}% of the area")
        if self.flip:
            parts.append("mirrored")
        for name, value in (
            ("brightness", self.brightness),
            ("contrast", self.contrast),
            ("saturation", self.saturation),
        ):
            if value != 1.0:
                parts.append(f"{name} ×{value:.2f}")
        if self.hue:
            parts.append(f"hue {360 * self.hue:+.0f}°")
        return ", ".join(parts) or "unchanged"


def _shift_hue(image: Image.Image, turn: float) -> Image.Image:
    hsv = np.asarray(image.convert("HSV")).copy()
    hsv[..., 0] = (hsv[..., 0].astype(np.int16) + round(turn * 256)) % 256
    return Image.fromarray(hsv, "HSV").convert("RGB")


def random_augmentation(
    rng: np.random.Generator, kinds: Iterable[AugmentKind] = AUGMENT_KINDS
) -> Augmentation:
    """A random recipe using ``kinds``: a crop of 35–85% of the area at an aspect of 3:4 to 4:3,
    a coin-flip mirror, brightness/contrast ×0.6–1.4, saturation ×0.5–1.5, hue ±30°."""
    kinds = set(kinds)
    crop = None
    if "crop" in kinds:
        area = rng.uniform(0.35, 0.85)
        aspect = float(np.exp(rng.uniform(np.log(3 / 4), np.log(4 / 3))))
        w = min(1.0, float(np.sqrt(area * aspect)))
        h = min(1.0, float(np.sqrt(area / aspect)))
        left, top = rng.uniform(0, 1 - w), rng.uniform(0, 1 - h)
        crop = (round(left, 4), round(top, 4), round(left + w, 4), round(top + h, 4))
    flip = bool("flip" in kinds and rng.random() < 0.5)
    colour = {}
    if "colour" in kinds:
        colour = {
            "brightness": round(rng.uniform(0.6, 1.4), 3),
            "contrast": round(rng.uniform(0.6, 1.4), 3),
            "saturation": round(rng.uniform(0.5, 1.5), 3),
            "hue": round(rng.uniform(-1 / 12, 1 / 12), 4),
        }
    return Augmentation(crop, flip, **colour)


@dataclass(frozen=True)
class GalleryItem:
    """One photo of a gallery.  ``key`` is the SHA-256 of the original file's bytes (of the
    parent's key and the recipe, for a variant): the cache key of its embeddings."""

    key: str
    name: str
    label: str
    source: Source
    data: bytes = field(repr=False)  # the stored copy, JPEG
    parent: str | None = None
    augmentation: Augmentation | None = None

    def image(self) -> Image.Image:
        with Image.open(io.BytesIO(self.data)) as im:
            return im.convert("RGB")

    def thumbnail(self, side: int = 128) -> Image.Image:
        im = self.image()
        im.thumbnail((side, side))
        return im

    def relabel(self, label: str) -> GalleryItem:
        return replace(self, label=label)


@dataclass(frozen=True)
class Skipped:
    """A file left out of a batch, and why (an :class:`ImageError`'s message and hint)."""

    name: str
    reason: str


@dataclass
class LoadReport:
    items: list[GalleryItem] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # limits reached: what was not read
    duplicates: list[str] = field(default_factory=list)  # names of photos the gallery already had

    def extend(self, other: LoadReport) -> None:
        self.items += other.items
        self.skipped += other.skipped
        self.notes += other.notes
        self.duplicates += other.duplicates


def _stored_copy(image: Image.Image) -> bytes:
    image = image.convert("RGB")
    w, h = image.size
    if min(w, h) > STORE_SIDE:
        scale = STORE_SIDE / min(w, h)
        image = image.resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=JPEG_QUALITY)
    return buffer.getvalue()


def item_from_bytes(data: bytes, name: str, label: str, source: Source = "upload") -> GalleryItem:
    """A gallery item from a file's bytes (raises :class:`ImageError` with a learner-facing reason)."""
    image = load_image(data, draft_min_side=STORE_SIDE)
    return GalleryItem(hashlib.sha256(data).hexdigest(), name, label, source, _stored_copy(image))


def label_from_filename(name: str) -> str:
    """``cat_03.jpg`` → ``cat``; ``IMG 1234.jpeg`` → ``IMG``; a name that is only a number stays."""
    stem = PurePosixPath(name).stem
    label = re.sub(r"[\s_\-.(]*\d+\)?$", "", stem).strip(" _-.")
    return label or stem


def variants(
    item: GalleryItem, count: int, kinds: Iterable[AugmentKind] = AUGMENT_KINDS, seed: int = 0
) -> list[GalleryItem]:
    """``count`` augmented copies of ``item``, labelled like it; the same every time for a seed."""
    kinds = tuple(k for k in AUGMENT_KINDS if k in set(kinds))
    if not kinds or count < 1:
        return []
    base = item.image()
    out = []
    for i in range(count):
        rng = np.random.default_rng([seed, int(item.key[:12], 16), i])
        aug = random_augmentation(rng, kinds)
        key = hashlib.sha256(f"{item.key}|{aug!r}".encode()).hexdigest()
        out.append(
            GalleryItem(
                key,
                f"{item.name} · variant {i + 1}",
                item.label,
                "variant",
                _stored_copy(aug.apply(base)),
                parent=item.key,
                augmentation=aug,
            )
        )
    return out


def sample_items(
    sample_ids: Sequence[str],
    n_variants: int = 0,
    kinds: Iterable[AugmentKind] = AUGMENT_KINDS,
    seed: int = 0,
    labels: Mapping[str, str] | None = None,
) -> list[GalleryItem]:
    """Bundled samples, each followed by its variants, labelled with ``labels[sample id]`` (the
    sample's title by default)."""
    out = []
    for sid in sample_ids:
        s = samples.get_sample(sid)
        label = (labels or {}).get(sid, s.title)
        item = item_from_bytes(samples.sample_bytes(sid), sid, label, "sample")
        out += [item, *variants(item, n_variants, kinds, seed)]
    return out


def first_family(items: Sequence[GalleryItem]) -> list[int]:
    """The first photo that is not a variant, followed by its variants (indices into ``items``);
    empty when every photo is a variant."""
    first = next((i for i, it in enumerate(items) if it.source != "variant"), None)
    if first is None:
        return []
    return [first] + [i for i, it in enumerate(items) if it.parent == items[first].key]


def _is_zip(name: str, data: bytes) -> bool:
    return name.lower().endswith(".zip") or data[:4] == b"PK\x03\x04"


def load_files(
    files: Iterable[tuple[str, bytes]], *, capacity: int = MAX_ITEMS, known: Iterable[str] = ()
) -> LoadReport:
    """Gallery items from uploaded ``(file name, bytes)`` pairs; a zip contributes its photos,
    labelled by their folder.  Files that are not usable photos are listed in ``skipped`` with
    the reason, and the rest goes on; photos whose key is in ``known`` (already in the gallery)
    are left out and named in ``duplicates``; at most ``capacity`` items are returned."""
    report = LoadReport()
    seen = set(known)
    for name, data in files:
        room = capacity - len(report.items)
        if room <= 0:
            report.notes.append(
                f"The gallery is full ({capacity} photos): {name} and what follows were not read."
            )
            break
        if _is_zip(name, data):
            part = load_zip(data, name, capacity=room, known=seen)
        else:
            part = LoadReport()
            _add(part, data, name, label_from_filename(name), seen)
        seen.update(i.key for i in part.items)
        report.extend(part)
    return report


def _add(report: LoadReport, data: bytes, name: str, label: str, seen: set[str]) -> None:
    key = hashlib.sha256(data).hexdigest()
    if key in seen:
        report.duplicates.append(name)
        return
    try:
        item = item_from_bytes(data, name, label)
    except ImageError as error:
        report.skipped.append(Skipped(name, f"{error.message} {error.hint}".strip()))
        return
    seen.add(key)
    report.items.append(item)


def load_zip(
    data: bytes,
    name: str = "photos.zip",
    *,
    capacity: int = MAX_ITEMS,
    known: Iterable[str] = (),
    max_member: int = DEFAULT_MAX_BYTES,
    max_total: int = MAX_ZIP_TOTAL,
    max_entries: int = MAX_ZIP_ENTRIES,
) -> LoadReport:
    """The photos inside a zip; each is labelled with the name of the folder it is in (files at
    the top level: by their file name).  Limits as in the module's docstring."""
    report = LoadReport()
    seen = set(known)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError):
        report.skipped.append(Skipped(name, "This zip is damaged or is not a zip file. Make it again."))
        return report
    total = 0
    with archive:
        entries = archive.infolist()
        if len(entries) > max_entries:
            report.notes.append(
                f"{name} has {len(entries)} entries; only the first {max_entries} were looked at."
            )
        for info in entries[:max_entries]:
            path = PurePosixPath(info.filename.replace("\\", "/"))
            if info.is_dir() or path.name.startswith(".") or "__MACOSX" in path.parts:
                continue
            shown = f"{name}/{info.filename}"
            if path.suffix.lower() not in IMAGE_SUFFIXES:
                reason = (
                    "A zip inside a zip is not opened."
                    if path.suffix.lower() == ".zip"
                    else "Not a photo file (by its name)."
                )
                report.skipped.append(Skipped(shown, reason))
                continue
            if len(report.items) >= capacity:
                report.notes.append(f"The gallery is full: the rest of {name} was not read.")
                break
            if info.flag_bits & 0x1:
                report.skipped.append(Skipped(shown, "This file is password-protected inside the zip."))
                continue
            if info.file_size > max_member:
                report.skipped.append(Skipped(shown, f"Bigger than {max_member / 1e6:.0f} MB once unpacked."))
                continue
            if info.compress_size and info.file_size / info.compress_size > MAX_RATIO:
                report.skipped.append(
                    Skipped(shown, "Compressed suspiciously well (a possible zip bomb): not unpacked.")
                )
                continue
            if total + info.file_size > max_total:
                report.notes.append(
                    f"{name} unpacks to more than {max_total / 2**20:.0f} MB: the rest was not read."
                )
                break
            try:
                with archive.open(info) as member:
                    content = member.read(max_member + 1)  # never more, whatever the header said
            except (zipfile.BadZipFile, OSError, RuntimeError, ValueError, EOFError) as error:
                report.skipped.append(Skipped(shown, f"Damaged inside the zip ({type(error).__name__})."))
                continue
            total += len(content)
            if len(content) > max_member:
                report.skipped.append(Skipped(shown, f"Bigger than {max_member / 1e6:.0f} MB once unpacked."))
                continue
            folder = path.parent.name
            _add(report, content, shown, folder or label_from_filename(path.name), seen)
    return report


def make_zip(files: dict[str, bytes]) -> bytes:
    """A zip of ``{path: bytes}`` in memory (for tests and for the lab's example download)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, content in files.items():
            archive.writestr(path, content)
    return buffer.getvalue()
