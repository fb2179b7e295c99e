"""The convolution page in a real browser: Play slides the real first layer's window across the
photo while the map fills in, Pause stops it, and the output map's hover label shows a cell's
arithmetic."""

from __future__ import annotations

import re

from tests.browser.conftest import assert_no_exception, shot, wait_until_idle

STATE = """(key) => {
    const gd = document.querySelector('.st-key-' + key + ' .js-plotly-plot');
    return {active: gd.layout.sliders[0].active, window: gd.data[2].x,
            frames: gd._transitionData._frames.length, cover: gd.data[0].y};
}"""


def test_play_slides_the_window_and_pause_stops_it(page, app_url):
    page.goto(f"{app_url}/cnn_convolution")
    wait_until_idle(page)
    sweep = page.locator(".st-key-conv_sweep")
    sweep.scroll_into_view_if_needed()
    sweep.locator(".updatemenu-button").first.wait_for()  # Plotly has drawn the figure
    start = page.evaluate(STATE, "conv_sweep")
    assert start["active"] == 0 and start["frames"] == 64
    sweep.locator(".updatemenu-button").nth(0).click()  # ▶ Play
    page.wait_for_timeout(2500)
    playing = page.evaluate(STATE, "conv_sweep")
    assert playing["active"] > 5, playing["active"]  # ~110 ms a frame, on the browser's clock
    assert playing["window"] != start["window"]  # the red window moved across the photo
    assert max(v for v in playing["cover"] if v is not None) == max(
        v for v in start["cover"] if v is not None
    )
    assert min(v for v in playing["cover"] if v is not None) > min(v for v in start["cover"] if v is not None)
    sweep.locator(".updatemenu-button").nth(1).click()  # ❚❚ Pause
    paused = page.evaluate(STATE, "conv_sweep")["active"]
    page.wait_for_timeout(1200)
    assert page.evaluate(STATE, "conv_sweep")["active"] == paused < 63
    shot(page, "conv_play_paused")
    assert_no_exception(page)


def test_hovering_an_output_cell_shows_its_sum(page, app_url):
    page.goto(f"{app_url}/cnn_convolution")
    wait_until_idle(page)
    area = page.locator(".st-key-conv_pos_map svg image").first
    area.scroll_into_view_if_needed()
    box = area.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] * (40.5 / 112), box["y"] + box["height"] * (77.5 / 112))
    label = page.locator(".st-key-conv_pos_map .hoverlayer")
    page.wait_for_timeout(500)
    words = label.first.text_content() or ""
    number = r"([-+]?[\d.]+)"
    pattern = (
        rf"Row (\d+), column (\d+)value {number} = {number} \(red\) {number} \(green\) {number} \(blue\)"
    )
    match = re.search(pattern, words)
    assert match, words
    row, col, value, *sums = match.groups()
    assert (int(row), int(col)) == (77, 40)
    assert abs(float(value) - sum(float(s) for s in sums)) < 1e-4  # the value is its channels' sum
    shot(page, "conv_hover")
