"""CNN 1 · Photo → tensor: resize, crop, three channels, and one pixel's numbers before and after
normalisation, with the selected encoder's own preprocessing."""

import pandas as pd
import streamlit as st

from lessons import lesson
from ui import cache, show, state
from vision_core.cnn import pixels
from vision_core.engine import encoders

text = lesson("cnn_tensor", state.lang())
photo = state.current_photo()
name = state.model_name("cnn")  # preprocessing needs no weights: always the learner's choice
title = encoders.get(name).title
prep = encoders.get(name).preprocessing
st.title(text("title"))
show.photo_error_banner()
st.markdown(text("intro", model=title))

# --- resize and crop ------------------------------------------------------------------------
st.header(text("prep_heading"))
size = int(
    st.columns([1, 3])[0].number_input(
        text("size_label"), 32, 512, prep.crop, key="tensor_size", help=text("size_help", crop=prep.crop)
    )
)
steps = cache.prepared(photo.key, photo.data, name, size)
(w, h), (rw, rh), (left, top, _, _) = steps.original.size, steps.resize_size, steps.crop_box
st.markdown(
    text(
        "prep_text",
        model=title,
        width=w,
        height=h,
        short=min(rw, rh),
        resized_w=rw,
        resized_h=rh,
        interpolation=text(f"interp_{prep.interpolation}"),
        crop=size,
        left=left,
        top=top,
    )
)
cols = st.columns([3, 3, 2])
cols[0].image(
    cache.thumbnail(photo.key, photo.data, 640),
    width="stretch",
    caption=text("original_caption", width=w, height=h),
)
cols[1].image(
    pixels.draw_box(steps.resized, steps.crop_box),
    caption=text("resized_caption", width=rw, height=rh),
    width="stretch",
)
cols[2].image(steps.cropped, caption=text("cropped_caption", crop=size), width="stretch")

# --- three pages of numbers -----------------------------------------------------------------
st.header(text("channels_heading"))
c, th, tw = steps.tensor.shape[1:]
st.markdown(text("channels_text", channels=c, height=th, width=tw, count=c * th * tw))
for col, (channel, plane) in zip(st.columns(3), pixels.channel_planes(steps.pixels).items(), strict=True):
    caption = text("channel_caption", channel=text(f"channel_{channel}"), height=th, width=tw)
    col.image(plane, caption=caption, width="stretch")
st.caption(text("channels_note"))

# --- one pixel, step by step ----------------------------------------------------------------
st.header(text("pixel_heading"))
rules = [f"(x − {a:g}) / {b:g}" for a, b in pixels.scale_formula(steps)]
per_channel = "; ".join(f"{ch}: {rule}" for ch, rule in zip(pixels.CHANNELS, rules, strict=True))
rule = rules[0] if len(set(rules)) == 1 else per_channel  # Lite0: one rule for all three channels
st.markdown(text("pixel_text", model=title, formula=rule))
pick, numbers = st.columns(2)
with pick:
    y, x = show.position_picker(
        steps.pixels, (th, tw), "tensor_pixel", labels=(text("row"), text("col")), height=380
    )
journey = pixels.pixel_journey(steps, y, x)
with numbers:
    st.image(
        pixels.zoom(steps.pixels, y, x),
        caption=text("zoom_caption", row=y, col=x),
        width=300,
        output_format="PNG",
    )
    r = journey[0]
    st.markdown(
        text(
            "pixel_formula",
            channel=text("channel_R"),
            raw=r.raw,
            scaled=r.scaled,
            mean=r.mean,
            centred=r.centred,
            std=r.std,
            value=r.value,
        )
    )
columns = {
    "col_raw": "raw",
    "col_scaled": "scaled",
    "col_mean": "mean",
    "col_centred": "centred",
    "col_std": "std",
    "col_value": "tensor",
}  # the last column is read from the tensor itself
table = {text("col_channel"): [text(f"channel_{j.channel}") for j in journey]}
table.update({text(label): [getattr(j, field) for j in journey] for label, field in columns.items()})
four = st.column_config.NumberColumn(format="%.4f")
st.dataframe(table, hide_index=True, column_config={text(label): four for label in list(columns)[1:]})

# --- a corner of the tensor -----------------------------------------------------------------
st.header(text("corner_heading"))
CORNER = 4
channel = st.radio(
    text("corner_channel"),
    range(c),
    horizontal=True,
    key="tensor_corner_channel",
    format_func=lambda i: text(f"channel_{pixels.CHANNELS[i]}"),
)
raw, normalised = pixels.corner(steps, channel, CORNER)
st.markdown(text("corner_text", n=CORNER))
labels = [str(i) for i in range(CORNER)]
a, b = st.columns(2)
a.caption(text("corner_raw"))
a.dataframe(pd.DataFrame(raw, index=labels, columns=labels))
b.caption(text("corner_normalised"))
b.dataframe(
    pd.DataFrame(normalised, index=labels, columns=labels),
    column_config=dict.fromkeys(labels, st.column_config.NumberColumn(format="%.3f")),
)
ranges = pixels.value_ranges(steps)
m1, m2 = st.columns(2)
m1.metric(text("range_before"), f"{ranges.raw[0]} … {ranges.raw[1]}")
m2.metric(text("range_after"), f"{ranges.normalised[0]:.3f} … {ranges.normalised[1]:.3f}")
low, high = ranges.possible
st.markdown(text("range_text", low=low, high=high))

# --- what the network sees ------------------------------------------------------------------
st.header(text("sees_heading"))
view, words = st.columns([1, 2])
view.image(pixels.network_view(steps), caption=text("sees_caption", crop=size), width="stretch")
words.markdown(text("sees_text", error=pixels.roundtrip_error(steps), crop=size))
