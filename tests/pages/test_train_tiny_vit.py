"""The trained tiny ViT of "Train it yourself" as an encoder of the Transformer pages: each page runs on
it with its trained weights (read from our own package, offline), and what the pages say fits it —
a 32×32 input, an 8×8 grid of 4-pixel patches, 4 heads, 3 blocks, and a head that names digits."""

from __future__ import annotations

import pytest
import torch
from conftest import assert_ok, open_page, plain
from tr_expected import figure_captions

from vision_core.engine import encoders
from vision_core.engine.preprocess import load_image
from vision_core.predictions import top_k

TINY = "tiny_vit_digits"


def _text(at) -> str:
    return " ".join(plain(m.value) for m in at.markdown) + " " + " ".join(c.value for c in at.caption)


@pytest.mark.parametrize("page", ["tr_patches", "tr_tokens", "tr_attention", "tr_block", "tr_compare"])
def test_transformer_page_runs_on_the_trained_tiny_vit(page):
    at = open_page(f"pages/{page}.py", model_transformer=TINY)
    assert_ok(at)
    text = _text(at)
    assert "ships inside the pip package **vision_core**" in text  # trained, embedded: no fallback
    assert not [w.value for w in at.warning if "Untrained" in w.value]
    if page == "tr_patches":
        assert "as **32×32** pixels and cuts it into **4×4** patches" in text
        assert "32 / 4 = **8** rows" in text
    if page == "tr_tokens":
        assert "The 8×8 grid of patch tokens is read row by row into **64** vectors of **64** numbers" in text
    if page == "tr_attention":
        heads = [c for c in figure_captions(at) if c.startswith("head ")]  # the row of all heads' maps
        assert [c.split(":")[0] for c in heads] == [f"head {h}" for h in range(4)]
    if page == "tr_block":
        assert "3 times in Tiny ViT" in text and "cut into 4 heads of 16" in text


def test_compare_page_names_digits_for_the_tiny_vit(chelsea):
    at = open_page("pages/tr_compare.py", model_transformer=TINY)
    assert_ok(at)
    model = encoders.load_model(TINY, allow_download=False)
    x = encoders.preprocess(load_image(chelsea.data), TINY)
    with torch.no_grad():
        probs = torch.softmax(model(x), -1)[0].numpy()
    expected = [f"{p.label} — {p.probability:.1%}" for p in top_k(probs, 5, "digits")]
    shown = [p.proto.text for p in at.get("progress")]
    assert all(line in shown for line in expected), (expected, shown)
