"""Parts of a page (``ui.parts``) in a real browser: moving a control inside one reruns that part
alone, as Streamlit's front end asks for it (the rerun names the part), and what it changed is on
screen, in the address bar and still there after a visit to another page."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

from streamlit.proto.BackMsg_pb2 import BackMsg

from tests.browser.conftest import assert_no_exception, shot, wait_until_idle


def _reruns(page) -> list[BackMsg]:
    """Every rerun request the page sends from now on (decoded from the websocket's frames)."""
    sent: list[BackMsg] = []

    def on_socket(ws):
        def on_frame(payload):
            if isinstance(payload, (bytes, bytearray)):
                msg = BackMsg()
                msg.ParseFromString(bytes(payload))
                if msg.WhichOneof("type") == "rerun_script":
                    sent.append(msg)

        ws.on("framesent", on_frame)

    page.on("websocket", on_socket)
    return sent


def _heading(page) -> str:
    return page.get_by_role("heading", name=re.compile(r"Watch filter \d+ slide")).first.inner_text()


def test_moving_the_filter_reruns_its_part_alone_and_the_choice_stays(page, app_url):
    sent = _reruns(page)
    page.goto(f"{app_url}/cnn_convolution")
    wait_until_idle(page)
    assert "filter 0 " in _heading(page)
    sent.clear()
    thumb = page.locator('.st-key-conv_channel input[type="range"]')
    thumb.focus()
    thumb.press("ArrowRight")
    page.wait_for_function("() => /conv_channel=1/.test(location.search)", timeout=60_000)
    wait_until_idle(page)
    assert "filter 1 " in _heading(page)  # the part's own text follows the slider
    assert sent, "the slider sent no rerun"
    assert all(m.rerun_script.fragment_id for m in sent), "the slider reran the whole page"
    assert parse_qs(urlparse(page.url).query).get("conv_channel") == ["1"], page.url
    shot(page, "parts_conv_channel")

    page.get_by_role("link", name=re.compile("ReLU")).first.click()  # another page, and back
    wait_until_idle(page)
    assert "cnn_relu" in page.url
    page.get_by_role("link", name=re.compile("Convolution")).first.click()
    wait_until_idle(page)
    assert "filter 1 " in _heading(page)  # kept by the part's own run, not only by a full run
    assert page.locator('.st-key-conv_channel input[type="range"]').get_attribute("aria-valuetext") == "1"
    assert_no_exception(page)
