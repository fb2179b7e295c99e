"""CNN 2 · Convolution: the pocket example as an editable sandbox, the real first layer of the chosen
encoder taken apart at any position, and a kernel / stride / padding / dilation sandbox."""

import streamlit as st

from ui import session
from ui.cached import cnn, core
from ui.charts.cnn import breakdown_grids, computed_vs_recorded, filters_and_maps, sandbox_cell, window_grids
from ui.charts.layout import draw
from ui.charts.palette import shared_bound
from ui.charts.sliding import FRAME_MS, cell_hover, separators
from ui.presenter import step
from ui.widgets import question
from ui.widgets.cnn import pocket_filter, sandbox_controls
from ui.widgets.encoder import choose_encoder
from ui.widgets.grid_editor import pocket_editors
from ui.widgets.header import page_header
from ui.widgets.linked import cell_and_field
from vision_core import figures
from vision_core.cnn import conv_sandbox, pixels
from vision_core.cnn.convolution import (
    conv_formulas,
    conv_shape_question,
    edge_windows,
    index_spans,
    output_shape,
)
from vision_core.cnn.pocket import run_pocket_cnn, sliding_windows
from vision_core.cnn.sliding import sweep, sweep_numbers

SIDE = 32  # the sandbox's photo, shrunk to SIDE × SIDE grey cells
text = page_header("cnn_convolution")

# --- (a) the pocket example -----------------------------------------------------------------
step(text("pocket_heading"))
st.markdown(text("pocket_intro"))
picture, kernels = pocket_editors(text)
chosen = pocket_filter(text, list(kernels))
kernel = kernels[chosen]
windows = sliding_windows(picture, kernel)
window = st.slider(text("window_label"), 1, len(windows), 1, key="conv_pocket_step")
win, out_shape = windows[window - 1], output_shape(picture.shape, kernel.shape)
bound = shared_bound(*run_pocket_cnn(picture, kernels).conv.values())  # one scale for maps A and B
window_grids(
    picture, kernel, win, conv_sandbox.output_so_far(windows, window, out_shape), text, chosen, bound
)
terms = conv_sandbox.sum_terms(win.products.ravel(), lambda v: text.num(v, "g"))
st.markdown(text("window_sum", row=win.y, col=win.x, terms=terms, value=win.value))
sizes = {"size": picture.shape[0], "k": kernel.shape[0], "out": out_shape[0], "filters": len(kernels)}
st.markdown(text("pocket_size", **sizes))

# --- (b) the real first layer ---------------------------------------------------------------
step(text("real_heading"))
choice = choose_encoder("cnn", allow_random_toggle=True, key="conv_random")
subject = session.subject(choice)
conv = cnn.first_step(choice, "conv")  # the first layer
tr = cnn.step_values(subject, conv.name)
maps = tr.array(conv.name)[0]  # (F, H, W)
meta, (c_in, h_in, w_in), (f, h_out, w_out) = conv.meta, tr["input"].shape[1:], maps.shape
kh, sh, model = meta["kernel"][0], meta["stride"][0], choice.encoder.title
st.markdown(text("real_intro", model=model, step=conv.name, filters=f, k=kh, channels=c_in, stride=sh))
formulas = conv_formulas(meta, (c_in, h_in, w_in), maps.shape)
question.ask(
    "conv_shape",
    text("q_shape", step=conv.name, height=h_in, width=w_in, channels=c_in),
    conv_shape_question(meta, (c_in, h_in, w_in)),
    text("q_shape_why", filters=f, width=w_out, **formulas["size"]),
    format_func=lambda shape: " × ".join(str(n) for n in shape),
)
channel = st.slider(text("channel_label"), 0, f - 1, 0, key="conv_channel")
filters = conv_sandbox.filters_picture(cnn.layer_weights(choice, conv.name), channel)
numbers = {"filters": f, "k": kh, "channels": c_in, "height": h_out, "width": w_out}
maps_picture = conv_sandbox.maps_picture(maps, channel)
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

st.subheader(text("formulas_heading"))
st.markdown(text("formula_size", **formulas["size"]))
st.markdown(text("formula_params" if meta["bias"] else "formula_params_nobias", **formulas["params"]))
st.markdown(text("formula_macs", **formulas["macs"]))

# --- (c) stride, padding, dilation, kernel size ---------------------------------------------
step(text("sandbox_heading"))
st.markdown(text("sandbox_intro"))
controls = sandbox_controls(text, SIDE)
photo = controls.source == "photo"
image = conv_sandbox.small_grayscale(core.prepared(subject).cropped, SIDE) if photo else picture
res = conv_sandbox.sandbox_conv(image, controls.kernel, **controls.settings)
sizes = {"size": res.in_size[0], "p": res.padding, "d": res.dilation, "k": controls.k, "s": res.stride}
st.markdown(text("sandbox_formula", out=res.out_size[0], span=res.span, **sizes))
if not res.fits:
    st.warning(text("sandbox_nofit", span=res.span, padded=res.padded), icon=":material/block:")
else:
    cell = st.slider(text("cell_label"), 1, res.cells, 1, key="conv_sb_cell") if res.cells > 1 else 1
    sandbox_cell(text, image, res, res.cell(cell), signed=controls.kind != "average")
st.caption(text("sandbox_note"))
