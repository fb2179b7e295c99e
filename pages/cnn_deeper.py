"""CNN 5 · Going deeper: feature maps stage by stage, receptive fields, the stage table for any
input size (any CNN architecture, no weights needed) and the residual add taken apart."""

import streamlit as st

from ui import session
from ui.cached import core
from ui.charts.cnn import field_growth as growth_chart
from ui.charts.feature_maps import channel_mosaic
from ui.charts.layout import draw
from ui.charts.overlays import map_image
from ui.charts.sliding import stage_views
from ui.charts.tables import lesson_table
from ui.presenter import step
from ui.session import Choice
from ui.widgets import question
from ui.widgets.cnn import opens_on, stage_controls, table_controls
from ui.widgets.encoder import choose_encoder
from ui.widgets.header import page_header
from ui.widgets.linked import cell_and_field
from ui.widgets.residual import residual_section
from vision_core.cnn.convolution import receptive_fields
from vision_core.cnn.sliding import centre, side_by_side, spread
from vision_core.cnn.stages import (
    field_growth,
    format_shape,
    last_grid,
    last_grid_numbers,
    last_grid_question,
    shape_rows,
    shown_channels,
    strongest_channels,
    total_params,
)

MOSAIC = 16
text = page_header("cnn_deeper")
choice = choose_encoder("cnn", allow_random_toggle=True, key="deeper_random")
subject, model, title = session.subject(choice), core.model(choice), choice.encoder.title
tr = core.traced(subject, keep=tuple(model.stages))
labels = (text("row_label"), text("col_label"))

# --- stage by stage -----------------------------------------------------------------------
step(text("stages_heading"))
st.markdown(text("stages_intro", model=title, count=len(model.stages)))
stage, order = stage_controls(text, tr, model.stages)
fmap = tr.array(stage)[0]  # (C, H, W)
channel_mosaic(fmap, shown_channels(fmap, MOSAIC, strongest=order == "order_strongest"), text, stage)

opens_on("deeper_shown", (choice, stage), {"deeper_channel": int(strongest_channels(fmap, 1)[0])})
channel = st.slider(text("channel_label"), 0, len(fmap) - 1, key="deeper_channel")
left, right = st.columns(2)
where = {"stage": stage, "channel": channel, "rows": fmap.shape[1], "cols": fmap.shape[2]}
pixels, heading = core.prepared(subject).pixels, text("channel_title", **where)
linked = {"photo_title": lambda r, c: text("photo_title", row=r, col=c), "labels": labels, "title": heading}
y, x, box = cell_and_field(
    left, right, map_image(fmap[channel]), tr, stage, pixels, key="deeper_pos", **linked
)
side = pixels.shape[0]
field = {"value": float(fmap[channel, y, x]), "size": box.size, "jump": receptive_fields(tr)[stage].jump}
right.markdown(text("field_text", row=y, col=x, channel=channel, stage=stage, **field))
if box.clipped(side, side) != box:
    right.caption(text("field_past_edge", photo=side))

st.subheader(text("side_heading"))
stages = list(model.stages)
shown = st.multiselect(
    text("side_label"),
    stages,
    spread(stages),
    key="deeper_side",
    max_selections=3,
    placeholder=text("side_placeholder"),
)
point = centre(box)
st.markdown(text("side_intro", row=y, col=x, stage=stage, prow=point[0], pcol=point[1]))
views = side_by_side(tr, shown, *point)
if views:
    stage_maps = [map_image(tr.array(v.stage)[0, v.channel], side=112) for v in views]
    stage_views(st.columns(len(views)), views, stage_maps, pixels, text)

# --- receptive-field growth ---------------------------------------------------------------
step(text("growth_heading"))
growth = field_growth(tr, model.stages)
line = text("growth_photo_line", photo=side)
draw(st, growth_chart(growth, side, line, text("growth_axis")), "deeper_growth")
st.markdown(text("growth_text", model=title, first=growth.first, last=growth.last, times=growth.times))
st.markdown(text("growth_note"))

# --- the stage table ----------------------------------------------------------------------
step(text("table_heading"))
st.markdown(text("table_intro"))
table_model, size = table_controls(text)
table = shape_rows(core.shape_table(table_model, size))
model_title, last = Choice(table_model).encoder.title, last_grid(table)
question.ask(
    "deeper_last_grid",
    text("q_last_grid", model=model_title, size=size, step=last.name),
    last_grid_question(table),
    text("q_last_grid_why", **last_grid_numbers(table)),
    format_func=lambda n: f"{n} × {n}",
)
rows = [{**r.row(), "kind": text(f"kind_{r.kind_id}")} for r in table]
lesson_table(rows, text, "deeper_table", height="content", grouped=True)
totals = {"dim": table[-1].numbers, "params": total_params(table), "size": size}
input_shape = format_shape(table[0].shape)
st.caption(text("table_caption", model=model_title, input=input_shape, **totals))

# --- the residual add ---------------------------------------------------------------------
step(text("residual_heading"))
residual_section(text, choice, subject, tr, model, stage)
