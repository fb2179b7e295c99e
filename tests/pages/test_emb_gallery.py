"""Embeddings 1 · Your gallery, driven like a learner: the samples and their variants, several
uploads at once (a bad one listed and skipped), a zip labelled by folders, labels by kind — and
the numbers of the embedding step checked against vision_core."""

from __future__ import annotations

import lab_expected as exp
import numpy as np
import pytest
from conftest import assert_ok, assert_russian, open_page

from vision_core.embeddings import gallery, questions
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


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_the_question_reveals_the_two_photos_cosine(lang):
    """Page 1's question: which band the cosine similarity of the first photo and the first photo
    of another label falls in — the band and the number of the real vectors."""
    at = open_page(PAGE, lang=lang, **exp.session())
    assert_ok(at)
    v, items = exp.vectors(), exp.items()
    other = next(i for i, it in enumerate(items) if it.label != items[0].label)
    q = questions.cosine_band_question(v, 0, other)
    cos = float(v[0] @ v[other] / (np.linalg.norm(v[0]) * np.linalg.norm(v[other])))
    assert q.correct[0] <= cos < q.correct[1]
    words = {
        "en": ("below {hi}", "from {lo} to {hi}", "{lo} or more"),
        "ru": ("меньше {hi}", "от {lo} до {hi}", "{lo} и больше"),
    }[lang]

    def shown(band):
        lo, hi = (exp.ru(x, "g") if lang == "ru" else format(x, "g") for x in band)
        return words[["low", "mid", "high"].index(questions.band_kind(band))].format(lo=lo, hi=hi)

    said = exp.quiz(at, "gallery_cosine", q, shown, lang=lang)
    number = exp.ru(cos, ".3f") if lang == "ru" else f"{cos:.3f}"
    assert f"**{items[0].name}** {'и' if lang == 'ru' else 'and'} **{items[other].name}**" in said
    assert f"**{number}**" in said
    if lang == "ru":
        assert_russian(at)
    else:
        assert "These are trained weights" in said
        at.toggle(key="lab_random").set_value(True).run()  # untrained: a new question
        assert_ok(at)
        q = questions.cosine_band_question(exp.vectors("efficientnet_lite0", "random"), 0, other)
        said = exp.quiz(at, "gallery_cosine", q, shown)
        assert q.correct == (0.9, 1.0) and "These are random weights" in said
