"""Train it yourself 2 · Three objectives: the same network trained three ways side by side —
cross-entropy, supervised contrastive (metric learning), two-view InfoNCE (self-supervised) — and
scored the same way: 5-NN and a linear probe on each one's frozen embeddings, and each one's map."""

import streamlit as st

from ui.charts import training as charts
from ui.widgets import question
from ui.widgets import training as widgets
from ui.widgets.header import page_header
from vision_core.training import views
from vision_core.training.views import CHANCE

KEY = "train_objectives"
SHORT_EPOCHS = 3  # short runs: three trainings back to back
text = page_header(KEY)
common = widgets.words()

settings = widgets.run_settings(KEY, objective=False, model="cnn", epochs=SHORT_EPOCHS)
run = widgets.run_buttons(KEY, settings, score=True)

st.header(text("asks_heading"))
for column, objective in zip(st.columns(3), settings.objectives, strict=True):
    column.markdown(f"**{common(f'objective_{objective}')}**")
    column.markdown(text(f"asks_{objective}"))


def show(run: views.LiveRun) -> None:
    first = widgets.first(run)
    st.header(text("run_heading"))
    st.markdown(text("run_text", line=widgets.run_line(first), epochs=first.epochs))
    widgets.run_progress(run)
    for column, (objective, trainer) in zip(st.columns(3), run.trainers.items(), strict=True):
        column.subheader(common(f"objective_{objective}"))
        scores = run.scores.get(objective)
        if scores is None:
            column.caption(text("waiting"))
            continue
        a, b = column.columns(2)
        a.metric(common("metric_knn"), common.num(scores.knn_accuracy, ".1%"))
        b.metric(common("metric_probe"), common.num(scores.probe_accuracy, ".1%"))
        column.caption(text("scores_caption", epoch=scores.epoch, loss=scores.loss))
        report = trainer.history[-1]
        hover = [common("map_hover", digit=int(digit)) for digit in trainer.test_labels]
        title = common("map_title", epoch=report.epoch, count=len(hover))
        with column:
            charts.digit_map(report.map_2d, trainer.test_labels, hover, f"{KEY}_map_{objective}", title, 360)
    unsupervised = run.scores.get("self_supervised")
    if run.done and unsupervised is not None:
        says = {"knn": unsupervised.knn_accuracy, "probe": unsupervised.probe_accuracy, "chance": CHANCE}
        st.markdown(text("compare_text", **says))
        m = views.misreads(run.trainers["self_supervised"], vote=True)
        if (q := views.misread_question(m)) is not None:
            said = m.about(q.correct)
            why = text("q_misread_why_tied" if said["ties"] else "q_misread_why", **said)
            question.ask(f"{KEY}_misread", text("q_misread"), q, why, format_func=str)


widgets.live(run, show)
if run is None:
    st.info(text("no_run"), icon=":material/model_training:")
st.markdown(text("scores_text", chance=CHANCE))
st.divider()
widgets.transformer_note()
