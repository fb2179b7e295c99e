"""The CNN lessons' widget groups: the pocket filter to slide and the pooling window to look at,
the convolution sandbox's controls, the stage browser, the stage table's encoder and input size,
and views that open on their most telling channel whenever the learner picks a new step."""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

import numpy as np
import streamlit as st

from lessons import Lesson
from ui import session
from ui.session import Choice
from vision_core.cnn import conv_sandbox
from vision_core.cnn.stages import format_shape
from vision_core.engine.trace import Trace


def opens_on(marker: str, context: object, start: Mapping[str, object]) -> None:
    """Whenever ``context`` changes (another encoder, stage, block or step), set the widgets' state
    to ``start`` — a new view opens on its own strongest channel or cell, not on the last one's."""
    if st.session_state.get(marker) != context:
        st.session_state[marker] = context
        st.session_state.update(start)


def pocket_filter(text: Lesson, names: list[str]) -> str:
    """Which of the pocket's filters slides over the picture."""
    label = lambda n: text("filter_label", name=n)  # noqa: E731
    return st.radio(text("slide_label"), names, format_func=label, horizontal=True, key="conv_pocket_filter")


class SandboxControls(NamedTuple):
    """The convolution sandbox as the learner set it."""

    source: str  # "photo" or "pocket"
    k: int  # the kernel's side
    settings: dict[str, int]  # stride, padding, dilation: keywords of conv_sandbox.sandbox_conv
    kind: str  # a name of conv_sandbox.sandbox_kernels
    kernel: np.ndarray


def sandbox_controls(text: Lesson, side: int, key: str = "conv_sb") -> SandboxControls:
    """The sandbox's picture (the photo shrunk to ``side`` or the pocket picture), four sliders side
    by side (kernel size, stride, padding, dilation) and the kernel to slide."""
    sources = {"photo": text("source_photo", side=side), "pocket": text("source_pocket")}
    source = st.radio(
        text("source_label"), list(sources), format_func=sources.get, horizontal=True, key=f"{key}_source"
    )
    controls = st.columns(4)
    k = controls[0].slider(text("k_label"), 1, 7, 3, key=f"{key}_k")
    settings = {
        "stride": controls[1].slider(text("stride_label"), 1, 4, 1, key=f"{key}_stride"),
        "padding": controls[2].slider(text("padding_label"), 0, 3, 0, key=f"{key}_padding"),
        "dilation": controls[3].slider(text("dilation_label"), 1, 3, 1, key=f"{key}_dilation"),
    }
    kernels = conv_sandbox.sandbox_kernels(k)
    kind_name = lambda n: text(f"kernel_{n}")  # noqa: E731
    kind = st.radio(
        text("kernel_label"), list(kernels), format_func=kind_name, horizontal=True, key=f"{key}_kind"
    )
    return SandboxControls(source, k, settings, kind, kernels[kind])


def pooling_window(text: Lesson, cells: list[str], key: str = "pool_pocket_cell") -> int:
    """Which window of the pocket pooling to look at, as its output cell ``(row, col)``; returns its index."""
    if st.session_state.get(key) not in cells:
        st.session_state[key] = cells[0]
    return cells.index(st.segmented_control(text("window_label"), cells, key=key) or cells[0])


def stage_controls(text: Lesson, tr: Trace, stages: list[str]) -> tuple[str, str]:
    """The stage to look at (each offered with its shape) and the order of the channels shown:
    ``"order_first"`` or ``"order_strongest"`` (kept across a change of language)."""
    shapes = lambda s: f"{s} · {format_shape(tr[s].shape[1:])}"  # noqa: E731
    stage = st.select_slider(text("stage_label"), stages, key="deeper_stage", format_func=shapes)
    orders = {"order_first": text("order_first"), "order_strongest": text("order_strongest")}
    choose = {"label": text("order_label"), "format_func": orders.get, "horizontal": True}
    order = session.remembered_choice(st.radio, "deeper_order", list(orders), "order_first", **choose)
    return stage, order


def table_controls(text: Lesson) -> tuple[str, int]:
    """Any CNN the app knows and any input size, side by side: the stage table needs no weights.
    The size starts at the encoder's own crop."""
    cnns = session.encoders_for("cnn")
    a, b = st.columns(2)
    name = a.selectbox(
        text("table_model_label"),
        cnns,
        index=cnns.index(session.encoder_name("cnn")),
        format_func=lambda n: Choice(n).encoder.title,
        key="deeper_table_model",
    )
    crop = Choice(name).encoder.preprocessing.crop
    size = int(b.number_input(text("table_size_label"), 32, 640, crop, step=1, key="deeper_table_size"))
    return name, size
