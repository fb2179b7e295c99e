"""A real browser on the real app: ``streamlit run app.py`` on a loopback port, driven by
Playwright in Debian's Chromium (Playwright's own browser download cannot work offline).

Screenshots go to ``artifacts/screenshots/`` for a person to look at.
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

import pytest

from tests.served import chromium_path, launch_chromium, served

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "artifacts" / "screenshots"
START_TIMEOUT = 90  # seconds for the server to answer its health check


@pytest.fixture(scope="session")
def app_url():
    with served_app("streamlit-browser-test") as url:
        yield url


@contextlib.contextmanager
def served_app(log_name: str):
    """A fresh server, as ``make run`` serves it (tests/served.py), its log kept in artifacts/."""
    _ensure_dirs()
    with served(log=ROOT / "artifacts" / f"{log_name}.log") as app:
        yield app.url


def _ensure_dirs() -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    assert executable, "the browser tests need Chromium: run scripts/ensure_chromium.sh (make test does)"
    with sync_playwright() as p:
        b = launch_chromium(p, executable)
        yield b
        b.close()


@pytest.fixture
def page(browser, app_url):
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, device_scale_factor=1)
    pg = context.new_page()
    pg.set_default_timeout(120_000)
    pg.goto(app_url)
    yield pg
    context.close()


def wait_until_idle(page, timeout_s: float = 180) -> None:
    """Wait until Streamlit has finished running the script: no "running" status widget and no
    skeleton placeholders, twice in a row half a second apart."""
    page.wait_for_selector('[data-testid="stApp"]')
    content = '[data-testid="stMainBlockContainer"] [data-testid="stElementContainer"]'
    deadline = time.monotonic() + timeout_s
    quiet = 0
    while quiet < 2:
        busy = page.evaluate(
            """() => !!document.querySelector('[data-testid="stStatusWidget"]')
                  || !!document.querySelector('[data-testid="stSkeleton"]')
                  || !document.querySelector(arguments[0])""".replace("arguments[0]", repr(content))
        )
        quiet = 0 if busy else quiet + 1
        if time.monotonic() > deadline:
            raise TimeoutError(f"the app was still running after {timeout_s:.0f} s")
        page.wait_for_timeout(500)


def assert_no_exception(page) -> None:
    errors = page.locator('[data-testid="stException"]')
    assert errors.count() == 0, errors.first.inner_text()


def shot(page, name: str) -> Path:
    """A screenshot of the whole page: Streamlit scrolls inside its main container, so the
    viewport is stretched to the content's height for the picture."""
    size = page.viewport_size
    height = page.evaluate(
        """() => { const m = document.querySelector('[data-testid="stMain"]');
                   return Math.max(m ? m.scrollHeight : 0, document.body.scrollHeight); }"""
    )
    page.set_viewport_size({"width": size["width"], "height": min(max(int(height), size["height"]), 12000)})
    page.wait_for_timeout(300)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size(size)
    return path


@pytest.fixture(autouse=True, scope="session")
def _patient_expectations():
    from playwright.sync_api import expect

    expect.set_options(timeout=120_000)  # a first trace on two CPU cores takes a while
