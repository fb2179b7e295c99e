"""CNN 1 · Photo → tensor: resize, crop, three channels, and one pixel's numbers before and after
normalisation, with the selected encoder's own preprocessing."""

from dataclasses import asdict

import streamlit as st

from ui import session
from ui.cached import core
from ui.charts.layout import png
from ui.presenter import step
from ui.session import Choice
from ui.widgets import question
from ui.widgets.header import page_header
from ui.widgets.pickers import position_picker
from ui.widgets.tensor import crop_effect, tensor_corner
from vision_core.cnn import pixels

text = page_header("cnn_tensor", intro=False)
choice = Choice(session.encoder_name("cnn"))  # preprocessing needs no weights: always the learner's choice
title, prep = choice.encoder.title, choice.encoder.preprocessing
st.markdown(text("intro", model=title))

# --- resize and crop ------------------------------------------------------------------------
step(text("prep_heading"))
size = int(
    st.columns([1, 3])[0].number_input(
        text("size_label"), 32, 512, prep.crop, key="tensor_size", help=text("size_help", crop=prep.crop)
    )
)
subject = session.subject(choice).replace(size=size)
steps = core.prepared(subject)
sizes = pixels.preparation(steps)
interpolation = text(f"interp_{prep.interpolation}")
st.markdown(text("prep_text", model=title, interpolation=interpolation, **asdict(sizes)))
cols = st.columns([3, 3, 2])
original = text("original_caption", width=sizes.width, height=sizes.height)
cols[0].image(core.thumbnail(subject.photo, 640), width="stretch", caption=original)
resized = text("resized_caption", width=sizes.resized_w, height=sizes.resized_h)
cols[1].image(pixels.draw_box(steps.resized, steps.crop_box), caption=resized, width="stretch")
cols[2].image(steps.cropped, caption=text("cropped_caption", crop=size), width="stretch")

# --- does the crop change the answer? -------------------------------------------------------
if choice.encoder.labels == "imagenet-1k":
    step(text("crop_heading"))
    crop_effect(text, choice, subject, steps, size)

# --- three pages of numbers -----------------------------------------------------------------
step(text("channels_heading"))
c, th, tw = steps.tensor.shape[1:]
question.ask(
    "tensor_size",
    text("q_size", crop=size),
    pixels.tensor_size_question(steps),
    text("q_size_why", channels=c, height=th, width=tw, count=c * th * tw),
    format_func=lambda n: text.num(n, ","),
)
st.markdown(text("channels_text", channels=c, height=th, width=tw, count=c * th * tw))
for col, (channel, plane) in zip(st.columns(3), pixels.channel_planes(steps.pixels).items(), strict=True):
    caption = text("channel_caption", channel=text(f"channel_{channel}"), height=th, width=tw)
    col.image(plane, caption=caption, width="stretch")
st.caption(text("channels_note"))

# --- one pixel, step by step ----------------------------------------------------------------
step(text("pixel_heading"))
st.markdown(text("pixel_text", model=title, formula=pixels.normalisation_rule(steps)))
pick, numbers = st.columns(2)
with pick:
    labels = (text("row"), text("col"))
    y, x = position_picker(steps.pixels, (th, tw), "tensor_pixel", labels=labels, height=380)
journey = pixels.pixel_journey(steps, y, x)
with numbers:
    zoom = pixels.zoom(steps.pixels, y, x)
    st.image(png(zoom), caption=text("zoom_caption", row=y, col=x), width=300)
    red = {**asdict(journey[0]), "channel": text("channel_R")}
    st.markdown(text("pixel_formula", **red))
columns = {f"col_{f}": f for f in ("raw", "scaled", "mean", "centred", "std")} | {"col_value": "tensor"}
table = {text("col_channel"): [text(f"channel_{j.channel}") for j in journey]}  # the last: the tensor's own
table.update({text(label): [getattr(j, field) for j in journey] for label, field in columns.items()})
four = st.column_config.NumberColumn(format="%.4f")
st.dataframe(table, hide_index=True, column_config={text(label): four for label in list(columns)[1:]})

# --- a corner of the tensor -----------------------------------------------------------------
step(text("corner_heading"))
tensor_corner(text, steps, c)

# --- what the network sees ------------------------------------------------------------------
step(text("sees_heading"))
view, words = st.columns([1, 2])
view.image(pixels.network_view(steps), caption=text("sees_caption", crop=size), width="stretch")
words.markdown(text("sees_text", error=pixels.roundtrip_error(steps), crop=size))
