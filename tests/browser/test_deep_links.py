"""A link to a lesson page opened as the very first visit to a freshly started server.

Streamlit only stops treating the top-level ``pages/`` folder as its automatic page listing once
``app.py`` has called ``st.navigation``; before that, a deep link ran the page file on its own,
without the app's sections and sidebar (ui/widgets/header.py's ``through_app`` fixes it)."""

from __future__ import annotations

from playwright.sync_api import expect

from lessons import lesson
from tests.browser.conftest import assert_no_exception, served_app, shot, wait_until_idle
from ui.widgets.nav import SECTIONS, page


def test_a_deep_link_is_the_first_visit_to_a_fresh_server(browser):
    info = page("cnn_convolution")
    with served_app("streamlit-deep-link-test") as url:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        pg = context.new_page()
        pg.set_default_timeout(180_000)
        try:
            pg.goto(f"{url}/{info.id}")
            wait_until_idle(pg)
            assert_no_exception(pg)
            nav = pg.locator('[data-testid="stSidebarNav"]')
            # the app's own navigation: its section titles and page titles
            expect(nav.get_by_text(SECTIONS["cnn"]["en"], exact=True)).to_be_visible()
            expect(nav.get_by_text(info.title["en"], exact=True)).to_be_visible()
            # not Streamlit's automatic listing of pages/ ("app", "cnn convolution", ...)
            expect(nav.get_by_text("cnn convolution", exact=True)).to_have_count(0)
            # and the page itself, with the app's sidebar (the photo picker lives there)
            title = lesson(info.id, "en")("title")
            expect(pg.get_by_role("heading", name=title).first).to_be_visible()
            assert pg.url.rstrip("/").endswith(info.id)
            shot(pg, "deep_link_first_visit")
        finally:
            context.close()
