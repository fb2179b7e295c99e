"""CNN 4 · Pooling: max, average and stride 2 on the pocket example, then the real network's
down-sampling (ResNet's max-pool, or EfficientNet-Lite0's strided convolutions) window by window."""

import streamlit as st

from lessons import lesson
from ui import cache, feature_views, show, state
from ui.feature_views import HIGHLIGHT, SECOND, draw
from vision_core.cnn.convolution import conv_breakdown, output_size
from vision_core.cnn.pocket import POCKET_IMAGE, pool2d, run_pocket_cnn
from vision_core.cnn.pooling import (
    downsampling_steps,
    edge_never_read,
    padding_mask,
    pool_window,
    pool_windows,
)
from vision_core.cnn.stages import Box, format_shape, peak_position, strongest_channels
from vision_core.engine import encoders

text = lesson("cnn_pooling", state.lang())
photo = state.current_photo()
st.title(text("title"))
show.photo_error_banner()
st.markdown(text("intro"))

# --- the pocket example -------------------------------------------------------------------
st.header(text("pocket_heading"))
KERNEL = STRIDE = 2
st.markdown(text("pocket_intro", kernel=KERNEL, stride=STRIDE))
pocket = run_pocket_cnn()
grids = {"map_picture": POCKET_IMAGE, "map_relu_a": pocket.relu["A"], "map_relu_b": pocket.relu["B"]}
which = state.remembered_choice(
    st.radio,
    "pool_pocket_map",
    list(grids),
    "map_picture",
    label=text("map_label"),
    format_func=text,
    horizontal=True,
)
grid = grids[which]
results = {op: pool_windows(grid, op, kernel=KERNEL, stride=STRIDE) for op in ("max", "avg", "stride2")}
out = output_size(grid.shape[0], KERNEL, STRIDE)
cells = [f"({w.y}, {w.x})" for w in results["max"]]
if st.session_state.get("pool_pocket_cell") not in cells:
    st.session_state["pool_pocket_cell"] = cells[0]
i = cells.index(st.segmented_control(text("window_label"), cells, key="pool_pocket_cell") or cells[0])
win = results["max"][i]
cell = (win.y, win.x)
box = (int(win.rows[0]), int(win.cols[0]), int(win.rows[-1]), int(win.cols[-1]), HIGHLIGHT)
columns = st.columns(4)
draw(
    columns[0],
    feature_views.number_grid(
        grid, fmt="{:g}", boxes=[box], title=text("input_title", shape=format_shape(grid.shape))
    ),
    "pool_pocket_in",
)
methods = (("max", "max_title"), ("avg", "avg_title"), ("stride2", "sum_title"))
for col, (op, heading) in zip(columns[1:], methods, strict=True):
    pooled = pool2d(grid, op, kernel=KERNEL, stride=STRIDE)
    heading = text(heading, shape=format_shape(pooled.shape), kernel=KERNEL, stride=STRIDE)
    draw(
        col,
        feature_views.number_grid(pooled, fmt="{:g}", boxes=[(*cell, *cell, HIGHLIGHT)], title=heading),
        f"pool_pocket_{op}",
    )
st.markdown(
    text(
        "window_result",
        row=cell[0],
        col=cell[1],
        numbers=", ".join(f"{v:g}" for v in win.patch.ravel()),
        max=results["max"][i].value,
        avg=results["avg"][i].value,
        sum=results["stride2"][i].value,
    )
)
st.markdown(text("methods", cells=KERNEL * KERNEL, kernel=KERNEL, stride=STRIDE))
st.markdown(text("size_rule", size=grid.shape[0], kernel=KERNEL, stride=STRIDE, out=out))
if dropped := edge_never_read(grid.shape[0], KERNEL, STRIDE):
    st.info(text("dropped", dropped=dropped))

# --- the real network ---------------------------------------------------------------------
st.header(text("real_heading"))
choice = show.choose_model("cnn", allow_random_toggle=True, key="pool_random")
model = show.load(choice)
title = encoders.get(choice.name).title
size = encoders.get(choice.name).preprocessing.crop
steps = downsampling_steps(cache.shape_table(choice.name, size))
kind = {d.name: text("kind_" + d.kind.replace("-", "_").replace(" ", "_")) for d in steps}
pools = [d for d in steps if d.kind.endswith("pool")]
if pools:
    p = pools[0]
    st.markdown(
        text(
            "real_pool",
            model=title,
            count=len(steps),
            pool=p.name,
            kind=kind[p.name],
            kernel=p.kernel[0],
            stride=p.stride[0],
            padding=p.padding[0],
        )
    )
else:
    st.markdown(
        text(
            "real_strided",
            model=title,
            count=len(steps),
            stride=steps[0].stride[0],
            depthwise=sum(d.kind == "depthwise conv" for d in steps),
        )
    )
st.dataframe(
    [
        {
            text("col_step"): d.name,
            text("col_kind"): kind[d.name],
            text("col_kernel"): format_shape(d.kernel),
            text("col_stride"): d.stride[0],
            text("col_padding"): str(d.padding),
            text("col_in"): format_shape(d.in_shape),
            text("col_out"): format_shape(d.out_shape),
        }
        for d in steps
    ],
    hide_index=True,
    height="content",
    key="pool_steps",
)
st.caption(text("table_caption", model=title, size=size))

per_channel = {d.name: d for d in steps if d.per_channel}
name = st.selectbox(
    text("step_label"),
    list(per_channel),
    key="pool_step",
    format_func=lambda n: (
        f"{n} · {format_shape(per_channel[n].in_shape)} → {format_shape(per_channel[n].out_shape)}"
    ),
)
d = per_channel[name]
tr = cache.traced(
    photo.key,
    photo.data,
    choice.name,
    choice.weights,
    keep=(d.name, d.input),
    stop_after=(d.name,),
    precision="float32",
)
if st.session_state.get("pool_shown") != (
    choice,
    d.name,
):  # a new step opens on its strongest channel and value
    st.session_state["pool_shown"] = (choice, d.name)
    st.session_state["pool_channel"] = int(strongest_channels(tr.array(d.name), 1)[0])
    peak = peak_position(tr.array(d.name)[0, st.session_state["pool_channel"]])
    st.session_state["pool_pos_row"], st.session_state["pool_pos_col"] = peak
channel = st.slider(text("channel_label"), 0, d.out_shape[0] - 1, key="pool_channel")
before, after = tr.array(d.input)[0, channel], tr.array(d.name)[0, channel]
st.caption(text("click_hint", channel=channel))
left, right = st.columns(2)
with right:
    y, x = show.position_picker(
        feature_views.map_image(after),
        after.shape,
        key="pool_pos",
        labels=(text("row_label"), text("col_label")),
        title=text("after_title", step=d.name, shape=format_shape(d.out_shape)),
    )
if d.kind.endswith("pool"):
    window = pool_window(tr, d.name, channel, y, x)
    rows, cols, patch = window.rows, window.cols, window.patch
else:
    b = conv_breakdown(model, tr, d.name, channel, y, x)
    rows, cols, patch = b.rows, b.cols, b.patch[0]
on = Box(int(rows[0]), int(cols[0]), int(rows[-1]), int(cols[-1])).clipped(*before.shape)
draw(
    left,
    feature_views.picture(
        feature_views.map_image(before),
        grid=before.shape,
        height=420,
        boxes=[(on.top, on.left, on.bottom, on.right, HIGHLIGHT)],
        title=text("before_title", step=d.input, shape=format_shape(d.in_shape)),
    ),
    "pool_before",
)

where = {
    "row": y,
    "col": x,
    "rows": f"{int(rows[0])}–{int(rows[-1])}",
    "cols": f"{int(cols[0])}–{int(cols[-1])}",
}
grid_kw = {
    "pad": padding_mask(rows, cols, before.shape),
    "missing": text("pad_label"),
    "height": 300,
    "title": text("window_title"),
}
if d.kind.endswith("pool"):
    a, b_col = st.columns(2)
    src = window.source_in_window
    marks = [] if src is None else [(*src, *src, SECOND)]
    draw(a, feature_views.number_grid(patch, fmt="{:.3f}", boxes=marks, **grid_kw), "pool_window")
    if window.source is None:
        b_col.markdown(text("avg_window", **where, value=window.value))
    else:
        src_row, src_col = window.source
        b_col.markdown(text("pool_window", **where, value=window.value, src_row=src_row, src_col=src_col))
else:
    a, k_col, p_col = st.columns(3)
    signed = {"fmt": "{:.2f}", "height": 300, "colorscale": "RdBu_r", "symmetric": True}
    draw(a, feature_views.number_grid(patch, fmt="{:.2f}", **grid_kw), "pool_window")
    draw(k_col, feature_views.number_grid(b.kernel[0], title=text("kernel_title"), **signed), "pool_kernel")
    products = feature_views.number_grid(
        b.products[0], pad=grid_kw["pad"], missing=grid_kw["missing"], title=text("products_title"), **signed
    )
    draw(p_col, products, "pool_products")
    st.markdown(text("conv_window", **where, k=d.kernel[0], value=b.value, recorded=b.recorded))
st.markdown(text("takeaway"))
