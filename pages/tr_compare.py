"""Transformer 6 · CNN vs ViT: the same photo through a CNN and a Vision Transformer side by side —
the CNN's last feature maps against the ViT's attention, the GAP vector against the CLS vector,
and their top predictions where the network has an ImageNet head."""

import plotly.graph_objects as go
import streamlit as st

from lessons import lesson
from ui import cache, show, state, transformer
from ui.feature_views import draw
from vision_core import figures
from vision_core.cnn.stages import format_shape, strongest_channels
from vision_core.embeddings.vectors import describe_vector
from vision_core.engine import encoders
from vision_core.predictions import top_k
from vision_core.transformer.compare import encoder_facts

MOSAIC = 8
text = lesson("tr_compare", state.lang())
photo = state.current_photo()
st.title(text("title"))
show.photo_error_banner()
st.markdown(text("intro"))

# --- the two networks -----------------------------------------------------------------------
vit = show.choose_model("transformer", allow_random_toggle=True, key="tr_compare_random")
random = bool(st.session_state.get("tr_compare_random", False))
cnn_names = [name for name, s in encoders.ENCODERS.items() if s.family == "cnn"]
if "tr_compare_cnn" not in st.session_state:
    preferred = state.model_name("cnn")
    st.session_state["tr_compare_cnn"] = preferred if preferred in cnn_names else encoders.DEFAULT
wanted = st.selectbox(
    text("cnn_label"), cnn_names, key="tr_compare_cnn", format_func=lambda n: encoders.get(n).title
)
cnn = transformer.fixed_choice(wanted, random=random, fallback=encoders.DEFAULT)
cnn_spec, vit_spec = encoders.get(cnn.name), encoders.get(vit.name)

cnn_shapes = cache.shape_table(cnn.name, encoders.get(cnn.name).preprocessing.crop)
gap_step = cnn_shapes.of_kind("gap")[0].name
grid_step = cnn_shapes[gap_step].inputs[0]
cnn_keep = (grid_step, gap_step, "embedding", "probs")  # as the CNN's embedding page: one cached trace
cnn_tr = cache.traced(photo.key, photo.data, cnn.name, cnn.weights, keep=cnn_keep, precision="float32")
facts = {
    "cnn": encoder_facts(show.load(cnn), cnn_shapes),
    "vit": encoder_facts(
        show.load(vit), cache.shape_table(vit.name, encoders.get(vit.name).preprocessing.crop)
    ),
}
args = (photo.key, photo.data, vit.name, vit.weights, False)
views = transformer.attention_views(*args)
vit_vectors = transformer.vectors(*args)

# --- side by side ---------------------------------------------------------------------------
st.header(text("maps_heading"))
left, right = st.columns(2)
fmap = cnn_tr.array(grid_step)[0]  # (C, h, w)
strongest = [int(c) for c in strongest_channels(fmap, MOSAIC)]
with left:
    st.subheader(cnn_spec.title)
    cnn_pixels = transformer.network_pixels(photo.key, photo.data, cnn.name)
    st.image(
        transformer.over_photo(cnn_pixels, fmap[strongest[0]]),
        width="stretch",
        caption=text("cnn_map_caption", channel=strongest[0], step=grid_step, shape=format_shape(fmap.shape)),
    )
    st.image(
        figures.enlarge(figures.colorize_mosaic(figures.mosaic(fmap[strongest], cols=MOSAIC // 2)), 8),
        width="stretch",
        caption=text("cnn_mosaic_caption", n=MOSAIC, channels=", ".join(str(c) for c in strongest)),
    )
with right:
    st.subheader(vit_spec.title)
    vit_pixels = transformer.network_pixels(photo.key, photo.data, vit.name)
    last = views.layers - 1
    st.image(
        transformer.over_photo(vit_pixels, views.cls_mean[last]),
        width="stretch",
        caption=text(
            "vit_map_caption", layer=last, heads=views.heads, rows=views.grid[0], cols=views.grid[1]
        ),
    )
    roll = transformer.rollout_map(*args, "mean", 0.0)
    st.image(
        transformer.over_photo(vit_pixels, roll),
        width="stretch",
        caption=text("vit_rollout_caption", layers=views.layers),
    )
st.markdown(
    text(
        "maps_text",
        cnn=cnn_spec.title,
        vit=vit_spec.title,
        rows=fmap.shape[1],
        cols=fmap.shape[2],
        vrows=views.grid[0],
        vcols=views.grid[1],
    )
)

# --- the vectors ----------------------------------------------------------------------------
st.header(text("vectors_heading"))
left, right = st.columns(2)
for col, title, vector, key, what in (
    (left, cnn_spec.title, cnn_tr.array(gap_step)[0], "tr_compare_cnn_vector", "gap"),
    (right, vit_spec.title, vit_vectors["cls"], "tr_compare_vit_vector", "cls"),
):
    summary = describe_vector(vector)
    fig = go.Figure(go.Bar(x=list(range(summary.dim)), y=vector, marker_color="#4c78a8", marker_line_width=0))
    fig.update_layout(
        height=220,
        bargap=0,
        margin={"l": 0, "r": 0, "t": 30, "b": 0},
        title=text("vector_title", model=title, dim=summary.dim),
    )
    draw(col, fig, key)
    col.markdown(
        text(
            f"vector_{what}",
            dim=summary.dim,
            length=summary.length,
            max=summary.max,
            argmax=summary.argmax,
            zeros=summary.zeros,
        )
    )

# --- the facts ------------------------------------------------------------------------------
st.header(text("facts_heading"))
rows = {
    text("fact_input"): [format_shape(f.input_size) for f in facts.values()],
    text("fact_first"): [
        text(
            "first_value", name=f.first_step, kh=f.first_kernel[0], kw=f.first_kernel[1], s=f.first_stride[0]
        )
        for f in facts.values()
    ],
    text("fact_grid"): [f"{f.grid_step}: {format_shape(f.grid_shape)}" for f in facts.values()],
    text("fact_vector"): [f"{f.vector_step}: {f.vector_dim}" for f in facts.values()],
    text("fact_params"): [f"{f.params:,}" for f in facts.values()],
}
st.dataframe(
    {
        text("fact"): list(rows),
        cnn_spec.title: [v[0] for v in rows.values()],
        vit_spec.title: [v[1] for v in rows.values()],
    },
    hide_index=True,
    key="tr_compare_facts",
)
st.markdown(text("facts_text"))

# --- predictions ----------------------------------------------------------------------------
st.header(text("predict_heading"))
left, right = st.columns(2)
for col, spec, probs in (
    (left, cnn_spec, cnn_tr.array("probs")[0] if "probs" in cnn_tr else None),
    (right, vit_spec, vit_vectors.get("probs")),
):
    col.subheader(spec.title)
    if spec.has_classifier and probs is not None:
        for p in top_k(probs, 5):
            col.progress(p.probability, text=f"{p.label} — {p.probability:.1%}")
    else:
        col.info(text("no_head", model=spec.title), icon=":material/info:")
if any(not c.trained and encoders.get(c.name).has_classifier for c in (cnn, vit)):
    st.caption(text("predict_untrained"))
transformer.untrained_note(vit)
if not encoders.available_offline(wanted):
    transformer.weights_help(wanted)
