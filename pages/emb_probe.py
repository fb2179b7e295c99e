"""Embeddings 5 · A linear probe: logistic regression on the vectors, cross-validated accuracy
against chance, the confusion matrix, and the photos it got wrong."""

import plotly.graph_objects as go
import streamlit as st

from lessons import lesson
from ui import lab, state

text = lesson("emb_probe", state.lang())
st.title(text("title"))
st.markdown(text("intro"))
items, choice, vectors = lab.gallery_and_vectors()
labels = tuple(it.label for it in items)

left, right = st.columns(2)
folds = left.slider(text("folds_label"), 2, 10, 5, key="lab_folds", help=text("folds_help"))
c = right.select_slider(
    text("c_label"), [0.01, 0.1, 1.0, 10.0, 100.0], value=1.0, key="lab_c", help=text("c_help")
)
try:
    probe = lab.probe(lab.digest(items, choice.name, choice.weights, labels=True), vectors, labels, folds, c)
except ValueError:
    st.warning(text("need_labels"))
    st.stop()

cols = st.columns(3)
cols[0].metric(text("m_accuracy"), f"{probe.accuracy:.1%}")
cols[1].metric(text("m_chance"), f"{probe.chance:.1%}")
cols[2].metric(text("m_folds"), probe.folds)
folds_text = ", ".join(f"{a:.0%}" for a in probe.fold_accuracies)
st.markdown(
    text(
        "result",
        accuracy=probe.accuracy,
        chance=probe.chance,
        classes=len(probe.classes),
        folds=probe.folds,
        per_fold=folds_text,
        photos=int(probe.used.sum()),
        dim=vectors.shape[1],
    )
)
if probe.left_out:
    st.info(text("left_out", labels=", ".join(probe.left_out)))
if not choice.trained:
    st.caption(text("random_note"))
elif probe.accuracy == 1.0:
    st.caption(text("try"))

st.subheader(text("confusion_heading"))
classes = list(probe.classes)
fig = go.Figure(
    go.Heatmap(
        z=probe.confusion,
        x=classes,
        y=classes,
        colorscale="Blues",
        text=probe.confusion,
        texttemplate="%{text}",
        hovertemplate=text("confusion_hover") + "<extra></extra>",
        showscale=False,
    )
)
fig.update_layout(
    height=min(700, 160 + 28 * len(classes)),
    margin={"l": 0, "r": 0, "t": 10, "b": 0},
    xaxis={"title": text("predicted_axis"), "tickangle": -35},
    yaxis={"title": text("true_axis"), "autorange": "reversed"},
)
st.plotly_chart(fig, key="lab_confusion", config={"displayModeBar": False})
st.caption(text("confusion_note"))

st.subheader(text("wrong_heading"))
wrong = list(probe.misclassified)
if wrong:
    st.markdown(text("wrong_intro", n=len(wrong)))
    captions = [text("wrong_caption", true=probe.labels[i], predicted=probe.predicted[i]) for i in wrong]
    lab.thumbs(items, wrong[:30], captions[:30], cols=6, side=140)
else:
    st.success(text("none_wrong"))
