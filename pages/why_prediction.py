"""Why? 1 · Why this prediction: Grad-CAM, Grad-CAM++ and HiResCAM of the top class or any class (for
an encoder without a head, of the cosine similarity to a second photo), occlusion sensitivity beside
them, and the pretrained-versus-random sanity check (Adebayo et al., 2018) on the same photo."""

import streamlit as st

from ui import session
from ui.cached import core
from ui.cached import why_prediction as cached
from ui.charts.layout import draw
from ui.charts.why_prediction import map_over_photo, maps_side_by_side
from ui.presenter import step
from ui.widgets import question
from ui.widgets.encoder import choose_encoder
from ui.widgets.header import page_header
from ui.widgets.photo_source import second_photo
from vision_core.predictions import top_k
from vision_core.why import cam, occlusion

text = page_header("why_prediction")
choice = choose_encoder("why")
subject, spec = session.subject(choice), choice.encoder
tr = cached.predictions(subject)
pixels = core.prepared(subject).pixels

# --- what the maps explain ------------------------------------------------------------------
step(text("target_heading"))
label, second = None, None
if spec.has_classifier:
    kind = "class"
    ranked = top_k(tr.array("probs")[0], tr["probs"].shape[-1], spec.labels)
    by_index = {p.index: p for p in ranked}
    if st.session_state.get("why_shown") != (subject.photo.key, choice):  # a new photo or network
        st.session_state["why_shown"] = (subject.photo.key, choice)
        st.session_state["why_class"] = ranked[0].index
    option = {i: text("class_option", label=p.label, p=p.probability) for i, p in by_index.items()}
    label = st.selectbox(text("class_label"), list(option), key="why_class", format_func=option.get)
    picked, rank = by_index[label], [p.index for p in ranked].index(label) + 1
    st.markdown(text("target_class", label=picked.label, p=picked.probability, rank=rank, model=spec.title))
else:
    kind = "similarity"
    st.markdown(text("target_similarity", model=spec.title))
    second = second_photo(text, "why")
    if second is None:
        st.stop()
    if second.key == subject.photo.key:
        st.info(text("same_photo"))
        st.stop()

# --- the controls ---------------------------------------------------------------------------
names = {m: text(f"method_{m}") for m in cam.METHODS}
method = session.remembered_choice(
    st.radio, "why_method", list(cam.METHODS), "gradcam", label=text("method_label"), format_func=names.get,
    horizontal=True,
)  # fmt: skip
sides = occlusion.patch_sides(pixels.shape[0])  # the options depend on the side, the stride's on the square
pick_patch, pick_stride = st.columns(2)
patch = pick_patch.select_slider(
    text("patch_label"), sides, sides[len(sides) // 2], key=f"why_patch_{pixels.shape[0]}"
)
stride = pick_stride.select_slider(
    text("stride_label"), occlusion.strides(patch), patch, key=f"why_stride_{patch}"
)

cam_map = cached.cam_map(subject, method, label, second)
occ = cached.occlusion_map(subject, label, second, patch, stride)
check = cached.region_check(subject, method, label, second, patch)

# --- the map and the occlusion map, side by side --------------------------------------------
step(text("maps_heading"))
if not cam_map.flat:  # an empty map marks no quarter
    quarters = {q: text(f"quarter_{q}") for q in cam.QUARTERS}
    q = cam.quarter_question(cam_map)
    shares = cam.quarter_shares(cam_map.pixels)
    target = by_index[label].label if label is not None else ""
    question.ask(
        "cam_quarter",
        text(f"q_quarter_{kind}", method=names[method], label=target),
        q,
        text("q_quarter_why", method=names[method], quarter=quarters[q.correct], share=shares[q.correct],
             **shares, **cam_map.numbers()),
        format_func=quarters.__getitem__,  # raises on a label: AppTest then matches labels
    )  # fmt: skip
st.markdown(text(f"maps_intro_{kind}"))
left, right = st.columns(2)
square = None if cam_map.flat else check.box
figure = map_over_photo(
    pixels, cam_map.pixels, title=names[method], scale_title=text("cam_scale"), square=square
)
draw(left, figure, "why_cam")
caption = f"cam_flat_{kind}" if cam_map.flat else f"cam_caption_{kind}"
left.caption(text(caption, **cam_map.numbers()))
drop_words = {"title": text("occlusion_title"), "scale_title": text(f"drop_scale_{kind}")}
figure = map_over_photo(pixels, occ.pixels, square=occ.worst, signed=True, **drop_words)
draw(right, figure, "why_occlusion")
right.caption(text(f"occlusion_{'caption' if occ.largest_drop >= 0 else 'rises'}_{kind}", **occ.numbers()))
if not cam_map.flat:
    st.markdown(text(f"check_{'agrees' if check.agrees else 'disagrees'}_{kind}", **check.numbers()))
st.markdown(text("hires_same" if cam_map.uniform_gradient else "hires_differs"))

# --- the sanity check: the same map with random weights -------------------------------------
step(text("sanity_heading"))
if not choice.trained:
    st.info(text("sanity_untrained", model=spec.title))
else:
    st.markdown(text("sanity_intro", method=names[method]))
    random_map, rho = cached.sanity(subject, method, label, second)
    titles = (text("trained_title"), text("random_title"))
    maps_side_by_side(
        st.columns(2), pixels, (cam_map.pixels, random_map.pixels), titles, text("cam_scale"), "why_sanity"
    )
    st.markdown(text(f"sanity_{cam.agreement(rho)}", rho=rho, method=names[method], **cam_map.numbers()))

with st.expander(text("formulas_heading")):
    st.markdown(text("formulas"))
