"""One class in a real browser: a teacher starts a class, two learners open its join link in
their own browser contexts, each adds a different sample photo, both photos reach both learners'
maps by the live refresh, and when the teacher ends the class both maps empty.

Run twice: the served app keeps its classes in a SQLite file in a temporary folder
(``ENCODER_LENS_DATA_DIR``), then in a real throwaway PostgreSQL (``ENCODER_LENS_DATABASE_URL``).
"""

from __future__ import annotations

import contextlib
import re
import tempfile
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from lessons import lesson
from tests.browser.conftest import ROOT, assert_no_exception, shot, wait_until_idle
from tests.served import served
from vision_core.classroom.store import DATA_DIR_ENV, DATABASE_URL_ENV, SQLITE_NAME
from vision_core.samples import get_sample

pytestmark = pytest.mark.browser

EN, TEACH, SIDEBAR = lesson("class_map", "en"), lesson("class_teacher", "en"), lesson("sidebar", "en")
PICTURES = '[data-testid="stPlotlyChart"] .layer-above image'  # the photos drawn on the class map
REFRESH_WAIT = 30_000  # ms: a few of the map's 3-second refreshes, on a busy machine


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def class_app(request):
    """The app served with its classes in a SQLite file in a temporary folder, or in a real
    throwaway PostgreSQL (tests/pg_server.py; skipped when its binaries are not installed)."""
    env = {"ENCODER_LENS_MEMORY_BUDGET_MB": "4096"}
    with contextlib.ExitStack() as stack:
        data = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="encoder-lens-class-")))
        env[DATA_DIR_ENV], env[DATABASE_URL_ENV] = str(data), ""
        if request.param == "postgresql":
            from tests.pg_server import PostgresMissing, postgres_server

            try:
                env[DATABASE_URL_ENV] = stack.enter_context(postgres_server()).url
            except PostgresMissing as missing:
                pytest.skip(str(missing))
        log = ROOT / "artifacts" / f"streamlit-class-map-{request.param}-test.log"
        app = stack.enter_context(served(env=env, log=log))
        yield app.url, data, request.param


def _tab(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(180_000)
    return context, page


def _pick_sample(page, sample_id: str) -> None:
    """Choose a sample photo in the sidebar's box: a combobox, whose first click after a page
    loads is sometimes swallowed, so it is opened until its options show."""
    title = get_sample(sample_id).title
    box = page.locator('[data-testid="stSidebar"]').get_by_role("combobox", name=SIDEBAR("sample_label"))
    option = page.get_by_role("option", name=title, exact=True)
    for _ in range(10):
        box.click()
        try:
            option.wait_for(timeout=3000)
            break
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
    option.click()
    wait_until_idle(page)
    expect(box).to_have_value(title)


def _add_photo(page, label: str) -> None:
    page.get_by_role("textbox", name=EN("label_label")).fill(label)
    page.get_by_role("textbox", name=EN("label_label")).press("Enter")
    wait_until_idle(page)
    page.get_by_text(EN("consent_box")).click()
    wait_until_idle(page)
    page.get_by_role("button", name=EN("add_button")).click()
    wait_until_idle(page)
    assert_no_exception(page)
    expect(page.get_by_text(EN("yours", label=label).replace("**", ""))).to_be_visible()


def test_two_learners_share_one_live_map_until_the_teacher_ends_the_class(browser, class_app):
    class_app, data, database = class_app
    tabs = [_tab(browser) for _ in range(3)]
    (_, teacher), (_, ann), (_, ben) = tabs
    try:
        teacher.goto(f"{class_app}/class_teacher")
        wait_until_idle(teacher)
        teacher.get_by_role("button", name=TEACH("start_button")).click()
        wait_until_idle(teacher)
        assert_no_exception(teacher)
        code = teacher.locator('[data-testid="stMetricValue"]').first.inner_text().strip()
        assert re.fullmatch(r"[2-9A-HJKMNP-Z]{6}", code), code
        # the served app keeps its classes in the test's folder, or only in PostgreSQL
        assert (data / SQLITE_NAME).exists() == (database == "sqlite")
        link = teacher.locator('[data-testid="stCode"]').first.inner_text().strip()
        assert link == f"{class_app}/class_map?class={code}"
        qr = teacher.locator('[data-testid="stImage"]').filter(has_text=TEACH("qr_caption"))
        expect(qr.locator("img")).to_have_count(1)

        for page, sample, label in ((ann, "coffee", "cup"), (ben, "astronaut", "astronaut")):
            page.goto(link)  # the join link: the code is filled in
            wait_until_idle(page)
            assert_no_exception(page)
            expect(page.get_by_role("textbox", name=EN("code_label"))).to_have_value(code)
            _pick_sample(page, sample)
            _add_photo(page, label)

        # the live refresh brings each learner the other's photo
        for page in (ann, ben):
            expect(page.locator(PICTURES)).to_have_count(2, timeout=REFRESH_WAIT)
            expect(page.get_by_text(EN("neighbours_heading"))).to_be_visible()
        shot(ann, f"class_map_learner_{database}")
        expect(teacher.locator(PICTURES)).to_have_count(2, timeout=REFRESH_WAIT)
        shot(teacher, f"class_map_teacher_{database}")

        teacher.get_by_role("button", name=TEACH("end_button")).click()
        wait_until_idle(teacher)
        teacher.get_by_role("button", name=TEACH("end_yes")).click()
        wait_until_idle(teacher)
        expect(teacher.get_by_text(TEACH("ended", code=code).replace("**", ""))).to_be_visible()

        for page in (ann, ben):
            expect(page.get_by_text(EN("ended"))).to_be_visible(timeout=REFRESH_WAIT)
            expect(page.locator(PICTURES)).to_have_count(0)
            assert_no_exception(page)
        shot(ben, f"class_map_ended_{database}")
    finally:
        for context, _ in tabs:
            context.close()
