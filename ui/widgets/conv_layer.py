"""The convolution page's real first layer, one feature map at a time: the chosen filter and its
map among all of them, the map's sweep over the photo, and one value of it taken apart at a clicked
cell. A part of the page (``ui.parts``): moving the filter or clicking a cell reruns this alone."""

from __future__ import annotations

import streamlit as st

from lessons import Lesson
from ui.cached import cnn, core
from ui.charts.cnn import breakdown_grids, computed_vs_recorded, filters_and_maps
from ui.charts.layout import draw
from ui.charts.sliding import FRAME_MS, cell_hover, separators
from ui.parts import part
from ui.session import Choice, Subject
from ui.widgets.linked import cell_and_field
from vision_core import figures
from vision_core.cnn import conv_sandbox, pixels
from vision_core.cnn.convolution import edge_windows, index_spans
from vision_core.cnn.sliding import sweep, sweep_numbers
from vision_core.engine.trace import Step, Trace


@part
def feature_map(text: Lesson, choice: Choice, subject: Subject, conv: Step, tr: Trace) -> None:
    """The filter slider and everything drawn for the filter it picks."""
    maps = tr.array(conv.name)[0]  # (F, H, W)
    meta, (c_in, h_in, w_in), (f, h_out, w_out) = conv.meta, tr["input"].shape[1:], maps.shape
    kh, sh, model = meta["kernel"][0], meta["stride"][0], choice.encoder.title
    channel = st.slider(text("channel_label"), 0, f - 1, 0, key="conv_channel")
    filters = conv_sandbox.filters_picture(cnn.layer_weights(choice, conv.name), channel)
    numbers = {"filters": f, "k": kh, "channels": c_in, "height": h_out, "width": w_out}
    maps_picture = conv_sandbox.outline_map(cnn.maps_mosaic(subject, conv.name), channel, f, (h_out, w_out))
    filters_and_maps(text, filters, maps_picture, numbers=numbers, channel=channel, trained=choice.trained)

    image, photo = figures.colorize(maps[channel]), core.prepared(subject).pixels
    cells, plan = cnn.conv_cells(subject, conv.name, channel), sweep((h_out, w_out), meta)
    st.subheader(text("sweep_heading", channel=channel))
    st.markdown(text("sweep_intro", **sweep_numbers(plan, meta, FRAME_MS), channel=channel))
    draw(st, cnn.sweep_chart(subject, conv.name, channel, text.lang), "conv_sweep")

    st.subheader(text("one_value_heading"))
    pick, parts = st.columns([2, 3])
    names = [text(f"in_{pixels.CHANNELS[i]}") if c_in == 3 else str(i) for i in cells.in_channels]
    linked = {"labels": (text("row"), text("col")), "height": 360, "photo_height": 360}
    linked |= {"hover": cell_hover(cells, names, text), "layout_extra": separators(text.lang)}
    linked["photo_title"] = lambda r, c: text("field_title", row=r, col=c)
    y, x, _ = cell_and_field(pick, pick, image, tr, conv.name, photo, key="conv_pos", **linked)
    b = cnn.breakdown(subject, conv.name, channel, y, x)
    pad = conv_sandbox.padding_cells(b.rows, b.cols, h_in, w_in)
    shown = conv_sandbox.shown_breakdown(b)  # rounded so that every sum shown adds up
    where = {"top": int(b.rows[0]), "left": int(b.cols[0])}
    top, bottom, left, right = meta["padding"]
    edges = [edge_windows(n, kh, sh, pads) for n, pads in ((h_in, (top, bottom)), (w_in, (left, right)))]
    rows, cols = (", ".join(f"{a}–{z}" if z > a else f"{a}" for a, z in index_spans(e)) for e in edges)
    edge = text("edge_text", rows=rows, cols=cols) if rows or cols else text("edge_none")
    one_value = text("one_value_text", channel=channel, row=y, col=x, k=kh, channels=c_in, **where)
    parts.markdown(f"{one_value} {edge}")
    breakdown_grids(parts, shown, pad, names, shown.sums, text)
    if pad.any():
        padding = {"top": top, "bottom": bottom, "left": left, "right": right}
        rule = "padding_note" if (top, left) == (bottom, right) else "padding_note_same"
        note = text(rule, model=model, cells=int(pad.sum()), **padding)
        st.info(note, icon=":material/border_outer:")
    places = f".{shown.decimals}f"
    total = conv_sandbox.sum_terms(shown.sums, lambda v: text.num(v, places), names=names)
    written = {"bias": text.num(shown.bias, places), "value": text.num(shown.value, places)}
    st.markdown(text("value_sum", total=total, decimals=shown.decimals, **written))
    if not meta["bias"]:
        st.caption(text("no_bias"))
    computed_vs_recorded(b, text)
    st.markdown(text("value_same"))
