"""Batch embedding throughput: our embedding path against ONNX Runtime on the same network, in one run.

The network is the embedded EfficientNet-Lite0 (real ImageNet weights).  ONNX Runtime — the
fastest CPU engine a user would pick instead — runs the same ``forward_features`` exported to
ONNX (opset 17, dynamic batch), with all graph optimisations and as many threads as PyTorch
uses.  Ours is :func:`vision_core.embeddings.vectors.embed`'s network: the folded copy of
:mod:`vision_core.embeddings.folding`, ``EMBED_BATCH`` photos per forward pass.  Every engine sees the same
input tensors; the measurements alternate so that all of them see the same machine state, and the
median of the repeats is printed (each timed run follows a pause and an untimed run of the same
engine, so that no engine is timed while the other's worker threads are still spinning).
Target (printed, never asserted): ours ≥ 1.0× ONNX Runtime's throughput.  Then the time to embed
1,000 photos end to end (JPEG decode, preprocessing, network).

    pip install -r requirements-bench.txt
    python bench/bench_embedding.py [--repeats 9] [--photos 1000]
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vision_core import samples
from vision_core.embeddings import folding, gallery
from vision_core.embeddings import vectors as embeddings
from vision_core.engine import encoders, memory

NAME = "efficientnet_lite0"


class Features(torch.nn.Module):
    def __init__(self, model: torch.nn.Module):
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model.forward_features(x)


def export_onnx(model: torch.nn.Module, path: Path) -> None:
    # export a copy: the exporter may run the model in training mode, which would move a shared
    # model's batch-norm statistics
    net = Features(copy.deepcopy(model)).eval()
    x = torch.zeros(2, 3, 224, 224)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            torch.onnx.export(
                net,
                (x,),
                str(path),
                input_names=["x"],
                output_names=["z"],
                dynamic_axes={"x": {0: "batch"}, "z": {0: "batch"}},
                opset_version=17,
                dynamo=False,
            )
        except Exception:  # a torch without the TorchScript exporter: the dynamo one
            torch.onnx.export(
                net,
                (x,),
                str(path),
                input_names=["x"],
                output_names=["z"],
                dynamic_shapes={"x": {0: torch.export.Dim("batch", min=1, max=256)}},
                dynamo=True,
            )


def ort_session(path: Path):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = torch.get_num_threads()
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def chunked(run, x: torch.Tensor, size: int):
    return lambda: [run(x[i : i + size]) for i in range(0, len(x), size)]


def photos(n: int) -> list:
    """``n`` photos as a learner's gallery holds them: sample photos and their augmented variants."""
    ids = [s.id for s in samples.list_samples("photo")]
    per = -(-n // len(ids)) - 1
    items = gallery.sample_items(ids, min(per, 4))
    return [items[i % len(items)] for i in range(n)]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--photos", type=int, default=1000)
    args = parser.parse_args()
    tuned = memory.keep_freed_memory()  # as the app runs (ONNX Runtime has its own arena)

    model = encoders.load_model(NAME)
    net = folding.inference_copy(model)
    items = photos(32)
    x32 = torch.cat([encoders.preprocess(it.image(), NAME) for it in items])  # (32, 3, 224, 224)
    x1 = x32[:1].contiguous()
    channels_last = copy.deepcopy(model).to(memory_format=torch.channels_last)

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "lite0.onnx"
        export_onnx(model, path)
        session = ort_session(path)

    def ours(x):
        with torch.inference_mode():
            return net(x)

    def plain(x):
        with torch.inference_mode():
            return model.forward_features(x)

    def plain_cl(x):
        with torch.inference_mode():
            return channels_last.forward_features(x.contiguous(memory_format=torch.channels_last))

    def onnx(x):
        return session.run(None, {"x": x.numpy()})[0]

    with torch.inference_mode():
        reference = model.forward_features(x32).numpy()
    diff_ours = float(np.abs(ours(x32).numpy() - reference).max())
    diff_ort = float(np.abs(onnx(x32) - reference).max())

    batch = embeddings.EMBED_BATCH
    cases = {
        ("ours", 1): lambda: ours(x1),
        ("onnxruntime", 1): lambda: onnx(x1),
        ("ours", 32): chunked(ours, x32, batch),
        ("ours, one batch of 32", 32): lambda: ours(x32),
        ("onnxruntime", 32): lambda: onnx(x32),
        (f"onnxruntime, batches of {batch}", 32): chunked(onnx, x32, batch),
        ("plain PyTorch", 1): lambda: plain(x1),
        ("plain PyTorch", 32): lambda: plain(x32),
        ("channels_last", 1): lambda: plain_cl(x1),
        ("channels_last", 32): lambda: plain_cl(x32),
    }
    times: dict[tuple[str, int], list[float]] = {c: [] for c in cases}
    for fn in cases.values():  # warm up every engine
        fn()
        fn()
    for _ in range(args.repeats):
        for case, fn in cases.items():
            # both engines' worker threads spin for a while after a run: let them settle first, so
            # that neither is timed while the other's threads still hold the cores
            time.sleep(0.3)
            fn()
            start = time.perf_counter()
            fn()
            times[case].append((time.perf_counter() - start) * 1e3 / case[1])
    ms = {c: statistics.median(t) for c, t in times.items()}

    print(
        f"torch {torch.__version__} ({torch.get_num_threads()} threads), onnxruntime "
        f"{__import__('onnxruntime').__version__}; EfficientNet-Lite0 forward_features, 224×224, "
        f"median of {args.repeats}; freed memory kept for reuse as in the app: {'yes' if tuned else 'no'}"
    )
    print(f"{'engine':<30}{'ms/photo @1':>12}{'ms/photo @32':>14}")
    for engine in dict.fromkeys(c[0] for c in cases):
        one = f"{ms[(engine, 1)]:.1f}" if (engine, 1) in ms else ""
        many = f"{ms[(engine, 32)]:.1f}" if (engine, 32) in ms else ""
        print(f"{engine:<30}{one:>12}{many:>14}")
    best_ort_32 = min(ms[("onnxruntime", 32)], ms[(f"onnxruntime, batches of {batch}", 32)])
    r1 = ms[("onnxruntime", 1)] / ms[("ours", 1)]
    r32 = ms[("onnxruntime", 32)] / ms[("ours", 32)]
    r32_best = best_ort_32 / ms[("ours", 32)]
    print(
        f"throughput ours ÷ ONNX Runtime: batch 1 {r1:.2f}×, batch 32 {r32:.2f}× "
        f"(against ONNX Runtime's best way to run 32: {r32_best:.2f}×) — target ≥ 1.0×"
    )
    print(f"max |difference| from forward_features: ours {diff_ours:.2e}, ONNX Runtime {diff_ort:.2e}")

    many = photos(args.photos)
    start = time.perf_counter()
    vectors = embeddings.embed(model, (it.image() for it in many), NAME, total=len(many))
    seconds = time.perf_counter() - start
    print(
        f"{len(vectors)} photos embedded end to end (JPEG decode + preprocessing + network) in "
        f"{seconds:.1f} s: {1e3 * seconds / len(vectors):.1f} ms/photo, {len(vectors) / seconds:.0f} photos/s"
    )


if __name__ == "__main__":
    main()
