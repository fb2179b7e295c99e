"""Embeddings 3 · Similar photos: retrieval by cosine similarity, the formula with the real numbers of
the best match, and the whole gallery's similarity matrix."""

import plotly.graph_objects as go
import streamlit as st

from lessons import lesson
from ui import lab, state
from vision_core.embeddings import neighbours

text = lesson("emb_similar", state.lang())
st.title(text("title"))
st.markdown(text("intro"))
items, choice, vectors = lab.gallery_and_vectors()
n = len(items)
labels = [it.label for it in items]

st.header(text("query_heading"))
left, right = st.columns([2, 1])
with left:
    query = lab.focus_picker(items, "lab_query", text("query_label"))
with right:
    k = st.slider(text("k_label"), 1, min(20, n - 1), min(8, n - 1), key="lab_retrieval_k")
hits = neighbours.nearest(vectors, query, k)
q = items[query]
q_col, hits_col = st.columns([1, 4])
q_col.image(
    lab.thumbnail(q.key, q.data, 300),
    caption=text("query_caption", name=q.name, label=q.label),
    width="stretch",
)
with hits_col:
    captions = [
        text("hit_caption", rank=r + 1, cos=h.similarity, label=items[h.index].label)
        for r, h in enumerate(hits)
    ]
    lab.thumbs(items, [h.index for h in hits], captions, cols=min(k, 6), side=160)
precision = neighbours.label_precision(hits, labels, q.label)
st.markdown(text("precision", k=k, same=round(precision * k), share=precision, label=q.label))

st.header(text("formula_heading"))
best = hits[0]
parts = neighbours.cosine_parts(vectors[query], vectors[best.index])
st.markdown(
    text(
        "formula",
        dim=vectors.shape[1],
        name=items[best.index].name,
        dot=parts.dot,
        norm_a=parts.norm_a,
        norm_b=parts.norm_b,
        cos=parts.cosine,
    )
)

st.header(text("matrix_heading"))
st.markdown(text("matrix_intro"))
order = sorted(range(n), key=lambda i: (labels[i], i))
sims = neighbours.similarities(vectors)[order][:, order]
names = [f"{items[i].label} · {items[i].name}" for i in order]
fig = go.Figure(
    go.Heatmap(
        z=sims,
        x=names,
        y=names,
        colorscale="RdBu_r",
        zmid=0,
        zmin=-1,
        zmax=1,
        hovertemplate="%{y}<br>%{x}<br>cos = %{z:.3f}<extra></extra>",
    )
)
fig.update_layout(
    height=min(760, 200 + 8 * n),
    margin={"l": 0, "r": 0, "t": 10, "b": 0},
    xaxis={"showticklabels": False},
    yaxis={"showticklabels": n <= 60, "autorange": "reversed"},
)
st.plotly_chart(fig, key="lab_similarity_matrix", config={"displayModeBar": False})
st.caption(text("matrix_note"))
