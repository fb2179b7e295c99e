"""Embeddings 6 · Outliers: choose what is normal; each photo's mean cosine distance to its nearest
normal photos is its anomaly score; the most unusual photos are shown."""

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from lessons import lesson
from ui import lab, state
from vision_core.embeddings import neighbours

text = lesson("emb_outliers", state.lang())
st.title(text("title"))
st.markdown(text("intro"))
items, choice, vectors = lab.gallery_and_vectors()
n = len(items)
labels = [it.label for it in items]
all_labels = sorted(set(labels))

left, right = st.columns([3, 1])
# the choice lives in session state only (no default= as well, which Streamlit warns about);
# labels renamed or removed since are dropped
kept = [x for x in st.session_state.get("lab_normal", [items[0].label]) if x in all_labels]
st.session_state["lab_normal"] = kept
normal_labels = left.multiselect(text("normal_label"), all_labels, key="lab_normal", help=text("normal_help"))
k = right.slider(text("k_label"), 1, 10, 3, key="lab_anomaly_k")
if not normal_labels:
    st.warning(text("need_normal"))
    st.stop()
normal = np.array([x in normal_labels for x in labels])
scores = neighbours.anomaly_scores(vectors, normal, k)
auc = neighbours.separation(scores, normal)
highest_normal = float(np.nanmax(scores[normal])) if normal.sum() > 1 else float("nan")
above = int(np.sum(scores[~normal] > highest_normal)) if np.isfinite(highest_normal) else 0
st.markdown(
    text(
        "result",
        normal=int(normal.sum()),
        others=int((~normal).sum()),
        k=k,
        auc=auc,
        above=above,
        highest=highest_normal,
    )
)

order = np.argsort(-np.nan_to_num(scores, nan=-1.0), kind="stable")
fig = go.Figure()
for flag, name, colour in ((True, text("normal_name"), "#1f77b4"), (False, text("other_name"), "#d62728")):
    idx = [int(i) for i in order if normal[i] == flag]
    fig.add_trace(
        go.Bar(
            x=[int(np.flatnonzero(order == i)[0]) + 1 for i in idx],
            y=scores[idx],
            name=name,
            marker_color=colour,
            customdata=[f"{items[i].name} — {labels[i]}" for i in idx],
            hovertemplate="%{customdata}<br>%{y:.3f}<extra></extra>",
        )
    )
if np.isfinite(highest_normal):
    fig.add_hline(y=highest_normal, line_dash="dot", annotation_text=text("line_label"))
fig.update_layout(
    height=340,
    margin={"l": 0, "r": 0, "t": 10, "b": 0},
    barmode="overlay",
    xaxis={"title": text("rank_axis")},
    yaxis={"title": text("score_axis")},
)
st.plotly_chart(fig, key="lab_scores", config={"displayModeBar": False})

st.subheader(text("top_heading"))
top = [int(i) for i in order[: min(12, n)]]
captions = [text("score_caption", score=scores[i], label=labels[i]) for i in top]
lab.thumbs(items, top, captions, cols=6, side=140)
st.subheader(text("typical_heading"))
typical = [int(i) for i in order[::-1] if np.isfinite(scores[i])][:6]
lab.thumbs(
    items,
    typical,
    [text("score_caption", score=scores[i], label=labels[i]) for i in typical],
    cols=6,
    side=140,
)
st.caption(text("note"))
