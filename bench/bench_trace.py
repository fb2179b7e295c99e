"""Traced forward ÷ plain forward, measured in one run on this machine, and the memory of a full trace.

Targets (printed, never asserted): CNNs ≤ 1.25, transformers ≤ 1.5 (the traced transformer
computes softmax(QKᵀ/√d) explicitly instead of the fused kernel, and keeps every attention
matrix).  The two forwards alternate so that both see the same machine state; the median of
the repeats is reported.

The app keeps freed memory for reuse (:func:`vision_core.engine.memory.keep_freed_memory`), so the bench
does too; ``--default-malloc`` measures with glibc's defaults instead.

On a machine busy with other work, wall time with two threads mostly measures how long torch's
threads wait for each other to be scheduled (a plain forward that takes 20 ms alone took seconds
under a load average of 15).  ``--threads 1 --cpu-time`` then measures what the process itself
spent — the work a trace adds — which other processes disturb far less; the printout says which
clock it used and the load average.

    python bench/bench_trace.py [--repeats 15] [--models resnet50 efficientnet_lite0 ...] [--default-malloc]
                                [--threads N] [--cpu-time]
"""

from __future__ import annotations

import argparse
import os
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


def measure(name: str, repeats: int, clock=time.perf_counter) -> dict[str, float]:
    model = seeded_model(name)  # same architecture and arithmetic as the trained weights
    x = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        for _ in range(3):  # warm up allocator and kernels
            model(x)
            trace(model, x)
    plain, traced = [], []
    for _ in range(repeats):
        t0 = clock()
        with torch.no_grad():
            model(x)
        t1 = clock()
        tr = trace(model, x)
        t2 = clock()
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
    parser.add_argument("--threads", type=int, help="torch's intra-op threads (default: torch's own)")
    parser.add_argument("--cpu-time", action="store_true", help="the process's CPU time, not wall time")
    args = parser.parse_args()
    tuned = False if args.default_malloc else memory.keep_freed_memory()
    if args.threads:
        torch.set_num_threads(args.threads)
    clock = time.process_time if args.cpu_time else time.perf_counter
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, input 1×3×224×224, "
        f"median of {args.repeats}; freed memory kept for reuse as in the app: {'yes' if tuned else 'no'}; "
        f"{'process CPU' if args.cpu_time else 'wall'} time; load average {os.getloadavg()[0]:.1f} "
        f"on {os.cpu_count()} cores"
    )
    print(
        f"{'model':<20}{'plain ms':>10}{'traced ms':>11}{'traced/plain':>14}{'target':>8}"
        f"{'trace MiB':>11}{'steps':>7}"
    )
    for name in args.models:
        r = measure(name, args.repeats, clock)
        target = TARGETS.get(name, float("nan"))
        print(
            f"{name:<20}{r['plain_ms']:>10.1f}{r['traced_ms']:>11.1f}{r['ratio']:>14.2f}{target:>8.2f}"
            f"{r['trace_mb']:>11.1f}{r['steps']:>7d}"
        )


if __name__ == "__main__":
    main()
