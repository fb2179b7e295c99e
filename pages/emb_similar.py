"""Embeddings 3 · Similar photos: retrieval by cosine similarity, the formula with the real numbers of
the best match, and the whole gallery's similarity matrix."""

import streamlit as st

from ui.cached import lab as cached
from ui.charts import lab as charts
from ui.charts.layout import draw
from ui.presenter import step
from ui.widgets import lab_questions
from ui.widgets.header import page_header
from ui.widgets.lab import gallery_and_vectors
from ui.widgets.pickers import focus_picker
from vision_core.embeddings import neighbours

text = page_header("emb_similar")
items, choice, vectors = gallery_and_vectors()
n = len(items)
labels = [it.label for it in items]

step(text("query_heading"))
left, right = st.columns([2, 1])
with left:
    query = focus_picker(items, "lab_query", text("query_label"))
with right:
    k = st.slider(text("k_label"), 1, min(20, n - 1), min(8, n - 1), key="lab_retrieval_k")
lab_questions.nearest(items, vectors, query)
hits = neighbours.nearest(vectors, query, k)
q = items[query]
q_col, hits_col = st.columns([1, 4])
q_col.image(
    cached.thumbnail(q, 300), caption=text("query_caption", name=q.name, label=q.label), width="stretch"
)
with hits_col:
    captions = [
        text("hit_caption", rank=r + 1, cos=h.similarity, label=items[h.index].label)
        for r, h in enumerate(hits)
    ]
    charts.thumbs(items, [h.index for h in hits], captions, cols=min(k, 6), side=160)
r = neighbours.retrieval(hits, labels, query)
scores = {"k": k, "same": r.found, "relevant": r.relevant, "at": r.at, "label": q.label}
if r.defined:
    st.markdown(text("precision", precision=r.precision, recall=r.recall, **scores))
else:
    st.markdown(text("precision_alone", **scores))

step(text("formula_heading"))
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

step(text("matrix_heading"))
st.markdown(text("matrix_intro"))
order = neighbours.label_order(labels)
sims = neighbours.similarities(vectors)[order][:, order]  # (N, N) in label order
groups = neighbours.label_groups([labels[i] for i in order])
lo, hi = neighbours.off_diagonal_range(sims)
names = charts.photo_names(items, order)
draw(
    st, charts.similarity_matrix(sims, names, groups, (lo, hi), text("matrix_scale")), "lab_similarity_matrix"
)
st.caption(text("matrix_note", lo=lo, hi=hi))
