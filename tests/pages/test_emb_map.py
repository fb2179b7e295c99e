"""Embeddings 2 · The map: UMAP controls (2-D/3-D, neighbours, min_dist, metric, colours), PCA and
t-SNE beside it, a chosen photo's neighbours, and placing a new photo — numbers from vision_core."""

from __future__ import annotations

import lab_expected as exp
import numpy as np
import pytest
from conftest import assert_ok, assert_russian, open_page
from scipy.spatial.distance import pdist

from vision_core.embeddings import gallery, neighbours, projection, questions
from vision_core.embeddings import vectors as embeddings
from vision_core.engine import encoders
from vision_core.samples import sample_bytes

PAGE = "pages/emb_map.py"


def test_umap_map_numbers_and_the_focus_panel():
    at = open_page(PAGE, **exp.session())
    assert_ok(at)
    v = exp.vectors()
    n = len(v)
    expected = projection.umap_map(v, 2, min(15, n - 1), 0.1, "cosine")
    text = exp.markdown(at)
    assert (
        f"{n} photos × 1280 numbers → PCA to {expected.reduced.data.shape[1]} numbers "
        f"(keeping {expected.reduced.kept_variance:.0%} of the variance) → UMAP with {n - 1} neighbours"
    ) in text
    captions = [c for im in at.image for c in im.captions]
    for nb in neighbours.nearest(v, 0, 5):
        assert f"{nb.similarity:.3f} · {exp.labels()[nb.index]}" in captions
    pca = projection.pca_map(v)
    assert f"The first direction holds {pca.params['variance'][0]:.1%} of the variance" in text
    assert "Perplexity" not in text  # t-SNE waits until it is asked for
    assert f"switch it on to draw its map of the {n} photos" in text
    at.toggle(key="lab_tsne").set_value(True).run()
    assert_ok(at)
    tsne = projection.tsne_map(v, 2, float(min(30, max(2, (n - 1) // 3))), "cosine")
    assert f"Perplexity {tsne.params['perplexity']:.0f} (roughly" in exp.markdown(at)

    at.selectbox(key="lab_focus").set_value(5).run()
    assert_ok(at)
    captions = [c for im in at.image for c in im.captions]
    items = exp.items()
    assert f"{items[5].name} — {items[5].label}" in captions
    for nb in neighbours.nearest(v, 5, 5):
        assert f"{nb.similarity:.3f} · {exp.labels()[nb.index]}" in captions


def test_controls_3d_metric_and_clusters():
    at = open_page(PAGE, **exp.session())
    at.radio(key="lab_dims").set_value(3).run()
    at.slider(key="lab_neighbors").set_value(5).run()
    at.slider(key="lab_min_dist").set_value(0.5).run()
    at.selectbox(key="lab_metric").set_value("euclidean").run()
    at.radio(key="lab_colour__en").set_value("cluster").run()
    assert_ok(at)
    assert "UMAP with 5 neighbours" in exp.markdown(at)
    assert at.number_input(key="lab_map_k").value == 4
    at.toggle(key="lab_tsne").set_value(True).run()
    assert_ok(at)
    assert "Perplexity" in exp.markdown(at)
    at.toggle(key="lab_tsne").set_value(False).run()
    assert_ok(at)
    assert "switch it on to draw its map" in exp.markdown(at)


@pytest.mark.parametrize("source", ["sidebar", "upload"])
def test_where_does_my_photo_land(source):
    at = open_page(PAGE, **exp.session())
    if source == "upload":
        at.radio(key="lab_place_source__en").set_value("upload").run()
        at.file_uploader(key="lab_place_upload").set_value(("report.png", b"%PDF-1.4", "image/png")).run()
        assert_ok(at)
        assert any("**report.png** cannot be used" in e.value for e in at.error)
        data, name = sample_bytes("flower"), "flower.jpg"
        at.file_uploader(key="lab_place_upload").set_value((name, data, "image/jpeg")).run()
    else:
        data, name = sample_bytes("chelsea"), "Chelsea the cat"  # the conftest's sidebar photo
    assert_ok(at)
    new = gallery.item_from_bytes(data, name, name)
    lite0 = encoders.load_model("efficientnet_lite0")
    z = embeddings.embed(lite0, [new.image()], "efficientnet_lite0")
    best = neighbours.nearest(exp.vectors(), z[0], 1)[0]
    item = exp.items()[best.index]
    text = exp.markdown(at)
    assert (
        f"landed next to **{item.name}** ({item.label}), its most similar gallery photo "
        f"with cosine similarity **{best.similarity:.3f}**" in text
    )
    near = neighbours.closeness(exp.vectors(), best.similarity)
    if source == "sidebar":
        assert "already in the gallery as **chelsea**" in " ".join(i.value for i in at.info)
        assert not near.stranger  # its own copy is in the gallery: cosine 1
    said = f"a median cosine similarity of {near.median:.3f} (the lowest is {near.lowest:.3f})"
    if near.stranger:
        assert "Nothing in this gallery resembles your photo much" in " ".join(w.value for w in at.warning)
    else:
        assert said in text and f"closer than {near.share_below:.0%} of them" in text


def test_a_photo_unlike_the_gallery_is_called_a_stranger():
    """Closeness against the gallery's own neighbours: far below all of them is a stranger."""
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(3, 64))
    gallery_vectors = np.repeat(centres, 5, axis=0) + 0.05 * rng.normal(size=(15, 64))
    near = neighbours.closeness(gallery_vectors, 0.1)
    assert near.stranger and near.share_below == 0.0 and near.median > 0.9
    assert not neighbours.closeness(gallery_vectors, near.median).stranger


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_the_question_reveals_the_tightest_label_on_the_map(lang):
    """Page 2's question: which label's photos lie closest together on the UMAP map the page draws
    — the spreads measured here with SciPy on vision_core's map of the same vectors."""
    at = open_page(PAGE, lang=lang, **exp.session())
    assert_ok(at)
    v, labels = exp.vectors(), np.array(exp.labels())
    coords = projection.umap_map(v, 2, min(15, len(v) - 1), 0.1, "cosine").coords
    spreads = {label: pdist(coords[labels == label]).mean() for label in set(labels)}
    tightest, runner = sorted(spreads, key=spreads.get)[:2]
    q = questions.tightest_question(coords, list(labels))
    assert q.correct == tightest
    said = exp.quiz(at, "map_tightest", q, str, lang=lang)
    number = exp.ru(spreads[tightest], ".2f") if lang == "ru" else f"{spreads[tightest]:.2f}"
    assert f"**{tightest}**" in said and f"**{number}**" in said and f"**{runner}**" in said
    if lang == "ru":
        assert_russian(at)
    else:
        at.radio(key="lab_dims").set_value(3).run()  # another map, the question follows it
        assert_ok(at)
        coords = projection.umap_map(v, 3, min(15, len(v) - 1), 0.1, "cosine").coords
        exp.quiz(at, "map_tightest", questions.tightest_question(coords, list(labels)), str)
