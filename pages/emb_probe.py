"""Embeddings 5 · A linear probe: logistic regression on the vectors, cross-validated accuracy
against chance, the confusion matrix, and the photos it got wrong."""

import streamlit as st

from ui import gallery
from ui.cached import lab as cached
from ui.charts import lab as charts
from ui.charts.layout import draw
from ui.widgets import lab_questions
from ui.widgets.header import page_header
from ui.widgets.lab import gallery_and_vectors

text = page_header("emb_probe")
items, choice, vectors = gallery_and_vectors()
labels = tuple(it.label for it in items)

left, right = st.columns(2)
folds = left.slider(text("folds_label"), 2, 10, 5, key="lab_folds", help=text("folds_help"))
c = right.select_slider(
    text("c_label"), [0.01, 0.1, 1.0, 10.0, 100.0], value=1.0, key="lab_c", help=text("c_help")
)
try:
    key = gallery.digest(items, choice.name, choice.trained, labels=True)
    probe = cached.probe(key, vectors, labels, folds, c)
except ValueError:
    st.warning(text("need_labels"))
    st.stop()

lab_questions.probe_accuracy(probe, vectors.shape[1])
cols = st.columns(3)
cols[0].metric(text("m_accuracy"), text.num(probe.accuracy, ".1%"))
cols[1].metric(text("m_chance"), text.num(probe.chance, ".1%"))
cols[2].metric(text("m_folds"), probe.folds)
st.markdown(
    text(
        "result",
        accuracy=probe.accuracy,
        chance=probe.chance,
        classes=len(probe.classes),
        folds=probe.folds,
        per_fold=", ".join(text.num(a, ".0%") for a in probe.fold_accuracies),
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
confusion = charts.confusion_matrix(
    probe.confusion, probe.classes, text("confusion_hover"), text("predicted_axis"), text("true_axis")
)
draw(st, confusion, "lab_confusion")
st.markdown(text("confusion_note"))

st.subheader(text("wrong_heading"))
wrong = list(probe.misclassified)
if wrong:
    st.markdown(text("wrong_intro", n=len(wrong)))
    captions = [text("wrong_caption", true=probe.labels[i], predicted=probe.predicted[i]) for i in wrong]
    charts.thumbs(items, wrong[:30], captions[:30], cols=6, side=140)
else:
    st.success(text("none_wrong"))
