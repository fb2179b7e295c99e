"""Glossary: every term the lessons use, in the page's language and its alphabetical order, each
under an anchor the lessons link to (``glossary#stride``), with a search box and the pages that
use the term (the first: where it first appears)."""

import streamlit as st

from lessons import glossary
from ui import session
from ui.widgets import nav
from ui.widgets.header import page_header

text = page_header("glossary")
lang = session.lang()
query = st.text_input(text("search_label"), key="glossary_search", placeholder=text("search_placeholder"))
everything = glossary.terms(lang)
found = [term for term in everything if glossary.matches(term, query)]
st.caption(text("count", shown=len(found), total=len(everything)))
if not found:
    st.info(text("none"), icon=":material/search_off:")

lesson_pages = [info.id for info in nav.PAGES if info.id != "glossary"]
for term in found:
    st.subheader(term.name, anchor=term.slug, divider="gray")
    st.markdown(term.definition)
    used = glossary.pages_using(term.slug, lang, lesson_pages)
    with st.container(horizontal=True, vertical_alignment="center", key=f"glossary_used_{term.slug}"):
        st.caption(text("used_on"), width="content")
        for info in map(nav.page, used):
            label = f"{nav.SECTIONS[info.section][lang]} · {info.title[lang]}"  # "CNN · 2 · Convolution"
            st.page_link(info.file, label=label, icon=info.icon)
