"""CNN 4 · Pooling: max, average and stride 2 on the pocket example, then the real network's
down-sampling (ResNet's max-pool, or EfficientNet-Lite0's strided convolutions) window by window."""

import streamlit as st

from ui import session
from ui.cached import cnn
from ui.charts.grids import number_grid_figure
from ui.charts.layout import draw
from ui.charts.overlays import map_image, picture
from ui.charts.palette import HIGHLIGHT, SECOND, SIGNED
from ui.charts.tables import lesson_table
from ui.widgets.encoder import choose_encoder
from ui.widgets.header import page_header
from ui.widgets.pickers import position_picker
from vision_core.cnn.convolution import output_size
from vision_core.cnn.pocket import POCKET_IMAGE, pool2d, run_pocket_cnn
from vision_core.cnn.pooling import (
    downsampling_steps,
    edge_never_read,
    padding_mask,
    pool_windows,
    window_place,
)
from vision_core.cnn.stages import Box, format_shape, peak_position, strongest_channels

text = page_header("cnn_pooling")

# --- the pocket example -------------------------------------------------------------------
st.header(text("pocket_heading"))
KERNEL = STRIDE = 2
st.markdown(text("pocket_intro", kernel=KERNEL, stride=STRIDE))
pocket = run_pocket_cnn()
grids = {"map_picture": POCKET_IMAGE, "map_relu_a": pocket.relu["A"], "map_relu_b": pocket.relu["B"]}
label = text("map_label")
which = session.remembered_choice(
    st.radio, "pool_pocket_map", list(grids), "map_picture", label=label, format_func=text, horizontal=True
)
grid = grids[which]
results = {op: pool_windows(grid, op, kernel=KERNEL, stride=STRIDE) for op in ("max", "avg", "stride2")}
cells = [f"({w.y}, {w.x})" for w in results["max"]]
if st.session_state.get("pool_pocket_cell") not in cells:
    st.session_state["pool_pocket_cell"] = cells[0]
i = cells.index(st.segmented_control(text("window_label"), cells, key="pool_pocket_cell") or cells[0])
win = results["max"][i]
columns = st.columns(4)
in_title = text("input_title", shape=format_shape(grid.shape))
fig = number_grid_figure(grid, fmt="{:g}", boxes=[(*win.bounds, HIGHLIGHT)], title=in_title)
draw(columns[0], fig, "pool_pocket_in")
cell = (win.y, win.x, win.y, win.x, HIGHLIGHT)
methods = (("max", "max_title"), ("avg", "avg_title"), ("stride2", "sum_title"))
for col, (op, heading) in zip(columns[1:], methods, strict=True):
    pooled = pool2d(grid, op, kernel=KERNEL, stride=STRIDE)
    heading = text(heading, shape=format_shape(pooled.shape), kernel=KERNEL, stride=STRIDE)
    draw(col, number_grid_figure(pooled, fmt="{:g}", boxes=[cell], title=heading), f"pool_pocket_{op}")
numbers = ", ".join(f"{v:g}" for v in win.patch.ravel())
values = {"max": win.value, "avg": results["avg"][i].value, "sum": results["stride2"][i].value}
st.markdown(text("window_result", row=win.y, col=win.x, numbers=numbers, **values))
st.markdown(text("methods", cells=KERNEL * KERNEL, kernel=KERNEL, stride=STRIDE))
out = output_size(grid.shape[0], KERNEL, STRIDE)
st.markdown(text("size_rule", size=grid.shape[0], kernel=KERNEL, stride=STRIDE, out=out))
if dropped := edge_never_read(grid.shape[0], KERNEL, STRIDE):
    st.info(text("dropped", dropped=dropped))

# --- the real network ---------------------------------------------------------------------
st.header(text("real_heading"))
choice = choose_encoder("cnn", allow_random_toggle=True, key="pool_random")
subject = session.subject(choice)
title, size = choice.encoder.title, choice.encoder.preprocessing.crop
steps = downsampling_steps(cnn.structure(choice))
pools = [d for d in steps if d.kind.endswith("pool")]
if pools:
    p = pools[0]
    arithmetic = {"kernel": p.kernel[0], "stride": p.stride[0], "padding": p.padding[0]}
    kind = text(f"kind_{p.kind_id}")
    st.markdown(text("real_pool", model=title, count=len(steps), pool=p.name, kind=kind, **arithmetic))
else:
    strided = {"stride": steps[0].stride[0], "depthwise": sum(d.kind == "depthwise conv" for d in steps)}
    st.markdown(text("real_strided", model=title, count=len(steps), **strided))
rows = [{**d.row(), "kind": text(f"kind_{d.kind_id}")} for d in steps]
lesson_table(rows, text, "pool_steps", height="content")
st.caption(text("table_caption", model=title, size=size))

per_channel = {d.name: d for d in steps if d.per_channel}
label = lambda n: per_channel[n].label  # noqa: E731
name = st.selectbox(text("step_label"), list(per_channel), key="pool_step", format_func=label)
d = per_channel[name]
tr = cnn.step_values(subject, d.name, d.input, precision="float32")
if st.session_state.get("pool_shown") != (choice, d.name):  # a new step: its strongest channel and value
    st.session_state["pool_shown"] = (choice, d.name)
    st.session_state["pool_channel"] = int(strongest_channels(tr.array(d.name), 1)[0])
    peak = peak_position(tr.array(d.name)[0, st.session_state["pool_channel"]])
    st.session_state["pool_pos_row"], st.session_state["pool_pos_col"] = peak
channel = st.slider(text("channel_label"), 0, d.out_shape[0] - 1, key="pool_channel")
before, after = tr.array(d.input)[0, channel], tr.array(d.name)[0, channel]
st.caption(text("click_hint", channel=channel))
left, right = st.columns(2)
with right:
    labels = (text("row_label"), text("col_label"))
    after_title = text("after_title", step=d.name, shape=format_shape(d.out_shape))
    y, x = position_picker(map_image(after), after.shape, key="pool_pos", labels=labels, title=after_title)
pooling = d.kind.endswith("pool")
window = (cnn.pooled_window if pooling else cnn.breakdown)(subject, d.name, channel, y, x)
rows, cols = window.rows, window.cols
patch = window.patch if pooling else window.patch[0]
on = Box(int(rows[0]), int(cols[0]), int(rows[-1]), int(cols[-1])).clipped(*before.shape)
before_title = text("before_title", step=d.input, shape=format_shape(d.in_shape))
boxes = [(on.top, on.left, on.bottom, on.right, HIGHLIGHT)]
fig = picture(map_image(before), grid=before.shape, height=420, boxes=boxes, title=before_title)
draw(left, fig, "pool_before")

where = window_place(y, x, rows, cols)
pad = {"pad": padding_mask(rows, cols, before.shape), "missing": text("pad_label"), "height": 300}
window_title = text("window_title")
if pooling:
    a, b_col = st.columns(2)
    src = window.source_in_window
    marks = [] if src is None else [(*src, *src, SECOND)]
    draw(a, number_grid_figure(patch, fmt="{:.3f}", boxes=marks, title=window_title, **pad), "pool_window")
    if window.source is None:
        b_col.markdown(text("avg_window", **where, value=window.value))
    else:
        src_row, src_col = window.source
        b_col.markdown(text("pool_window", **where, value=window.value, src_row=src_row, src_col=src_col))
else:
    a, k_col, p_col = st.columns(3)
    signed = {"fmt": "{:.2f}", "colorscale": SIGNED["cmap"], "symmetric": True}
    draw(a, number_grid_figure(patch, fmt="{:.2f}", title=window_title, **pad), "pool_window")
    kernel = number_grid_figure(window.kernel[0], title=text("kernel_title"), height=300, **signed)
    draw(k_col, kernel, "pool_kernel")
    products = number_grid_figure(window.products[0], title=text("products_title"), **pad, **signed)
    draw(p_col, products, "pool_products")
    st.markdown(text("conv_window", **where, k=d.kernel[0], value=window.value, recorded=window.recorded))
st.markdown(text("takeaway"))
