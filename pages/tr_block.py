"""Transformer 4 · Inside a block: one pre-norm encoder block step by step — LayerNorm, Q·Kᵀ/√d,
softmax, the weighted sum of V, the residual add, the MLP with GELU, the second residual — with
the CLS token's real numbers recomputed next to the recorded ones."""

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from lessons import lesson
from ui import show, state, transformer
from ui.feature_views import HIGHLIGHT, draw
from vision_core.cnn.stages import format_shape
from vision_core.engine import encoders
from vision_core.transformer import tokens
from vision_core.transformer.blocks import activation_curve

FIRST = 4  # numbers shown per step
text = lesson("tr_block", state.lang())
photo = state.current_photo()
st.title(text("title"))
show.photo_error_banner()
choice = show.choose_model("transformer")
spec = encoders.get(choice.name)
model = show.load(choice)
st.markdown(text("intro", depth=len(model.blocks), model=spec.title))
keep_aspect = transformer.keep_aspect_toggle("tr_block_keep_aspect")
depth, heads = len(model.blocks), model.blocks[0].attn.heads
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
walk = transformer.block_walk(photo.key, photo.data, choice.name, choice.weights, keep_aspect, layer, head)
height, width = transformer.network_pixels(photo.key, photo.data, choice.name, keep_aspect).shape[:2]
names = tokens.token_names(walk.tokens, tokens.patch_arithmetic(height, width, spec.patch).cols)


def numbers(values, n: int = FIRST) -> str:
    return ", ".join(f"{v:.4f}" for v in values[:n]) + (", …" if len(values) > n else "")


# --- the whole block in one table -----------------------------------------------------------
st.header(text("table_heading", layer=layer))
st.markdown(
    text(
        "table_text",
        tokens=walk.tokens,
        dim=walk.dim,
        heads=walk.heads,
        d=walk.head_dim,
        hidden=walk.hidden,
        head=head,
    )
)
st.dataframe(
    {
        text("col_step"): [text(f"op_{s.op}") for s in walk.steps],
        text("col_name"): [s.name for s in walk.steps],
        text("col_shape"): [format_shape(s.shape) for s in walk.steps],
        text("col_values"): [numbers(s.values) for s in walk.steps],
        text("col_difference"): [f"{s.max_difference:.1e}" for s in walk.steps],
    },
    hide_index=True,
    key="tr_block_table",
    height=36 * (len(walk.steps) + 1) + 3,  # every step in view, no inner scrolling
)
worst = max(s.max_difference for s in walk.steps)
st.caption(text("table_caption", worst=worst))

# --- 1. pre-norm ----------------------------------------------------------------------------
st.header(text("norm_heading"))
st.markdown(
    text(
        "norm_text",
        dim=walk.dim,
        mean=walk.mean1,
        std=walk.std1,
        before=numbers(walk.step("input").values),
        after=numbers(walk.step("norm1").values),
    )
)

# --- 2. queries, keys, scores ---------------------------------------------------------------
st.header(text("scores_heading"))
d = walk.head_dim
st.markdown(
    text(
        "scores_text",
        dim=walk.dim,
        three=3 * walk.dim,
        heads=walk.heads,
        d=d,
        head=head,
        scale=walk.scale,
        tokens=walk.tokens,
        q=numbers(walk.query),
    )
)


def token_bars(values, key: str, title: str, fmt: str) -> None:
    # CLS is a bar of its own colour as a second trace: a per-bar colour list is validated one
    # colour at a time, slowly
    values = np.asarray(values)
    hover = "%{customdata}: %{y:" + fmt + "}<extra></extra>"
    bar = {"type": "bar", "hovertemplate": hover, "showlegend": False}
    data = [
        {
            **bar,
            "x": np.arange(1, len(values)),
            "y": values[1:],
            "customdata": names[1:],
            "marker": {"color": "#4c78a8", "line": {"width": 0}},
        },
        {
            **bar,
            "x": [0],
            "y": values[:1],
            "customdata": names[:1],
            "marker": {"color": HIGHLIGHT, "line": {"width": 0}},
        },
    ]
    layout = {
        "height": 240,
        "bargap": 0,
        "margin": {"l": 0, "r": 0, "t": 30, "b": 0},
        "title": {"text": title},
        "xaxis": {"title": {"text": text("token_axis")}},
    }
    fig = go.Figure({"data": data, "layout": layout})
    draw(st, fig, key)


scores, probs = walk.step("scores"), walk.step("softmax")
token_bars(scores.values, "tr_block_scores", text("scores_chart", head=head), ".3f")

# --- 3. softmax -----------------------------------------------------------------------------
st.header(text("softmax_heading"))
token_bars(probs.values, "tr_block_probs", text("probs_chart", head=head), ".2%")
top = ", ".join(f"{names[t]} {p:.2%}" for t, p in walk.top_tokens)
st.markdown(
    text(
        "softmax_text",
        tokens=walk.tokens,
        total=float(probs.values.sum()),
        top=top,
        uniform=walk.uniform,
        self_share=float(probs.values[0]),
    )
)

# --- 4. weighted sum of V, heads merged, projection, residual -------------------------------
st.header(text("values_heading"))
st.markdown(
    text(
        "values_text",
        d=d,
        head=head,
        out=numbers(walk.step("weighted_sum").values),
        heads=walk.heads,
        dim=walk.dim,
        merged=numbers(walk.step("merged").values),
        proj=numbers(walk.step("proj").values),
        added=numbers(walk.step("add_attn").values),
        share=walk.attn_share,
    )
)

# --- 5. the MLP -----------------------------------------------------------------------------
st.header(text("mlp_heading"))
fc1, act = walk.step("fc1").values, walk.step("act").values
st.markdown(
    text(
        "mlp_text",
        dim=walk.dim,
        hidden=walk.hidden,
        mean=walk.mean2,
        std=walk.std2,
        function=text(f"act_{walk.activation}"),
        fc1=numbers(fc1),
        act=numbers(act),
        out=numbers(walk.step("fc2").values),
        added=numbers(walk.step("add_mlp").values),
        share=walk.mlp_share,
    )
)
x, y = activation_curve(walk.activation, float(fc1.min()), float(fc1.max()))
fig = go.Figure()
fig.add_trace(go.Scatter(x=x, y=y, mode="lines", name=text(f"act_{walk.activation}"), line={"color": "grey"}))
fig.add_trace(
    go.Scatter(
        x=fc1,
        y=act,
        mode="markers",
        name=text("act_points", hidden=walk.hidden),
        marker={"size": 4, "color": HIGHLIGHT},
    )
)
fig.update_layout(
    height=300,
    margin={"l": 0, "r": 0, "t": 10, "b": 0},
    legend={"orientation": "h"},
    xaxis_title=text("act_axis_x"),
    yaxis_title=text("act_axis_y"),
)
draw(st, fig, "tr_block_gelu")
st.caption(text("mlp_caption", hidden=walk.hidden))
st.markdown(text("end_text", layer=layer, last=depth - 1))
transformer.untrained_note(choice)
