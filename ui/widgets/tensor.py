"""Two sections of "Photo → tensor": whether the crop changes the top prediction (the photo as the
encoder's preprocessing crops it against the whole photo squashed to the same size), and a corner
of the tensor before and after normalisation, one channel at a time (a part of the page,
``ui.parts``: the channel reruns that section alone)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from lessons import Lesson
from ui.cached import cnn as cnn_cached
from ui.parts import part
from ui.session import Choice, Subject
from ui.widgets.encoder import weights_status
from vision_core.cnn import pixels
from vision_core.engine.preprocess import PreprocessSteps

CORNER = 4  # the corner's side, in pixels


def crop_effect(text: Lesson, choice: Choice, subject: Subject, steps: PreprocessSteps, size: int) -> None:
    """The top predictions with the preset crop and with the whole photo squashed, and what differs."""
    title = choice.encoder.title
    if not weights_status(choice.name).present:
        st.info(text("crop_no_weights", model=title), icon=":material/info:")
    else:
        effect = cnn_cached.crop_effect(subject)
        views = ((steps.cropped, "crop_as_preset", effect.cropped), (None, "crop_squashed", effect.squashed))
        for col, (picture, caption, best) in zip(st.columns(2), views, strict=True):
            shown = picture if picture is not None else cnn_cached.squashed_picture(subject)
            col.image(shown, caption=text(caption, crop=size), width=260)
            for p in best:
                col.progress(p.probability, text=f"{p.label} — {text.num(p.probability, '.1%')}")
        top, other = effect.cropped[0], effect.squashed[0]
        says = {"model": title, "crop": size, "top": top.label, "p_crop": top.probability}
        says |= {"other": other.label, "p_squash": other.probability}
        if effect.same_top:
            st.markdown(text("crop_same", **says))
        else:
            found = effect.top_when_squashed()
            where = text("crop_rank", **says, rank=found[0], p=found[1].probability) if found else ""
            gone = "" if found else text("crop_gone", **says, k=len(effect.squashed))
            st.markdown(
                " ".join(t for t in (text("crop_differs", **says), where, gone, text("crop_lesson")) if t)
            )


@part
def tensor_corner(text: Lesson, steps: PreprocessSteps, channels: int) -> None:
    """The top-left CORNER×CORNER values of one channel, raw and normalised, and the value ranges."""
    channel = st.radio(
        text("corner_channel"),
        range(channels),
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
    three = dict.fromkeys(labels, st.column_config.NumberColumn(format="%.3f"))
    b.dataframe(pd.DataFrame(normalised, index=labels, columns=labels), column_config=three)
    ranges = pixels.value_ranges(steps)
    m1, m2 = st.columns(2)
    m1.metric(text("range_before"), f"{ranges.raw[0]} … {ranges.raw[1]}")
    lowest, highest = (text.num(v, ".3f") for v in ranges.normalised)
    m2.metric(text("range_after"), f"{lowest} … {highest}")
    low, high = ranges.possible
    st.markdown(text("range_text", low=low, high=high))
