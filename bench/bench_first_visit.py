"""First visits of the slow lesson pages in a real browser: the time from a click on the page's
link in the sidebar to the page settled, on the served app (``make run``'s command, tests/served.py).

"Settled" is what a learner waits for: Streamlit's script state back to ``notRunning`` (no page
run and no fragment run going on), no spinner (``st.spinner``, ``st.status`` running) and no
skeleton, twice in a row a quarter of a second apart.  "First view" is the time until the page's
title is drawn and its first picture or chart (a Plotly chart, an image or a number grid's table)
has been drawn for this run (no stale element counted).

Two passes, each page in a fresh browser session (a new tab = a new Streamlit session):

* **fresh server, sample photo** — the pages in teaching order on a server that has just started,
  with the sidebar's default sample: models load, UMAP's numba code may still be compiling;
* **new photo** — every model loaded, a sample re-encoded as a JPEG with one seeded pixel changed
  (a photo nobody has uploaded yet, so nothing computed from it is cached) uploaded in the sidebar
  on the glossary page; for the lab's pages the same file is also added to the gallery (its
  uploader), so the gallery's vectors, maps and probe are new too.  Then the page's link is
  clicked and the clock runs.

The machine's load average is printed before and after each pass (others share the 2 CPUs).

    python bench/bench_first_visit.py [--pages cnn_pooling emb_map ...] [--sample chelsea]
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from tests.served import chromium_path, launch_chromium, served  # noqa: E402
from vision_core.samples import load_sample  # noqa: E402

PAGES = ("cnn_pooling", "cnn_deeper", "tr_patches", "tr_attention", "tr_clip", "emb_map", "emb_compare")
LAB = {"emb_map", "emb_compare"}  # pages over the lab's gallery: the new photo joins the gallery too
TIMEOUT = 600  # seconds a page may take before the bench gives up on it
VIEWS = ", ".join(f'[data-testid="{t}"]' for t in ("stPlotlyChart", "stImage", "stDataFrame", "stTable"))

STATE_JS = """(views) => {
  const app = document.querySelector('[data-testid="stApp"]');
  const main = document.querySelector('[data-testid="stMain"]');
  const fresh = (el) => !el.closest('[data-stale="true"]');
  const busy = (app ? app.getAttribute('data-test-script-state') !== 'notRunning' : true)
    || !!document.querySelector('[data-testid="stSpinner"]')
    || !!document.querySelector('[data-testid="stSkeleton"]')
    || !!document.querySelector('[data-testid="stExpanderIconSpinner"]');
  const title = main ? [...main.querySelectorAll('h1')].filter(fresh).map(h => h.innerText) : [];
  const shown = main ? [...main.querySelectorAll(views)].filter(fresh).length : 0;
  return {busy, title: title.join(' | '), shown, path: location.pathname};
}"""


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min) {five:.1f} (5 min) on {os.cpu_count()} CPUs"


def fresh_photo(folder: Path, sample: str, seed: int) -> Path:
    """A sample re-encoded as a JPEG with one seeded pixel changed: bytes no server has seen."""
    image = np.array(load_sample(sample).convert("RGB"))
    rng = np.random.default_rng(seed + int(time.time()))
    image[rng.integers(image.shape[0]), rng.integers(image.shape[1])] = rng.integers(0, 256, 3)
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG", quality=93)
    path = folder / f"{sample}-{seed}.jpg"
    path.write_bytes(buffer.getvalue())
    return path


def state(page) -> dict:
    return page.evaluate(STATE_JS, VIEWS)


def settle(page, timeout: float = TIMEOUT) -> None:
    """Wait until nothing runs, twice in a row a quarter of a second apart."""
    deadline, quiet = time.monotonic() + timeout, 0
    while quiet < 2:
        quiet = 0 if state(page)["busy"] else quiet + 1
        if time.monotonic() > deadline:
            raise TimeoutError(f"still running after {timeout:.0f} s")
        page.wait_for_timeout(250)


def visit(page, page_id: str) -> tuple[float, float]:
    """Click the page's link in the sidebar; (seconds to the first view, seconds to settled)."""
    before = state(page)["title"]
    link = page.locator(f'[data-testid="stSidebarNav"] a[href$="/{page_id}"]')
    t0 = time.monotonic()
    link.click()
    started, first, quiet = False, float("nan"), 0
    while True:
        s = state(page)
        now = time.monotonic() - t0
        started = started or s["busy"] or (s["path"].endswith(page_id) and s["title"] != before)
        if started and np.isnan(first) and s["title"] and s["title"] != before and s["shown"]:
            first = now
        quiet = 0 if (s["busy"] or not started) else quiet + 1
        if quiet >= 2:
            errors = page.locator('[data-testid="stException"]')
            if errors.count():
                raise RuntimeError(f"{page_id}: {errors.first.inner_text()[:500]}")
            return (now if np.isnan(first) else first), now - 0.25  # the last quiet check's wait
        if now > TIMEOUT:
            raise TimeoutError(f"{page_id} still running after {TIMEOUT} s")
        page.wait_for_timeout(250 if started else 50)


def open_tab(browser, url: str):
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT * 1000)
    page.goto(f"{url}/glossary")
    page.wait_for_selector('[data-testid="stSidebarNav"]')
    settle(page)
    return context, page


def upload_photo(page, photo: Path, lab: bool) -> None:
    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.get_by_text("Upload", exact=True).click()
    settle(page)
    sidebar.locator('input[type="file"]').set_input_files(str(photo))
    page.wait_for_timeout(500)
    settle(page)
    if lab:
        visit(page, "emb_gallery")
        page.locator('.st-key-lab_upload input[type="file"]').set_input_files(str(photo))
        page.wait_for_timeout(500)
        settle(page)


def run_pass(
    browser, url: str, pages: list[str], photos: list[Path] | None
) -> dict[str, tuple[float, float]]:
    out = {}
    for i, page_id in enumerate(pages):
        context, page = open_tab(browser, url)
        try:
            if photos is not None:
                upload_photo(page, photos[i], page_id in LAB)
            out[page_id] = visit(page, page_id)
        except (RuntimeError, TimeoutError) as error:  # reported, and the other pages still measured
            print(f"    {page_id:<14} failed: {str(error).splitlines()[0]}", flush=True)
            continue
        finally:
            context.close()
        first, settled = out[page_id]
        print(f"    {page_id:<14} first view {first:6.1f} s   settled {settled:6.1f} s", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pages", nargs="*", default=list(PAGES), help="page ids (default: the slow ones)")
    parser.add_argument("--sample", default="chelsea", help="the sample re-encoded as the new photo")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    if not executable:
        sys.exit("this bench needs Chromium (scripts/ensure_chromium.sh)")
    with tempfile.TemporaryDirectory(prefix="first-visit-") as tmp, served() as app, sync_playwright() as p:
        browser = launch_chromium(p, executable)
        photos = [fresh_photo(Path(tmp), args.sample, i) for i in range(len(args.pages))]
        print(f"Fresh server, sidebar's sample photo ({load()}):", flush=True)
        cold = run_pass(browser, app.url, args.pages, None)
        print(f"New photo ({args.sample} re-encoded, never seen), models loaded ({load()}):", flush=True)
        new = run_pass(browser, app.url, args.pages, photos)
        print(f"  ({load()})")
        browser.close()

    print("\nSeconds from the click on the page's link to: first view / settled")
    print(f"  {'page':<14} {'fresh server':>22} {'new photo':>22}")
    for page_id in args.pages:
        cells = [
            f"{r[page_id][0]:9.1f} / {r[page_id][1]:8.1f}" if page_id in r else f"{'failed':>20}"
            for r in (cold, new)
        ]
        print(f"  {page_id:<14} {cells[0]}   {cells[1]}")


if __name__ == "__main__":
    main()
