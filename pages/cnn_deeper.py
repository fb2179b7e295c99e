"""CNN 5 · Going deeper: feature maps stage by stage, receptive fields, the stage table for any
input size (any CNN architecture, no weights needed) and the residual add taken apart."""

import plotly.graph_objects as go
import streamlit as st

from lessons import lesson
from ui import cache, feature_views, show, state
from ui.feature_views import HIGHLIGHT, draw
from vision_core import figures
from vision_core.cnn.convolution import receptive_fields
from vision_core.cnn.stages import (
    consumers,
    format_shape,
    receptive_box,
    residual_add,
    shape_rows,
    stage_of_steps,
    strongest_channels,
)
from vision_core.engine import encoders

MOSAIC = 16
text = lesson("cnn_deeper", state.lang())
photo = state.current_photo()
st.title(text("title"))
show.photo_error_banner()
st.markdown(text("intro"))

choice = show.choose_model("cnn", allow_random_toggle=True, key="deeper_random")
model = show.load(choice)
title = encoders.get(choice.name).title
tr = cache.traced(photo.key, photo.data, choice.name, choice.weights, keep=tuple(model.stages))

# --- stage by stage -----------------------------------------------------------------------
st.header(text("stages_heading"))
st.markdown(text("stages_intro", model=title, count=len(model.stages)))
stage = st.select_slider(
    text("stage_label"),
    model.stages,
    key="deeper_stage",
    format_func=lambda s: f"{s} · {format_shape(tr[s].shape[1:])}",
)
fmap = tr.array(stage)[0]  # (C, H, W)
orders = {"order_first": text("order_first"), "order_strongest": text("order_strongest")}
order = state.remembered_choice(
    st.radio,
    "deeper_order",
    list(orders),
    "order_first",
    label=text("order_label"),
    format_func=orders.get,
    horizontal=True,
)
shown = (
    list(range(min(MOSAIC, len(fmap)))) if order == "order_first" else list(strongest_channels(fmap, MOSAIC))
)
st.image(
    feature_views.enlarge_rgb(figures.colorize_mosaic(figures.mosaic(fmap[shown], cols=8))), width="stretch"
)
st.caption(
    text(
        "mosaic_caption",
        n=len(shown),
        channels=len(fmap),
        stage=stage,
        shape=format_shape(fmap.shape),
        list=", ".join(str(int(c)) for c in shown),
    )
)

if st.session_state.get("deeper_shown") != (choice, stage):  # a new stage opens on its most active channel
    st.session_state["deeper_shown"] = (choice, stage)
    st.session_state["deeper_channel"] = int(strongest_channels(fmap, 1)[0])
channel = st.slider(text("channel_label"), 0, len(fmap) - 1, key="deeper_channel")
left, right = st.columns(2)
with left:
    y, x = show.position_picker(
        feature_views.map_image(fmap[channel]),
        fmap.shape[1:],
        key="deeper_pos",
        labels=(text("row_label"), text("col_label")),
        title=text("channel_title", stage=stage, channel=channel, rows=fmap.shape[1], cols=fmap.shape[2]),
    )
pixels = cache.prepared(photo.key, photo.data, choice.name).pixels
box = receptive_box(tr, stage, y, x)
side = pixels.shape[0]
draw(
    right,
    feature_views.picture(
        pixels,
        boxes=[(box.top, box.left, box.bottom, box.right, HIGHLIGHT)],
        title=text("photo_title", row=y, col=x),
        height=470,
    ),
    "deeper_photo",
)
right.markdown(
    text(
        "field_text",
        row=y,
        col=x,
        channel=channel,
        value=float(fmap[channel, y, x]),
        size=box.size,
        stage=stage,
        jump=receptive_fields(tr)[stage].jump,
    )
)
if box.clipped(side, side) != box:
    right.caption(text("field_past_edge", photo=side))

# --- receptive-field growth ---------------------------------------------------------------
st.header(text("growth_heading"))
rows = [r for r in shape_rows(tr) if r.receptive_field]
fig = go.Figure(
    go.Bar(
        x=[r.name for r in rows],
        y=[r.receptive_field for r in rows],
        marker_color="#4c78a8",
        text=[r.receptive_field for r in rows],
        textposition="outside",
    )
)
fig.add_hline(
    y=side,
    line_dash="dash",
    line_color=HIGHLIGHT,
    annotation_text=text("growth_photo_line", photo=side),
    annotation_position="top left",
)
fig.update_layout(height=360, margin={"l": 0, "r": 0, "t": 10, "b": 0}, yaxis_title=text("growth_axis"))
draw(st, fig, "deeper_growth")
first, last = rows[1], [r for r in rows if r.name in model.stages][-1]
st.markdown(
    text(
        "growth_text",
        model=title,
        first=first.receptive_field,
        last=last.receptive_field,
        times=last.receptive_field / first.receptive_field,
    )
)
st.caption(text("growth_note"))

# --- the stage table ----------------------------------------------------------------------
st.header(text("table_heading"))
st.markdown(text("table_intro"))
cnns = state.models_for("cnn")
a, b = st.columns(2)
table_model = a.selectbox(
    text("table_model_label"),
    cnns,
    index=cnns.index(state.model_name("cnn")),
    format_func=lambda n: encoders.get(n).title,
    key="deeper_table_model",
)
size = int(
    b.number_input(
        text("table_size_label"),
        32,
        640,
        encoders.get(table_model).preprocessing.crop,
        step=1,
        key="deeper_table_size",
    )
)
table = shape_rows(cache.shape_table(table_model, size))
st.dataframe(
    [
        {
            text("col_step"): r.name,
            text("col_kind"): text(f"kind_{r.kind}"),
            text("col_shape"): format_shape(r.shape),
            text("col_numbers"): r.numbers,
            text("col_field"): "—" if r.receptive_field is None else str(r.receptive_field),
            text("col_jump"): "—" if r.jump is None else str(r.jump),
            text("col_params"): r.params,
        }
        for r in table
    ],
    hide_index=True,
    height="content",
    key="deeper_table",
)
st.caption(
    text(
        "table_caption",
        model=encoders.get(table_model).title,
        input=format_shape(table[0].shape),
        dim=table[-1].numbers,
        params=sum(r.params for r in table),
        size=size,
    )
)

# --- the residual add ---------------------------------------------------------------------
st.header(text("residual_heading"))
st.markdown(text("residual_intro"))
owner = stage_of_steps(tr, model.stages)
adds = [s.name for s in tr.of_kind("add") if owner.get(s.name) == stage]
if not adds:
    st.info(text("no_add", stage=stage))
    adds = [s.name for s in tr.of_kind("add")]
block = st.selectbox(text("block_label"), adds, key="deeper_block")
add_tr = cache.traced(
    photo.key,
    photo.data,
    choice.name,
    choice.weights,
    keep=(block, *tr[block].inputs),
    stop_after=(block,),
    precision="float32",
)
res = residual_add(add_tr, block)
if st.session_state.get("deeper_add_block") != (choice, block):  # a new block opens on its busiest channel
    st.session_state["deeper_add_block"] = (choice, block)
    st.session_state["deeper_add_channel"] = res.most_changed_channel()
ch = st.slider(text("channel_label_add"), 0, len(res.output) - 1, key="deeper_add_channel")
if res.projected:
    st.markdown(text("shortcut_projected", kernel=tr[tr[res.identity_step].inputs[0]].meta["kernel"][0]))
else:
    st.markdown(text("shortcut_plain"))
vmax = res.scale(ch)
st.caption(text("click_add"))
cols = st.columns(3)
with cols[2]:
    ay, ax = show.position_picker(
        feature_views.map_image(res.output[ch], cmap="RdBu_r", symmetric=True, vmax=vmax),
        res.output.shape[1:],
        key="deeper_add_pos",
        labels=(text("row_label"), text("col_label")),
        title=text("output_title", step=block),
        height=340,
    )
for col, values, label, step in (
    (cols[0], res.identity, "identity_title", res.identity_step),
    (cols[1], res.branch, "branch_title", res.branch_step),
):
    image = feature_views.map_image(values[ch], cmap="RdBu_r", symmetric=True, vmax=vmax)
    draw(
        col,
        feature_views.picture(
            image,
            grid=values.shape[1:],
            boxes=[(ay, ax, ay, ax, HIGHLIGHT)],
            title=text(label, step=step),
            height=340,
        ),
        f"deeper_{label}",
    )
identity, branch, output = res.at(ch, ay, ax)
st.markdown(text("add_numbers", row=ay, col=ax, channel=ch, identity=identity, branch=branch, output=output))
nxt = [n for n in consumers(tr, block) if tr[n].kind != "stage"]
st.caption(text("add_next", next=nxt[0], kind=tr[nxt[0]].kind) if nxt else text("add_last"))
