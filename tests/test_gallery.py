"""The lab's gallery: seeded augmentations, uploads in batches (bad files listed and skipped), zips
labelled by folder and read within limits (zip bombs, huge members, too many entries)."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest
from PIL import Image

from vision_core.embeddings import gallery
from vision_core.embeddings.gallery import Augmentation, label_from_filename, load_files, load_zip, make_zip
from vision_core.samples import sample_bytes


def png(color=(200, 30, 30), size=(64, 48)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "PNG")
    return buffer.getvalue()


def jpeg_sample(sample_id: str = "chelsea") -> bytes:
    return sample_bytes(sample_id)


# --- augmentations ----------------------------------------------------------------------------


def test_variants_are_seeded_labelled_and_keyed_by_recipe():
    item = gallery.item_from_bytes(jpeg_sample(), "chelsea.png", "cat")
    a = gallery.variants(item, 3, seed=0)
    b = gallery.variants(item, 3, seed=0)
    c = gallery.variants(item, 3, seed=1)
    assert [v.key for v in a] == [v.key for v in b]
    assert [v.augmentation for v in a] == [v.augmentation for v in b]
    assert {v.key for v in a}.isdisjoint({v.key for v in c})
    assert all(v.label == "cat" and v.parent == item.key and v.source == "variant" for v in a)
    assert len({v.key for v in a}) == 3 and item.key not in {v.key for v in a}
    assert gallery.variants(item, 3, kinds=()) == []


def test_random_recipes_stay_in_their_ranges():
    rng = np.random.default_rng(0)
    for _ in range(200):
        aug = gallery.random_augmentation(rng)
        left, top, right, bottom = aug.crop
        area = (right - left) * (bottom - top)
        assert 0 <= left < right <= 1 and 0 <= top < bottom <= 1
        assert 0.2 < area <= 0.86  # 35–85 % asked; clipping at the border can only shrink it
        assert 0.6 <= aug.brightness <= 1.4 and 0.6 <= aug.contrast <= 1.4 and 0.5 <= aug.saturation <= 1.5
        assert abs(aug.hue) <= 1 / 12
    only_flip = gallery.random_augmentation(np.random.default_rng(3), ["flip"])
    assert only_flip.crop is None and only_flip.brightness == 1.0 and only_flip.hue == 0.0


def test_augmentation_arithmetic_on_a_known_picture():
    pixels = np.zeros((40, 80, 3), dtype=np.uint8)
    pixels[:, :40] = (255, 0, 0)  # left half red, right half blue
    pixels[:, 40:] = (0, 0, 255)
    image = Image.fromarray(pixels)
    flipped = np.asarray(Augmentation(flip=True).apply(image))
    assert tuple(flipped[0, 0]) == (0, 0, 255) and tuple(flipped[0, -1]) == (255, 0, 0)
    cropped = Augmentation(crop=(0.0, 0.0, 0.5, 0.5)).apply(image)
    assert cropped.size == (40, 20) and tuple(np.asarray(cropped)[0, 0]) == (255, 0, 0)
    darker = np.asarray(Augmentation(brightness=0.5).apply(image))
    assert tuple(darker[0, 0]) == (128, 0, 0) or tuple(darker[0, 0]) == (127, 0, 0)
    shifted = np.asarray(Augmentation(hue=1 / 3).apply(image))  # red turned a third of the wheel: green
    assert shifted[0, 0, 1] > 200 and shifted[0, 0, 0] < 60
    assert Augmentation().describe() == "unchanged"
    assert "mirrored" in Augmentation(flip=True).describe()


def test_stored_copies_are_small_jpegs():
    item = gallery.item_from_bytes(jpeg_sample("coffee"), "coffee.png", "cup")
    image = item.image()
    assert min(image.size) <= gallery.STORE_SIDE
    assert item.data[:3] == b"\xff\xd8\xff"
    big = gallery.item_from_bytes(png(size=(2000, 1000)), "big.png", "big")
    assert big.image().size == (2 * gallery.STORE_SIDE, gallery.STORE_SIDE)


def test_sample_items_label_by_title_or_by_given_names():
    items = gallery.sample_items(["chelsea", "coffee"], 2)
    assert [it.label for it in items] == ["Chelsea the cat"] * 3 + ["Coffee cup"] * 3
    assert [it.source for it in items] == ["sample", "variant", "variant"] * 2
    relabelled = gallery.sample_items(["chelsea"], 1, labels={"chelsea": "photograph"})
    assert {it.label for it in relabelled} == {"photograph"}


def test_first_family_is_the_first_photo_and_its_variants():
    items = gallery.sample_items(["chelsea", "coffee"], 2)
    assert gallery.first_family(items) == [0, 1, 2]
    assert gallery.first_family(items[1:]) == [2, 3, 4]  # the first that is no variant: coffee
    assert gallery.first_family(items[1:3]) == []


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("cat_03.jpg", "cat"),
        ("IMG 1234.jpeg", "IMG"),
        ("12.png", "12"),
        ("dog (2).png", "dog"),
        ("sunset.webp", "sunset"),
        ("a-b-7.jpg", "a-b"),
    ],
)
def test_labels_from_file_names(name, label):
    assert label_from_filename(name) == label


# --- batches of uploads -----------------------------------------------------------------------


def test_a_batch_lists_bad_files_and_keeps_the_rest():
    files = [
        ("cat_1.png", png()),
        ("notes.pdf", b"%PDF-1.4 not a photo"),
        ("empty.jpg", b""),
        ("cat_2.png", png((10, 200, 10))),
        ("cat_1 copy.png", png()),  # the same bytes again: left out quietly
        ("tiny.png", png(size=(4, 4))),
    ]
    report = load_files(files)
    assert [it.name for it in report.items] == ["cat_1.png", "cat_2.png"]
    assert report.duplicates == ["cat_1 copy.png"]
    assert [it.label for it in report.items] == ["cat", "cat"]
    reasons = {s.name: s.reason for s in report.skipped}
    assert set(reasons) == {"notes.pdf", "empty.jpg", "tiny.png"}
    assert reasons["notes.pdf"].startswith("This is a PDF document")
    assert "empty" in reasons["empty.jpg"]
    assert "too small" in reasons["tiny.png"]


def test_known_photos_and_capacity():
    first = load_files([("a.png", png())])
    again = load_files([("a.png", png()), ("b.png", png((0, 0, 0)))], known={first.items[0].key})
    assert [it.name for it in again.items] == ["b.png"] and again.duplicates == ["a.png"]
    full = load_files([("a.png", png()), ("b.png", png((0, 0, 0))), ("c.png", png((9, 9, 9)))], capacity=2)
    assert len(full.items) == 2 and any("full" in n for n in full.notes)


# --- zips -------------------------------------------------------------------------------------


def test_zip_folders_are_labels_and_junk_is_skipped():
    data = make_zip(
        {
            "class/cats/c1.png": png((250, 0, 0)),
            "class/cats/c2.png": png((240, 0, 0)),
            "class/dogs/d1.png": png((0, 0, 250)),
            "loose_7.png": png((0, 250, 0)),
            "__MACOSX/class/cats/._c1.png": b"junk",
            "class/.DS_Store": b"junk",
            "class/readme.txt": b"hello",
            "class/inner.zip": make_zip({"x.png": png()}),
            "class/dogs/broken.jpg": b"\xff\xd8\xff\xe0 truncated",
        }
    )
    report = load_zip(data, "photos.zip")
    assert {(it.name.split("/")[-1], it.label) for it in report.items} == {
        ("c1.png", "cats"),
        ("c2.png", "cats"),
        ("d1.png", "dogs"),
        ("loose_7.png", "loose"),
    }
    skipped = {s.name.split("/")[-1]: s.reason for s in report.skipped}
    assert set(skipped) == {"readme.txt", "inner.zip", "broken.jpg"}
    assert "zip inside a zip" in skipped["inner.zip"]
    assert "damaged" in skipped["broken.jpg"]
    # a zip goes through load_files like any upload
    assert len(load_files([("photos.zip", data)]).items) == 4


def test_not_a_zip_is_reported():
    report = load_files([("photos.zip", b"PK\x03\x04 but nothing else")])
    assert report.items == [] and "damaged or is not a zip" in report.skipped[0].reason


def test_zip_bomb_member_is_refused_without_unpacking():
    bomb = make_zip({"bomb.png": b"\x00" * (20 * 1024 * 1024), "ok/fine.png": png()})
    info = zipfile.ZipFile(io.BytesIO(bomb)).getinfo("bomb.png")
    assert info.file_size / info.compress_size > gallery.MAX_RATIO
    report = load_zip(bomb)
    assert [it.label for it in report.items] == ["ok"]
    assert "zip bomb" in report.skipped[0].reason


def test_members_are_read_with_a_byte_limit_whatever_the_header_says():
    noisy = np.random.default_rng(0).integers(0, 255, (300, 300, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(noisy).save(buffer, "PNG")
    data = make_zip({"big/noise.png": buffer.getvalue(), "small/ok.png": png()})
    report = load_zip(data, max_member=100_000)
    assert [it.label for it in report.items] == ["small"]
    assert "Bigger than" in report.skipped[0].reason
    # a header that lies about the size: patch the central directory's uncompressed size to 1
    lying = bytearray(make_zip({"lie/noise.png": buffer.getvalue()}))
    central = lying.rfind(b"PK\x01\x02")
    lying[central + 24 : central + 28] = (1).to_bytes(4, "little")
    report = load_zip(bytes(lying), max_member=100_000)
    assert report.items == [] and len(report.skipped) == 1


def test_zip_limits_on_entries_total_size_and_capacity():
    files = {f"f/{i}.png": png((i, i, i)) for i in range(6)}
    data = make_zip(files)
    few = load_zip(data, max_entries=3)
    assert len(few.items) == 3 and "only the first 3" in few.notes[0]
    small_total = load_zip(data, max_total=2 * len(png()) + 10)
    assert len(small_total.items) == 2 and "unpacks to more than" in small_total.notes[0]
    capped = load_zip(data, capacity=4)
    assert len(capped.items) == 4 and "full" in capped.notes[0]
