"""CNN 2 · Convolution: the pocket example as an editable sandbox, the real first layer of the chosen
encoder taken apart at any position, and a kernel / stride / padding / dilation sandbox."""

import streamlit as st

from ui import session
from ui.cached import cnn, core
from ui.charts.cnn import sandbox_cell, window_grids
from ui.charts.palette import shared_bound
from ui.presenter import step
from ui.widgets import question
from ui.widgets.cnn import pocket_filter, sandbox_controls
from ui.widgets.conv_layer import feature_map
from ui.widgets.encoder import choose_encoder
from ui.widgets.grid_editor import pocket_editors
from ui.widgets.header import page_header
from vision_core.cnn import conv_sandbox
from vision_core.cnn.convolution import (
    conv_formulas,
    conv_shape_question,
    output_shape,
)
from vision_core.cnn.pocket import run_pocket_cnn, sliding_windows

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
feature_map(text, choice, subject, conv, tr)

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
