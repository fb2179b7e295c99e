"""Training speed of the "Train it yourself" section: seconds per epoch of each objective for both
models, and the time from pressing "train" to the first epoch's figures.

"train → first figures" is what a page pays on its first rerun: building the :class:`Trainer`
(data set already loaded, as it is after the first run of a process), one training epoch and the
report (held-out embeddings, accuracy, 5-NN, PCA map, filters, the CLS attention over one digit).
The very first run of a process also loads scikit-learn's digits; that is printed separately.
Printed, never asserted; torch's default thread count, as the app runs.

    python bench/bench_training.py [--epochs 2] [--datasets digits mnist5k] [--recipe]
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

from vision_core.training.data import load_dataset
from vision_core.training.models import MODEL_KINDS
from vision_core.training.objectives import OBJECTIVES
from vision_core.training.trainer import Trainer


def measure(kind: str, objective: str, dataset: str, epochs: int) -> dict[str, float]:
    data = load_dataset(dataset)
    probe = data.test_images[0]
    t0 = time.perf_counter()
    trainer = Trainer(kind, objective, dataset, seed=0)
    first = trainer.step_epoch(probe=probe)
    to_first = time.perf_counter() - t0
    reports = [first] + [trainer.step_epoch(probe=probe) for _ in range(epochs - 1)]
    return {
        "train_s": statistics.median(r.train_seconds for r in reports),
        "report_s": statistics.median(r.report_seconds for r in reports),
        "first_s": to_first,
        "accuracy": reports[-1].accuracy,
        "knn": reports[-1].knn_accuracy,
        "planned": trainer.epochs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--epochs", type=int, default=2, help="epochs measured per run")
    parser.add_argument("--datasets", nargs="*", default=["digits", "mnist5k"])
    parser.add_argument("--recipe", action="store_true", help="also time the whole default run")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} CPUs, "
        f"load average {load:.1f} at start (other work slows every figure)"
    )
    for dataset in args.datasets:
        t0 = time.perf_counter()
        data = load_dataset(dataset)
        print(
            f"\n{data.title}: {len(data.train)} training / {len(data.test)} held-out pictures, "
            f"loaded in {time.perf_counter() - t0:.2f} s"
        )
        print(
            f"{'model':<6}{'objective':<17}{'train s/epoch':>14}{'report s':>10}{'train→first s':>15}"
            f"{'epochs':>8}{'≈ run s':>9}{'accuracy':>10}{'5-NN':>7}"
        )
        for kind in MODEL_KINDS:
            for objective in OBJECTIVES:
                r = measure(kind, objective, dataset, args.epochs)
                run = r["planned"] * (r["train_s"] + r["report_s"])
                print(
                    f"{kind:<6}{objective:<17}{r['train_s']:>14.2f}{r['report_s']:>10.2f}{r['first_s']:>15.2f}"
                    f"{r['planned']:>8}{run:>9.1f}{r['accuracy']:>10.3f}{r['knn']:>7.3f}",
                    flush=True,
                )
    if args.recipe:
        t0 = time.perf_counter()
        trainer = Trainer("vit", "classification", "digits", seed=0)
        history = trainer.run()
        print(
            f"\nthe default run (tiny ViT, cross-entropy, digits, {trainer.epochs} epochs): "
            f"{time.perf_counter() - t0:.1f} s, held-out accuracy {history[-1].accuracy:.3f}"
        )


if __name__ == "__main__":
    main()
