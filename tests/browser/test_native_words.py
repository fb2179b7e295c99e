"""Streamlit's own words on the uploader and the camera are the page's language (ui/widgets/native_words.py).

In English the lesson's words must be the very words Streamlit draws (so a Streamlit upgrade that
rewords them is noticed); in Russian the English words are hidden and the lesson's are drawn in
their place, at the size Streamlit draws its own.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from lessons import lesson
from tests.browser.conftest import assert_no_exception, shot, wait_until_idle
from tests.served import CHROMIUM_ARGS, chromium_path
from ui import gallery
from ui.widgets import native_words
from ui.widgets.photo_source import UPLOAD_TYPES

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
SERVER_MB = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())["server"]["maxUploadSize"]
SIDEBAR = '[data-testid="stSidebar"]'
UPLOAD_BUTTON = '[data-testid="stFileUploaderDropzone"] [data-testid="stBaseButton-secondary"] p'
LIMIT = '.st-key-{key} [data-testid="stFileUploaderDropzoneInstructions"] span'
TAKE = '[data-testid="stCameraInputWebcamComponent"] > [data-testid="stCameraInputButton"]'
CLEAR = '[data-testid="stCameraInput"] > [data-testid="stCameraInputButton"] > span'
ASK = '[data-testid="stCameraInputWebcamComponent"] p'

# what a learner reads on an element: its own text and size, and what its ::before / ::after draw
READ = """([selector, parentPseudo]) => {
  const e = document.querySelector(selector);
  if (!e) return null;
  const own = getComputedStyle(e), read = (el, p) => {
    const s = getComputedStyle(el, p);
    const drawn = s.content === 'none' || s.content === 'normal' ? '' : JSON.parse(s.content);
    return {content: drawn, size: s.fontSize};
  };
  const carrier = parentPseudo ? e.parentElement : e;
  return {text: e.innerText.trim(), size: own.fontSize, display: own.display,
          before: read(e, '::before'), after: read(carrier, '::after')};
}"""


def read(page, selector: str, parent_pseudo: bool = False) -> dict:
    found = page.evaluate(READ, [selector, parent_pseudo])
    assert found is not None, f"nothing on the page matches {selector}"
    return found


def choose_source(page, lang: str, source: str) -> None:
    name = lesson("sidebar", lang)(f"source_{source}")
    page.locator(SIDEBAR).get_by_text(name, exact=True).first.click()
    wait_until_idle(page)


def test_the_uploader_speaks_the_page_language(browser, app_url):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(120_000)
    seen = {}
    for lang in ("en", "ru"):
        page.goto(f"{app_url}/?lang={lang}")
        wait_until_idle(page)
        choose_source(page, lang, "upload")
        seen[lang] = (
            read(page, UPLOAD_BUTTON, parent_pseudo=True),
            read(page, LIMIT.format(key="photo_source_upload")),
        )
        assert_no_exception(page)
        shot(page, f"native_words_upload_{lang}")
    (button_en, limit_en), (button_ru, limit_ru) = seen["en"], seen["ru"]
    en = lesson(native_words.WORDS, "en")
    assert button_en["text"] == en("upload") and button_en["after"]["content"] == ""
    assert limit_en["text"] == native_words.limit_words("en", UPLOAD_TYPES, SERVER_MB)
    ru = lesson(native_words.WORDS, "ru")
    assert button_ru["display"] == "none" and button_ru["after"]["content"] == ru("upload")
    assert limit_ru["size"] == "0px"  # the English line is hidden ...
    assert limit_ru["after"]["content"] == native_words.limit_words("ru", UPLOAD_TYPES, SERVER_MB)
    assert limit_ru["after"]["size"] == limit_en["size"] == native_words.UPLOADER_SIZE  # ... ours as big
    assert f"{SERVER_MB} МБ" in limit_ru["after"]["content"]
    context.close()


def test_the_galleries_uploader_says_its_own_limit_and_types(browser, app_url):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(120_000)
    page.goto(f"{app_url}/emb_gallery?lang=en")
    wait_until_idle(page)
    english = read(page, LIMIT.format(key="lab_upload"))
    page.goto(f"{app_url}/emb_gallery?lang=ru")
    wait_until_idle(page)
    russian = read(page, LIMIT.format(key="lab_upload"))
    assert_no_exception(page)
    context.close()
    types, mb = gallery.UPLOAD_TYPES, gallery.UPLOAD_MB
    limit = {lang: native_words.limit_words(lang, types, mb) for lang in ("en", "ru")}
    assert english["text"] == limit["en"] and russian["after"]["content"] == limit["ru"]
    assert f"{gallery.UPLOAD_MB} МБ" in limit["ru"] and "ZIP, PARQUET" in limit["ru"]


def test_the_camera_asks_for_access_in_the_page_language(browser, app_url):
    """No camera in this browser: Streamlit's note that the app would like to use one."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(120_000)
    seen = {}
    for lang in ("en", "ru"):
        page.goto(f"{app_url}/?lang={lang}")
        wait_until_idle(page)
        choose_source(page, lang, "camera")
        page.wait_for_selector(ASK)
        seen[lang] = read(page, ASK), read(page, f"{ASK} a"), read(page, TAKE)
        shot(page, f"native_words_camera_ask_{lang}")
    context.close()
    (ask_en, how_en, take_en), (ask_ru, how_ru, take_ru) = seen["en"], seen["ru"]
    en, ru = lesson(native_words.WORDS, "en"), lesson(native_words.WORDS, "ru")
    assert ask_en["text"] == f"{en('ask')}{en('how')}" or ask_en["text"] == f"{en('ask')}\n{en('how')}"
    assert how_en["text"] == en("how") and take_en["text"] == en("take")
    assert (ask_ru["size"], ask_ru["before"]["content"]) == ("0px", ru("ask"))
    assert (how_ru["size"], how_ru["after"]["content"]) == ("0px", ru("how"))
    assert (take_ru["size"], take_ru["after"]["content"]) == ("0px", ru("take"))
    assert ask_ru["before"]["size"] == how_ru["after"]["size"] == take_ru["after"]["size"] == ask_en["size"]


def test_taking_and_clearing_a_photo_in_the_page_language(browser, app_url):
    """Chromium's fake camera: the shot is taken and cleared with the page's words on the buttons."""
    camera = browser.browser_type.launch(
        executable_path=chromium_path(),
        headless=True,
        args=[*CHROMIUM_ARGS, "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"],
    )
    try:
        seen = {}
        for lang in ("en", "ru"):
            context = camera.new_context(viewport={"width": 1400, "height": 1000}, permissions=["camera"])
            page = context.new_page()
            page.set_default_timeout(120_000)
            page.goto(f"{app_url}/?lang={lang}")
            wait_until_idle(page)
            choose_source(page, lang, "camera")
            page.wait_for_selector(f"{TAKE}:not([disabled])")
            take = read(page, TAKE)
            page.locator(TAKE).click()
            page.wait_for_selector(CLEAR)
            wait_until_idle(page)
            clear = read(page, CLEAR)
            assert_no_exception(page)
            camera_photo = lesson("sidebar", lang)("camera_photo")  # the shot is the photo in use
            assert page.locator(SIDEBAR).get_by_text(camera_photo).count() > 0
            shot(page, f"native_words_camera_taken_{lang}")
            seen[lang] = take, clear
            context.close()
    finally:
        camera.close()
    (take_en, clear_en), (take_ru, clear_ru) = seen["en"], seen["ru"]
    en, ru = lesson(native_words.WORDS, "en"), lesson(native_words.WORDS, "ru")
    assert (take_en["text"], clear_en["text"]) == (en("take"), en("clear"))
    assert (take_ru["size"], take_ru["after"]["content"]) == ("0px", ru("take"))
    assert (clear_ru["size"], clear_ru["after"]["content"]) == ("0px", ru("clear"))
    sizes = take_ru["after"]["size"], clear_ru["after"]["size"], take_en["size"]
    assert set(sizes) == {native_words.CAMERA_SIZE}
