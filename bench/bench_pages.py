"""Server time of the lesson pages, measured in one run with Streamlit's AppTest (the script runs
in this process exactly as the server runs it; the browser's drawing is not included).

* widget change with the photo's trace cached — target ≤ 200 ms: for every page, the first
  slider or number input of the main area is moved, repeatedly, and the rerun timed;
* a new photo (a fresh upload, nothing cached) to the first lesson page rendered, with the
  embedded EfficientNet-Lite0 — and to the convolution page.

    python bench/bench_pages.py [--repeats 7] [--pages cnn_tensor cnn_convolution ...]
"""

from __future__ import annotations

import argparse
import io
import logging
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from ui.nav import PAGES  # noqa: E402
from ui.state import Photo  # noqa: E402
from vision_core.samples import load_sample  # noqa: E402

APP = str(ROOT / "app.py")
logging.getLogger("streamlit").setLevel(logging.ERROR)  # AppTest's "missing ScriptRunContext" chatter


def fresh_photo(seed: int) -> Photo:
    """A photo no cache has seen: a sample with one seeded pixel changed, as a new PNG upload."""
    image = np.array(load_sample("chelsea"))
    rng = np.random.default_rng(seed)
    image[rng.integers(image.shape[0]), rng.integers(image.shape[1])] = rng.integers(0, 256, 3)
    buffer = io.BytesIO()
    from PIL import Image

    Image.fromarray(image).save(buffer, format="PNG")
    return Photo.from_bytes(buffer.getvalue(), f"upload-{seed}.png")


def open_page(file: str, photo: Photo) -> tuple[AppTest, float]:
    at = AppTest.from_file(APP, default_timeout=600)
    at.session_state["photo"] = photo
    at.switch_page(file)
    t0 = time.perf_counter()
    at.run()
    return at, time.perf_counter() - t0


def first_control(at: AppTest):
    for widget in [*at.main.slider, *at.main.number_input]:
        if not getattr(widget, "disabled", False):
            return widget
    return None


def next_value(widget, step: int):
    lo, hi = widget.min, widget.max
    value = widget.value
    if isinstance(value, tuple):
        return None
    span = (hi - lo) if hi is not None and lo is not None else 10
    target = lo + ((value - lo) + step + 1) % (span + 1) if lo is not None else value + 1
    return type(value)(target)


def widget_change(file: str, photo: Photo, repeats: int) -> tuple[str, list[float]]:
    at, _ = open_page(file, photo)
    at.run()  # everything cached now
    control = first_control(at)
    if control is None:
        return "(no slider or number input)", []
    label = control.label
    times = []
    for i in range(repeats):
        control = next(w for w in [*at.main.slider, *at.main.number_input] if w.label == label)
        value = next_value(control, i)
        control.set_value(value)
        t0 = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - t0)
        assert not at.exception, at.exception
    return label, times


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--pages", nargs="*", default=None, help="page ids (default: every page)")
    args = parser.parse_args()
    pages = [p for p in PAGES if args.pages is None or p.id in args.pages]

    print("A new photo (nothing cached), embedded EfficientNet-Lite0:")
    for i, page_id in enumerate(("cnn_tensor", "cnn_convolution")):
        info = next(p for p in PAGES if p.id == page_id)
        _, seconds = open_page(info.file, fresh_photo(1000 + i))
        print(f"  upload → {page_id:<18} rendered in {1e3 * seconds:8.0f} ms (server)")

    print(f"\nWidget change with the trace cached (median of {args.repeats}; target ≤ 200 ms):")
    photo = fresh_photo(1)
    for info in pages:
        label, times = widget_change(info.file, photo, args.repeats)
        if not times:
            print(f"  {info.id:<18} {label}")
            continue
        median = 1e3 * statistics.median(times)
        verdict = "ok" if median <= 200 else "over target"
        print(
            f"  {info.id:<18} {median:7.0f} ms  (max {1e3 * max(times):5.0f})  {verdict:<11} moved: {label!r}"
        )


if __name__ == "__main__":
    main()
