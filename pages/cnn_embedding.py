"""CNN 6 · GAP → the embedding: the pocket example's last step, then the real last grid squeezed
to one number per channel, the whole vector, GAP vs global max pooling vs flatten, L2
normalisation, the top-5 ImageNet predictions and the cosine similarity with a second photo."""

import streamlit as st

from ui import session
from ui.cached import cnn, core
from ui.charts.cnn import marked_vector
from ui.charts.feature_maps import pocket_gap
from ui.charts.grids import number_grid_figure
from ui.charts.layout import draw
from ui.charts.tables import lesson_table
from ui.presenter import step
from ui.widgets import question
from ui.widgets.embedding_compare import compare_second_photo
from ui.widgets.encoder import choose_encoder
from ui.widgets.grid_editor import pocket_grids
from ui.widgets.header import page_header
from vision_core.cnn import squeeze
from vision_core.cnn.pocket import is_syllabus, run_pocket_cnn
from vision_core.cnn.stages import format_shape, strongest_channels
from vision_core.embeddings.vectors import describe_vector, global_pools, pooled_lengths
from vision_core.predictions import top_k

SHOW = 4
text = page_header("cnn_embedding")

# --- the pocket example, finished ------------------------------------------------------------
step(text("pocket_heading"))
picture, filters = pocket_grids()  # the learner's, as edited on the convolution page
pocket_gap(run_pocket_cnn(picture, filters), text, edited=not is_syllabus(picture, filters))

choice = choose_encoder("cnn")
subject, spec = session.subject(choice), choice.encoder
gap_step = cnn.first_step(choice, "gap").name
grid_step = cnn.structure(choice)[gap_step].inputs[0]
keep = (grid_step, gap_step, "embedding", "probs")
tr = core.traced(subject, keep=keep, precision="float32")
grid = tr.array(grid_step)[0]  # (C, H, W)
pools = global_pools(grid)
dim = len(pools.gap)

# --- the squeeze --------------------------------------------------------------------------
step(text("grid_heading"))
sizes = {"shape": format_shape(grid.shape), "channels": dim, "rows": grid.shape[1], "cols": grid.shape[2]}
st.markdown(text("grid_intro", step=grid_step, **sizes))
if st.session_state.get("emb_shown") != (subject.photo.key, choice):  # a new photo or network
    st.session_state["emb_shown"] = (subject.photo.key, choice)
    st.session_state["emb_channels"] = [int(c) for c in strongest_channels(grid, SHOW)]
picked = st.multiselect(
    text("channels_label"),
    range(dim),
    key="emb_channels",
    max_selections=6,
    placeholder=text("channels_placeholder"),
)
for col, c in zip(st.columns(max(len(picked), 1)), picked, strict=False):
    fig = number_grid_figure(grid[c], fmt="{:.1f}", title=text("channel_title", channel=c), height=280)
    draw(col, fig, f"emb_grid_{c}")
    col.markdown(text("channel_mean", mean=pools.gap[c]))
st.caption(text("channels_note", n=SHOW))

# --- the whole vector ---------------------------------------------------------------------
step(text("vector_heading"))
draw(st, marked_vector(pools.gap, picked, text("vector_axis_x"), text("vector_axis_y")), "emb_vector")
summary = describe_vector(pools.gap)
st.markdown(text("vector_text", dim=summary.dim, max=summary.max, argmax=summary.argmax, zeros=summary.zeros))

# --- three ways to pool -------------------------------------------------------------------
step(text("pools_heading"))
st.markdown(text("pools_text"))
rows = [
    {"method": text(f"{m}_name"), "length": n, "first": first, "keeps": text(f"{m}_keeps")}
    for m, n, first in squeeze.pool_summary(pools)
]
lesson_table(rows, text, "emb_pools", grouped=True)
other = int(st.number_input(text("size_label"), 32, 640, 320, step=32, key="emb_size"))
other_grid = cnn.structure(choice, other)[grid_step].shape
lengths = pooled_lengths(other_grid)
grid_shape = format_shape(other_grid[1:])
question.ask(
    "emb_gap_length",
    text("q_gap_length", size=other, grid=grid_shape),
    squeeze.gap_length_question(other_grid, grid.shape),
    text(
        "q_gap_length_why",
        dim=lengths["gap"],
        grid=grid_shape,
        own=format_shape(grid.shape),
        flat=lengths["flatten"],
    ),
    format_func=lambda n: text.num(n, ","),
)
st.markdown(text("pools_size", size=other, grid=grid_shape, flat=lengths["flatten"], dim=lengths["gap"]))

# --- L2 normalisation ---------------------------------------------------------------------
step(text("l2_heading"))
embedding = tr.array("embedding")[0]
st.markdown(text("l2_text", before=summary.length, after=describe_vector(embedding).length, dim=dim))
three = lambda v: text.num(v, ".3f")  # noqa: E731
first = {
    "before_list": squeeze.first_numbers(pools.gap, num=three),
    "after_list": squeeze.first_numbers(embedding, num=three),
}
st.caption(text("l2_first", **first))

# --- predictions --------------------------------------------------------------------------
step(text("predict_heading"))
if spec.has_classifier and "probs" in tr:
    st.markdown(text("predict_text", model=spec.title, dim=dim, classes=tr["probs"].shape[-1]))
    for p in top_k(tr.array("probs")[0], 5):
        st.progress(p.probability, text=f"{p.label} — {text.num(p.probability, '.1%')}")
else:
    st.info(text("no_classifier", model=spec.title))

# --- a second photo -----------------------------------------------------------------------
step(text("compare_heading"))
compare_second_photo(text, subject, spec, embedding)
