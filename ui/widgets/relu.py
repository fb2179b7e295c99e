"""The ReLU page's one channel: its share set to zero (or capped), the map before and after the
activation on one colour scale, the histogram under the function, and the other activations applied
to the same values. A part of the page (``ui.parts``): moving the channel or the slope reruns this
alone."""

from __future__ import annotations

import numpy as np
import streamlit as st

from lessons import Lesson
from ui.charts import cnn as charts
from ui.charts.layout import draw
from ui.charts.overlays import map_image
from ui.charts.palette import SIGNED
from ui.parts import part
from ui.presenter import step
from vision_core.cnn import activations
from vision_core.cnn.activations import ActivationStats


@part
def channel_views(
    text: Lesson, function: str, bn: str, before: np.ndarray, after: np.ndarray, overall: ActivationStats
) -> None:
    """The channel slider and everything drawn for the channel it picks (``before`` and ``after``:
    the (C, H, W) values around the activation ``function``, ``overall`` its counts over all)."""
    cap, name = activations.CAPS[function], activations.TITLES[function]
    c = before.shape[0]
    if "relu_channel" not in st.session_state:
        st.session_state["relu_channel"] = activations.balanced_channel(after)
    st.session_state["relu_channel"] = min(st.session_state["relu_channel"], c - 1)
    channel = st.slider(text("channel_label"), 0, c - 1, key="relu_channel", help=text("channel_help"))
    one = activations.activation_stats(function, before[channel], after[channel])
    metrics = st.columns(4 if cap else 2)
    metrics[0].metric(text("metric_zero_all"), text.num(overall.zeroed, ".1%"))
    metrics[1].metric(text("metric_zero_channel", channel=channel), text.num(one.zeroed, ".1%"))
    if cap:
        metrics[2].metric(text("metric_capped_all", cap=cap), text.num(overall.capped, ".2%"))
        metrics[3].metric(
            text("metric_capped_channel", channel=channel, cap=cap), text.num(one.capped, ".2%")
        )
        capped = activations.channel_capped_fractions(after, cap)
        st.caption(text("most_capped", cap=cap, channel=int(capped.argmax()), share=float(capped.max())))

    cols = st.columns(3)  # one colour scale for before and after, that one outlier does not set
    vmax = activations.colour_bound(before[channel])
    before_caption = text("before_caption", bn=bn, lo=one.before[0], hi=one.before[1])
    cols[0].image(map_image(before[channel], vmax=vmax, **SIGNED), width="stretch", caption=before_caption)
    after_caption = text("after_caption", name=name, lo=one.after[0], hi=one.after[1])
    cols[1].image(map_image(after[channel], vmax=vmax, **SIGNED), width="stretch", caption=after_caption)
    lo, hi = activations.curve_range(before[channel])
    axes = (text("axis_in"), text("axis_out"), text("axis_count"))
    hist = activations.histogram(before[channel])
    fig = charts.histogram_under_curve(
        hist,
        activations.curve(function, lo, hi),
        (text("hist_name"), name),
        axes,
        text("hist_title", channel=channel),
        [(t, text.num(t, ",.0f")) for t in activations.nice_ticks(float(hist[1].max()))],
    )
    draw(cols[2], fig, "relu_hist")
    st.caption(text("scale_note", bound=vmax, percentile=activations.ROBUST_PERCENTILE / 100))
    st.markdown(text("negative_text", negative=one.negative_before, zeroed=one.zeroed, channel=channel))
    check = activations.max_difference(activations.apply(function, before), after)
    st.caption(text("check_text", name=name, difference=check, count=overall.size))

    # --- other activations ----------------------------------------------------------------------
    step(text("others_heading"))
    st.markdown(text("others_intro"))
    help_text = text("slope_help", default=activations.LEAKY_SLOPE)
    slope = st.slider(text("slope_label"), 0.0, 0.5, 0.1, 0.01, key="relu_slope", help=help_text)
    plot, maps = st.columns([2, 3])
    lo, hi = activations.COMPARE_RANGE  # where the functions differ
    curves = [activations.curve(other, lo, hi, slope=slope) for other in activations.ACTIVATIONS]
    titles = [activations.TITLES[other] for other in activations.ACTIVATIONS]
    chosen, curves_title = activations.ACTIVATIONS.index(function), text("curves_title", lo=lo, hi=hi)
    fig = charts.function_curves(curves, titles, chosen, text("axis_in"), text("axis_out"), curves_title)
    draw(plot, fig, "relu_curves")
    grid = maps.columns(3)
    for i, (other, (result, s)) in enumerate(
        activations.every_activation(before[channel], slope=slope).items()
    ):
        smooth = other in activations.ZERO_ONLY_AT_ORIGIN
        caption = text(
            "other_caption_smooth" if smooth else "other_caption",
            name=activations.TITLES[other],
            zeroed=s.near_zero if smooth else s.zeroed,
            lo=s.after[0],
            hi=s.after[1],
        )
        grid[i % 3].image(map_image(result, vmax=vmax, side=224, **SIGNED), width="stretch", caption=caption)
    st.markdown(text("others_text"))
