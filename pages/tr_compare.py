"""Transformer 6 · CNN vs ViT: the same photo through a CNN and a Vision Transformer side by side —
the CNN's last feature maps against the ViT's attention, the GAP vector against the CLS vector,
and their top predictions where the network has an ImageNet head."""

import streamlit as st

from ui import session
from ui.cached import transformer as cached
from ui.charts import vectors
from ui.charts.attention import key_words, map_over_photo
from ui.charts.layout import draw
from ui.presenter import step
from ui.widgets import question
from ui.widgets.cnn_vs_vit import facts_table, predictions
from ui.widgets.encoder import RANDOM_WEIGHTS, choose_encoder, fixed_choice, untrained_note, weights_help
from ui.widgets.header import page_header
from vision_core import figures
from vision_core.cnn.stages import format_shape, strongest_channels
from vision_core.embeddings.vectors import describe_vector
from vision_core.engine import encoders
from vision_core.transformer import compare

MOSAIC = 8
text = page_header("tr_compare")

# --- the two networks -----------------------------------------------------------------------
vit = choose_encoder("transformer", allow_random_toggle=True, key="tr_compare_random")
random = bool(st.session_state.get(RANDOM_WEIGHTS, False))  # the learner's one random-weights choice
cnn_names = [name for name, s in encoders.ENCODERS.items() if s.family == "cnn"]
if "tr_compare_cnn" not in st.session_state:
    preferred = session.encoder_name("cnn")
    st.session_state["tr_compare_cnn"] = preferred if preferred in cnn_names else encoders.DEFAULT
wanted = st.selectbox(
    text("cnn_label"), cnn_names, key="tr_compare_cnn", format_func=lambda n: encoders.get(n).title
)
cnn = fixed_choice(wanted, random=random, fallback=encoders.DEFAULT)
cnn_spec, vit_spec = cnn.encoder, vit.encoder
cnn_subject, vit_subject = session.subject(cnn), session.subject(vit)
grid_step, gap_step = cached.cnn_steps(cnn)
cnn_tr = cached.cnn_trace(cnn_subject)
facts = {"cnn": cached.facts(cnn), "vit": cached.facts(vit)}
views = cached.attention_views(vit_subject)
vit_vectors = cached.vectors(vit_subject)

# --- side by side ---------------------------------------------------------------------------
step(text("maps_heading"))
left, right = st.columns(2)
fmap = cnn_tr.array(grid_step)[0]  # (C, h, w)
strongest = [int(c) for c in strongest_channels(fmap, MOSAIC)]
cnn_pixels = cached.network_pixels(cnn_subject)
caption = text("cnn_map_caption", channel=strongest[0], step=grid_step, shape=format_shape(fmap.shape))
mosaic = figures.enlarge(figures.colorize_mosaic(figures.mosaic(fmap[strongest], cols=MOSAIC // 2)), 8)
left.subheader(cnn_spec.title)
map_over_photo(
    left, cnn_pixels, fmap[strongest[0]], caption, key=key_words(text, "key_value", fmap[strongest[0]])
)
caption = text("cnn_mosaic_caption", n=MOSAIC, channels=", ".join(str(c) for c in strongest))
left.image(mosaic, width="stretch", caption=caption)

vit_pixels = cached.network_pixels(vit_subject)
last, (rows, cols) = views.layers - 1, views.grid
right.subheader(vit_spec.title)
caption = text("vit_map_caption", layer=last, heads=views.heads, rows=rows, cols=cols)
map_over_photo(
    right, vit_pixels, views.cls_mean[last], caption, key=key_words(text, "key_weight", views.cls_mean[last])
)
roll = cached.rollout_map(vit_subject, "mean", 0.0)
caption = text("vit_rollout_caption", layers=views.layers)
map_over_photo(right, vit_pixels, roll, caption, key=key_words(text, "key_rollout", roll))
titles = {"cnn": cnn_spec.title, "vit": vit_spec.title}
st.markdown(text("maps_text", rows=fmap.shape[1], cols=fmap.shape[2], vrows=rows, vcols=cols, **titles))

# --- the vectors ----------------------------------------------------------------------------
step(text("vectors_heading"))
names = {"cnn": cnn_spec.title, "vit": vit_spec.title, "same": text("q_longer_same")}
dims = {"cnn_dim": facts["cnn"].vector_dim, "vit_dim": facts["vit"].vector_dim, **titles}
q = compare.longer_vector_question(facts["cnn"], facts["vit"])
question.ask(
    "longer_vector",
    text("q_longer", **titles),
    q,
    text("q_longer_why", **dims),
    format_func=names.__getitem__,
)
pairs = (
    (cnn_spec.title, cnn_tr.array(gap_step)[0], "tr_compare_cnn_vector", "gap"),
    (vit_spec.title, vit_vectors["cls"], "tr_compare_vit_vector", "cls"),
)
for column, (title, vector, key, what) in zip(st.columns(2), pairs, strict=True):
    s = describe_vector(vector)
    draw(column, vectors.vector_bars(vector, text("vector_title", model=title, dim=s.dim)), key)
    summary = {"dim": s.dim, "length": s.length, "max": s.max, "argmax": s.argmax, "zeros": s.zeros}
    column.markdown(text(f"vector_{what}", **summary))

# --- the facts ------------------------------------------------------------------------------
step(text("facts_heading"))
facts_table(text, facts, titles)

# --- predictions ----------------------------------------------------------------------------
step(text("predict_heading"))
cnn_probs = cnn_tr.array("probs")[0] if "probs" in cnn_tr else None
predictions(text, (cnn, vit), (cnn_probs, vit_vectors.get("probs")))
untrained_note(vit)
if not encoders.available_offline(wanted):
    weights_help(wanted)
