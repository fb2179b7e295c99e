"""Start: what Encoder Lens shows, the learner's photo, and the whole journey in one line."""

import streamlit as st

from lessons import lesson
from ui import session
from ui.cached import core
from ui.presenter import step
from ui.session import Choice
from ui.widgets import nav
from ui.widgets.header import photo_error_banner, through_app
from vision_core.cnn.stages import journey_shapes
from vision_core.engine import encoders
from vision_core.predictions import top_k

through_app()
text = lesson("start", session.lang())
st.title(text("title"))
st.markdown(text("intro"))
photo_error_banner()

choice = Choice(encoders.DEFAULT)
subject = session.subject(choice)
left, right = st.columns([2, 3])
left.image(core.thumbnail(subject.photo), caption=session.photo_name(subject.photo), width="stretch")
tr = core.traced(subject, keep=("probs", "gap"))
journey = " → ".join("×".join(str(d) for d in shape[1:]) for shape in journey_shapes(core.model(choice), tr))
best = top_k(tr.array("probs")[0], 3)
with right:
    st.markdown(
        text(
            "journey",
            model=choice.encoder.title,
            journey=journey,
            dim=tr["gap"].shape[-1],
            label=best[0].label,
            probability=best[0].probability,
        )
    )
    for p in best:
        st.progress(p.probability, text=f"{p.label} — {text.num(p.probability, '.1%')}")
    st.caption(text("journey_note"))

step(text("route_heading"))
for section, titles in nav.SECTIONS.items():
    if section == "start":
        continue
    st.subheader(titles[session.lang()])
    st.markdown(text(f"route_{section}"))
    cols = st.columns(3)
    for i, info in enumerate(p for p in nav.PAGES if p.section == section):
        cols[i % 3].page_link(info.file, label=info.title[session.lang()], icon=info.icon)

step(text("how_heading"))
st.markdown(text("how"))
