"""Transformer 4 · Inside a block: one pre-norm encoder block step by step — LayerNorm, Q·Kᵀ/√d,
softmax, the weighted sum of V, the residual add, the MLP with GELU, the second residual — with
the CLS token's real numbers recomputed next to the recorded ones."""

import streamlit as st

from ui import session
from ui.cached import core
from ui.cached import transformer as cached
from ui.charts import curves, vectors
from ui.charts.layout import draw
from ui.presenter import step
from ui.widgets import question
from ui.widgets.encoder import choose_encoder, keep_aspect_toggle, untrained_note
from ui.widgets.header import page_header
from vision_core.cnn.stages import format_shape
from vision_core.transformer import blocks, tokens

FIRST = 4  # numbers shown per step
text = page_header("tr_block", intro=False)
choice = choose_encoder("transformer")
spec = choice.encoder
model = core.model(choice)
depth, heads = len(model.blocks), model.blocks[0].attn.heads
st.markdown(text("intro", depth=depth, model=spec.title))
subject = session.subject(choice, keep_aspect=keep_aspect_toggle("tr_block_keep_aspect"))
for key, count in (("tr_block_layer", depth), ("tr_block_head", heads)):
    st.session_state[key] = min(int(st.session_state.get(key, 0)), count - 1)
a, b = st.columns([3, 2])
layer = a.slider(text("layer_label", last=depth - 1), 0, depth - 1, key="tr_block_layer")
head = b.radio(
    text("head_label"),
    list(range(heads)),
    horizontal=True,
    key="tr_block_head",
    format_func=lambda h: text("head_name", head=h),
)
walk = cached.block_walk(subject, layer, head)
height, width = cached.network_pixels(subject).shape[:2]
names = tokens.token_names(walk.tokens, tokens.patch_arithmetic(height, width, spec.patch).cols)
says = {"layer": layer, "last": depth - 1, "head": head, "tokens": walk.tokens, "dim": walk.dim}
says |= {"heads": walk.heads, "d": walk.head_dim, "hidden": walk.hidden, "scale": walk.scale}


def numbers(values, n: int = FIRST) -> str:
    return ", ".join(text.num(v, ".4f") for v in values[:n]) + (", …" if len(values) > n else "")


def first(op: str) -> str:
    """The first numbers of step ``op`` for the CLS token."""
    return numbers(walk.step(op).values)


# --- the whole block in one table -----------------------------------------------------------
step(text("table_heading", **says))
ratio = walk.hidden // walk.dim if walk.hidden % walk.dim == 0 else round(walk.hidden / walk.dim, 2)
mlp = {"ratio": ratio, "three": 3 * walk.dim, "function": text(f"act_{walk.activation}")}
why = text("q_mlp_why", **mlp, **says)
if question.ask(
    "mlp_width", text("q_mlp", **says), blocks.mlp_width_question(walk), why, format_func=text.num
):
    st.markdown(text("table_text", **says))  # it says the MLP's width: held back until the answer is out
st.dataframe(
    {
        text("col_step"): [text(f"op_{s.op}", head=walk.head, d=walk.head_dim) for s in walk.steps],
        text("col_name"): [s.name for s in walk.steps],
        text("col_shape"): [format_shape(s.shape) for s in walk.steps],
        text("col_values"): [numbers(s.values) for s in walk.steps],
        text("col_difference"): [text.num(s.max_difference, ".1e") for s in walk.steps],
    },
    hide_index=True,
    key="tr_block_table",
    height=36 * (len(walk.steps) + 1) + 3,  # every step in view, no inner scrolling
)
st.caption(text("table_caption", worst=walk.worst_difference))

# --- 1. pre-norm ----------------------------------------------------------------------------
step(text("norm_heading"))
st.markdown(
    text("norm_text", mean=walk.mean1, std=walk.std1, before=first("input"), after=first("norm1"), **says)
)

# --- 2. queries, keys, scores ---------------------------------------------------------------
step(text("scores_heading"))
st.markdown(text("scores_text", three=3 * walk.dim, q=numbers(walk.query), **says))
axis = text("token_axis")
scores = vectors.token_bars(walk.step("scores").values, names, text("scores_chart", **says), ".3f", axis)
draw(st, scores, "tr_block_scores")

# --- 3. softmax -----------------------------------------------------------------------------
step(text("softmax_heading"))
probs = walk.step("softmax").values
draw(st, vectors.token_bars(probs, names, text("probs_chart", **says), ".2%", axis), "tr_block_probs")
top = ", ".join(f"{names[t]} {text.num(p, '.2%')}" for t, p in walk.top_tokens)
shares = {"total": walk.softmax_total, "uniform": walk.uniform, "self_share": float(probs[0])}
st.markdown(text("softmax_text", top=top, **shares, **says))

# --- 4. weighted sum of V, heads merged, projection, residual -------------------------------
step(text("values_heading"))
steps = {"out": first("weighted_sum"), "merged": first("merged"), "proj": first("proj")}
if walk.layer_scale:
    steps |= {"scaled": first("ls1"), "model": spec.title, **walk.gamma_summary(1)}
values = "values_text_scaled" if walk.layer_scale else "values_text"
st.markdown(text(values, added=first("add_attn"), share=walk.attn_share, **steps, **says))

# --- 5. the MLP -----------------------------------------------------------------------------
step(text("mlp_heading"))
function = text(f"act_{walk.activation}")
steps = {"fc1": first("fc1"), "act": first("act"), "out": first("fc2"), "added": first("add_mlp")}
if walk.layer_scale:
    steps |= {"scaled": first("ls2"), **walk.gamma_summary(2)}
mlp = {"mean": walk.mean2, "std": walk.std2, "function": function, "share": walk.mlp_share}
st.markdown(text("mlp_text_scaled" if walk.layer_scale else "mlp_text", **mlp, **steps, **says))
points = (walk.step("fc1").values, walk.step("act").values)
labels = (function, text("act_points", **says)), text("act_axis_x"), text("act_axis_y")
draw(st, curves.curve_and_points(walk.activation_curve(), points, *labels), "tr_block_gelu")
st.markdown(text("mlp_caption", **says))
st.markdown(text("end_text", **says))
untrained_note(choice)
