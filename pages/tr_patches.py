"""Transformer 1 · Patches: the photo cut into P×P patches (N = HW/P²), one patch's pixels and its
flattened numbers, and its embedding computed as a matrix product — the same numbers as the
P×P, stride-P convolution the network runs."""

import plotly.graph_objects as go
import streamlit as st

from lessons import lesson
from ui import feature_views, show, state, transformer
from ui.feature_views import draw
from vision_core import figures
from vision_core.cnn.stages import format_shape
from vision_core.engine import encoders
from vision_core.transformer import tokens

FILTERS = 64  # kernels drawn
CHANNEL_COLOURS = ("#e4572e", "#4caf50", "#2e86de")  # R, G, B
text = lesson("tr_patches", state.lang())
photo = state.current_photo()
st.title(text("title"))
show.photo_error_banner()
st.markdown(text("intro"))

choice = show.choose_model("transformer")
spec = encoders.get(choice.name)
keep_aspect = transformer.keep_aspect_toggle("tr_patches_keep_aspect")
pixels = transformer.network_pixels(photo.key, photo.data, choice.name, keep_aspect)
height, width = pixels.shape[:2]
grid = tokens.patch_arithmetic(height, width, spec.patch)

# --- cutting the photo into patches ---------------------------------------------------------
st.header(text("grid_heading"))
st.markdown(
    text(
        "grid_text",
        model=spec.title,
        height=height,
        width=width,
        p=grid.patch,
        rows=grid.rows,
        cols=grid.cols,
        n=grid.patches,
        values=grid.values_per_patch,
        tokens=grid.tokens,
    )
)
sizes = sorted({s.patch for s in encoders.ENCODERS.values() if s.family == "vit"}, reverse=True)
for col, p in zip(st.columns(len(sizes)), sizes, strict=True):
    other = tokens.patch_arithmetic(height, width, p)
    users = ", ".join(s.title for s in encoders.ENCODERS.values() if s.patch == p)
    col.image(
        figures.grid_lines(pixels, p),
        width="stretch",
        caption=text("grid_caption", p=p, rows=other.rows, cols=other.cols, n=other.patches, models=users),
    )
    if any(other.unused):
        col.caption(text("grid_unused", bottom=other.unused[0], right=other.unused[1], p=p))
st.caption(text("grid_note", p=grid.patch, n=grid.patches))

# --- one patch ------------------------------------------------------------------------------
st.header(text("patch_heading"))
pick, detail = st.columns([3, 2])
with pick:
    row, col = show.position_picker(
        figures.grid_lines(pixels, spec.patch),
        (grid.rows, grid.cols),
        "tr_patches_patch",
        labels=(text("row"), text("col")),
        height=420,
    )
dim = show.load(choice).patch_embed.proj.out_channels  # D: the length of every token
channel = min(int(st.session_state.get("tr_patches_channel", 0)), dim - 1)
st.session_state["tr_patches_channel"] = channel
pe = transformer.patch_embedding(
    photo.key, photo.data, choice.name, choice.weights, keep_aspect, row, col, channel
)
with detail:
    patch = tokens.patch_pixels(pixels, spec.patch, row, col)
    st.image(
        figures.enlarge(patch, max(1, 240 // spec.patch)),
        width=240,
        caption=text(
            "patch_caption",
            row=row,
            col=col,
            p=spec.patch,
            top=row * spec.patch,
            left=col * spec.patch,
            token=pe.token,
        ),
    )
    st.markdown(
        text(
            "patch_text", p=spec.patch, values=pe.flat.size, token=pe.token, row=row, col=col, cols=grid.cols
        )
    )

st.subheader(text("flat_heading", values=pe.flat.size))
per_channel = spec.patch * spec.patch
fig = go.Figure()
for i, name in enumerate(("R", "G", "B")):
    part = slice(i * per_channel, (i + 1) * per_channel)
    fig.add_trace(
        go.Bar(
            x=list(range(part.start, part.stop)),
            y=pe.flat[part],
            name=text(f"channel_{name}"),
            marker_color=CHANNEL_COLOURS[i],
            marker_line_width=0,
        )
    )
fig.update_layout(
    height=260,
    bargap=0,
    margin={"l": 0, "r": 0, "t": 30, "b": 0},
    legend={"orientation": "h", "y": 1.15, "x": 0},
    xaxis_title=text("flat_axis_x"),
    yaxis_title=text("flat_axis_y"),
)
draw(st, fig, "tr_patches_flat")
first = ", ".join(f"{v:.3f}" for v in pe.flat[:4])
st.markdown(
    text(
        "flat_text",
        p=spec.patch,
        per_channel=per_channel,
        values=pe.flat.size,
        first=first,
        second=per_channel,
        third=2 * per_channel,
    )
)

# --- the embedding: a matrix product = the patch convolution ---------------------------------
st.header(text("embed_heading", values=pe.flat.size))
st.markdown(text("embed_text", values=pe.flat.size, dim=dim, p=spec.patch, params=pe.params))
st.slider(text("channel_label", dim=dim), 0, dim - 1, key="tr_patches_channel")
left, right = st.columns([1, 3])
left.image(
    figures.enlarge(figures.filters_mosaic(pe.kernel_weights), max(1, 160 // spec.patch)),
    width=160,
    caption=text("kernel_caption", channel=channel, p=spec.patch),
)
with right:
    st.markdown(
        text(
            "one_number",
            channel=channel,
            values=pe.flat.size,
            sum=float(pe.products.sum()),
            bias=pe.bias,
            value=float(pe.linear[channel]),
            recorded=float(pe.conv[channel]),
        )
    )
    m1, m2, m3 = st.columns(3)
    m1.metric(text("metric_linear"), f"{pe.linear[channel]:.5f}")
    m2.metric(text("metric_conv"), f"{pe.conv[channel]:.5f}")
    m3.metric(text("metric_difference"), f"{abs(pe.linear[channel] - pe.conv[channel]):.1e}")

fig = go.Figure()
fig.add_trace(
    go.Bar(
        x=list(range(dim)), y=pe.conv, name=text("legend_conv"), marker_color="#4c78a8", marker_line_width=0
    )
)
fig.add_trace(
    go.Scatter(
        x=list(range(dim)),
        y=pe.linear,
        name=text("legend_linear"),
        mode="markers",
        marker={"size": 3, "color": feature_views.HIGHLIGHT},
    )
)
fig.update_layout(
    height=280,
    bargap=0,
    margin={"l": 0, "r": 0, "t": 30, "b": 0},
    legend={"orientation": "h", "y": 1.15, "x": 0},
    xaxis_title=text("embed_axis_x"),
    yaxis_title=text("embed_axis_y"),
)
draw(st, fig, "tr_patches_embedding")
(kh, kw), (sh, sw), pad = pe.kernel, pe.stride, pe.padding
st.markdown(
    text(
        "same_as_conv",
        k=kh,
        s=sh,
        padding=max(pad),
        diff=pe.max_difference,
        n=grid.patches,
        grid_diff=pe.grid_max_difference,
        dim=dim,
        conv_shape=format_shape((dim, grid.rows, grid.cols)),
        tokens_shape=format_shape((grid.patches, dim)),
    )
)

# --- all the kernels ------------------------------------------------------------------------
st.header(text("filters_heading"))
mosaic = transformer.patch_filters(choice.name, choice.weights, FILTERS)
a, b = st.columns([2, 3])
a.image(figures.enlarge(mosaic, max(1, 480 // mosaic.shape[1])), width="stretch")
b.markdown(
    text(
        "filters_text" if choice.trained else "filters_text_random",
        dim=dim,
        p=spec.patch,
        model=spec.title,
        count=min(FILTERS, dim),
    )
)
transformer.untrained_note(choice)
