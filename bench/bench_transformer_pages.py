"""Server time of the transformer pages, measured in one run (Streamlit's AppTest runs the script in
this process as the server does; the browser's drawing is not included).

* **Widget change on the attention page with the trace cached** — target ≤ 200 ms: the page is
  opened once (the photo's trace and its attention views are computed), then the block slider,
  the head radio, rollout's fusion and discard ratio and the clicked patch are moved, each rerun
  timed.  "revisit": every derived result cached too; "first visit": the trace is cached but a
  new rollout or a new patch's maps are computed from it on that rerun.
* **The first trace of a new photo for ViT-S/16** (nothing cached, model already loaded): the
  traced forward pass alone (preprocess + trace keeping every attention matrix + compact), and
  the attention page's whole first run for a new upload.

The network is DINO ViT-S/16 with seeded random weights (what the page runs without the trained
file); the arithmetic and every shape are those of the trained network, so the times are too.

    python bench/bench_transformer_pages.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from ui.cached.transformer import ATTENTION_KEEP  # noqa: E402
from ui.session import Photo  # noqa: E402
from vision_core import trace  # noqa: E402
from vision_core.engine import encoders  # noqa: E402
from vision_core.engine.preprocess import load_image  # noqa: E402
from vision_core.samples import load_sample  # noqa: E402

APP = str(ROOT / "app.py")
PAGE = "pages/tr_attention.py"
NAME = "dino_vits16"
TARGET_MS = 200
logging.getLogger("streamlit").setLevel(logging.ERROR)


def fresh_photo(seed: int) -> Photo:
    """A photo no cache has seen: a sample with one seeded pixel changed, as a new PNG upload."""
    image = np.array(load_sample("astronaut"))
    rng = np.random.default_rng(seed)
    image[rng.integers(image.shape[0]), rng.integers(image.shape[1])] = rng.integers(0, 256, 3)
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return Photo.from_bytes(buffer.getvalue(), f"upload-{seed}.png")


def timed_run(at: AppTest) -> float:
    t0 = time.perf_counter()
    at.run()
    if at.exception:
        raise RuntimeError(at.exception[0].value)
    return 1e3 * (time.perf_counter() - t0)


def open_attention_page(photo: Photo) -> tuple[AppTest, float]:
    at = AppTest.from_file(APP, default_timeout=600)
    at.session_state["photo"] = photo
    at.switch_page(PAGE)
    return at, timed_run(at)


def widget_changes(photo: Photo, repeats: int) -> dict[str, list[float]]:
    at, _ = open_attention_page(photo)
    timed_run(at)
    out: dict[str, list[float]] = {"revisit": [], "first visit": []}
    moves = [
        ("revisit", lambda: at.slider(key="tr_attention_layer").set_value(3)),
        ("revisit", lambda: at.slider(key="tr_attention_layer").set_value(11)),
        ("revisit", lambda: at.radio(key="tr_attention_head").set_value(4)),
        ("revisit", lambda: at.radio(key="tr_attention_head").set_value(0)),
    ]
    for _ in range(repeats):
        for kind, move in moves:
            move()
            out[kind].append(timed_run(at))
    for i in range(repeats):  # a new rollout setting, then a new patch: computed from the cached trace
        at.slider(key="tr_attention_discard").set_value(round(0.05 * (i + 1), 2))
        out["first visit"].append(timed_run(at))
        at.number_input(key="tr_attention_patch_row").set_value(i % 14)
        out["first visit"].append(timed_run(at))
    for i in range(repeats):  # the same settings again: now everything is cached
        at.slider(key="tr_attention_discard").set_value(round(0.05 * (i + 1), 2))
        out["revisit"].append(timed_run(at))
    return out


def first_trace(repeats: int) -> tuple[float, list[float]]:
    """The very first trace in this process (torch's kernels and allocator still cold), then the
    first trace of each new photo on a warm model, as on a server that has served anyone before."""
    model = encoders.seeded_model(NAME)
    times = []
    for seed in range(repeats + 1):
        photo = fresh_photo(1000 + seed)
        t0 = time.perf_counter()
        x = encoders.preprocess_photo(load_image(photo.data), NAME).tensor
        trace(model, x, keep=ATTENTION_KEEP).compact(np.float16)
        times.append(1e3 * (time.perf_counter() - t0))
    return times[0], times[1:]


def summary(values: list[float]) -> str:
    v = sorted(values)
    p90 = v[min(len(v) - 1, round(0.9 * (len(v) - 1)))]
    return f"median {statistics.median(v):7.1f} ms   p90 {p90:7.1f} ms   max {v[-1]:7.1f} ms   (n={len(v)})"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} CPUs, "
        f"load average {load:.1f}; {NAME} (seeded), photo 'astronaut' as a new upload"
    )

    t0 = time.perf_counter()
    encoders.seeded_model(NAME)
    build_ms = 1e3 * (time.perf_counter() - t0)
    print(f"\nbuilding the model once (cached for every learner afterwards): {build_ms:.0f} ms")

    print("\nFirst trace of a new photo for ViT-S/16 (model loaded, nothing else cached)")
    cold, warm = first_trace(args.repeats)
    print("  decode + preprocess + traced forward keeping every attention matrix + float16 copy:")
    print(f"    first in a fresh process (cold kernels): {cold:7.1f} ms")
    print(f"    each new photo, warm model:              {summary(warm)}")
    open_attention_page(fresh_photo(1999))  # the app's own cached model gets built and warmed once
    firsts = [open_attention_page(fresh_photo(2000 + i))[1] for i in range(max(3, args.repeats // 2))]
    print(f"  attention page, whole first run for a new upload (trace, views, drawing): {summary(firsts)}")

    print(f"\nWidget change on the attention page with the trace cached (target ≤ {TARGET_MS} ms)")
    changes = widget_changes(fresh_photo(3000), args.repeats)
    for kind, values in changes.items():
        verdict = "meets" if statistics.median(values) <= TARGET_MS else "MISSES"
        print(f"  {kind:<12} {summary(values)}   {verdict} the target (median)")


if __name__ == "__main__":
    main()
