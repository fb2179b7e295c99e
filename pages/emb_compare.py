"""Embeddings 7 · Encoders compared: the same gallery under two encoders (a CNN and a ViT, say) and
under random weights — how much their neighbour lists agree, side-by-side maps, probe accuracy."""

import itertools

import pandas as pd
import streamlit as st

from lessons import lesson
from ui import gallery, session
from ui.cached import lab as cached
from ui.charts import lab as charts
from ui.charts.scatter import scatter
from ui.presenter import step
from ui.widgets import lab as widgets
from ui.widgets import lab_questions
from ui.widgets.encoder import encoder_title, offline_choice, weights_line, weights_note
from ui.widgets.encoders_compared import A_DEFAULT, B_DEFAULT, one_photo
from ui.widgets.header import page_header
from vision_core.embeddings import neighbours
from vision_core.engine import encoders

text = page_header("emb_compare")
items = widgets.photos_only(gallery.current_gallery())  # a vectors file's photos have one encoder's vectors
n = len(items)
labels = [it.label for it in items]
if n < 4:
    st.warning(lesson("emb_common", session.lang())("too_few", n=4))
    st.stop()


def option(name: str) -> str:
    e, have = encoders.get(name), "have_weights" if encoders.available_offline(name) else "no_weights"
    return text("encoder_option", title=e.title, family=e.family.replace("_", " ").upper(), have=text(have))


names = list(encoders.ENCODERS)
cols = st.columns([2, 2, 1.3, 1.3])
enc_a = cols[0].selectbox(
    text("a_label"), names, index=names.index(A_DEFAULT), format_func=option, key="lab_enc_a"
)
enc_b = cols[1].selectbox(
    text("b_label"), names, index=names.index(B_DEFAULT), format_func=option, key="lab_enc_b"
)
with_random = cols[2].toggle(text("random_label"), value=True, key="lab_enc_random", help=text("random_help"))
k = cols[3].slider(text("k_label"), 1, min(15, n - 1), min(5, n - 1), key="lab_agree_k")

choices = {"A": offline_choice(enc_a), "B": offline_choice(enc_b)}
if with_random and choices["A"].trained:  # an encoder already without its weights is its own random twin
    choices["A0"] = offline_choice(enc_a, random=True)
if choices["A"] == choices["B"]:
    st.info(text("same_twice"))
for tag in ("A", "B"):
    weights_line(choices[tag])  # which weights each side runs, and where they came from
    if not choices[tag].trained:
        what_to_do = weights_note(choices[tag].name) or ""  # the same words the sidebar's offer uses
        st.caption(text("fallback", model=choices[tag].encoder.title, what_to_do=what_to_do))
st.caption(gallery.status_line(items))

titles = {tag: f"{tag} · {encoder_title(c)}" for tag, c in choices.items()}
vecs = {tag: cached.vectors(items, c) for tag, c in choices.items()}

step(text("agree_heading"))
st.markdown(text("agree_intro", k=k))
pairs = {(x, y): neighbours.agreement(vecs[x], vecs[y], k) for x, y in itertools.combinations(choices, 2)}
ab = pairs[("A", "B")]
lab_questions.agreement(ab, n, [a.mean for pair, a in pairs.items() if pair != ("A", "B")])
rows = [
    {
        text("col_pair"): f"{titles[x]}  ↔  {titles[y]}",
        text("col_jaccard"): round(a.mean, 3),
        text("col_identical"): text.num(a.identical, ".0%"),
    }
    for (x, y), a in pairs.items()
]
st.dataframe(pd.DataFrame(rows), hide_index=True, key="lab_agreement")
chance = neighbours.chance_agreement(n, k)
st.markdown(text("agree_result", k=k, ab=ab.mean, chance=chance, photos=n))

step(text("quality_heading"))
FOLDS = 5  # the probe's cross-validation: at most this many folds (fewer for a small label)
st.markdown(text("quality_intro", k=k, folds=neighbours.probe_folds(labels, FOLDS)))
quality = []
for tag, c in choices.items():
    row = {
        text("col_encoder"): titles[tag],
        text("col_dim"): vecs[tag].shape[1],
        text("col_same_label"): text.num(neighbours.label_agreement(vecs[tag], labels, k), ".1%"),
    }
    try:
        key = gallery.digest(items, c.name, c.trained, labels=True)
        accuracy = cached.probe(key, vecs[tag], tuple(labels), FOLDS, 1.0).accuracy
        row[text("col_probe")] = text.num(accuracy, ".1%")
    except ValueError:
        row[text("col_probe")] = "—"
    quality.append(row)
st.dataframe(pd.DataFrame(quality), hide_index=True, key="lab_quality")

step(text("maps_heading"))
hover = charts.hover_names(items)
for i, (col, (tag, c)) in enumerate(zip(st.columns(len(choices)), choices.items(), strict=True)):
    with col:
        st.markdown(f"**{titles[tag]}**")
        with st.spinner(text("maps_spinner", model=titles[tag], i=i + 1, n=len(choices))):
            m = cached.overview_map(items, c, vecs[tag])
        scatter(
            m.coords, labels, hover, key=f"lab_compare_map_{tag}", height=360, clickable=False, legend=False
        )
st.markdown(text("maps_note", k=m.params["n_neighbors"]))  # the neighbours UMAP really used

step(text("photo_heading"))
one_photo(text, items, vecs, ab, titles, k)
