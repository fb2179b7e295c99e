"""Traced forward ÷ plain forward, measured in one run on this machine, and the memory of a full trace.

Targets (printed, never asserted): CNNs ≤ 1.25, transformers ≤ 1.5 (the traced transformer
computes softmax(QKᵀ/√d) explicitly instead of the fused kernel, and keeps every attention
matrix).  The two forwards alternate so that both see the same machine state; the median of
the repeats is reported.

The app keeps freed memory for reuse (:func:`vision_core.engine.memory.keep_freed_memory`), so the bench
does too; ``--default-malloc`` measures with glibc's defaults instead.

    python bench/bench_trace.py [--repeats 15] [--models resnet50 efficientnet_lite0 ...] [--default-malloc]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vision_core import trace
from vision_core.engine import memory
from vision_core.engine.encoders import seeded_model

TARGETS = {"resnet50": 1.25, "efficientnet_lite0": 1.25, "dino_vits16": 1.5, "clip_vit_b32": 1.5}


def measure(name: str, repeats: int) -> dict[str, float]:
    model = seeded_model(name)  # same architecture and arithmetic as the trained weights
    x = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        for _ in range(3):  # warm up allocator and kernels
            model(x)
            trace(model, x)
    plain, traced = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        with torch.no_grad():
            model(x)
        t1 = time.perf_counter()
        tr = trace(model, x)
        t2 = time.perf_counter()
        plain.append(t1 - t0)
        traced.append(t2 - t1)
        nbytes, steps = tr.nbytes, len(tr)
        del tr
    p, t = statistics.median(plain), statistics.median(traced)
    return {
        "plain_ms": 1e3 * p,
        "traced_ms": 1e3 * t,
        "ratio": t / p,
        "trace_mb": nbytes / 2**20,
        "steps": steps,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--models", nargs="*", default=list(TARGETS))
    parser.add_argument("--default-malloc", action="store_true", help="glibc's defaults, not the app's")
    args = parser.parse_args()
    tuned = False if args.default_malloc else memory.keep_freed_memory()
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, input 1×3×224×224, "
        f"median of {args.repeats}; freed memory kept for reuse as in the app: {'yes' if tuned else 'no'}"
    )
    print(
        f"{'model':<20}{'plain ms':>10}{'traced ms':>11}{'traced/plain':>14}{'target':>8}"
        f"{'trace MiB':>11}{'steps':>7}"
    )
    for name in args.models:
        r = measure(name, args.repeats)
        target = TARGETS.get(name, float("nan"))
        print(
            f"{name:<20}{r['plain_ms']:>10.1f}{r['traced_ms']:>11.1f}{r['ratio']:>14.2f}{target:>8.2f}"
            f"{r['trace_mb']:>11.1f}{r['steps']:>7d}"
        )


if __name__ == "__main__":
    main()
