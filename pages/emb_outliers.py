"""Embeddings 6 · Outliers: choose what is normal; each photo's mean cosine distance to its nearest
normal photos is its anomaly score; the most unusual photos are shown."""

import streamlit as st

from ui.charts import lab as charts
from ui.charts.layout import draw
from ui.widgets import lab_questions
from ui.widgets.header import page_header
from ui.widgets.lab import gallery_and_vectors
from vision_core.embeddings.outliers import outliers

text = page_header("emb_outliers")
items, choice, vectors = gallery_and_vectors()
labels = [it.label for it in items]
all_labels = sorted(set(labels))

left, right = st.columns([3, 1])
# the choice lives in session state only (no default= as well, which Streamlit warns about);
# labels renamed or removed since are dropped
kept = [x for x in st.session_state.get("lab_normal", [items[0].label]) if x in all_labels]
st.session_state["lab_normal"] = kept
normal_labels = left.multiselect(
    text("normal_label"),
    all_labels,
    key="lab_normal",
    help=text("normal_help"),
    placeholder=text("normal_placeholder"),
)
k = right.slider(text("k_label"), 1, 10, 3, key="lab_anomaly_k")
if not normal_labels:
    st.warning(text("need_normal"))
    st.stop()
report = outliers(vectors, labels, normal_labels, k)
lab_questions.most_unusual(items, report)
st.markdown(
    text(
        "result",
        normal=int(report.normal.sum()),
        others=int((~report.normal).sum()),
        k=k,
        auc=report.auc,
        above=report.above,
        highest=report.highest_normal,
    )
)

names = (text("normal_name"), text("other_name"))
axes = (text("line_label"), text("rank_axis"), text("score_axis"))
draw(st, charts.score_bars(report, charts.hover_names(items), names, *axes), "lab_scores")


def score_thumbs(indices: list[int]) -> None:
    captions = [text("score_caption", score=report.scores[i], label=labels[i]) for i in indices]
    charts.thumbs(items, indices, captions, cols=6, side=140)


st.subheader(text("top_heading"))
score_thumbs(report.most_unusual(12))
st.subheader(text("typical_heading"))
score_thumbs(report.most_typical(6))
st.caption(text("note"))
