"""Transformer 1 · Patches: the photo cut into P×P patches (N = HW/P²), one patch's pixels and its
flattened numbers, and its embedding computed as a matrix product — the same numbers as the
P×P, stride-P convolution the network runs."""

import streamlit as st

from ui import session
from ui.cached import core
from ui.cached import transformer as cached
from ui.charts import vectors
from ui.charts.layout import draw
from ui.presenter import step
from ui.widgets import question
from ui.widgets.encoder import choose_encoder, keep_aspect_toggle, untrained_note
from ui.widgets.header import page_header
from ui.widgets.pickers import position_picker
from vision_core import figures
from vision_core.cnn.stages import format_shape
from vision_core.engine import encoders
from vision_core.transformer import tokens

FILTERS = 64  # kernels drawn
text = page_header("tr_patches")
choice = choose_encoder("transformer")
spec = choice.encoder
subject = session.subject(choice, keep_aspect=keep_aspect_toggle("tr_patches_keep_aspect"))
pixels = cached.network_pixels(subject)
height, width = pixels.shape[:2]
grid = tokens.patch_arithmetic(height, width, spec.patch)

# every number the page's prose says, by its placeholder's name
says = {"model": spec.title, "height": height, "width": width, "p": grid.patch, "rows": grid.rows}
says |= {"cols": grid.cols, "n": grid.patches, "values": grid.values_per_patch, "tokens": grid.tokens}

# --- cutting the photo into patches ---------------------------------------------------------
step(text("grid_heading"))
sizes = sorted({s.patch for s in encoders.ENCODERS.values() if s.family == "vit"}, reverse=True)
question.ask(
    "patch_count",
    text("q_patches", **says),
    tokens.patch_count_question(height, width, spec.patch, sizes),
    text("q_patches_why", **says),
    format_func=lambda n: text.num(n, ","),
)
st.markdown(text("grid_text", **says))
for col, p in zip(st.columns(len(sizes)), sizes, strict=True):
    other = tokens.patch_arithmetic(height, width, p)
    users = ", ".join(s.title for s in encoders.ENCODERS.values() if s.patch == p)
    caption = text("grid_caption", p=p, rows=other.rows, cols=other.cols, n=other.patches, models=users)
    col.image(figures.grid_lines(pixels, p), width="stretch", caption=caption)
    if any(other.unused):
        col.caption(text("grid_unused", bottom=other.unused[0], right=other.unused[1], p=p))
st.markdown(text("grid_note", **says))

# --- one patch ------------------------------------------------------------------------------
step(text("patch_heading"))
pick, detail = st.columns([3, 2])
p = spec.patch
with pick:
    labels = (text("row"), text("col"))
    lined = figures.grid_lines(pixels, p)
    row, col = position_picker(lined, (grid.rows, grid.cols), "tr_patches_patch", labels=labels, height=420)
dim = core.model(choice).patch_embed.proj.out_channels  # D: the length of every token
channel = min(int(st.session_state.get("tr_patches_channel", 0)), dim - 1)
st.session_state["tr_patches_channel"] = channel
pe = cached.patch_embedding(subject, row, col, channel)
says |= {"row": row, "col": col, "token": pe.token, "top": row * p, "left": col * p, "values": pe.flat.size}
says |= {"dim": dim, "channel": channel, "params": pe.params, "per_channel": p * p}
with detail:
    patch = figures.enlarge(tokens.patch_pixels(pixels, p, row, col), max(1, 240 // p))
    st.image(patch, width=240, caption=text("patch_caption", **says))
    st.markdown(text("patch_text", **says))

st.subheader(text("flat_heading", **says))
names = [text(f"channel_{c}") for c in "RGB"]
draw(st, vectors.channel_bars(pe.flat, names, text("flat_axis_x"), text("flat_axis_y")), "tr_patches_flat")
first = ", ".join(text.num(v, ".3f") for v in pe.flat[:4])
st.markdown(text("flat_text", first=first, second=p * p, third=2 * p * p, **says))

# --- the embedding: a matrix product = the patch convolution ---------------------------------
step(text("embed_heading", **says))
st.markdown(text("embed_text", **says))
st.slider(text("channel_label", dim=dim), 0, dim - 1, key="tr_patches_channel")
left, right = st.columns([1, 3])
kernel = figures.enlarge(figures.filters_mosaic(pe.kernel_weights), max(1, 160 // p))
left.image(kernel, width=160, caption=text("kernel_caption", **says))
with right:
    linear, conv = float(pe.linear[channel]), float(pe.conv[channel])
    st.markdown(text("one_number", sum=pe.channel_sum, bias=pe.bias, value=linear, recorded=conv, **says))
    m1, m2, m3 = st.columns(3)
    m1.metric(text("metric_linear"), text.num(linear, ".5f"))
    m2.metric(text("metric_conv"), text.num(conv, ".5f"))
    m3.metric(text("metric_difference"), text.num(pe.channel_difference, ".1e"))
names = (text("legend_conv"), text("legend_linear"))
x_title = text("embed_axis_x", last=len(pe.conv) - 1)
fig = vectors.bars_and_points(pe.conv, pe.linear, names, x_title, text("embed_axis_y"))
draw(st, fig, "tr_patches_embedding")
(k, _), (stride, _), pad = pe.kernel, pe.stride, pe.padding
shapes = {
    "conv_shape": format_shape((dim, grid.rows, grid.cols)),
    "tokens_shape": format_shape((grid.patches, dim)),
}
diffs = {"diff": pe.max_difference, "grid_diff": pe.grid_max_difference}
st.markdown(text("same_as_conv", k=k, s=stride, padding=max(pad), **diffs, **shapes, **says))

# --- all the kernels ------------------------------------------------------------------------
step(text("filters_heading"))
mosaic = cached.patch_filters(choice, FILTERS)
a, b = st.columns([2, 3])
a.image(figures.enlarge(mosaic, max(1, 480 // mosaic.shape[1])), width="stretch")
smooth, median = cached.filter_smoothness(choice, FILTERS)
shapes = {"smooth": smooth, "median": median, "threshold": tokens.SMOOTH, "count": min(FILTERS, dim)}
b.markdown(text("filters_text" if choice.trained else "filters_text_random", **shapes, **says))
untrained_note(choice)
