"""Class · Run a class: the teacher picks the class's encoder and how long it lasts, starts it,
shows the join code, link and QR code, watches the live map, removes photos, and ends it."""

import streamlit as st

from ui.cached import classroom as cached
from ui.widgets import classroom as widgets
from ui.widgets.encoder import weights_status
from ui.widgets.header import page_header
from vision_core.classroom import ClassError
from vision_core.engine import encoders

text = page_header("class_teacher")
widgets.flash()
store = cached.store()
teaching = st.session_state.get(widgets.TEACHING)
if teaching is not None:
    try:
        info = store.get_class(teaching["code"])
    except ClassError:
        st.warning(text("lost", code=teaching["code"]))
        del st.session_state[widgets.TEACHING]
        teaching = None

if teaching is None:
    present = [n for n in encoders.names(("cnn", "clip_cnn", "vit")) if weights_status(n).present]
    name = st.selectbox(
        text("encoder_label"),
        present,
        index=present.index(encoders.DEFAULT) if encoders.DEFAULT in present else 0,
        format_func=lambda n: encoders.get(n).title,
        key="class_encoder",
        help=text("encoder_help"),
    )
    hours = widgets.hours_box(text)
    if st.button(text("start_button"), key="class_start", type="primary", icon=":material/play_arrow:"):
        info, token = store.start_class(name, hours)
        st.session_state[widgets.TEACHING] = {"code": info.code, "token": token}
        st.rerun()
    st.stop()

code, token = teaching["code"], teaching["token"]
left, right = st.columns([3, 2])
with left:
    st.metric(text("code_label"), code)
    st.markdown(widgets.teacher_note(info, text))
    link = widgets.join_link(code)
    if link is None:
        st.info(text("no_url"), icon=":material/link_off:")
    else:
        st.markdown(f"**{text('link_label')}**")
        st.code(link, language=None)
        st.caption(text("link_reach"))
if link is not None:
    right.image(widgets.qr_png(link), caption=text("qr_caption"), width=260)

st.header(widgets.words()("map_heading"))
widgets.teacher_view(code, token)

st.divider()
widgets.end_class_box(code, token, text)
