"""The words about weights files: every state, check, refusal reason and encoder of vision_core has its
sentence in every language, and the English ones say what ``weights_status.status`` says."""

from __future__ import annotations

from typing import get_args

import pytest

from lessons import LANGUAGES, lesson
from ui.widgets.encoder import size_words
from vision_core.engine import encoders
from vision_core.engine.weights import WeightsUnavailable
from vision_core.engine.weights_status import State, status

# what ui.widgets.encoder.state_sentence picks by state (and by how a pin was made, or the trust)
STATE_SENTENCES = {
    "embedded": ["state_embedded"],
    "not_installed": ["state_not_installed"],
    "verified": ["state_verified"],
    "pinned": ["state_pinned_downloaded", "state_pinned_placed"],
    "unpinned": ["state_unpinned"],
    "missing": ["state_missing_checksum", "state_missing_pinned"],
    "refused": ["state_refused", "state_refused_pin_mismatch"],
}


@pytest.mark.parametrize("lang", list(LANGUAGES))
def test_every_state_reason_and_encoder_has_its_words(lang):
    words = lesson("encoders", lang).sections
    assert set(STATE_SENTENCES) == set(get_args(State))
    for state, keys in STATE_SENTENCES.items():
        assert {f"need_{state}", *keys} <= set(words), state
    assert {f"reason_{r}" for r in WeightsUnavailable.REASONS} <= set(words)
    assert {f"from_{name}" for name in encoders.names()} <= set(words)
    for page in ("common", "tr_common"):  # a fallback note per state fallen back from
        sections = set(lesson(page, lang).sections)
        for state in ("missing", "refused", "not_installed"):
            assert {f"fallback_embedded_{state}", f"fallback_random_{state}"} <= sections, (page, state)


@pytest.mark.parametrize("name", encoders.names())
def test_english_sizes_are_the_stores_sizes(name):
    s = status(encoders.get(name).weights)
    assert size_words(s, lesson("encoders", "en")) == s.size_text
