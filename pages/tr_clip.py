"""Transformer 5 · CLIP's image towers: RN50's attention pooling next to plain GAP on the same photo
(the pooling weights over the 7×7 grid), ViT-B/32's extra LayerNorm ``ln_pre``, and the final
image embedding I_f of both towers."""

import plotly.graph_objects as go
import streamlit as st

from lessons import lesson
from ui import feature_views, show, state, transformer
from ui.feature_views import draw
from vision_core.cnn.stages import format_shape
from vision_core.embeddings.vectors import describe_vector
from vision_core.engine import encoders
from vision_core.transformer import tokens
from vision_core.transformer.attention import attention_spread

text = lesson("tr_clip", state.lang())
photo = state.current_photo()
st.title(text("title"))
show.photo_error_banner()
st.markdown(text("intro"))
common = lesson("common", state.lang())
random = st.toggle(common("random_toggle"), key="tr_clip_random", help=common("random_help"))


def vector_chart(values, key: str, title: str) -> None:
    fig = go.Figure(go.Bar(x=list(range(len(values))), y=values, marker_color="#4c78a8", marker_line_width=0))
    fig.update_layout(height=220, bargap=0, margin={"l": 0, "r": 0, "t": 30, "b": 0}, title=title)
    draw(st, fig, key)


# --- RN50: attention pooling vs GAP ---------------------------------------------------------
rn_title = encoders.get("clip_rn50").title
st.header(text("pool_heading", model=rn_title))
rn = transformer.fixed_choice("clip_rn50", random=random)
pool = transformer.clip_pool(photo.key, photo.data, rn.weights)
pixels = transformer.network_pixels(photo.key, photo.data, "clip_rn50")
h, w = pool.grid
st.markdown(
    text(
        "pool_text",
        channels=pool.gap.size,
        rows=h,
        cols=w,
        positions=pool.positions,
        uniform=pool.uniform,
        heads=pool.heads,
        d=pool.head_dim,
    )
)
st.session_state["tr_clip_head"] = min(int(st.session_state.get("tr_clip_head", 0)), pool.heads - 1)
head = st.slider(text("head_label"), 0, pool.heads - 1, key="tr_clip_head")
cols = st.columns(3)
with cols[0]:
    st.subheader(text("gap_title"))
    grid = feature_views.number_grid(pool.uniform_weights, fmt="{:.1%}", height=300, colorscale="Greys")
    draw(st, grid, "tr_clip_gap_grid")
    st.caption(text("gap_caption", uniform=pool.uniform, positions=pool.positions))
with cols[1]:
    st.subheader(text("head_title", head=head))
    draw(
        st,
        feature_views.number_grid(pool.weights[head], fmt="{:.1%}", height=300, colorscale="Oranges"),
        "tr_clip_head_grid",
    )
    s = attention_spread(pool.weights[head])
    st.caption(
        text(
            "head_caption",
            head=head,
            mean=float(pool.mean_weight[head]),
            top=s.top,
            effective=s.effective,
            positions=pool.positions,
        )
        + (" " + text("flat_flag") if s.flat else "")
    )
with cols[2]:
    st.subheader(text("average_title", heads=pool.heads))
    st.image(transformer.over_photo(pixels, pool.average), width="stretch")
    s = attention_spread(pool.average)
    st.caption(
        text(
            "average_caption",
            top=s.top,
            uniform=pool.uniform,
            effective=s.effective,
            positions=pool.positions,
            mean=pool.mean_weight_average,
        )
        + (" " + text("flat_flag") if s.flat else "")
    )
st.markdown(
    text(
        "pool_result",
        channels=pool.gap.size,
        dim=pool.embedding.size,
        diff=pool.recomputed_max_difference,
        cosine=pool.cosine,
    )
)
transformer.untrained_note(rn)

# --- ViT-B/32: the extra LayerNorm ----------------------------------------------------------
vit_title = encoders.get("clip_vit_b32").title
st.header(text("ln_heading", model=vit_title))
vit = transformer.fixed_choice("clip_vit_b32", random=random)
tr, ln = transformer.clip_vit(photo.key, photo.data, vit.weights)
n_tokens, dim = tr["pos_added"].shape[1:]
grid = tokens.patch_arithmetic(*tr["input"].shape[-2:], encoders.get("clip_vit_b32").patch)
st.markdown(
    text(
        "ln_text",
        height=grid.height,
        width=grid.width,
        p=grid.patch,
        rows=grid.rows,
        cols=grid.cols,
        tokens=n_tokens,
        dim=dim,
        mean=ln.mean,
        std=ln.std,
        after_mean=ln.after_mean,
        after_std=ln.after_std,
        diff=ln.max_difference,
    )
)
transformer.ln_spread_chart(ln, text, "tr_clip_ln_std", markers=True)
st.caption(text("ln_caption"))
transformer.untrained_note(vit)

# --- I_f from both towers -------------------------------------------------------------------
st.header(text("if_heading"))
vit_if = tr.array("head")[0]
a, b = st.columns(2)
with a:
    rn_summary = describe_vector(pool.embedding)
    vector_chart(pool.embedding, "tr_clip_rn_if", text("if_title", model=rn_title, dim=rn_summary.dim))
    st.markdown(
        text(
            "if_rn",
            channels=pool.gap.size,
            dim=rn_summary.dim,
            length=rn_summary.length,
            first=", ".join(f"{v:.3f}" for v in pool.embedding[:4]),
        )
    )
with b:
    vit_summary = describe_vector(vit_if)
    vector_chart(vit_if, "tr_clip_vit_if", text("if_title", model=vit_title, dim=vit_summary.dim))
    st.markdown(
        text(
            "if_vit",
            cls=format_shape(tr["cls"].shape[1:]),
            dim=vit_summary.dim,
            length=vit_summary.length,
            first=", ".join(f"{v:.3f}" for v in vit_if[:4]),
        )
    )
unit = describe_vector(tr.array("embedding")[0])
st.markdown(text("if_text", length=unit.length))
