"""UMAP on real-like embeddings: cold (first call, numba compiling) against warm, for 1,000 and 5,000.

The embeddings are real EfficientNet-Lite0 vectors of the bundled samples and their augmented
variants, tiled with a little noise up to 1,000 and 5,000 rows (a class's gallery).  Each
scenario runs in a fresh Python process, so "cold" really includes numba's compilation:

- cold: the first :func:`vision_core.embeddings.projection.umap_map` of a process;
- after warm-up: the first map after :func:`vision_core.embeddings.projection.warm_up` — what a learner
  waits for, since the app warms up in a background thread at start;
- warm: the same map again in the same process.

Targets (printed, never asserted): warm 1,000 ≤ 3 s, 5,000 ≤ 5 s; the compilation never on the
learner's path.  ``--baseline`` also times umap-learn's defaults (NN-descent on the raw vectors).

    python bench/bench_umap.py [--sizes 1000 5000] [--baseline]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGETS = {1000: 3.0, 5000: 5.0}


def real_like(n: int, seed: int = 0) -> np.ndarray:
    """``n`` Lite0 embeddings: the 24 samples and 41 augmented variants of each (1,008 real
    vectors), tiled with noise of 10% of each number's spread."""
    from vision_core import samples
    from vision_core.embeddings import gallery
    from vision_core.embeddings import vectors as embeddings
    from vision_core.engine import encoders

    items = gallery.sample_items([s.id for s in samples.list_samples()], 41)
    vectors = embeddings.embed(
        encoders.load_model("efficientnet_lite0"), (it.image() for it in items), "efficientnet_lite0"
    )
    rng = np.random.default_rng(seed)
    rows = vectors[np.arange(n) % len(vectors)]
    noise = rng.normal(0, 0.1 * vectors.std(axis=0, keepdims=True), rows.shape)
    return np.maximum(rows + noise.astype(np.float32), 0)  # GAP of ReLU6 outputs is never negative


def scenario(path: str, mode: str) -> dict:
    """Run in a fresh process: import, (warm up), map, map again, place one photo."""
    out: dict = {}
    t = time.perf_counter()
    from vision_core.embeddings import projection

    out["import"] = time.perf_counter() - t
    x = np.load(path)
    if mode == "baseline":
        import umap

        for key in ("cold", "warm"):
            t = time.perf_counter()
            umap.UMAP(random_state=0).fit_transform(x)
            out[key] = time.perf_counter() - t
        return out
    if mode == "warm_up":
        out["warm_up"] = projection.warm_up()
    for key in ("first", "again"):
        t = time.perf_counter()
        m = projection.umap_map(x, 2)
        out[key] = time.perf_counter() - t
    t = time.perf_counter()
    m.place(x[:1])
    out["place"] = time.perf_counter() - t
    out["kept"] = m.reduced.kept_variance
    return out


def run(path: str, mode: str) -> dict:
    code = (
        f"import json, sys; sys.path.insert(0, {str(ROOT)!r}); sys.path.insert(0, {str(ROOT / 'bench')!r}); "
        f"from bench_umap import scenario; print(json.dumps(scenario({path!r}, {mode!r})))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="*", default=[1000, 5000])
    parser.add_argument("--baseline", action="store_true", help="also time umap-learn's defaults")
    args = parser.parse_args()
    import umap

    print(f"umap-learn {umap.__version__}; real Lite0 embeddings (1280-d) tiled with noise; fresh processes")
    print(
        f"{'photos':>7}{'cold first map':>16}{'warm_up()':>11}{'map after warm-up':>19}{'warm map':>10}"
        f"{'place 1':>9}{'target':>8}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            path = str(Path(tmp) / f"x{n}.npy")
            np.save(path, real_like(n))
            cold = run(path, "cold")
            warmed = run(path, "warm_up")
            warm = min(cold["again"], warmed["again"])
            print(
                f"{n:>7}{cold['first']:>15.1f}s{warmed['warm_up']:>10.1f}s{warmed['first']:>18.1f}s"
                f"{warm:>9.1f}s{warmed['place']:>8.2f}s{TARGETS.get(n, float('nan')):>7.0f}s"
                f"   (PCA keeps {cold['kept']:.0%} of the variance)"
            )
            if args.baseline:
                base = run(path, "baseline")
                print(
                    f"{'':>7}umap-learn defaults (NN-descent on 1280-d): cold {base['cold']:.1f} s, "
                    f"warm {base['warm']:.1f} s"
                )


if __name__ == "__main__":
    main()
