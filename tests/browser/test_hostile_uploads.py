"""Every kind of awkward file a learner can upload, through the sidebar of the real app: files that
are not usable photos are refused in words (and the previous photo stays), real photos in unusual
formats are taken; nothing shows a traceback, and the learner can go on."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.browser.conftest import assert_no_exception, shot, wait_until_idle
from tests.test_preprocess import CHELSEA_PNG, ROCKET_JPEG, encode, png_header_only

pytestmark = pytest.mark.browser

_rgb = np.asarray(Image.open(io.BytesIO(CHELSEA_PNG)).convert("RGB"))
_exif = Image.Exif()
_exif[0x0112] = 6  # orientation: rotate 90° clockwise to view

REFUSED = {
    "notes.jpg": b"these are my lecture notes, not a photo",
    "empty.png": b"",
    "truncated.jpg": ROCKET_JPEG[: len(ROCKET_JPEG) // 3],
    "bomb.png": png_header_only(60_000, 60_000),
    "ribbon.png": encode(Image.new("RGB", (4000, 8), "white")),
}
TAKEN = {
    "animated.gif": encode(
        Image.fromarray(_rgb[:200, :200]),
        "GIF",
        save_all=True,
        append_images=[Image.fromarray(_rgb[100:300, 100:300])],
        duration=100,
    ),
    "sixteen_bit.png": encode(Image.fromarray(_rgb[..., 0].astype(np.uint16) * 257)),  # mode I;16
    "cmyk.jpg": encode(Image.fromarray(_rgb).convert("CMYK"), "JPEG"),
    "transparent.png": encode(Image.fromarray(_rgb).convert("RGBA")),
    "rotated.jpg": encode(Image.fromarray(_rgb), "JPEG", exif=_exif),
}


def _upload(page, path) -> None:
    page.locator('[data-testid="stSidebar"] input[type="file"]').set_input_files(str(path))
    wait_until_idle(page)
    assert_no_exception(page)


def test_awkward_files_are_refused_in_words_or_taken(page, tmp_path):
    wait_until_idle(page)
    page.get_by_text("Upload", exact=True).click()
    wait_until_idle(page)
    sidebar = page.locator('[data-testid="stSidebar"]')
    alerts = page.locator('[data-testid="stSidebar"] [data-testid="stAlert"]')

    for name, data in TAKEN.items():
        path = tmp_path / name
        path.write_bytes(data)
        _upload(page, path)
        assert alerts.count() == 0, (name, alerts.first.inner_text())
        # the photo in use is captioned with the file's name
        expect(sidebar.locator('[data-testid="stImage"]').filter(has_text=name)).to_have_count(1)

    last_good = name
    for name, data in REFUSED.items():
        path = tmp_path / name
        path.write_bytes(data)
        _upload(page, path)
        expect(alerts.first).to_be_visible()
        message = alerts.first.inner_text()
        assert name in message and len(message) > len(name) + 20, message
        # the learner goes on with the photo they had
        expect(sidebar.locator('[data-testid="stImage"]').filter(has_text=last_good)).to_have_count(1)
        shot(page, f"hostile_{name.replace('.', '_')}")

    # and the lessons still run on that photo
    page.locator('[data-testid="stSidebarNav"] a').filter(has_text="1 · Photo → tensor").first.click()
    wait_until_idle(page)
    assert_no_exception(page)
