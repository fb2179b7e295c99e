"""Transformer 3 · Attention: where the CLS token looks, one head or all heads of a layer, the heads'
average and attention rollout; where any patch looks; how far every head looks, layer by layer;
and which of these pictures can be trusted."""

import plotly.graph_objects as go
import streamlit as st

from lessons import lesson
from ui import show, state, transformer
from ui.feature_views import HIGHLIGHT, draw
from vision_core import figures
from vision_core.engine import encoders
from vision_core.transformer import tokens
from vision_core.transformer.attention import FLAT_SHARE, attention_spread, mean_over_heads

PER_ROW = 6
FUSIONS = ("mean", "min", "max")
text = lesson("tr_attention", state.lang())
photo = state.current_photo()
st.title(text("title"))
show.photo_error_banner()
st.markdown(text("intro"))

choice = show.choose_model("transformer", allow_random_toggle=True, key="tr_attention_random")
spec = encoders.get(choice.name)
keep_aspect = transformer.keep_aspect_toggle("tr_attention_keep_aspect")
args = (photo.key, photo.data, choice.name, choice.weights, keep_aspect)
views = transformer.attention_views(*args)
pixels = transformer.network_pixels(photo.key, photo.data, choice.name, keep_aspect)
rows, cols = views.grid
patches = rows * cols

# the pickers: a model with fewer layers or heads must not leave them out of range
for key, count, default in (
    ("tr_attention_layer", views.layers, views.layers - 1),
    ("tr_attention_head", views.heads, 0),
):
    st.session_state[key] = min(int(st.session_state.get(key, default)), count - 1)
pick_layer, pick_head = st.columns([3, 2])
layer = pick_layer.slider(
    text("layer_label", last=views.layers - 1), 0, views.layers - 1, key="tr_attention_layer"
)
head = pick_head.radio(
    text("head_label"),
    list(range(views.heads)),
    horizontal=True,
    key="tr_attention_head",
    format_func=lambda h: text("head_name", head=h),
)


def spread_caption(grid_map) -> str:
    s = attention_spread(grid_map)
    line = text("spread", top=s.top, uniform=s.uniform, effective=s.effective, patches=s.patches)
    return line + (" " + text("flat_flag") if s.flat else "")


# --- where the CLS token looks --------------------------------------------------------------
st.header(text("cls_heading", layer=layer))
st.markdown(
    text(
        "cls_text",
        model=spec.title,
        layer=layer,
        head=head,
        heads=views.heads,
        patches=patches,
        self_share=float(views.cls_self[layer, head]),
    )
)
one, average, rolled = st.columns(3)
with one:
    st.subheader(text("one_head", head=head))
    st.image(transformer.over_photo(pixels, views.cls[layer, head]), width="stretch")
    st.caption(spread_caption(views.cls[layer, head]))
with average:
    st.subheader(text("head_average"))
    st.image(transformer.over_photo(pixels, views.cls_mean[layer]), width="stretch")
    st.caption(spread_caption(views.cls_mean[layer]))
with rolled:
    st.subheader(text("rollout"))
    picture = st.empty()  # the controls sit under the picture, so that the three pictures line up
    # set on every run: the browser then keeps showing the choice when the language (the labels) changes
    st.session_state["tr_attention_fusion"] = st.session_state.get("tr_attention_fusion", FUSIONS[0])
    fusion = st.radio(
        text("fusion_label"),
        FUSIONS,
        horizontal=True,
        key="tr_attention_fusion",
        format_func=lambda f: text(f"fusion_{f}"),
    )
    discard = st.slider(
        text("discard_label"), 0.0, 0.95, 0.0, 0.05, key="tr_attention_discard", help=text("discard_help")
    )
    roll = transformer.rollout_map(*args, fusion, float(discard))
    picture.image(transformer.over_photo(pixels, roll), width="stretch")
    s = attention_spread(roll)
    st.caption(
        text(
            "rollout_caption",
            layers=views.layers,
            fusion=text(f"fusion_{fusion}"),
            discard=discard,
            effective=s.effective,
            patches=patches,
        )
        + (" " + text("flat_flag") if s.flat else "")
    )

# --- all heads of the layer -----------------------------------------------------------------
st.header(text("heads_heading", layer=layer, heads=views.heads))
for start in range(0, views.heads, PER_ROW):
    for col, h in zip(st.columns(PER_ROW), range(start, min(start + PER_ROW, views.heads)), strict=False):
        col.image(transformer.over_photo(pixels, views.cls[layer, h]), width="stretch")
        s = attention_spread(views.cls[layer, h])
        col.caption(
            text("head_caption", head=h, top=s.top, effective=s.effective, patches=patches)
            + (" " + text("flat_short") if s.flat else "")
        )
st.caption(text("heads_note"))

# --- where one patch looks ------------------------------------------------------------------
st.header(text("patch_heading"))
left, right = st.columns(2)
with left:
    row, col = show.position_picker(
        figures.grid_lines(pixels, spec.patch),
        (rows, cols),
        "tr_attention_patch",
        labels=(text("row"), text("col")),
        height=380,
    )
maps = transformer.token_maps(*args, layer, row, col)
token = tokens.token_index(row, col, cols)
with right:
    a, b = st.columns(2)
    a.image(
        transformer.over_photo(pixels, maps[head]),
        width="stretch",
        caption=text("patch_head_caption", token=token, head=head, layer=layer),
    )
    b.image(
        transformer.over_photo(pixels, mean_over_heads(maps)),
        width="stretch",
        caption=text("patch_mean_caption", token=token, layer=layer),
    )
    st.markdown(
        text("patch_text", row=row, col=col, token=token, layer=layer, head=head)
        + " "
        + spread_caption(maps[head])
    )

# --- how far each head looks ----------------------------------------------------------------
st.header(text("distance_heading"))
distance = views.distance  # (layers, heads), pixels
blocks = list(range(views.layers))
heads = [
    go.Scatter(
        x=blocks,
        y=distance[:, h],
        mode="markers",
        name=text("head_name", head=h),
        marker={"size": 8},
        hovertemplate=text("distance_hover") + "<extra></extra>",
    )
    for h in range(views.heads)
]
even = go.Scatter(
    x=[-0.5, views.layers - 0.5],
    y=[views.uniform_distance] * 2,
    mode="lines",
    name=text("uniform_line", distance=views.uniform_distance),
    hoverinfo="skip",
    line={"dash": "dash", "color": "grey"},
)
chosen = go.Scatter(
    x=[layer],
    y=[distance[layer, head]],
    mode="markers",
    showlegend=False,
    hoverinfo="skip",
    marker={"size": 16, "color": "rgba(0,0,0,0)", "line": {"color": HIGHLIGHT, "width": 3}},
)
top = max(float(distance.max()), views.uniform_distance) * 1.1  # from 0: local and global on one scale
fig = go.Figure(
    [*heads, even, chosen],
    {
        "height": 360,
        "margin": {"l": 0, "r": 0, "t": 10, "b": 0},
        "yaxis": {"range": [0, top], "title": {"text": text("distance_axis_y", p=spec.patch)}},
        "xaxis": {"title": {"text": text("distance_axis_x")}},
    },
)
draw(st, fig, "tr_attention_distance")
first, last = distance[0], distance[-1]
st.markdown(
    text(
        "distance_text",
        p=spec.patch,
        uniform=views.uniform_distance,
        first_min=float(first.min()),
        first_max=float(first.max()),
        last_min=float(last.min()),
        last_max=float(last.max()),
        last=views.layers - 1,
    )
)
st.markdown(text("distance_trained" if choice.trained else "distance_random"))

# --- which picture to trust -----------------------------------------------------------------
st.header(text("trust_heading"))
st.markdown(text("trust_text", share=FLAT_SHARE))
if not choice.trained:
    st.warning(text("trust_random"), icon=":material/casino:")
transformer.untrained_note(choice)
