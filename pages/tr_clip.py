"""Transformer 5 · CLIP's image towers: RN50's attention pooling next to plain GAP on the same photo
(the pooling weights over the 7×7 grid), ViT-B/32's extra LayerNorm ``ln_pre``, and the final
image embedding I_f of both towers."""

import streamlit as st

from lessons import lesson
from ui import session
from ui.cached import transformer as cached
from ui.charts import curves, vectors
from ui.charts.attention import key_words, map_over_photo
from ui.charts.grids import number_grid_figure
from ui.charts.layout import draw
from ui.presenter import step
from ui.widgets import question
from ui.widgets.captions import spread_caption
from ui.widgets.encoder import fixed_choice, untrained_note
from ui.widgets.header import page_header
from vision_core.cnn.stages import format_shape
from vision_core.embeddings.vectors import describe_vector
from vision_core.engine import encoders
from vision_core.transformer import compare, tokens

text = page_header("tr_clip")
common = lesson("common", session.lang())
random = st.toggle(common("random_toggle"), key="tr_clip_random", help=common("random_help"))

# --- RN50: attention pooling vs GAP ---------------------------------------------------------
step(text("pool_heading", model=encoders.get("clip_rn50").title))
rn = fixed_choice("clip_rn50", random=random)
rn_subject = session.subject(rn)
pool = cached.clip_pool(rn_subject)
pixels = cached.network_pixels(rn_subject)
rows, cols = pool.grid
says = {"channels": pool.gap.size, "rows": rows, "cols": cols, "positions": pool.positions}
says |= {"uniform": pool.uniform, "heads": pool.heads, "d": pool.head_dim}
st.markdown(text("pool_text", **says))
st.session_state["tr_clip_head"] = min(int(st.session_state.get("tr_clip_head", 0)), pool.heads - 1)
head = st.slider(text("head_label"), 0, pool.heads - 1, key="tr_clip_head")
gap, one, average = st.columns(3)
gap.subheader(text("gap_title"))
grid = number_grid_figure(pool.uniform_weights, fmt="{:.1%}", height=300, colorscale="Greys")
draw(gap, grid, "tr_clip_gap_grid")
gap.caption(text("gap_caption", **says))
one.subheader(text("head_title", head=head))
grid = number_grid_figure(pool.weights[head], fmt="{:.1%}", height=300, colorscale="Oranges")
draw(one, grid, "tr_clip_head_grid")
mean = float(pool.mean_weight[head])
one.caption(spread_caption(text, "head_caption", pool.weights[head], head=head, mean=mean, **says))
average.subheader(text("average_title", heads=pool.heads))
mean = pool.mean_weight_average
caption = spread_caption(text, "average_caption", pool.average, mean=mean, **says)
map_over_photo(average, pixels, pool.average, caption, key=key_words(text, "key_weight", pool.average))
results = {"dim": pool.embedding.size, "diff": pool.recomputed_max_difference, "cosine": pool.cosine}
st.markdown(text("pool_result", **results, **says))
untrained_note(rn)

# --- ViT-B/32: the extra LayerNorm ----------------------------------------------------------
step(text("ln_heading", model=encoders.get("clip_vit_b32").title))
vit = fixed_choice("clip_vit_b32", random=random)
tr, ln = cached.clip_vit(session.subject(vit))
n_tokens, dim = tr["pos_added"].shape[1:]
grid = tokens.patch_arithmetic(*tr["input"].shape[-2:], vit.encoder.patch)
sizes = {"height": grid.height, "width": grid.width, "p": grid.patch, "rows": grid.rows, "cols": grid.cols}
spreads = {"mean": ln.mean, "std": ln.std, "after_mean": ln.after_mean, "after_std": ln.after_std}
st.markdown(text("ln_text", tokens=n_tokens, dim=dim, diff=ln.max_difference, **sizes, **spreads))
names = (text("std_before"), text("std_after"))
fig = curves.spread_lines(ln.std_before, ln.std_after, names, text("token_axis"), text("std_axis"), True)
draw(st, fig, "tr_clip_ln_std")
st.markdown(text("ln_caption"))
untrained_note(vit)

# --- I_f from both towers -------------------------------------------------------------------
step(text("if_heading"))
vit_if = tr.array("head")[0]
cls_width, rn_if, rn_channels = tr["cls"].shape[-1], pool.embedding.size, pool.gap.size
sizes = {"model": vit.encoder.title, "rn": rn.encoder.title, "dim": vit_if.size, "cls": cls_width}
sizes |= {"rn_dim": rn_if, "channels": rn_channels}
q = compare.clip_embedding_question(vit_if.size, cls_width, rn_if, rn_channels)
question.ask("clip_if", text("q_if", **sizes), q, text("q_if_why", **sizes), format_func=text.num)
towers = (
    (rn.encoder.title, pool.embedding, "tr_clip_rn_if", "if_rn", {"channels": pool.gap.size}),
    (vit.encoder.title, vit_if, "tr_clip_vit_if", "if_vit", {"cls": format_shape(tr["cls"].shape[1:])}),
)
for column, (title, vector, key, section, more) in zip(st.columns(2), towers, strict=True):
    summary = describe_vector(vector)
    draw(column, vectors.vector_bars(vector, text("if_title", model=title, dim=summary.dim)), key)
    first = ", ".join(text.num(v, ".3f") for v in vector[:4])
    column.markdown(text(section, dim=summary.dim, length=summary.length, first=first, **more))
unit = describe_vector(tr.array("embedding")[0])
st.markdown(text("if_text", length=unit.length))
