"""Embeddings 7 · Encoders compared: the same gallery under two encoders (a CNN and a ViT, say) and
under random weights — how much their neighbour lists agree, side-by-side maps, probe accuracy."""

import itertools

import numpy as np
import pandas as pd
import streamlit as st

from lessons import lesson
from ui import lab, state
from vision_core.embeddings import neighbours
from vision_core.engine import encoders

text = lesson("emb_compare", state.lang())
st.title(text("title"))
st.markdown(text("intro"))
items = lab.current_gallery()
n = len(items)
labels = [it.label for it in items]
if n < 4:
    st.warning(lesson("emb_common", state.lang())("too_few", n=4))
    st.stop()


def title(name: str) -> str:
    s = encoders.get(name)
    have = text("have_weights") if encoders.available_offline(name) else text("no_weights")
    return f"{s.title} ({s.family.replace('_', ' ').upper()}) — {have}"


names = list(encoders.ENCODERS)
vits = [m for m in names if encoders.get(m).family == "vit"]
cols = st.columns([2, 2, 1.3, 1.3])
enc_a = cols[0].selectbox(
    text("a_label"), names, index=names.index(encoders.DEFAULT), format_func=title, key="lab_enc_a"
)
enc_b = cols[1].selectbox(
    text("b_label"), names, index=names.index(vits[0]), format_func=title, key="lab_enc_b"
)
with_random = cols[2].toggle(text("random_label"), value=True, key="lab_enc_random", help=text("random_help"))
k = cols[3].slider(text("k_label"), 1, min(15, n - 1), min(5, n - 1), key="lab_agree_k")

choices = {"A": lab.offline_choice(enc_a), "B": lab.offline_choice(enc_b)}
if with_random and choices["A"].trained:  # an encoder already without its weights is its own random twin
    choices["A0"] = lab.offline_choice(enc_a, random=True)
if choices["A"] == choices["B"]:
    st.info(text("same_twice"))
for tag in ("A", "B"):
    if not choices[tag].trained:
        st.caption(text("fallback", model=encoders.get(choices[tag].name).title))
st.caption(lab.status_line(items))

titles = {tag: f"{tag} · {lab.encoder_title(c)}" for tag, c in choices.items()}
vecs = {tag: lab.vectors(items, c) for tag, c in choices.items()}

st.header(text("agree_heading"))
st.markdown(text("agree_intro", k=k))
chance = neighbours.chance_agreement(n, k)
rows = []
per_photo = {}
for x, y in itertools.combinations(choices, 2):
    j = neighbours.neighbour_agreement(vecs[x], vecs[y], k)
    per_photo[(x, y)] = j
    rows.append(
        {
            text("col_pair"): f"{titles[x]}  ↔  {titles[y]}",
            text("col_jaccard"): round(float(j.mean()), 3),
            text("col_identical"): f"{np.mean(j == 1.0):.0%}",
        }
    )
st.dataframe(pd.DataFrame(rows), hide_index=True, key="lab_agreement")
st.markdown(text("agree_result", k=k, ab=float(per_photo[("A", "B")].mean()), chance=chance, photos=n))

st.header(text("quality_heading"))
st.markdown(text("quality_intro", k=k))
quality = []
for tag, c in choices.items():
    row = {
        text("col_encoder"): titles[tag],
        text("col_dim"): vecs[tag].shape[1],
        text("col_same_label"): f"{neighbours.label_agreement(vecs[tag], labels, k):.1%}",
    }
    try:
        p = lab.probe(lab.digest(items, c.name, c.weights, labels=True), vecs[tag], tuple(labels), 5, 1.0)
        row[text("col_probe")] = f"{p.accuracy:.1%}"
    except ValueError:
        row[text("col_probe")] = "—"
    quality.append(row)
st.dataframe(pd.DataFrame(quality), hide_index=True, key="lab_quality")

st.header(text("maps_heading"))
hover = [f"{it.name} — {it.label}" for it in items]
map_cols = st.columns(len(choices))
for col, (tag, c) in zip(map_cols, choices.items(), strict=True):
    with col:
        st.markdown(f"**{titles[tag]}**")
        m = lab.umap_projection(
            lab.digest(items, c.name, c.weights), vecs[tag], 2, min(15, n - 1), 0.1, "cosine"
        )
        lab.scatter(
            m.coords, labels, hover, key=f"lab_compare_map_{tag}", height=360, clickable=False, legend=False
        )
st.caption(text("maps_note", k=m.params["n_neighbors"]))  # the neighbours UMAP really used

st.header(text("photo_heading"))
ab = per_photo[("A", "B")]
worst = int(np.argmin(ab))
st.session_state.setdefault("lab_compare_photo", worst)
i = lab.focus_picker(items, "lab_compare_photo", text("photo_label"))
st.markdown(text("photo_result", name=items[i].name, j=float(ab[i]), k=k))
q_col, *list_cols = st.columns([1, 3, 3])
q_col.image(lab.thumbnail(items[i].key, items[i].data, 240), caption=items[i].name, width="stretch")
for col, tag in zip(list_cols, ("A", "B"), strict=True):
    with col:
        st.markdown(f"**{titles[tag]}**")
        hits = neighbours.nearest(vecs[tag], i, k)
        lab.thumbs(
            items,
            [h.index for h in hits],
            [f"{h.similarity:.3f} · {labels[h.index]}" for h in hits],
            cols=min(k, 5),
            side=110,
        )
