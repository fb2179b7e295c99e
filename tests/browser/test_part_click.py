"""A click on a map inside a part of a page (``ui.parts``), in a real browser: on the pooling page
the step's output map sits in a part; a click near a cell's corner picks that cell (the whole cell
takes the click), the row and column inputs follow, and the window's numbers are for that cell."""

from __future__ import annotations

from lessons import lesson
from tests.browser.conftest import assert_no_exception, shot, wait_until_idle


def test_a_click_near_a_cells_corner_picks_that_cell_inside_a_part(page, app_url):
    page.goto(f"{app_url}/cnn_pooling")
    wait_until_idle(page)
    row_input, col_input = (page.locator(f".st-key-pool_pos_{axis} input") for axis in ("row", "col"))
    rows = int(row_input.get_attribute("max")) + 1
    cols = int(col_input.get_attribute("max")) + 1
    plot = page.locator(".st-key-pool_pos_map .js-plotly-plot").first
    plot.scroll_into_view_if_needed()
    target = (rows // 5, cols - cols // 5)
    assert (str(target[0]), str(target[1])) != (row_input.input_value(), col_input.input_value())
    # 85 % of the way across the cell and down it (near its corner, not its centre), in screen
    # pixels through Plotly's own axes over the picture (calcdata: its width and height)
    x, y = plot.evaluate(
        """(gd, [r, c, rows, cols]) => {
            const fl = gd._fullLayout, box = gd.getBoundingClientRect();
            const img = gd.calcdata[0][0], width = img.w, height = img.h;
            const dx = (c + 0.85) * width / cols - 0.5, dy = (r + 0.85) * height / rows - 0.5;
            const px = box.left + fl.xaxis._offset + fl.xaxis.l2p(dx);
            return [px, box.top + fl.yaxis._offset + fl.yaxis.l2p(dy)];
        }""",
        [*target, rows, cols],
    )
    page.mouse.click(x, y)
    page.wait_for_function(
        "([r, c]) => { const v = a => document.querySelector(`.st-key-pool_pos_${a} input`)?.value;"
        " return v('row') === String(r) && v('col') === String(c); }",
        arg=list(target),
        timeout=60_000,
    )
    wait_until_idle(page)
    assert_no_exception(page)
    # the window's sentence is for the clicked cell (Lite0 down-samples with strided convolutions)
    words = lesson("cnn_pooling")(
        "conv_window", row=target[0], col=target[1], rows="", cols="", k=0, value=0.0, recorded=0.0
    )
    assert page.get_by_text(words.split(" comes from")[0], exact=False).first.is_visible()
    shot(page, "part_click_pooling")
