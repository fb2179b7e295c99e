"""How the pages' pictures are written: PNG at ``layout.PNG_LEVEL`` against JPEG at
``layout.JPEG_QUALITY``, for the pictures each is used for, measured in one run.

* a photo with an attention map laid over it (the attention page draws a dozen of these a run):
  the sample cat at 336×336 under a 24×24 map;
* a feature map drawn as crisp squares (a 112×112 map enlarged to 448×448), which stays PNG.

Printed: milliseconds per picture (best of ``--repeats`` rounds of 20) and bytes, and the ratios.

    python bench/bench_pictures.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from ui.charts import layout  # noqa: E402
from ui.charts.overlays import map_image, over_photo  # noqa: E402
from vision_core.samples import load_sample  # noqa: E402


def best_ms(image: np.ndarray, fmt: str, repeats: int) -> float:
    rounds = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(20):
            layout.encoded(image, fmt)
        rounds.append((time.perf_counter() - t0) / 20 * 1000)
    return min(rounds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    photo = np.asarray(load_sample("chelsea").convert("RGB").resize((336, 336)))
    yy, xx = np.mgrid[0:24, 0:24]
    attention = np.exp(-((yy - 10) ** 2 + (xx - 13) ** 2) / 30.0)  # one smooth bump, like a head's map
    pictures = {
        "photo under an attention map, 336×336": over_photo(photo, attention),
        "feature map as squares, 448×448": map_image(np.random.default_rng(0).normal(size=(112, 112))),
    }
    print(f"PNG level {layout.PNG_LEVEL} against JPEG quality {layout.JPEG_QUALITY}")
    for name, image in pictures.items():
        png_ms, jpeg_ms = best_ms(image, "PNG", args.repeats), best_ms(image, "JPEG", args.repeats)
        png_kb, jpeg_kb = len(layout.encoded(image, "PNG")) / 1000, len(layout.encoded(image, "JPEG")) / 1000
        print(
            f"{name}: PNG {png_ms:.2f} ms, {png_kb:.0f} kB · JPEG {jpeg_ms:.2f} ms, {jpeg_kb:.0f} kB"
            f" · JPEG ÷ PNG: time {jpeg_ms / png_ms:.2f}, size {jpeg_kb / png_kb:.2f}"
        )


if __name__ == "__main__":
    main()
