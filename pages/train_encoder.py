"""Train it yourself 1 · Train an encoder: a pocket CNN or a tiny ViT trained live on handwritten
digits, one epoch at a time — its loss and held-out accuracy, what it reads in a digit the learner
picks or draws (tiny ViT: where its CLS token looks), its first-layer filters, and the map of the
held-out digits sorting itself."""

import streamlit as st

from ui.cached import training as cached
from ui.charts import training as charts
from ui.charts.layout import draw
from ui.widgets import question
from ui.widgets import training as widgets
from ui.widgets.captions import spread_caption
from ui.widgets.header import page_header
from vision_core.training import views
from vision_core.training.data import HELD_OUT

KEY = "train_encoder"
text = page_header(KEY)
common = widgets.words()

settings = widgets.run_settings(KEY)
run = widgets.run_buttons(KEY, settings)
d = cached.dataset(settings.dataset if run is None else widgets.first(run).data.name)

st.subheader(text("probe_heading"))
pick, picked = st.columns(2)
with pick:
    probe, probe_caption = widgets.probe_picker(KEY, d)
if probe is not None:
    picked.image(charts.digit_picture(cached.digit_pixels(probe)), caption=probe_caption)
else:
    picked.info(probe_caption, icon=":material/draw:")


def show(run: views.LiveRun) -> None:
    trainer = widgets.first(run)
    c = views.curves(trainer.history)
    says = {"epoch": trainer.epoch, "epochs": trainer.epochs, "seconds": c.seconds, "wall": run.elapsed}
    st.header(text("run_heading"))
    st.markdown(widgets.run_line(trainer))
    st.progress(trainer.epoch / trainer.epochs, text=common("progress", **says))
    state = "running" if run.running else ("done" if run.done else "stopped")
    st.caption(
        common(f"time_{state}", projected=c.projected(trainer.epochs), threads=views.cpu_threads(), **says)
    )
    if not trainer.history:
        return
    report = trainer.history[-1]
    source = "probe" if report.accuracy_source == "linear probe" else "classifier"
    metrics = st.columns(3)
    metrics[0].metric(common("metric_loss"), common.num(report.loss, ".3f"))
    metrics[1].metric(common(f"metric_accuracy_{source}"), common.num(report.accuracy, ".1%"))
    metrics[2].metric(common("metric_knn"), common.num(report.knn_accuracy, ".1%"))

    if probe is not None:
        st.subheader(text("reads_heading", epoch=report.epoch))
        reading = views.read_digit(trainer, probe)
        shown, notes = st.columns(2)
        if views.has_attention(trainer):
            attention = trainer.cls_attention(probe)
            pixels = cached.digit_pixels(probe)
            shown.image(charts.attention_picture(pixels, attention), caption=text("attention_caption"))
            lead = text("attention_text", p=trainer.model.patch_size)
            notes.markdown(spread_caption(text, "spread", attention, lead=lead))
            ink = views.attention_on_ink(trainer, probe)
            notes.markdown(text("ink_text", on_ink=ink.on_ink, ink=ink.ink_patches))
        else:
            notes.markdown(text("no_attention"))
        notes.markdown(common(f"reading_{reading.source}", digit=reading.digit, share=reading.share))

    st.subheader(text("curves_heading"))
    axis = common("axis_epoch")
    left, right = st.columns(2)
    draw(left, charts.loss_curve(c, axis, common("axis_loss"), text("loss_title")), f"{KEY}_loss")
    names = (common(f"metric_accuracy_{source}"), common("metric_knn"))
    fig = charts.accuracy_curves(c, names, axis, common("axis_accuracy"), text("accuracy_title"))
    draw(right, fig, f"{KEY}_accuracy")
    st.markdown(text(f"curves_text_{source}", held_out=HELD_OUT))

    st.subheader(text("filters_heading"))
    count, k = report.filters.shape[0], report.filters.shape[-1]
    mosaic = views.filter_mosaic(report.filters)
    draw(st, charts.filters_figure(mosaic, text("filters_title", epoch=report.epoch)), f"{KEY}_filters")
    st.markdown(text(f"filters_text_{trainer.model_kind}", count=count, k=k))

    st.subheader(text("map_heading"))
    hover = [common("map_hover", digit=int(digit)) for digit in trainer.test_labels]
    title = common("map_title", epoch=report.epoch, count=len(hover))
    charts.digit_map(report.map_2d, trainer.test_labels, hover, f"{KEY}_map", title)
    st.markdown(text("map_text", count=len(hover)))
    if not run.running:  # a finished or stopped run: its answers no longer move
        m = views.misreads(trainer)
        if (q := views.misread_question(m)) is not None:
            said = m.about(q.correct)
            why = text("q_misread_why_tied" if said["ties"] else "q_misread_why", **said)
            question.ask(
                f"{KEY}_misread", text(f"q_misread_{m.source}", epoch=report.epoch), q, why, format_func=str
            )


widgets.live(run, show)
if run is None:
    st.info(text("no_run"), icon=":material/model_training:")
st.divider()
widgets.transformer_note()
