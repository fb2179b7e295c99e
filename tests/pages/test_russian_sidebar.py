"""The sidebar says what the chosen encoder is in the page's language: its one line comes from the
lessons (``summary_<name>``) with numbers read off the architecture, never an English sentence kept in
the encoder table; and a multiselect shows its placeholder in the page's language, not "Choose options"."""

from __future__ import annotations

import pytest

from lessons import lesson
from tests.pages.conftest import open_page
from ui.widgets.encoder import summary
from vision_core.engine import encoders


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_the_sidebar_describes_the_encoder_in_the_page_language(lang):
    at = open_page("pages/cnn_tensor.py", lang=lang)
    assert not at.exception, [e.value for e in at.exception]
    captions = [str(c.value) for c in at.sidebar.caption]
    name, other = encoders.DEFAULT, {"ru": "en", "en": "ru"}[lang]
    assert summary(name, lang) in captions, captions
    assert not any(summary(name, other)[:40] in c for c in captions), captions
    blocks = encoders.shape(name).blocks  # counted on the network, as the line writes it
    assert f"{blocks} " in summary(name, lang)
    if lang == "ru":
        line = summary(name, "ru")
        assert "16 блоков" in line if blocks == 16 else "блок" in line
        assert "английские метки" in line  # ImageNet's class names are said to be English


def test_a_russian_multiselect_has_a_russian_placeholder():
    at = open_page("pages/emb_outliers.py", lang="ru")
    assert not at.exception, [e.value for e in at.exception]
    (normal,) = at.multiselect
    assert normal.proto.placeholder == lesson("emb_outliers", "ru")("normal_placeholder") == "Выберите метки"
