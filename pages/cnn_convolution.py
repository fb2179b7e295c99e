"""CNN 2 · Convolution: the pocket example as an editable sandbox, the real first layer of the chosen
encoder taken apart at any position, and a kernel / stride / padding / dilation sandbox."""

import streamlit as st

from ui import session
from ui.cached import cnn, core
from ui.charts.cnn import breakdown_grids, sandbox_output, window_grids
from ui.charts.grids import number_grid
from ui.charts.palette import SIGNED
from ui.widgets.encoder import choose_encoder
from ui.widgets.grid_editor import conv_settings, pocket_editors
from ui.widgets.header import page_header
from ui.widgets.pickers import position_picker
from vision_core import figures
from vision_core.cnn import conv_sandbox, pixels
from vision_core.cnn.convolution import conv_formulas, output_size
from vision_core.cnn.pocket import sliding_windows

text = page_header("cnn_convolution")

# --- (a) the pocket example -----------------------------------------------------------------
st.header(text("pocket_heading"))
st.markdown(text("pocket_intro"))
picture, kernels = pocket_editors(text)
label = lambda n: text("filter_label", name=n)  # noqa: E731
chosen = st.radio(
    text("slide_label"), list(kernels), format_func=label, horizontal=True, key="conv_pocket_filter"
)
kernel = kernels[chosen]
windows = sliding_windows(picture, kernel)
out_h, out_w = (output_size(n, k) for n, k in zip(picture.shape, kernel.shape, strict=True))
step = st.slider(text("window_label"), 1, len(windows), 1, key="conv_pocket_step")
win = windows[step - 1]
so_far = conv_sandbox.output_so_far(windows, step, (out_h, out_w))
titles = [text("grid_picture"), text("grid_filter", name=chosen), text("grid_products")]
window_grids(picture, kernel, win, so_far, [*titles, text("grid_output", name=chosen)])
terms = conv_sandbox.sum_terms(win.products.ravel())
st.markdown(text("window_sum", row=win.y, col=win.x, terms=terms, value=win.value))
st.markdown(text("pocket_size", size=picture.shape[0], k=kernel.shape[0], out=out_h, filters=len(kernels)))

# --- (b) the real first layer ---------------------------------------------------------------
st.header(text("real_heading"))
choice = choose_encoder("cnn", allow_random_toggle=True, key="conv_random")
subject = session.subject(choice)
conv = cnn.first_step(choice, "conv")  # the first layer
meta = conv.meta
tr = cnn.step_values(subject, conv.name)
maps = tr.array(conv.name)[0]  # (F, H, W)
c_in, h_in, w_in = tr["input"].shape[1:]
f, h_out, w_out = maps.shape
kh, sh = meta["kernel"][0], meta["stride"][0]
model = choice.encoder.title
st.markdown(text("real_intro", model=model, step=conv.name, filters=f, k=kh, channels=c_in, stride=sh))
channel = st.slider(text("channel_label"), 0, f - 1, 0, key="conv_channel")

left, right = st.columns(2)
left.subheader(text("filters_heading"))
filters = conv_sandbox.filters_picture(cnn.layer_weights(choice, conv.name), channel)
left.image(filters, width="stretch", output_format="PNG")
left.caption(text("filters_caption", filters=f, k=kh, channels=c_in, channel=channel))
right.subheader(text("maps_heading"))
right.image(conv_sandbox.maps_picture(maps, channel), width="stretch")
right.caption(text("maps_caption", filters=f, height=h_out, width=w_out, channel=channel))

st.subheader(text("one_value_heading"))
pick, parts = st.columns([2, 3])
with pick:
    labels = (text("row"), text("col"))
    image = figures.colorize(maps[channel])
    y, x = position_picker(image, (h_out, w_out), "conv_pos", labels=labels, height=360)
b = cnn.breakdown(subject, conv.name, channel, y, x)
pad = conv_sandbox.padding_cells(b.rows, b.cols, h_in, w_in)
sums = conv_sandbox.channel_sums(b)
names = [text(f"in_{pixels.CHANNELS[i]}") if c_in == 3 else str(i) for i in b.in_channels]
where = {"top": int(b.rows[0]), "left": int(b.cols[0]), "last": h_out - 1}
parts.markdown(text("one_value_text", channel=channel, row=y, col=x, k=kh, channels=c_in, **where))
rows = zip(names, sums, strict=True)
titles = [(text("grid_patch", channel=n), text("grid_kernel"), text("grid_sum", sum=s)) for n, s in rows]
breakdown_grids(parts, b, pad, text("pad_cell"), titles)
if pad.any():
    padding = dict(zip(("top", "bottom", "left", "right"), meta["padding"], strict=True))
    note = text("padding_note", model=model, cells=int(pad.sum()), **padding)
    st.info(note, icon=":material/border_outer:")
total = conv_sandbox.sum_terms(sums, "{:.4f}", names=names)
st.markdown(text("value_sum", total=total, bias=b.bias, value=b.value))
if not meta["bias"]:
    st.caption(text("no_bias"))
m1, m2, m3 = st.columns(3)
m1.metric(text("metric_computed"), f"{b.value:.5f}")
m2.metric(text("metric_recorded"), f"{b.recorded:.5f}")
m3.metric(text("metric_difference"), f"{abs(b.value - b.recorded):.1e}")
st.markdown(text("value_same"))

st.subheader(text("formulas_heading"))
formulas = conv_formulas(meta, (c_in, h_in, w_in), maps.shape)
st.markdown(text("formula_size", **formulas["size"]))
st.markdown(text("formula_params" if meta["bias"] else "formula_params_nobias", **formulas["params"]))
st.markdown(text("formula_macs", **formulas["macs"]))

# --- (c) stride, padding, dilation, kernel size ---------------------------------------------
st.header(text("sandbox_heading"))
st.markdown(text("sandbox_intro"))
SIDE = 32
sources = {"photo": text("source_photo", side=SIDE), "pocket": text("source_pocket")}
source = st.radio(
    text("source_label"), list(sources), format_func=sources.get, horizontal=True, key="conv_sb_source"
)
image = conv_sandbox.small_grayscale(core.prepared(subject).cropped, SIDE) if source == "photo" else picture
k, settings = conv_settings(text)
options = conv_sandbox.sandbox_kernels(k)
kind_name = lambda n: text(f"kernel_{n}")  # noqa: E731
kind = st.radio(
    text("kernel_label"), list(options), format_func=kind_name, horizontal=True, key="conv_sb_kind"
)
res = conv_sandbox.sandbox_conv(image, options[kind], **settings)
n, p = res.in_size[0], settings["padding"]
sizes = {"size": n, "p": p, "d": settings["dilation"], "k": k, "s": settings["stride"]}
st.markdown(text("sandbox_formula", out=res.out_size[0], span=res.span, **sizes))
if not res.fits:
    st.warning(text("sandbox_nofit", span=res.span, padded=n + 2 * p), icon=":material/block:")
else:
    count = res.out_size[0] * res.out_size[1]
    cell = st.slider(text("cell_label"), 1, count, 1, key="conv_sb_cell") if count > 1 else 1
    cy, cx = divmod(cell - 1, res.out_size[1])
    factor = conv_sandbox.cell_scale(n + 2 * p, 300)  # one scale for input and output: sizes compare
    signed = kind != "average"
    cols = st.columns([1, 2, 2])
    with cols[0]:
        number_grid(res.kernel, fmt="{:.2g}", title=text("grid_sb_kernel", k=k), **SIGNED)
    footprint = conv_sandbox.footprint_picture(image, k, **settings, y=cy, x=cx, factor=factor)
    caption = text("footprint_caption", size=n, padded=n + 2 * p, row=cy, col=cx)
    cols[1].image(footprint, caption=caption, output_format="PNG")
    out = {"out": res.out_size[0], "row": cy, "col": cx, "value": float(res.output[cy, cx])}
    caption = text(f"sb_out_caption_{'edges' if signed else 'average'}", **out)
    sandbox_output(cols[2], res.output, (cy, cx), signed=signed, factor=factor, caption=caption)
st.caption(text("sandbox_note"))
