"""A learner's whole path in a real browser: their own photo through every lesson page, a click on
a feature map and on a patch, then several photos of their own on the embedding map.

Every page is reached by the sidebar's links (as a learner does: the session, and so the uploaded
photo, is kept), checked for tracebacks, and photographed into ``artifacts/screenshots/``.
"""

from __future__ import annotations

import io
import re
import time

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.browser.conftest import assert_no_exception, shot, wait_until_idle
from ui.widgets.nav import PAGES, SECTIONS
from vision_core import samples

pytestmark = pytest.mark.browser


def _own_photo(tmp_path, sample_id: str, name: str, turn: int = 0) -> str:
    """A learner's JPEG (not a file the app ships): a sample photo, cropped and re-encoded."""
    image = Image.open(io.BytesIO(samples.sample_bytes(sample_id))).convert("RGB")
    w, h = image.size
    image = image.crop((w // 10, h // 10, w - w // 12, h - h // 12)).rotate(turn, expand=True)
    path = tmp_path / name
    image.save(path, "JPEG", quality=88)
    return str(path)


def _upload(page, path) -> None:
    page.get_by_text("Upload", exact=True).click()
    wait_until_idle(page)
    page.locator('[data-testid="stSidebar"] input[type="file"]').set_input_files(path)
    wait_until_idle(page)


def _go(page, title: str) -> None:
    page.locator('[data-testid="stSidebarNav"] a').filter(has_text=title).first.click()
    wait_until_idle(page)
    assert_no_exception(page)


def _plotly_click(page, plot_index: int = 0, at: tuple[float, float] = (0.4, 0.6)) -> None:
    """Click inside the plotting area of a Plotly chart at a fraction of its width and height."""
    area = page.locator('[data-testid="stPlotlyChart"] .nsewdrag').nth(plot_index)
    area.scroll_into_view_if_needed()
    box = area.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] * at[0], box["y"] + box["height"] * at[1])
    wait_until_idle(page)


def _inputs_after_click(page, before: dict[str, str], timeout_s: float = 30) -> dict[str, str]:
    """The number inputs once a click's reruns have settled: a click on a map reruns the page, and the
    picker reruns it once more with the new position, so "idle" can be seen in between."""
    deadline = time.monotonic() + timeout_s
    after = _number_inputs(page)
    while after == before and time.monotonic() < deadline:
        page.wait_for_timeout(500)
        wait_until_idle(page)
        after = _number_inputs(page)
    return after


def _number_inputs(page) -> dict[str, str]:
    inputs = page.locator('[data-testid="stMainBlockContainer"] [data-testid="stNumberInput"]')
    return {
        inputs.nth(i).locator("label").inner_text(): inputs.nth(i).locator("input").input_value()
        for i in range(inputs.count())
    }


def test_own_photo_through_every_lesson_page(page, tmp_path):
    wait_until_idle(page)
    _upload(page, _own_photo(tmp_path, "chelsea", "my_cat.jpg"))
    sidebar = page.locator('[data-testid="stSidebar"]')
    expect(sidebar.get_by_text("my_cat.jpg").first).to_be_visible()

    for info in PAGES:
        if info.section == "embeddings" or info.id == "start":
            continue
        _go(page, info.title["en"])
        expect(page.get_by_text("my_cat.jpg").first).to_be_visible()  # still the learner's photo
        shot(page, f"walk_{info.id}")


def test_clicking_a_feature_map_and_a_patch_moves_the_pointed_position(page, tmp_path):
    wait_until_idle(page)
    _upload(page, _own_photo(tmp_path, "coffee", "my_coffee.jpg"))

    _go(page, "2 · Convolution")
    plots = page.locator('[data-testid="stPlotlyChart"]')
    expect(plots.first).to_be_visible()
    before = _number_inputs(page)
    clicked = False
    for i in range(plots.count()):
        _plotly_click(page, i, at=(0.23, 0.71))
        after = _inputs_after_click(page, before)
        if after != before:
            clicked = True
            break
    assert clicked, f"no click on a map changed the chosen position: {before}"
    assert_no_exception(page)
    shot(page, "click_feature_map")

    _go(page, "1 · Patches")
    before = _number_inputs(page)
    _plotly_click(page, 0, at=(0.8, 0.2))
    assert _inputs_after_click(page, before) != before, before
    assert_no_exception(page)
    shot(page, "click_patch")


def test_several_own_photos_land_on_the_embedding_map(page, tmp_path):
    wait_until_idle(page)
    _go(page, "1 · Your gallery")
    files = [
        _own_photo(tmp_path, sid, f"mine_{i}_{sid}.jpg", turn=t)
        for i, (sid, t) in enumerate([("chelsea", 0), ("chelsea", 8), ("coffee", 0), ("astronaut", 0)])
    ]
    uploader = page.locator('[data-testid="stMainBlockContainer"] input[type="file"]').first
    uploader.set_input_files(files)
    wait_until_idle(page)
    assert_no_exception(page)
    shot(page, "lab_gallery_with_uploads")
    for path in files:
        name = path.rsplit("/", 1)[-1]
        expect(page.get_by_text(name).first).to_be_attached()

    _go(page, "2 · The map")
    plot = page.locator('[data-testid="stPlotlyChart"]').first
    expect(plot).to_be_visible()
    # the learner's photos are drawn as points of their own on the map: their names are in the data
    names_in_plot = page.evaluate(
        """() => Array.from(document.querySelectorAll('[data-testid="stPlotlyChart"] .js-plotly-plot'))
                 .flatMap(p => (p.data || []).flatMap(t => [].concat(t.text || [], t.hovertext || [],
                                                              t.customdata || [], t.name || [])))
                 .map(String)"""
    )
    joined = " ".join(names_in_plot)
    found = [p.rsplit("/", 1)[-1] for p in files if re.sub(r"\.jpg$", "", p.rsplit("/", 1)[-1]) in joined]
    assert len(found) == len(files), (found, joined[:500])
    shot(page, "lab_map_with_uploads")

    for title in ("3 · Similar photos", "4 · Clusters", "5 · A linear probe", "6 · Outliers"):
        _go(page, title)
        shot(page, "lab_" + title.split("· ")[1].replace(" ", "_").lower())


def test_sections_are_in_teaching_order_in_the_sidebar(page):
    wait_until_idle(page)
    links = page.locator('[data-testid="stSidebarNav"] a')
    # each link reads "<icon name>\n\n<title>"
    titles = [links.nth(i).inner_text().strip().splitlines()[-1] for i in range(links.count())]
    expected = [p.title["en"] for p in PAGES]
    assert titles == expected, titles
    headers = page.locator('[data-testid="stNavSectionHeader"]')
    assert [headers.nth(i).inner_text().strip() for i in range(headers.count())] == [
        s["en"] for s in SECTIONS.values()
    ]


def test_a_click_near_a_cells_corner_picks_that_cell(page):
    """The whole cell of a coarse map takes the click, not only a disc at its centre."""
    wait_until_idle(page)
    _go(page, "5 · Going deeper")
    page.locator(".st-key-deeper_stage input[type=range]").press("End")  # the last stage: a coarse grid
    wait_until_idle(page)
    row_box = page.locator(".st-key-deeper_pos_row input")
    col_box = page.locator(".st-key-deeper_pos_col input")
    rows, cols = int(row_box.get_attribute("max")) + 1, int(col_box.get_attribute("max")) + 1
    area = page.locator(".st-key-deeper_pos_map svg image").first  # the map itself, not the plot area
    area.scroll_into_view_if_needed()
    box = area.bounding_box()
    assert box is not None
    # 0.42 of a cell from its centre: outside the old 30-px disc of a 7×7 map's 55-px cell
    for r, c, (fx, fy) in ((1, cols - 2, (0.8, 0.2)), (rows - 1, 0, (0.2, 0.8))):
        before = (row_box.input_value(), col_box.input_value())
        x = box["x"] + box["width"] * (c + fx) / cols  # near a corner of cell (r, c), inside it
        y = box["y"] + box["height"] * (r + fy) / rows
        page.mouse.click(x, y)
        deadline = time.monotonic() + 30
        while (row_box.input_value(), col_box.input_value()) == before and time.monotonic() < deadline:
            page.wait_for_timeout(300)
            wait_until_idle(page)
        assert (row_box.input_value(), col_box.input_value()) == (str(r), str(c)), (rows, cols)
    assert_no_exception(page)
    shot(page, "click_cell_corner")
