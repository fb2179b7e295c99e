"""Class · Class map: a learner joins a class by its code, adds one photo (with consent) through
the class's encoder, and sees the whole class's map, live, with their nearest classmates."""

import streamlit as st

from ui.cached import classroom as cached
from ui.widgets import classroom as widgets
from ui.widgets.header import page_header
from vision_core.classroom import ClassError

text = page_header("class_map")
widgets.flash()
code = widgets.code_box(text)
if not code:
    st.info(text("no_code"), icon=":material/key:")
    st.stop()

store = cached.store()
try:
    info, entries = store.get_class(code), store.entries(code)
except ClassError as error:
    widgets.class_gone(error, code)
    st.stop()
widgets.joined_line(info, entries, text)
me = widgets.owner_id()  # this browser session's learner token
own = next((e for e in entries if e.owner == me), None)
if own is None:
    widgets.add_form(info, text)
else:
    widgets.remove_form(info, own, text)

st.header(text("map_heading"))
widgets.learner_map(info.code, own is not None)
