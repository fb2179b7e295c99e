"""CNN 3 · ReLU: the first activation of the chosen encoder on the learner's photo — one feature map
before and after, what share went to zero (and, for ReLU6, what share was capped) — and other
activation functions applied to the same values."""

import plotly.graph_objects as go
import streamlit as st

from lessons import lesson
from ui import cache, feature_views, grids, show, state
from vision_core.cnn import activations
from vision_core.cnn.pocket import run_pocket_cnn
from vision_core.engine import encoders

text = lesson("cnn_relu", state.lang())
photo = state.current_photo()
PLAIN = {"displayModeBar": False}
SIGNED = {"cmap": "RdBu_r", "symmetric": True}  # red positive, blue negative, white zero
st.title(text("title"))
show.photo_error_banner()
st.markdown(text("intro"))

# --- the pocket example ---------------------------------------------------------------------
st.header(text("pocket_heading"))
pocket = run_pocket_cnn()
cols = iter(st.columns(4))
counts = {}
for name in pocket.conv:
    counts[name] = activations.activation_stats("relu", pocket.conv[name], pocket.relu[name])
    for label, values in (("grid_conv", pocket.conv[name]), ("grid_relu", pocket.relu[name])):
        with next(cols):
            grids.number_grid(values, fmt="{:g}", symmetric=True, cmap="RdBu_r", title=text(label, name=name))
a, b = counts["A"], counts["B"]
st.markdown(text("pocket_text", neg_a=a.negatives, neg_b=b.negatives, size=a.size))

# --- the real network -----------------------------------------------------------------------
st.header(text("real_heading"))
choice = show.choose_model("cnn", allow_random_toggle=True, key="relu_random")
title = encoders.get(choice.name).title
relu = next(
    s
    for s in cache.shape_table(choice.name, encoders.get(choice.name).preprocessing.crop)
    if s.kind == "relu"
)  # the first activation
bn, function = relu.inputs[0], relu.meta["function"]
tr = cache.traced(
    photo.key,
    photo.data,
    choice.name,
    choice.weights,
    keep=(bn, relu.name),
    stop_after=(relu.name,),
    precision="float32",
)
before, after = tr.array(bn)[0], tr.array(relu.name)[0]  # (C, H, W)
overall = activations.activation_stats(function, before, after)
cap = activations.CAPS[function]
name = activations.TITLES[function]
c, h, w = before.shape
st.markdown(
    text(
        f"real_{function}",
        model=title,
        bn=bn,
        relu=relu.name,
        name=name,
        cap=cap or 0,
        channels=c,
        height=h,
        width=w,
    )
)

if "relu_channel" not in st.session_state:
    st.session_state["relu_channel"] = activations.balanced_channel(after)
st.session_state["relu_channel"] = min(st.session_state["relu_channel"], c - 1)
channel = st.slider(text("channel_label"), 0, c - 1, key="relu_channel", help=text("channel_help"))
one = activations.activation_stats(function, before[channel], after[channel])
metrics = st.columns(4 if cap else 2)
metrics[0].metric(text("metric_zero_all"), f"{overall.zeroed:.1%}")
metrics[1].metric(text("metric_zero_channel", channel=channel), f"{one.zeroed:.1%}")
if cap:
    metrics[2].metric(text("metric_capped_all", cap=cap), f"{overall.capped:.2%}")
    metrics[3].metric(text("metric_capped_channel", channel=channel, cap=cap), f"{one.capped:.2%}")
    capped = activations.channel_capped_fractions(after, cap)
    st.caption(text("most_capped", cap=cap, channel=int(capped.argmax()), share=float(capped.max())))

bound = max(abs(one.before[0]), abs(one.before[1]))  # one colour scale for before and after
cols = st.columns(3)
cols[0].image(
    feature_views.map_image(before[channel], vmax=bound, **SIGNED),
    width="stretch",
    caption=text("before_caption", bn=bn, lo=one.before[0], hi=one.before[1]),
)
cols[1].image(
    feature_views.map_image(after[channel], vmax=bound, **SIGNED),
    width="stretch",
    caption=text("after_caption", name=name, lo=one.after[0], hi=one.after[1]),
)
centres, freq, width = activations.histogram(before[channel])
lo, hi = activations.curve_range(before[channel])
xs, ys = activations.curve(function, lo, hi)
fig = go.Figure(
    go.Bar(
        x=centres, y=freq, width=width, yaxis="y2", opacity=0.6, marker_color="#9ab", name=text("hist_name")
    )
)
fig.add_trace(go.Scatter(x=xs, y=ys, name=name, line={"color": "#ff2d55", "width": 3}))
fig.update_layout(
    height=330,
    margin={"l": 0, "r": 0, "t": 30, "b": 0},
    title=text("hist_title", channel=channel),
    xaxis={"title": text("axis_in")},
    yaxis={"title": text("axis_out")},
    yaxis2={"overlaying": "y", "side": "right", "showgrid": False, "title": text("axis_count")},
    legend={"orientation": "h", "y": -0.25},
)
cols[2].plotly_chart(fig, key="relu_hist", config=PLAIN)
st.markdown(text("negative_text", negative=one.negative_before, zeroed=one.zeroed, channel=channel))
check = activations.max_difference(activations.apply(function, before), after)
st.caption(text("check_text", name=name, difference=check, count=overall.size))

# --- other activations ----------------------------------------------------------------------
st.header(text("others_heading"))
st.markdown(text("others_intro"))
slope = st.slider(
    text("slope_label"),
    0.0,
    0.5,
    0.1,
    0.01,
    key="relu_slope",
    help=text("slope_help", default=activations.LEAKY_SLOPE),
)
plot, maps = st.columns([2, 3])
fig = go.Figure()
dashes = dict(zip(activations.ACTIVATIONS, ("solid", "dash", "dot", "dashdot", "longdash"), strict=True))
for other in activations.ACTIVATIONS:
    xs, ys = activations.curve(other, lo, hi, slope=slope)
    fig.add_trace(
        go.Scatter(
            x=xs,
            y=ys,
            name=activations.TITLES[other],
            line={"width": 4 if other == function else 2, "dash": dashes[other]},
        )
    )
fig.update_layout(
    height=380,
    margin={"l": 0, "r": 0, "t": 30, "b": 0},
    title=text("curves_title"),
    xaxis={"title": text("axis_in")},
    yaxis={"title": text("axis_out")},
    legend={"orientation": "h", "y": -0.2},
)
plot.plotly_chart(fig, key="relu_curves", config=PLAIN)
grid = maps.columns(3)
for i, other in enumerate(activations.ACTIVATIONS):
    result = activations.apply(other, before[channel], slope=slope)
    s = activations.activation_stats(other, before[channel], result, slope=slope)
    grid[i % 3].image(
        feature_views.map_image(result, vmax=bound, side=224, **SIGNED),
        width="stretch",
        caption=text(
            "other_caption", name=activations.TITLES[other], zeroed=s.zeroed, lo=s.after[0], hi=s.after[1]
        ),
    )
st.markdown(text("others_text"))
