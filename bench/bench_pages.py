"""Server time of the lesson pages, measured in one run with Streamlit's AppTest (the script runs
in this process exactly as the server runs it; the browser's drawing is not included).

* widget change with the photo's trace cached — target ≤ 200 ms: for every page, the control a
  learner moves most (:data:`EVERYDAY`; else the first slider or number input) is moved,
  repeatedly, and the rerun timed;
* a change that asks for new work (another input size is a new trace, another ``n_neighbors`` a
  new UMAP fit; :data:`NEW_WORK`): timed the same way, reported apart, no target;
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

from ui.session import Photo  # noqa: E402
from ui.widgets.nav import PAGES  # noqa: E402
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


# The control a learner moves most on each page, where it is not the first slider: pointing at
# another pixel, photo or model is everyday; another input size is a new trace (NEW_WORK).
EVERYDAY = {
    "cnn_tensor": "Row",
    "cnn_embedding": None,  # AppTest cannot move its select box (format_func); input size: below
    "emb_gallery": None,  # its one slider makes new variants: new work
    "emb_map": "Photo",
    "tr_compare": "CNN to compare with",
    "tr_block": "Head (for the attention steps)",  # a radio whose options are 0 … heads − 1
    "emb_probe": None,  # its controls refit the classifier: new work
}
NEW_WORK = {
    "cnn_tensor": "Input size (pixels per side)",
    "cnn_embedding": "Try another input size (pixels per side)",
    "emb_gallery": "Variants each",
    "emb_map": "Neighbours (n_neighbors)",
    "tr_block": "Block (0 = first, 11 = last)",  # another block is traced on its first visit
    "emb_probe": "Folds",  # cross-validated logistic regression, refitted
}


def pick_control(at: AppTest, label: str | None):
    main = at.main
    candidates = [*main.slider, *main.number_input]
    if label is not None:
        candidates += [*main.selectbox, *main.radio]
    for widget in candidates:
        if (label is None or widget.label == label) and not getattr(widget, "disabled", False):
            return widget
    return None


def move(widget, step: int) -> None:
    """Set a slider or number input to its next value (wrapping), a select box to its next option."""
    if hasattr(widget, "select_index"):
        try:
            current = widget.index if widget.index is not None else -1
        except ValueError:  # nothing chosen yet
            current = -1
        widget.select_index((current + 1) % len(widget.options))
        return
    if type(widget).__name__ == "Radio":  # the radios moved here are over 0 … n − 1
        widget.set_value((widget.value + 1) % len(widget.options))
        return
    lo, hi, value = widget.min, widget.max, widget.value
    span = (hi - lo) if hi is not None and lo is not None else 10
    target = lo + ((value - lo) + step + 1) % (span + 1) if lo is not None else value + 1
    widget.set_value(type(value)(target))


def widget_change(file: str, photo: Photo, repeats: int, label: str | None) -> tuple[str, list[float]]:
    at, _ = open_page(file, photo)
    at.run()  # everything cached now
    control = pick_control(at, label)
    if control is None:
        return "(no control to move)", []
    label = control.label
    times = []
    for i in range(repeats):
        move(pick_control(at, label), i)
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
        if info.id in EVERYDAY and EVERYDAY[info.id] is None:
            print(f"  {info.id:<18} (no everyday control: see below)")
            continue
        report(info.id, *widget_change(info.file, photo, args.repeats, EVERYDAY.get(info.id)), target=True)

    print(f"\nA change that asks for new work (median of {args.repeats}; no target):")
    for info in pages:
        if info.id in NEW_WORK:
            report(info.id, *widget_change(info.file, photo, args.repeats, NEW_WORK[info.id]), target=False)


def report(page_id: str, label: str, times: list[float], target: bool) -> None:
    if not times:
        print(f"  {page_id:<18} {label}")
        return
    median = 1e3 * statistics.median(times)
    verdict = ("ok" if median <= 200 else "over target") if target else ""
    print(f"  {page_id:<18} {median:7.0f} ms  (max {1e3 * max(times):5.0f})  {verdict:<11} moved: {label!r}")


if __name__ == "__main__":
    main()
