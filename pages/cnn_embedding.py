"""CNN 6 · GAP → the embedding: the last grid squeezed to one number per channel, the whole
vector, GAP vs global max pooling vs flatten, L2 normalisation, the top-5 ImageNet predictions
and the cosine similarity with a second photo."""

import plotly.graph_objects as go
import streamlit as st

from lessons import lesson
from ui import cache, feature_views, show, state
from ui.feature_views import HIGHLIGHT, draw
from ui.widgets.photo_source import UPLOAD_TYPES
from vision_core import samples
from vision_core.cnn.stages import format_shape, strongest_channels
from vision_core.embeddings.vectors import cosine_similarity, describe_vector, global_pools, pooled_lengths
from vision_core.engine import encoders
from vision_core.engine.preprocess import ImageError
from vision_core.predictions import top_k

SHOW = 4
text = lesson("cnn_embedding", state.lang())
photo = state.current_photo()
st.title(text("title"))
show.photo_error_banner()
st.markdown(text("intro"))

choice = show.choose_model("cnn")
spec = encoders.get(choice.name)
structure = cache.shape_table(choice.name, encoders.get(choice.name).preprocessing.crop)
gap_step = structure.of_kind("gap")[0].name
grid_step = structure[gap_step].inputs[0]
keep = (grid_step, gap_step, "embedding", "probs")
tr = cache.traced(photo.key, photo.data, choice.name, choice.weights, keep=keep, precision="float32")
grid = tr.array(grid_step)[0]  # (C, H, W)
pools = global_pools(grid)
dim = len(pools.gap)

# --- the squeeze --------------------------------------------------------------------------
st.header(text("grid_heading"))
st.markdown(
    text(
        "grid_intro",
        step=grid_step,
        shape=format_shape(grid.shape),
        channels=dim,
        rows=grid.shape[1],
        cols=grid.shape[2],
    )
)
if st.session_state.get("emb_shown") != (photo.key, choice):  # a new photo or network: its strongest channels
    st.session_state["emb_shown"] = (photo.key, choice)
    st.session_state["emb_channels"] = [int(c) for c in strongest_channels(grid, SHOW)]
picked = st.multiselect(text("channels_label"), range(dim), key="emb_channels", max_selections=6)
for col, c in zip(st.columns(max(len(picked), 1)), picked, strict=False):
    draw(
        col,
        feature_views.number_grid(grid[c], fmt="{:.1f}", title=text("channel_title", channel=c), height=280),
        f"emb_grid_{c}",
    )
    col.markdown(text("channel_mean", mean=pools.gap[c]))
st.caption(text("channels_note", n=SHOW))

# --- the whole vector ---------------------------------------------------------------------
st.header(text("vector_heading"))
colors = [HIGHLIGHT if c in picked else "#4c78a8" for c in range(dim)]
fig = go.Figure(go.Bar(x=list(range(dim)), y=pools.gap, marker_color=colors, marker_line_width=0))
fig.update_layout(
    height=300,
    margin={"l": 0, "r": 0, "t": 10, "b": 0},
    bargap=0,
    xaxis_title=text("vector_axis_x"),
    yaxis_title=text("vector_axis_y"),
)
draw(st, fig, "emb_vector")
summary = describe_vector(pools.gap)
st.markdown(text("vector_text", dim=summary.dim, max=summary.max, argmax=summary.argmax, zeros=summary.zeros))

# --- three ways to pool -------------------------------------------------------------------
st.header(text("pools_heading"))
st.markdown(text("pools_text"))
first = lambda v: ", ".join(f"{a:.3f}" for a in v[:3]) + ", …"  # noqa: E731
st.dataframe(
    [
        {
            text("col_method"): text(f"{m}_name"),
            text("col_length"): len(getattr(pools, m)),
            text("col_first"): first(getattr(pools, m)),
            text("col_keeps"): text(f"{m}_keeps"),
        }
        for m in ("gap", "gmp", "flatten")
    ],
    hide_index=True,
    key="emb_pools",
)
other = int(st.number_input(text("size_label"), 32, 640, 320, step=32, key="emb_size"))
other_grid = cache.shape_table(choice.name, other)[grid_step].shape
st.markdown(
    text(
        "pools_size",
        size=other,
        grid=format_shape(other_grid[1:]),
        flat=pooled_lengths(other_grid)["flatten"],
        dim=pooled_lengths(other_grid)["gap"],
    )
)

# --- L2 normalisation ---------------------------------------------------------------------
st.header(text("l2_heading"))
embedding = tr.array("embedding")[0]
st.markdown(text("l2_text", before=summary.length, after=describe_vector(embedding).length, dim=dim))
st.caption(text("l2_first", before_list=first(pools.gap), after_list=first(embedding)))

# --- predictions --------------------------------------------------------------------------
st.header(text("predict_heading"))
if spec.has_classifier and "probs" in tr:
    st.markdown(text("predict_text", model=spec.title, dim=dim, classes=tr["probs"].shape[-1]))
    for p in top_k(tr.array("probs")[0], 5):
        st.progress(p.probability, text=f"{p.label} — {p.probability:.1%}")
else:
    st.info(text("no_classifier", model=spec.title))

# --- a second photo -----------------------------------------------------------------------
st.header(text("compare_heading"))
st.markdown(text("compare_intro"))
sources = {"sample": text("source_sample"), "upload": text("source_upload")}
source = state.remembered_choice(
    st.radio,
    "emb_source",
    list(sources),
    "sample",
    label=text("source_label"),
    format_func=sources.get,
    horizontal=True,
)
second = None
if source == "sample":
    options = {s.id: s.title for s in samples.list_samples("photo")}
    sample_id = st.selectbox(
        text("sample_label"),
        list(options),
        format_func=options.get,
        key="emb_sample",
        index=list(options).index("coffee") if "coffee" in options else 0,
    )
    second = state.sample_photo(sample_id)
else:
    uploaded = st.file_uploader(text("upload_label"), type=UPLOAD_TYPES, key="emb_upload")
    if uploaded is None:
        st.caption(text("upload_wait"))
    else:
        second = state.Photo.from_bytes(uploaded.getvalue(), uploaded.name)
if second is not None:
    try:
        cache.photo(second.key, second.data)  # the same checks as the sidebar's upload
    except ImageError as error:
        st.error(
            text("second_error", label=second.label, message=error.message, hint=error.hint),
            icon=":material/broken_image:",
        )
        second = None
if second is not None:
    keep2 = ("embedding", "probs")
    tr2 = cache.traced(second.key, second.data, choice.name, choice.weights, keep=keep2, precision="float32")
    a, b, c = st.columns([1, 1, 2])
    a.image(
        cache.thumbnail(photo.key, photo.data),
        caption=f"{text('your_photo')}: {photo.label}",
        width="stretch",
    )
    b.image(cache.thumbnail(second.key, second.data), caption=second.label, width="stretch")
    cos = cosine_similarity(embedding, tr2.array("embedding")[0])
    c.markdown(text("cosine_text", cos=cos, model=spec.title))
    c.progress(min(max(cos, 0.0), 1.0))
    if spec.has_classifier and "probs" in tr2:
        best = top_k(tr2.array("probs")[0], 1)[0]
        c.caption(text("second_label", label=best.label, probability=best.probability))
