"""Why 5 · Layer by layer: the logit lens of a ViT classifier (its head read off every block's CLS
token), a linear probe on every stage's pooled vector over the lab's gallery (accuracy by depth
against chance), and the effective receptive field of one unit beside its theoretical square."""

import streamlit as st

from ui import gallery, session
from ui.cached import core
from ui.cached import why_layers as cached
from ui.charts import why_layers as charts
from ui.charts.layout import draw
from ui.charts.tables import lesson_table
from ui.presenter import step
from ui.widgets import question
from ui.widgets.encoder import choose_encoder
from ui.widgets.header import page_header
from ui.widgets.pickers import position_picker
from vision_core.why.erf import effective_side_question, even_side, field_steps
from vision_core.why.lens import settled_question

text = page_header("why_layers")
choice = choose_encoder("why", allow_random_toggle=True, key="layers_random")
subject, encoder = session.subject(choice), choice.encoder

# --- the logit lens -----------------------------------------------------------------------
step(text("lens_heading"))
st.markdown(text("lens_intro"))
if not cached.has_head(choice):
    cnn_head = encoder.family != "vit" and encoder.has_classifier  # a head, but no CLS token to read early
    st.info(text("lens_cnn" if cnn_head else "lens_no_head", model=encoder.title))
else:
    if encoder.labels == cached.DIGITS:
        left, right = st.columns([3, 1])
        digit = left.select_slider(text("digit_label"), list(range(10)), value=5, key="layers_digit")
        right.image(cached.digit_picture(digit), caption=text("digit_caption"), width=96)
        lens = cached.lens_of_digit(choice, digit)
    else:
        lens = cached.lens_of_photo(subject)
    told = lens.summary()
    question.ask(
        "lens_block", text("q_lens", **told), settled_question(lens), text("q_lens_why", **told),
        format_func=lambda b: text("q_lens_option", block=int(b)),
    )  # fmt: skip
    st.markdown(
        text(
            "lens_answer_first" if told["settled_first"] else "lens_answer_later", model=encoder.title, **told
        )
    )
    draw(st, charts.lens_curves(lens, text), "layers_lens")
    st.caption(text("lens_check", gap=lens.last_block_gap()))
    lesson_table(charts.lens_rows(lens, text), text, "layers_lens_table", height="content")
    note = "lens_trained_note" if choice.trained else "lens_random_note"
    st.caption(text(note, weights=encoder.weights.title))

# --- the linear probe by depth ------------------------------------------------------------
step(text("probe_heading"))
items = gallery.current_gallery()
intro = "probe_intro_vit" if encoder.family == "vit" else "probe_intro"
st.markdown(text(intro, photos=len(items), labels=len({it.label for it in items})))
result = cached.stored_probe(items, choice)
asked = st.session_state.pop("layers_probe_asked", False)  # set by the button: survives a rerun
if result is None and not asked:
    go = text("probe_button", photos=len(items))
    st.button(
        go, key="layers_probe_go", on_click=st.session_state.update, kwargs={"layers_probe_asked": True}
    )
elif result is None:
    try:
        result = cached.depth_probe(items, choice)
    except ValueError:
        st.warning(text("probe_need_labels"))
if result is not None:
    draw(st, charts.probe_curve(result, text), "layers_probe")
    told, names = result.summary(), charts.depth_names(result, text)
    named = {"first": names[0], "best": names[told["best_at"]], "deepest": names[told["deepest_at"]]}
    st.markdown(text("probe_result_beats" if told["beats"] else "probe_result_no_better", **told, **named))
    st.caption(text("probe_note" if choice.trained else "probe_random_note"))

# --- the effective receptive field --------------------------------------------------------
step(text("erf_heading"))
st.markdown(text("erf_intro"))
if encoder.family == "vit":
    st.info(text("erf_vit"))
    st.stop()
tr = core.traced(subject, keep=())
steps = field_steps(tr)
step = st.selectbox(text("erf_step_label"), steps, index=len(steps) // 2, key="layers_erf_step")
channels, rows, cols = tr[step].shape[1:]
unit_names = [text("all_channels", n=channels), *(text("channel_name", c=c) for c in range(channels))]
picked = st.selectbox(
    text("erf_channel_label"),
    range(channels + 1),
    format_func=unit_names.__getitem__,
    key=f"layers_erf_unit_{step}",
)
channel = None if picked == 0 else picked - 1  # 0: the sum of all channels
pixels = core.prepared(subject).pixels
left, right = st.columns(2)
with left:
    title = text("erf_pick_title", step=step, rows=rows, cols=cols)
    labels = (text("row_label"), text("col_label"))
    row, col = position_picker(pixels, (rows, cols), key=f"layers_erf_pos_{step}", labels=labels, title=title)
field = cached.effective_field(subject, step, row, col, channel)
told = {**field.summary(), "unit": unit_names[picked], "even": even_side(field)}
if field.total > 0:
    with right:  # above the map that shows it
        why = text("q_erf_why_centred" if told["eff"] < told["even"] else "q_erf_why_spread", **told)
        question.ask(
            "erf_side", text("q_erf", **told), effective_side_question(field), why,
            format_func=lambda n: text("q_erf_option", n=int(n)),
        )  # fmt: skip
draw(right, charts.field_over_photo(pixels, field, text("erf_title")), "layers_erf")
if field.total == 0:
    st.warning(text("erf_flat", **told))
else:
    st.markdown(text("erf_text", **told))
if field.box.clipped(*pixels.shape[:2]) != field.box:
    st.caption(text("erf_past_edge", photo=pixels.shape[0]))
