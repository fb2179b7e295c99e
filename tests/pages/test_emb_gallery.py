"""Embeddings 1 · Your gallery, driven like a learner: the samples and their variants, several
uploads at once (a bad one listed and skipped), a zip labelled by folders, labels by kind — and
the numbers of the embedding step checked against vision_core."""

from __future__ import annotations

import lab_expected as exp
from conftest import assert_ok, open_page

from vision_core.embeddings import gallery
from vision_core.samples import sample_bytes

PAGE = "pages/emb_gallery.py"


def table(at):
    return at.dataframe[0].value


def test_default_small_gallery_is_embedded():
    at = open_page(PAGE, **exp.session())
    assert_ok(at)
    n = len(exp.items())
    text = exp.markdown(at)
    assert f"**{n}** photos with **4** different labels" in text
    assert (
        f"turned the **{n}** photos into **{n}** vectors of **1280** numbers each: a table of {n * 1280:,}"
        in text
    )
    assert list(table(at)["name"]) == [it.name for it in exp.items()]
    assert list(table(at)["label"]) == exp.labels()
    # the first sample and its three variants are shown, each captioned with its recipe
    family = [it for it in exp.items() if it.name.startswith("chelsea")]
    captions = [c for im in at.image for c in im.captions]
    assert all(v.augmentation.describe() in captions for v in family[1:])
    assert {b.proto.label for b in at.get("download_button")} == {"Download as CSV", "Download as NPY"}


def test_samples_variants_and_labels_by_kind():
    at = open_page(PAGE, **exp.session())
    at.number_input(key="lab_variants").set_value(0).run()
    assert_ok(at)
    assert len(table(at)) == 4
    at.multiselect(key="lab_samples").select("brick").run()
    at.radio(key="lab_label_by__en").set_value("kind").run()
    assert_ok(at)
    assert list(table(at)["label"]) == ["photograph"] * 4 + ["texture"]
    at.number_input(key="lab_variants").set_value(2).run()
    at.multiselect(key="lab_kinds_en").unselect("colour").unselect("crop").run()
    assert_ok(at)
    assert len(table(at)) == 15 and set(table(at)["made"]) <= {"", "mirrored", "unchanged"}


def test_uploads_many_files_and_a_zip_skipping_bad_ones():
    at = open_page(PAGE, **exp.session())
    zipped = gallery.make_zip(
        {
            "pets/cats/tabby.png": exp.png((120, 90, 40)),
            "pets/dogs/rex.png": exp.png((60, 60, 60)),
            "pets/dogs/notes.txt": b"not a photo",
        }
    )
    at.file_uploader(key="lab_upload").set_value(
        [
            ("flower_1.jpg", sample_bytes("flower"), "image/jpeg"),
            ("china_2.jpg", sample_bytes("china"), "image/jpeg"),
            ("report.png", b"%PDF-1.4 a document", "image/png"),
            ("class.zip", zipped, "application/zip"),
        ]
    ).run()
    assert_ok(at)
    assert any("Photos added to the gallery: 4." in s.value for s in at.success)
    warning = " ".join(w.value for w in at.warning)
    assert "Files skipped (2):" in warning
    assert "**report.png**: This is a PDF document" in warning and "notes.txt" in warning
    rows = table(at)
    added = rows[rows["source"] == "your photo"]
    assert list(added["label"]) == ["flower", "china", "cats", "dogs"]
    n = len(exp.items()) + 4
    assert f"turned the **{n}** photos into **{n}** vectors" in exp.markdown(at)
    # the same files again (a rerun keeps them) add nothing twice
    at.run()
    assert len(table(at)) == n
