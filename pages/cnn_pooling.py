"""CNN 4 · Pooling: max, average and stride 2 on the pocket example, then the real network's
down-sampling (ResNet's max-pool, or EfficientNet-Lite0's strided convolutions) window by window."""

import streamlit as st

from ui import session
from ui.cached import cnn
from ui.charts.feature_maps import pocket_pooling, pooled_window, strided_window, window_on_map
from ui.charts.overlays import map_image
from ui.charts.tables import lesson_table
from ui.presenter import step
from ui.widgets import question
from ui.widgets.cnn import opens_on, pooling_window
from ui.widgets.encoder import choose_encoder
from ui.widgets.grid_editor import pocket_grids
from ui.widgets.header import page_header
from ui.widgets.pickers import position_picker
from vision_core.cnn.convolution import output_size
from vision_core.cnn.pocket import POOL_KERNEL, POOL_STRIDE, Pooling, is_syllabus, pool2d, run_pocket_cnn
from vision_core.cnn.pooling import (
    depthwise_count,
    downsampling_steps,
    edge_never_read,
    first_pool,
    grid_sizes,
    padding_mask,
    parallel_steps,
    pool_windows,
    shrink_count_question,
    shrink_factor,
    window_place,
)
from vision_core.cnn.stages import Box, format_shape, strongest_cell

text = page_header("cnn_pooling")

# --- the pocket example -------------------------------------------------------------------
step(text("pocket_heading"))
KERNEL, STRIDE = POOL_KERNEL, POOL_STRIDE
OPS: tuple[Pooling, ...] = ("max", "avg", "stride2")
picture, filters = pocket_grids()  # the learner's, as edited on the convolution page
source = text("numbers_original" if is_syllabus(picture, filters) else "numbers_edited")
st.markdown(text("pocket_intro", kernel=KERNEL, stride=STRIDE, source=source))
pocket = run_pocket_cnn(picture, filters)
grids = {"map_picture": picture, "map_relu_a": pocket.relu["A"], "map_relu_b": pocket.relu["B"]}
label = text("map_label")
which = session.remembered_choice(
    st.radio, "pool_pocket_map", list(grids), "map_picture", label=label, format_func=text, horizontal=True
)
grid = grids[which]
results = {op: pool_windows(grid, op, kernel=KERNEL, stride=STRIDE) for op in OPS}
i = pooling_window(text, [f"({w.y}, {w.x})" for w in results["max"]])
win = results["max"][i]
pooled = {op: pool2d(grid, op, kernel=KERNEL, stride=STRIDE) for op in OPS}
pocket_pooling(grid, win, pooled, text, KERNEL, STRIDE)
numbers = ", ".join(text.num(v, "g") for v in win.patch.ravel())
values = {"max": win.value, "avg": results["avg"][i].value, "sum": results["stride2"][i].value}
st.markdown(text("window_result", row=win.y, col=win.x, numbers=numbers, **values))
st.markdown(text("methods", cells=win.patch.size, kernel=KERNEL, stride=STRIDE))
out = output_size(grid.shape[0], KERNEL, STRIDE)
st.markdown(text("size_rule", size=grid.shape[0], kernel=KERNEL, stride=STRIDE, out=out))
if dropped := edge_never_read(grid.shape[0], KERNEL, STRIDE):
    st.info(text("dropped", dropped=dropped))

# --- the real network ---------------------------------------------------------------------
step(text("real_heading"))
choice = choose_encoder("cnn", allow_random_toggle=True, key="pool_random")
subject = session.subject(choice)
title, size = choice.encoder.title, choice.encoder.preprocessing.crop
steps = downsampling_steps(cnn.structure(choice))
sizes = grid_sizes(steps)
shrinks = {"model": title, "count": len(sizes) - 1, "sizes": " → ".join(format_shape(s) for s in sizes)}
first_grid, last_grid = (format_shape(s) for s in (sizes[0], sizes[-1]))
question.ask(
    "pool_shrinks",
    text("q_shrinks", model=title, first=first_grid, last=last_grid),
    shrink_count_question(sizes),
    text("q_shrinks_why", **shrinks, factor=shrink_factor(sizes)),
)
if p := first_pool(steps):
    arithmetic = {"kernel": p.kernel[0], "stride": p.stride[0], "padding": p.padding[0]}
    kind = text(f"kind_{p.kind_id}")
    st.markdown(text("real_pool", pool=p.name, kind=kind, **shrinks, **arithmetic))
else:
    strided = {"stride": steps[0].stride[0], "depthwise": depthwise_count(steps)}
    st.markdown(text("real_strided", **shrinks, **strided))
rows = [{**d.row(), "kind": text(f"kind_{d.kind_id}")} for d in steps]
lesson_table(rows, text, "pool_steps", height="content")
st.caption(text("table_caption", model=title, size=size))
if parallel := parallel_steps(steps):
    names = ", ".join(f"`{d.name}`" for d in parallel)
    st.markdown(text("parallel_note", steps=len(steps), count=shrinks["count"], names=names))

per_channel = {d.name: d for d in steps if d.per_channel}
describe = lambda n: per_channel[n].label  # noqa: E731
name = st.selectbox(text("step_label"), list(per_channel), key="pool_step", format_func=describe)
d = per_channel[name]
tr = cnn.step_values(subject, d.name, d.input, precision="float32")
peak_channel, peak_row, peak_col = strongest_cell(tr.array(d.name))
start = {"pool_channel": peak_channel, "pool_pos_row": peak_row, "pool_pos_col": peak_col}
opens_on("pool_shown", (choice, d.name), start)  # a new step: its strongest channel and value
channel = st.slider(text("channel_label"), 0, d.out_shape[0] - 1, key="pool_channel")
before, after = tr.array(d.input)[0, channel], tr.array(d.name)[0, channel]
st.caption(text("click_hint", channel=channel))
left, right = st.columns(2)
with right:
    labels = (text("row_label"), text("col_label"))
    after_title = text("after_title", step=d.name, shape=format_shape(d.out_shape))
    y, x = position_picker(map_image(after), after.shape, key="pool_pos", labels=labels, title=after_title)
window = (cnn.pooled_window if d.pooling else cnn.breakdown)(subject, d.name, channel, y, x)
before_title = text("before_title", step=d.input, shape=format_shape(d.in_shape))
window_on_map(left, before, Box.spanning(window.rows, window.cols).clipped(*before.shape), before_title)

where = window_place(y, x, window.rows, window.cols)
pad = padding_mask(window.rows, window.cols, before.shape)
if d.pooling:
    grid_col, text_col = st.columns(2)
    pooled_window(grid_col, window, pad, text)
    if window.source is None:
        text_col.markdown(text("avg_window", **where, value=window.value))
    else:
        src_row, src_col = window.source
        text_col.markdown(text("pool_window", **where, value=window.value, src_row=src_row, src_col=src_col))
else:
    strided_window(window, pad, text)
    st.markdown(text("conv_window", **where, k=d.kernel[0], value=window.value, recorded=window.recorded))
st.markdown(text("takeaway"))
