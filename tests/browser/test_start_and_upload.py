"""The learner's first minute: the app opens, a photo is uploaded, a bad file is refused in words."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import assert_no_exception, shot, wait_until_idle
from vision_core.samples import sample_path

pytestmark = pytest.mark.browser


def upload(page, path) -> None:
    page.get_by_text("Upload", exact=True).click()
    wait_until_idle(page)
    page.locator('[data-testid="stSidebar"] input[type="file"]').set_input_files(str(path))
    wait_until_idle(page)


def test_start_page_opens_with_the_default_photo(page):
    wait_until_idle(page)
    assert_no_exception(page)
    expect(page.get_by_role("heading", name="Encoder Lens")).to_be_visible()
    expect(page.get_by_text("The whole journey, in one line")).to_be_visible()
    shot(page, "00_start")


def test_uploading_a_photo_replaces_the_sample_and_a_bad_file_is_explained(page, tmp_path):
    wait_until_idle(page)
    upload(page, sample_path("coffee"))
    shot(page, "01_uploaded_coffee")
    sidebar = page.locator('[data-testid="stSidebar"]')
    expect(sidebar.get_by_text("coffee.png").first).to_be_visible()
    expect(page.get_by_text("espresso").first).to_be_visible()

    fake = tmp_path / "holiday.jpg"
    fake.write_text("this is not a photo")
    page.locator('[data-testid="stSidebar"] input[type="file"]').set_input_files(str(fake))
    wait_until_idle(page)
    assert_no_exception(page)
    expect(sidebar.get_by_text("holiday.jpg").first).to_be_visible()
    expect(page.locator('[data-testid="stAlert"]').first).to_be_visible()
    shot(page, "02_bad_file")
    # the learner can go on: the previous photo is still the one in use
    expect(page.get_by_text("espresso").first).to_be_visible()
