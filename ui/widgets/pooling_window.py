"""The pooling page's real network, one step at a time: pick a down-sampling step and a channel,
click a cell of its output, and see the window of the input it was made from, with the numbers.
A part of the page (``ui.parts``): the step, the channel and the clicked cell rerun it alone."""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from lessons import Lesson
from ui.cached import cnn
from ui.charts.feature_maps import pooled_window, strided_window, window_on_map
from ui.charts.overlays import map_image
from ui.parts import part
from ui.session import Choice, Subject
from ui.widgets.cnn import opens_on
from ui.widgets.pickers import position_picker
from vision_core.cnn.pooling import Downsampling, padding_mask, window_place
from vision_core.cnn.stages import Box, format_shape, strongest_cell


@part
def step_window(text: Lesson, choice: Choice, subject: Subject, steps: Sequence[Downsampling]) -> None:
    """One per-channel step of ``steps``: its input and output maps, a clicked output cell's window."""
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
        y, x = position_picker(
            map_image(after), after.shape, key="pool_pos", labels=labels, title=after_title
        )
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
            text_col.markdown(
                text("pool_window", **where, value=window.value, src_row=src_row, src_col=src_col)
            )
    else:
        strided_window(window, pad, text)
        st.markdown(text("conv_window", **where, k=d.kernel[0], value=window.value, recorded=window.recorded))
