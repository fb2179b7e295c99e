"""Cached calls and small widgets shared by the transformer pages.

The caching follows ``ui/cache.py``: models come from :func:`ui.cache.model`, traces from
:func:`ui.cache.traced` with only the steps a page needs, and what a page derives from a trace
(attention maps, one block's numbers, a patch's embedding) is cached too, small, so that a
widget change with the trace cached costs only the drawing.  The big traces are read only when
a derived result is not cached yet.
"""

from __future__ import annotations

import numpy as np
import pandas  # noqa: F401  (imported whole before any chart: see below)
import plotly.graph_objects as go
import streamlit as st

from lessons import lesson
from ui import cache, show, state
from ui.cache import PHOTO_TTL
from ui.feature_views import draw
from ui.show import ModelChoice
from vision_core import figures
from vision_core.engine import encoders, weights
from vision_core.engine.trace import Trace
from vision_core.transformer import attention, attention_pool, blocks, tokens

# One trace per photo and encoder serves the attention page and the CNN-vs-ViT page: every
# layer's attention probabilities (float16: pictures) and the few vectors the pages print.
ATTENTION_KEEP = ("blocks.*.attn.probs", "cls", "head", "probs", "embedding")
KEEP_ASPECT = "tr_keep_aspect"  # the learner's choice, carried from page to page
# Plotly looks pandas up in ``sys.modules`` instead of importing it; on a freshly started server
# another thread may still be importing pandas, and Plotly then finds a half-initialised module
# (seen as "partially initialized module 'pandas' has no attribute 'Series'").  Importing pandas
# above waits for that import to finish.


def keep_aspect_toggle(key: str) -> bool:
    """The toggle between the square centre crop and keeping the photo's shape (each side cropped
    to a multiple of the patch).  Each page has its own widget ``key``; the choice itself travels
    between pages."""
    text = lesson("tr_common", state.lang())
    if key not in st.session_state:
        st.session_state[key] = bool(st.session_state.get(KEEP_ASPECT, False))
    value = st.toggle(text("keep_aspect"), key=key, help=text("keep_aspect_help"))
    st.session_state[KEEP_ASPECT] = value
    return value


def fixed_choice(name: str, *, random: bool = False, fallback: str | None = None) -> ModelChoice:
    """A page's own encoder (not the sidebar's): its trained weights when they are on this machine,
    else ``fallback`` (trained) when given, else the same architecture untrained — always said."""
    common, text = lesson("common", state.lang()), lesson("tr_common", state.lang())
    title = encoders.get(name).title
    chosen = ModelChoice(name, "random" if random else "pretrained")
    if chosen.trained and not encoders.available_offline(name):
        if fallback is not None and encoders.available_offline(fallback):
            st.info(text("fallback_embedded", model=title, default=encoders.get(fallback).title))
            chosen = ModelChoice(fallback, "pretrained")
        else:
            st.info(text("fallback_random", model=title))
            chosen = ModelChoice(name, "random")
    if not chosen.trained:
        st.warning(
            common("untrained_label", model=encoders.get(chosen.name).title), icon=":material/casino:"
        )
    return chosen


def weights_note(name: str) -> str | None:
    """How to get ``name``'s trained weights (the file, its size, where it comes from and where
    it goes), or None when they are on this machine."""
    if encoders.available_offline(name):
        return None
    text = lesson("tr_common", state.lang())
    missing = weights.WeightsUnavailable(encoders.get(name).weights, "not_downloaded")
    e = missing.entry
    key = "weights_place" if e.sha256 is None else "weights_download"
    return text(
        key,
        model=encoders.get(name).title,
        file=e.filename,
        size=e.size_text,
        url=missing.url,
        folder=str(missing.target_dir),
    )


def weights_help(name: str) -> None:
    """How to get ``name``'s trained weights when they are missing: the file, its size, where it
    comes from and where it goes, and a download button where a checksum is published."""
    note = weights_note(name)
    if note is None:
        return
    st.caption(note)
    show.download_button(name, key=f"tr_download_{name}")


def untrained_note(choice: ModelChoice) -> None:
    """Under an untrained network's pictures: how to get the trained one."""
    if not choice.trained:
        weights_help(choice.name)


# --- pictures --------------------------------------------------------------------------------


@st.cache_data(show_spinner=False, max_entries=32, ttl=PHOTO_TTL)
def ln_spread_chart(ln: tokens.NormBreakdown, text, key: str, markers: bool = False) -> None:
    """Every token's spread (standard deviation) before and after a LayerNorm, as two lines;
    ``text`` is the page's lesson (labels ``std_before``, ``std_after``, ``token_axis``,
    ``std_axis``)."""
    mode = "lines+markers" if markers else "lines"
    fig = go.Figure()
    fig.add_trace(go.Scatter(y=ln.std_before, mode=mode, name=text("std_before")))
    fig.add_trace(go.Scatter(y=ln.std_after, mode=mode, name=text("std_after")))
    fig.update_layout(
        height=260,
        margin={"l": 0, "r": 0, "t": 10, "b": 0},
        legend={"orientation": "h"},
        xaxis_title=text("token_axis"),
        yaxis_title=text("std_axis"),
    )
    draw(st, fig, key)


def network_pixels(photo_key: str, _data: bytes, name: str, keep_aspect: bool = False) -> np.ndarray:
    """The picture ``name`` is given (after resize and crop), H×W×3 uint8."""
    return cache.prepared(photo_key, _data, name, keep_aspect=keep_aspect).pixels


def over_photo(pixels: np.ndarray, grid_map: np.ndarray, alpha: float = 0.6) -> np.ndarray:
    """A patch-grid map laid over the photo, each patch one crisp colour square."""
    h, w = pixels.shape[:2]
    rows, cols = grid_map.shape
    if h % rows == 0 and w % cols == 0:  # the usual case: colour the grid, not every pixel
        return figures.overlay_grid(pixels, grid_map, alpha=alpha)
    return figures.overlay(pixels, attention.upsample(grid_map, (h, w), mode="nearest"), alpha=alpha)


# --- patches and tokens ----------------------------------------------------------------------


@st.cache_data(show_spinner=False, max_entries=128, ttl=PHOTO_TTL)
def patch_embedding(
    photo_key: str, _data: bytes, name: str, weights: str, keep_aspect: bool, row: int, col: int, channel: int
) -> tokens.PatchEmbedding:
    keep = ("input", "patch_embed.proj")
    tr = cache.traced(
        photo_key,
        _data,
        name,
        weights,
        keep_aspect=keep_aspect,
        keep=keep,
        stop_after=("patch_embed.proj",),
        precision="float32",
    )
    return tokens.patch_embedding(cache.model(name, weights), tr, row, col, channel)


@st.cache_data(show_spinner=False, max_entries=16)
def patch_filters(name: str, weights: str, count: int = 64) -> np.ndarray:
    """The first ``count`` kernels of the patch embedding as RGB tiles (grey = 0)."""
    w = cache.model(name, weights).patch_embed.proj.weight.detach().numpy()[:count]
    return figures.filters_mosaic(w, cols=int(np.ceil(np.sqrt(len(w)))))


@st.cache_data(show_spinner=False, max_entries=32, ttl=PHOTO_TTL)
def token_trace(photo_key: str, _data: bytes, name: str, weights: str, keep_aspect: bool) -> Trace:
    """The sequence before the first block: patch tokens, CLS prepended, positions added, ln_pre."""
    last = "norm_pre" if cache.model(name, weights).norm_pre is not None else "pos_added"
    keep = ("patch_embed.tokens", "cls_prepended", "pos_added", "norm_pre")
    return cache.traced(
        photo_key,
        _data,
        name,
        weights,
        keep_aspect=keep_aspect,
        keep=keep,
        stop_after=(last,),
        precision="float32",
    )


@st.cache_data(show_spinner=False, max_entries=16)
def positions(name: str, weights: str) -> tuple[np.ndarray, tokens.NeighbourSimilarity, tuple[int, int]]:
    """The learned position embeddings' cosine-similarity mosaic, its summary and the learned grid."""
    model = cache.model(name, weights)
    grid = tokens.learned_grid(model)
    sim = tokens.position_similarity(tokens.position_embeddings(model), grid)
    return tokens.similarity_mosaic(sim), tokens.neighbour_similarity(sim), grid


@st.cache_data(show_spinner=False, max_entries=32, ttl=PHOTO_TTL)
def position_map(name: str, weights: str, row: int, col: int) -> np.ndarray:
    """One learned position's similarity to every position (rows, cols)."""
    model = cache.model(name, weights)
    grid = tokens.learned_grid(model)
    return tokens.position_similarity(tokens.position_embeddings(model), grid)[row, col]


@st.cache_data(show_spinner=False, max_entries=32, ttl=PHOTO_TTL)
def norm_breakdown(
    photo_key: str, _data: bytes, name: str, weights: str, keep_aspect: bool, step: str, token: int = 0
) -> tokens.NormBreakdown:
    if step != "norm_pre":
        raise ValueError("only ln_pre is read from the token trace")
    tr = token_trace(photo_key, _data, name, weights, keep_aspect)
    return tokens.layer_norm_breakdown(cache.model(name, weights), tr, step, token)


# --- attention -------------------------------------------------------------------------------


def attention_trace(photo_key: str, _data: bytes, name: str, weights: str, keep_aspect: bool) -> Trace:
    return cache.traced(photo_key, _data, name, weights, keep_aspect=keep_aspect, keep=ATTENTION_KEEP)


@st.cache_data(show_spinner=False, max_entries=32, ttl=PHOTO_TTL)
def attention_views(
    photo_key: str, _data: bytes, name: str, weights: str, keep_aspect: bool
) -> attention.AttentionViews:
    tr = attention_trace(photo_key, _data, name, weights, keep_aspect)
    return attention.attention_views(tr, encoders.get(name).patch)


@st.cache_data(show_spinner=False, max_entries=128, ttl=PHOTO_TTL)
def rollout_map(
    photo_key: str, _data: bytes, name: str, weights: str, keep_aspect: bool, fusion: str, discard: float
) -> np.ndarray:
    tr = attention_trace(photo_key, _data, name, weights, keep_aspect)
    return attention.rollout(tr, fusion, discard).astype(np.float32)  # type: ignore[arg-type]


@st.cache_data(show_spinner=False, max_entries=256, ttl=PHOTO_TTL)
def token_maps(
    photo_key: str, _data: bytes, name: str, weights: str, keep_aspect: bool, layer: int, row: int, col: int
) -> np.ndarray:
    """Where patch (row, col) looks in ``layer``: (heads, rows, cols)."""
    tr = attention_trace(photo_key, _data, name, weights, keep_aspect)
    return attention.token_attention(tr, layer, row, col).astype(np.float32)


@st.cache_data(show_spinner=False, max_entries=32, ttl=PHOTO_TTL)
def vectors(
    photo_key: str, _data: bytes, name: str, weights: str, keep_aspect: bool
) -> dict[str, np.ndarray]:
    """The image's vectors from the attention trace: ``cls``, and ``probs`` / ``head`` where present."""
    tr = attention_trace(photo_key, _data, name, weights, keep_aspect)
    return {
        step: tr.array(step)[0]
        for step in ("cls", "head", "probs", "embedding")
        if step in tr and tr[step].value is not None
    }


# --- one block -------------------------------------------------------------------------------


@st.cache_data(show_spinner=False, max_entries=64, ttl=PHOTO_TTL)
def block_walk(
    photo_key: str, _data: bytes, name: str, weights: str, keep_aspect: bool, layer: int, head: int
) -> blocks.BlockWalk:
    keep = (f"blocks.{layer}.*", f"blocks.{layer - 1}.add_mlp", "pos_added", "norm_pre")
    tr = cache.traced(
        photo_key,
        _data,
        name,
        weights,
        keep_aspect=keep_aspect,
        keep=keep,
        stop_after=(f"blocks.{layer}.add_mlp",),
        precision="float32",
    )
    return blocks.block_walkthrough(cache.model(name, weights), tr, layer, head)


# --- CLIP ------------------------------------------------------------------------------------


@st.cache_data(show_spinner=False, max_entries=32, ttl=PHOTO_TTL)
def clip_pool(photo_key: str, _data: bytes, weights: str) -> attention_pool.AttentionPool:
    tr = cache.traced(photo_key, _data, "clip_rn50", weights, keep=attention_pool.KEEP, precision="float32")
    return attention_pool.attention_pool(cache.model("clip_rn50", weights), tr)


@st.cache_data(show_spinner=False, max_entries=32, ttl=PHOTO_TTL)
def clip_vit(photo_key: str, _data: bytes, weights: str) -> tuple[Trace, tokens.NormBreakdown]:
    """CLIP ViT-B/32 on the photo: its sequence, ln_pre, the CLS after ln_post, I_f and the last
    layer's attention; and ln_pre taken apart for the CLS token."""
    keep = ("pos_added", "norm_pre", "cls", "head", "embedding", "blocks.11.attn.probs")
    tr = cache.traced(photo_key, _data, "clip_vit_b32", weights, keep=keep, precision="float32")
    return tr, tokens.layer_norm_breakdown(cache.model("clip_vit_b32", weights), tr, "norm_pre", 0)
