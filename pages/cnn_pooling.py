"""CNN 4 · Pooling: max, average and stride 2 on the pocket example, then the real network's
down-sampling (ResNet's max-pool, or EfficientNet-Lite0's strided convolutions) window by window."""

import streamlit as st

from ui import session
from ui.cached import cnn
from ui.charts.feature_maps import pocket_pooling
from ui.charts.tables import lesson_table
from ui.presenter import step
from ui.widgets import question
from ui.widgets.cnn import pooling_window
from ui.widgets.encoder import choose_encoder
from ui.widgets.grid_editor import pocket_grids
from ui.widgets.header import page_header
from ui.widgets.pooling_window import step_window
from vision_core.cnn.convolution import output_size
from vision_core.cnn.pocket import POOL_KERNEL, POOL_STRIDE, Pooling, is_syllabus, pool2d, run_pocket_cnn
from vision_core.cnn.pooling import (
    depthwise_count,
    downsampling_steps,
    edge_never_read,
    first_pool,
    grid_sizes,
    parallel_steps,
    pool_windows,
    shrink_count_question,
    shrink_factor,
)
from vision_core.cnn.stages import format_shape

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

step_window(text, choice, subject, steps)
st.markdown(text("takeaway"))
