"""Why 3 · Perturbation lab: cover, crop, shift, rotate, blur or recolour the picture the network
sees and watch the first feature maps (CNN) or the CLS attention (ViT), the top-5 and the
embedding's cosine similarity to the original's move; then how invariant the embedding is to a
shift and to a rotation, swept in one batched forward pass each."""

import streamlit as st

from ui import session
from ui.cached import why_perturb as cached
from ui.charts.attention import key_words, map_over_photo
from ui.charts.why_perturb import maps_before_after
from ui.presenter import step
from ui.widgets import question
from ui.widgets.encoder import choose_encoder
from ui.widgets.header import page_header
from ui.widgets.perturb_results import invariance_curves, top_predictions
from ui.widgets.why_perturb import perturbation_controls
from vision_core.cnn.stages import format_shape
from vision_core.why.perturb import SMALL_TURN, flip_question, peak_patch

text = page_header("why_perturb")
choice = choose_encoder("why")
subject, spec = session.subject(choice), choice.encoder
picture, fill = cached.network_pixels(subject), cached.fill(subject)

# --- the controls ---------------------------------------------------------------------------
step(text("controls_heading"))
st.markdown(
    text("controls_text", width=picture.shape[1], height=picture.shape[0], r=fill[0], g=fill[1], b=fill[2])
)
p = perturbation_controls(text, picture, fill, key="why_perturb")
c = cached.moved(subject, p)

# --- what the network sees and how far its vector moved ---------------------------------------
step(text("seen_heading"))
before_col, after_col, number_col = st.columns([1, 1, 1])
before_col.image(picture, caption=text("original_caption"), width="stretch")
after_col.image(c.pixels, caption=text("perturbed_caption"), width="stretch")
number_col.metric(text("cosine_label"), text.num(c.cosine, ".3f"))
number_col.markdown(text("cosine_null" if p.is_null else "cosine_text", cos=c.cosine, model=spec.title))

if c.maps_before is not None and c.maps_after is not None and c.first_cosine is not None:
    step(text("maps_heading"))
    shape = format_shape(c.first_shape or ())
    says = {
        "step": c.first_step,
        "shape": shape,
        "n": len(c.channels),
        "first": c.first_cosine,
        "cos": c.cosine,
    }
    st.markdown(text("maps_text", **says))
    if not p.is_null:
        st.markdown(text("maps_more" if c.first_cosine < c.cosine else "maps_less", **says))
    titles = [text("channel_title", channel=ch) for ch in c.channels]
    maps_before_after(c.maps_before, c.maps_after, titles, (text("before_row"), text("after_row")))
elif c.cls_before is not None and c.cls_after is not None:
    step(text("attention_heading"))
    last = len(c.cls_before) - 1
    st.session_state["why_perturb_layer"] = min(int(st.session_state.get("why_perturb_layer", last)), last)
    layer = st.slider(text("layer_label", last=last), 0, last, key="why_perturb_layer")
    (r0, c0), (r1, c1) = peak_patch(c.cls_before[layer]), peak_patch(c.cls_after[layer])
    st.markdown(text("attention_text", layer=layer))
    left, right = st.columns(2)
    before, after = c.cls_before[layer], c.cls_after[layer]
    map_over_photo(
        left,
        picture,
        before,
        text("attention_before", layer=layer),
        key=key_words(text, "key_weight", before),
    )
    map_over_photo(
        right, c.pixels, after, text("attention_after", layer=layer), key=key_words(text, "key_weight", after)
    )
    peak = "peak_same" if (r0, c0) == (r1, c1) else "peak_moved"
    st.markdown(text(peak, r0=r0, c0=c0, r1=r1, c1=c1))

step(text("top_heading"))
top_predictions(text, c, spec)

# --- how invariant is the embedding? ----------------------------------------------------------
step(text("sweep_heading"))
st.markdown(text("sweep_intro"))
with st.spinner(text("sweep_wait")):
    angles = cached.sweep(subject, "angle")  # cached: the curve below reads the same sweep
turns = {"flip": angles.at(180.0), "small": angles.at(SMALL_TURN), "quarter": angles.at(90.0)}
why = text("q_flip_why", **turns, small_angle=SMALL_TURN)
question.ask("flip", text("q_flip"), flip_question(angles), why, format_func=lambda v: text.num(v, ".2f"))
invariance_curves(text, subject)
st.markdown(text("takeaway"))
