"""A link to a lesson page opened as the very first visit to a freshly started server.

Streamlit only stops treating the top-level ``pages/`` folder as its automatic page listing once
``app.py`` has called ``st.navigation``; before that, a deep link ran the page file on its own,
without the app's sections and sidebar (ui/widgets/header.py's ``through_app`` fixes it)."""

from __future__ import annotations

import contextlib

from playwright.sync_api import expect

from lessons import lesson
from tests.browser.conftest import assert_no_exception, served_app, shot, wait_until_idle
from ui.widgets.nav import SECTIONS, page


@contextlib.contextmanager
def first_visit(browser, log_name: str, path: str, viewport: tuple[int, int]):
    """A fresh server, and a browser whose very first request to it is ``/<path>``: the page,
    open and settled, with no exception on it."""
    with served_app(log_name) as url:
        context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
        pg = context.new_page()
        pg.set_default_timeout(180_000)
        try:
            pg.goto(f"{url}/{path}")
            wait_until_idle(pg)
            assert_no_exception(pg)
            yield pg
        finally:
            context.close()


def test_a_deep_link_is_the_first_visit_to_a_fresh_server(browser):
    info = page("cnn_convolution")
    with first_visit(browser, "streamlit-deep-link-test", info.id, (1400, 1000)) as pg:
        nav = pg.locator('[data-testid="stSidebarNav"]')
        # the app's own navigation: its section titles and page titles
        expect(nav.get_by_text(SECTIONS["cnn"]["en"], exact=True)).to_be_visible()
        expect(nav.get_by_text(info.title["en"], exact=True)).to_be_visible()
        # not Streamlit's automatic listing of pages/ ("app", "cnn convolution", ...)
        expect(nav.get_by_text("cnn convolution", exact=True)).to_have_count(0)
        # and the page itself, with the app's sidebar (the photo picker lives there)
        title = lesson(info.id, "en")("title")
        expect(pg.get_by_role("heading", name=title).first).to_be_visible()
        assert pg.url.split("?")[0].rstrip("/").endswith(info.id)
        assert "?" not in pg.url  # nothing chosen yet: the link is the page's alone
        shot(pg, "deep_link_first_visit")


def test_a_link_with_a_view_reopens_it_on_a_fresh_server_in_presenter_mode(browser):
    """The page's choices, the sample, the language and presenter mode from the link, on the very
    first visit; the room's theme makes text large, and only the step on screen is visible."""
    text = lesson("cnn_tensor", "ru")
    with first_visit(
        browser,
        "streamlit-view-link-test",
        "cnn_tensor?lang=ru&photo=coffee&present=1&tensor_size=161",
        (1920, 1080),
    ) as pg:
        expect(pg.get_by_role("heading", name=text("title")).first).to_be_visible()
        # step 0: the introduction; the first section's heading is on the next button only
        expect(pg.get_by_role("heading", name=text("prep_heading"))).to_have_count(0)
        pg.get_by_role("button", name=text("prep_heading")).click()
        wait_until_idle(pg)
        expect(pg.get_by_role("heading", name=text("prep_heading")).first).to_be_visible()
        box = pg.get_by_role("spinbutton", name=text("size_label"))
        expect(box).to_have_value("161")  # the link's choice, given to the widget
        size = pg.locator('[data-testid="stMarkdownContainer"] p').first.evaluate(
            "e => parseFloat(getComputedStyle(e).fontSize)"
        )
        assert size >= 20, size
        # the introduction (step 0) is still on the page, hidden
        intro = pg.locator('[class*="st-key-present_hidden_0"]')
        expect(intro).to_be_hidden()
        title = lesson("samples", "ru")("coffee")  # the link's sample, named above in Russian
        expect(pg.get_by_text(title).first).to_be_visible()
        shot(pg, "presenter_step_1_ru")
        assert "tensor_size=161" in pg.url and "present=1" in pg.url
