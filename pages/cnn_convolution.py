"""CNN 2 · Convolution: the pocket example as an editable sandbox, the real first layer of the chosen
encoder taken apart at any position, and a kernel / stride / padding / dilation sandbox."""

import numpy as np
import pandas as pd
import streamlit as st

from lessons import lesson
from ui import cache, show, state
from ui.grids import HIGHLIGHT, number_grid
from vision_core import figures
from vision_core.cnn import conv_sandbox, pixels
from vision_core.cnn.convolution import conv_macs, conv_params, output_size
from vision_core.cnn.pocket import POCKET_FILTERS, POCKET_IMAGE, sliding_windows
from vision_core.engine import encoders

text = lesson("cnn_convolution", state.lang())
photo = state.current_photo()
SIGNED = {"symmetric": True, "cmap": "RdBu_r"}  # red positive, blue negative, white zero
st.title(text("title"))
show.photo_error_banner()
st.markdown(text("intro"))


def editor(values: np.ndarray, key: str) -> np.ndarray:
    labels = [str(i) for i in range(values.shape[1])]
    number = st.column_config.NumberColumn(format="%g", width="small")
    table = pd.DataFrame(values, columns=labels)
    edited = st.data_editor(table, key=key, hide_index=True, column_config=dict.fromkeys(labels, number))
    return conv_sandbox.grid_from_table(edited)


# --- (a) the pocket example -----------------------------------------------------------------
st.header(text("pocket_heading"))
st.markdown(text("pocket_intro"))
version = st.session_state.setdefault("conv_pocket_version", 0)  # a new version resets the editors
cols = st.columns([4, 2, 2, 2])
with cols[0]:
    st.caption(text("picture_label"))
    picture = editor(POCKET_IMAGE, f"conv_pocket_picture_{version}")
kernels = {}
for col, (name, kernel) in zip(cols[1:3], POCKET_FILTERS.items(), strict=True):
    with col:
        st.caption(text("filter_label", name=name))
        kernels[name] = editor(kernel, f"conv_pocket_filter_{name}_{version}")
if cols[3].button(text("reset"), key="conv_pocket_reset", icon=":material/restart_alt:"):
    st.session_state["conv_pocket_version"] = version + 1
    st.rerun()

chosen = st.radio(
    text("slide_label"),
    list(kernels),
    format_func=lambda n: text("filter_label", name=n),
    horizontal=True,
    key="conv_pocket_filter",
)
kernel = kernels[chosen]
windows = sliding_windows(picture, kernel)
out_h, out_w = (output_size(n, k) for n, k in zip(picture.shape, kernel.shape, strict=True))
step = st.slider(text("window_label"), 1, len(windows), 1, key="conv_pocket_step")
win = windows[step - 1]
window_box = (int(win.rows[0]), int(win.cols[0]), int(win.rows[-1]), int(win.cols[-1]), HIGHLIGHT)
so_far = conv_sandbox.output_so_far(windows, step, (out_h, out_w))
cols = st.columns(4)
with cols[0]:
    number_grid(picture, fmt="{:g}", boxes=[window_box], title=text("grid_picture"))
with cols[1]:
    number_grid(kernel, fmt="{:g}", title=text("grid_filter", name=chosen), **SIGNED)
with cols[2]:
    number_grid(win.products, fmt="{:g}", title=text("grid_products"), **SIGNED)
with cols[3]:
    cell_box = (win.y, win.x, win.y, win.x, HIGHLIGHT)
    title = text("grid_output", name=chosen)
    number_grid(so_far, fmt="{:g}", missing="?", boxes=[cell_box], title=title)
terms = " + ".join(f"({p:g})" if p < 0 else f"{p:g}" for p in win.products.ravel())
st.markdown(text("window_sum", row=win.y, col=win.x, terms=terms, value=win.value))
st.markdown(text("pocket_size", size=picture.shape[0], k=kernel.shape[0], out=out_h, filters=len(kernels)))

# --- (b) the real first layer ---------------------------------------------------------------
st.header(text("real_heading"))
choice = show.choose_model("cnn", allow_random_toggle=True, key="conv_random")
model = show.load(choice)
model_title = encoders.get(choice.name).title
shapes = cache.shape_table(choice.name, encoders.get(choice.name).preprocessing.crop)
conv = next(s for s in shapes if s.kind == "conv")  # the first layer
meta = conv.meta
keep = (conv.name,)
tr = cache.traced(photo.key, photo.data, choice.name, choice.weights, keep=keep, stop_after=keep)
maps = tr.array(conv.name)[0]  # (F, H, W)
c_in, h_in, w_in = tr["input"].shape[1:]
f, h_out, w_out = maps.shape
(kh, kw), (sh, _), (dh, _) = meta["kernel"], meta["stride"], meta["dilation"]
st.markdown(text("real_intro", model=model_title, step=conv.name, filters=f, k=kh, channels=c_in, stride=sh))
channel = st.slider(text("channel_label"), 0, f - 1, 0, key="conv_channel")

left, right = st.columns(2)
with left:
    st.subheader(text("filters_heading"))
    tiles = figures.filters_mosaic(conv_sandbox.layer_weights(model, conv.name))
    scale = conv_sandbox.cell_scale(tiles.shape[1], 480)
    box = conv_sandbox.tile_box(channel, f, (kh, kw), scale=scale)
    crisp = pixels.draw_box(figures.enlarge(tiles, scale), box, width=3)
    st.image(crisp, width="stretch", output_format="PNG")
    st.caption(text("filters_caption", filters=f, k=kh, channels=c_in, channel=channel))
with right:
    st.subheader(text("maps_heading"))
    mosaic = figures.colorize_mosaic(figures.mosaic(maps, pad=3))
    box = conv_sandbox.tile_box(channel, f, (h_out, w_out), pad=3)
    st.image(pixels.draw_box(mosaic, box, width=4), width="stretch")
    st.caption(text("maps_caption", filters=f, height=h_out, width=w_out, channel=channel))

st.subheader(text("one_value_heading"))
pick, parts = st.columns([2, 3])
with pick:
    labels = (text("row"), text("col"))
    y, x = show.position_picker(
        figures.colorize(maps[channel]), (h_out, w_out), "conv_pos", labels=labels, height=360
    )
b = cache.breakdown(photo.key, photo.data, choice.name, choice.weights, conv.name, channel, y, x)
pad = conv_sandbox.padding_cells(b.rows, b.cols, h_in, w_in)
sums = conv_sandbox.channel_sums(b)
names = [text(f"in_{pixels.CHANNELS[i]}") if c_in == 3 else str(i) for i in b.in_channels]
with parts:
    st.markdown(
        text(
            "one_value_text",
            channel=channel,
            row=y,
            col=x,
            k=kh,
            channels=c_in,
            top=int(b.rows[0]),
            left=int(b.cols[0]),
            last=h_out - 1,
        )
    )
    for i, name in enumerate(names):
        cols = st.columns(3)
        with cols[0]:
            title = text("grid_patch", channel=name)
            number_grid(b.patch[i], fmt="{:.2f}", pad=pad, missing=text("pad_cell"), title=title, **SIGNED)
        with cols[1]:
            number_grid(b.kernel[i], fmt="{:.2f}", title=text("grid_kernel"), **SIGNED)
        with cols[2]:
            number_grid(b.products[i], fmt="{:.3f}", title=text("grid_sum", sum=sums[i]), **SIGNED)
if pad.any():
    top, bottom, pad_left, pad_right = meta["padding"]
    st.info(
        text(
            "padding_note",
            model=model_title,
            top=top,
            bottom=bottom,
            left=pad_left,
            right=pad_right,
            cells=int(pad.sum()),
        ),
        icon=":material/border_outer:",
    )
total = " + ".join(f"{n} ({s:.4f})" if s < 0 else f"{n} {s:.4f}" for n, s in zip(names, sums, strict=True))
st.markdown(text("value_sum", total=total, bias=b.bias, value=b.value))
if not meta["bias"]:
    st.caption(text("no_bias"))
m1, m2, m3 = st.columns(3)
m1.metric(text("metric_computed"), f"{b.value:.5f}")
m2.metric(text("metric_recorded"), f"{b.recorded:.5f}")
m3.metric(text("metric_difference"), f"{abs(b.value - b.recorded):.1e}")
st.markdown(text("value_same"))

st.subheader(text("formulas_heading"))
top, bottom = meta["padding"][:2]
out = output_size(h_in, kh, sh, (top, bottom), dh)
st.markdown(
    text("formula_size", size=h_in, top=top, bottom=bottom, d=dh, k=kh, s=sh, out=out, recorded=h_out)
)
params = conv_params(c_in, f, (kh, kw), meta["groups"], meta["bias"])
st.markdown(
    text(
        "formula_params" if meta["bias"] else "formula_params_nobias",
        filters=f,
        k=kh,
        channels=c_in,
        params=params,
        recorded=meta["params"],
    )
)
macs = conv_macs((f, h_out, w_out), c_in, (kh, kw), meta["groups"])
st.markdown(
    text(
        "formula_macs",
        height=h_out,
        width=w_out,
        filters=f,
        k=kh,
        channels=c_in,
        macs=macs,
        recorded=meta["macs"],
        per_value=kh * kw * c_in // meta["groups"],
    )
)

# --- (c) stride, padding, dilation, kernel size ---------------------------------------------
st.header(text("sandbox_heading"))
st.markdown(text("sandbox_intro"))
SIDE = 32
sources = {"photo": text("source_photo", side=SIDE), "pocket": text("source_pocket")}
source = st.radio(
    text("source_label"), list(sources), format_func=sources.get, horizontal=True, key="conv_sb_source"
)
if source == "photo":
    image = conv_sandbox.small_grayscale(cache.prepared(photo.key, photo.data, choice.name).cropped, SIDE)
else:
    image = picture
controls = st.columns(4)
k = controls[0].slider(text("k_label"), 1, 7, 3, key="conv_sb_k")
stride = controls[1].slider(text("stride_label"), 1, 4, 1, key="conv_sb_stride")
padding = controls[2].slider(text("padding_label"), 0, 3, 0, key="conv_sb_padding")
dilation = controls[3].slider(text("dilation_label"), 1, 3, 1, key="conv_sb_dilation")
options = conv_sandbox.sandbox_kernels(k)
kind = st.radio(
    text("kernel_label"),
    list(options),
    format_func=lambda n: text(f"kernel_{n}"),
    horizontal=True,
    key="conv_sb_kind",
)
res = conv_sandbox.sandbox_conv(image, options[kind], stride=stride, padding=padding, dilation=dilation)
n, padded = res.in_size[0], res.in_size[0] + 2 * padding
st.markdown(
    text("sandbox_formula", size=n, p=padding, d=dilation, k=k, s=stride, out=res.out_size[0], span=res.span)
)
if not res.fits:
    st.warning(text("sandbox_nofit", span=res.span, padded=padded), icon=":material/block:")
else:
    count = res.out_size[0] * res.out_size[1]
    cell = st.slider(text("cell_label"), 1, count, 1, key="conv_sb_cell") if count > 1 else 1
    cy, cx = divmod(cell - 1, res.out_size[1])
    factor = conv_sandbox.cell_scale(padded, 300)  # one scale for input and output: sizes compare
    signed = kind != "average"
    cols = st.columns([1, 2, 2])
    with cols[0]:
        number_grid(res.kernel, fmt="{:.2g}", title=text("grid_sb_kernel", k=k), **SIGNED)
    cols[1].image(
        conv_sandbox.footprint_picture(
            image, k, stride=stride, padding=padding, dilation=dilation, y=cy, x=cx, factor=factor
        ),
        caption=text("footprint_caption", size=n, padded=padded, row=cy, col=cx),
        output_format="PNG",
    )
    caption = text(
        f"sb_out_caption_{'edges' if signed else 'average'}",
        out=res.out_size[0],
        row=cy,
        col=cx,
        value=float(res.output[cy, cx]),
    )
    if max(res.out_size) <= 8:  # few enough cells to write the numbers in
        with cols[2]:
            number_grid(
                res.output,
                fmt="{:.2f}",
                boxes=[(cy, cx, cy, cx, HIGHLIGHT)],
                title=caption,
                **(SIGNED if signed else {"cmap": "gray"}),
            )
    else:
        cols[2].image(
            conv_sandbox.output_picture(res.output, signed=signed, y=cy, x=cx, factor=factor),
            caption=caption,
            output_format="PNG",
        )
st.caption(text("sandbox_note"))
