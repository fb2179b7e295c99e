"""Encoder Lens: follow a photo through a real image encoder, from pixels to the embedding vector.

This file only builds the navigation and the sidebar; every page lives in ``pages/``.
Run with ``make run`` (or ``streamlit run app.py`` inside the project's virtual environment).
"""

import streamlit as st

from ui import links, presenter, server, session, warmup
from ui.widgets import header, nav, sidebar
from vision_core.engine import memory

memory.keep_freed_memory()  # traces reuse freed pages instead of faulting in new ones (see module)
server.tune()  # one BLAS thread, a longer GIL switch interval: the learners are the parallelism

links.read_early()  # a link's language and presenter mode, before anything is drawn in them
room = presenter.active()
st.set_page_config(
    page_title="Encoder Lens",
    page_icon=":material/center_focus_strong:",
    layout="wide",
    initial_sidebar_state="collapsed" if room else "auto",
)
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

current = st.navigation(sections, expanded=True, position="top" if room else "sidebar")
header.entry_point_ran()  # pages run inside this navigation from now on (header.through_app)
page = current.url_path or "start"
section = next((info.section for info in nav.PAGES if pages[info.id] is current), "start")
links.read(page, section)  # a link's photo, encoder and page choices (once per session)
session.restore_choices(page)  # a page's choices come back when the learner returns
sidebar.render(section)
presenter.begin(page)
presenter.banner(section, section in session.SECTION_FAMILIES)
links.notes(page)
try:
    current.run()
except presenter.LaterSteps:
    pass  # presenter mode: the page's steps after the one on screen do not run
except Exception:
    if not links.refused(page):  # a link's value that a widget refused: dropped, said, rerun
        raise
    st.rerun()
finally:  # st.stop() on a page (nothing to show yet) ends the run here too
    session.keep_choices(page)
presenter.finish()
links.settle(page, section)  # hand waiting link choices to the widgets now drawn; write the link
