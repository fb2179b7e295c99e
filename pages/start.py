"""Start: what Encoder Lens shows, the learner's photo, and the whole journey in one line."""

import streamlit as st

from lessons import lesson
from ui import cache, nav, show, state
from vision_core.engine import encoders
from vision_core.predictions import top_k

text = lesson("start", state.lang())
photo = state.current_photo()
name = encoders.DEFAULT
spec = encoders.get(name)

st.title(text("title"))
st.markdown(text("intro"))
show.photo_error_banner()

left, right = st.columns([2, 3])
left.image(cache.thumbnail(photo.key, photo.data), caption=photo.label, width="stretch")
tr = cache.traced(photo.key, photo.data, name, keep=("probs", "gap"))
model = cache.model(name)
shapes = [tr["input"].shape, tr[next(s.name for s in tr.of_kind("conv"))].shape]
shapes += [tr[stage].shape for stage in model.stages] + [tr["gap"].shape]
journey = " → ".join("×".join(str(d) for d in shape[1:]) for shape in shapes)
best = top_k(tr.array("probs")[0], 3)
with right:
    st.markdown(
        text(
            "journey",
            model=spec.title,
            journey=journey,
            dim=tr["gap"].shape[-1],
            label=best[0].label,
            probability=best[0].probability,
        )
    )
    for p in best:
        st.progress(p.probability, text=f"{p.label} — {p.probability:.1%}")
    st.caption(text("journey_note"))

st.header(text("route_heading"))
for section, titles in nav.SECTIONS.items():
    if section == "start":
        continue
    st.subheader(titles[state.lang()])
    st.markdown(text(f"route_{section}"))
    cols = st.columns(3)
    for i, info in enumerate(p for p in nav.PAGES if p.section == section):
        cols[i % 3].page_link(info.file, label=info.title[state.lang()], icon=info.icon)

st.header(text("how_heading"))
st.markdown(text("how"))
