"""Encoder Lens: follow a photo through a real image encoder, from pixels to the embedding vector.

This file only builds the navigation and the sidebar; every page lives in ``pages/``.
Run with ``make run`` (or ``streamlit run app.py`` inside the project's virtual environment).
"""

import streamlit as st

from ui import session, warmup
from ui.widgets import header, nav, sidebar
from vision_core.engine import memory

memory.keep_freed_memory()  # traces reuse freed pages instead of faulting in new ones (see module)

st.set_page_config(page_title="Encoder Lens", page_icon=":material/center_focus_strong:", layout="wide")
warmup.start()  # UMAP's numba compilation, in the background: off the learner's path

lang = session.lang()
pages = {
    info.id: st.Page(
        info.file, title=info.title[lang], icon=info.icon, url_path=info.id, default=info.id == "start"
    )
    for info in nav.PAGES
}
sections: dict[str, list] = {}
for info in nav.PAGES:
    sections.setdefault(nav.SECTIONS[info.section][lang], []).append(pages[info.id])

current = st.navigation(sections, expanded=True)
header.entry_point_ran()  # pages run inside this navigation from now on (header.through_app)
session.restore_choices(current.url_path)  # a page's choices come back when the learner returns
section = next((info.section for info in nav.PAGES if pages[info.id] is current), "start")
sidebar.render(section)
current.run()
session.keep_choices(current.url_path)
