"""The "Going deeper" page's residual add taken apart: pick a block's add and a channel, click a
cell of its output, and see the shortcut's number, the branch's number and their sum.  A part of
the page (``ui.parts``): the block, the channel and the clicked cell rerun this section alone."""

from __future__ import annotations

import streamlit as st
from torch import nn

from lessons import Lesson
from ui.cached import cnn
from ui.charts.feature_maps import residual_inputs
from ui.charts.overlays import map_image
from ui.charts.palette import SIGNED
from ui.parts import part
from ui.session import Choice, Subject
from ui.widgets.cnn import opens_on
from ui.widgets.pickers import position_picker
from vision_core.cnn.stages import consumers, residual_add, residual_adds
from vision_core.engine.trace import Trace


@part
def residual_section(
    text: Lesson, choice: Choice, subject: Subject, tr: Trace, model: nn.Module, stage: str
) -> None:
    """The residual adds of ``stage`` (every add of the network when the stage has none)."""
    st.markdown(text("residual_intro"))
    adds = residual_adds(tr, model.stages, stage)
    if not adds:
        st.info(text("no_add", stage=stage))
        adds = [s.name for s in tr.of_kind("add")]
    block = st.selectbox(text("block_label"), adds, key="deeper_block")
    res = residual_add(cnn.step_values(subject, block, *tr[block].inputs, precision="float32"), block)
    opens_on("deeper_add_block", (choice, block), {"deeper_add_channel": res.most_changed_channel()})
    ch = st.slider(text("channel_label_add"), 0, len(res.output) - 1, key="deeper_add_channel")
    if res.projected:
        st.markdown(text("shortcut_projected", kernel=tr[tr[res.identity_step].inputs[0]].meta["kernel"][0]))
    else:
        st.markdown(text("shortcut_plain"))
    st.caption(text("click_add"))
    cols = st.columns(3)
    with cols[2]:
        out_map = map_image(res.output[ch], vmax=res.scale(ch), **SIGNED)
        ay, ax = position_picker(
            out_map,
            res.output.shape[1:],
            key="deeper_add_pos",
            labels=(text("row_label"), text("col_label")),
            title=text("output_title", step=block),
            height=340,
        )
    residual_inputs(cols, res, ch, (ay, ax), text)
    identity, branch, output = res.at(ch, ay, ax)
    numbers = {"identity": identity, "branch": branch, "output": output}
    st.markdown(text("add_numbers", row=ay, col=ax, channel=ch, **numbers))
    nxt = [n for n in consumers(tr, block) if tr[n].kind != "stage"]
    st.caption(text("add_next", next=nxt[0], kind=tr[nxt[0]].kind) if nxt else text("add_last"))
