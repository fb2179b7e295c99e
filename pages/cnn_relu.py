"""CNN 3 · ReLU: the first activation of the chosen encoder on the learner's photo — one feature map
before and after, what share went to zero (and, for ReLU6, what share was capped) — and other
activation functions applied to the same values."""

import streamlit as st

from ui import session
from ui.cached import cnn
from ui.charts.grids import number_grid
from ui.charts.palette import scale_for, shared_bound
from ui.presenter import step
from ui.widgets import question
from ui.widgets.encoder import choose_encoder
from ui.widgets.grid_editor import pocket_grids
from ui.widgets.header import page_header
from ui.widgets.relu import channel_views
from vision_core.cnn import activations
from vision_core.cnn.pocket import is_syllabus, run_pocket_cnn

text = page_header("cnn_relu")

# --- the pocket example ---------------------------------------------------------------------
step(text("pocket_heading"))
picture, filters = pocket_grids()  # the learner's, as edited on the convolution page
pocket = run_pocket_cnn(picture, filters)
bound, cols = shared_bound(*pocket.conv.values()), iter(st.columns(4))  # one scale for all four
counts = {}
for name in pocket.conv:
    counts[name] = activations.activation_stats("relu", pocket.conv[name], pocket.relu[name])
    for label, values in (("grid_conv", pocket.conv[name]), ("grid_relu", pocket.relu[name])):
        with next(cols):
            number_grid(values, fmt="{:g}", title=text(label, name=name), **scale_for(values, bound))
a, b = counts["A"], counts["B"]
source = text("numbers_original" if is_syllabus(picture, filters) else "numbers_edited")
st.markdown(text("pocket_text", neg_a=a.negatives, neg_b=b.negatives, size=a.size, source=source))

# --- the real network -----------------------------------------------------------------------
step(text("real_heading"))
choice = choose_encoder("cnn", allow_random_toggle=True, key="relu_random")
relu = cnn.first_step(choice, "relu")  # the first activation
bn, function = relu.inputs[0], relu.meta["function"]
tr = cnn.step_values(session.subject(choice), relu.name, bn, precision="float32")
before, after = tr.array(bn)[0], tr.array(relu.name)[0]  # (C, H, W)
overall = activations.activation_stats(function, before, after)
cap, name = activations.CAPS[function], activations.TITLES[function]
c, h, w = before.shape
real = {"model": choice.encoder.title, "bn": bn, "relu": relu.name, "name": name, "cap": cap or 0}
st.markdown(text(f"real_{function}", channels=c, height=h, width=w, **real))
edges = activations.ZERO_BUCKETS
question.ask(
    "relu_zeroed",
    text("q_zeroed", bn=bn, name=name, count=overall.size),
    activations.zeroed_share_question(overall),
    text(
        "q_zeroed_why", name=name, zeroed=overall.zeroed, negative=overall.negative_before, count=overall.size
    ),
    format_func=lambda i: text("q_zeroed_bucket", lo=edges[i], hi=edges[i + 1]),
)

channel_views(text, function, bn, before, after, overall)
