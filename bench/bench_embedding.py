"""Batch embedding throughput: the embedding lab's engine against ONNX Runtime on the same network, one run.

The network is the embedded EfficientNet-Lite0 (real ImageNet weights), ``forward_features`` (the
1280-number vector), 224×224.  Engines:

- **ours** — what :func:`vision_core.embeddings.vectors.embed` (the lab, ``encoder-lens embed``)
  runs: :mod:`vision_core.embeddings.onnx_engine`, ONNX Runtime on the graph we write from the
  model (batch norms folded, TensorFlow's SAME padding as the convolution's own ``auto_pad``), idle
  threads sleeping, ``EMBED_BATCH`` photos per call;
- **onnxruntime (export)** — the fastest CPU engine a user would pick instead: ONNX Runtime on
  ``torch.onnx.export`` of the same ``forward_features`` (opset 17, dynamic batch), all graph
  optimisations, as many threads as PyTorch uses; with its default spinning threads and without;
  in one call for 32 photos and in calls of ``EMBED_BATCH``; the ratio is against the fastest of
  these for each column;
- **PyTorch, folded** — the folded copy of :mod:`vision_core.embeddings.folding` (oneDNN's fused
  convolutions where they check out), the lab's engine before ONNX Runtime; plain PyTorch and
  channels-last PyTorch for reference.

Every engine sees the same input tensors; the measurements alternate so that all of them see the
same machine state, and the median of the repeats is printed (each timed run follows a pause and
an untimed run of the same engine, so that no engine is timed while another's worker threads are
still spinning).  Target (printed, never asserted): ours ≥ 1.0× ONNX Runtime's throughput at batch
1 and 32.  Then the time to embed ``--photos`` photos end to end (JPEG decode, preprocessing,
network) with ``embed``.

    pip install -r requirements-bench.txt
    python bench/bench_embedding.py [--repeats 9] [--photos 1000]
"""

from __future__ import annotations

import argparse
import copy
import os
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
from vision_core.embeddings import folding, gallery, onnx_engine
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


def ort_session(path: Path, spinning: bool = True):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = torch.get_num_threads()
    if not spinning:
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
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
    lab = onnx_engine.fastest(model)  # what embeddings.embed runs
    if not isinstance(lab, onnx_engine.OnnxFeatures):
        sys.exit("the lab's engine is not ONNX Runtime here (is onnxruntime installed?)")
    folded = folding.fold(model)
    items = photos(32)
    x32 = torch.cat([encoders.preprocess(it.image(), NAME) for it in items])  # (32, 3, 224, 224)
    x1 = x32[:1].contiguous()
    channels_last = copy.deepcopy(model).to(memory_format=torch.channels_last)

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "lite0.onnx"
        export_onnx(model, path)
        session, calm = ort_session(path), ort_session(path, spinning=False)

    def ours(x):
        with torch.inference_mode():
            return lab(x).numpy()

    def pytorch(x):
        with torch.inference_mode():
            return folded(x).numpy()

    def plain(x):
        with torch.inference_mode():
            return model.forward_features(x).numpy()

    def plain_cl(x):
        with torch.inference_mode():
            return channels_last.forward_features(x.contiguous(memory_format=torch.channels_last)).numpy()

    def onnx(x):
        return session.run(None, {"x": x.numpy()})[0]

    def onnx_calm(x):
        return calm.run(None, {"x": x.numpy()})[0]

    with torch.inference_mode():
        reference = model.forward_features(x32).numpy()
    scale = float(np.abs(reference).max())
    diffs = {
        "ours": float(np.abs(np.concatenate(chunked(ours, x32, 4)()) - reference).max()),
        "PyTorch, folded": float(np.abs(pytorch(x32) - reference).max()),
        "onnxruntime (export)": float(np.abs(onnx(x32) - reference).max()),
    }

    batch = embeddings.EMBED_BATCH
    ORT = "onnxruntime (export)"
    cases = {
        ("ours", 1): lambda: ours(x1),
        ("ours", 32): chunked(ours, x32, batch),
        ("ours, one call of 32", 32): lambda: ours(x32),
        (ORT, 1): lambda: onnx(x1),
        (ORT, 32): lambda: onnx(x32),
        (f"{ORT}, calls of {batch}", 32): chunked(onnx, x32, batch),
        (f"{ORT}, no spinning", 1): lambda: onnx_calm(x1),
        (f"{ORT}, no spinning", 32): lambda: onnx_calm(x32),
        (f"{ORT}, no spinning, calls of {batch}", 32): chunked(onnx_calm, x32, batch),
        ("PyTorch, folded", 1): lambda: pytorch(x1),
        ("PyTorch, folded", 32): chunked(pytorch, x32, batch),
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
            # worker threads spin for a while after a run: let them settle first, so that no engine
            # is timed while another's threads still hold the cores
            time.sleep(0.3)
            fn()
            start = time.perf_counter()
            fn()
            times[case].append((time.perf_counter() - start) * 1e3 / case[1])
    ms = {c: statistics.median(t) for c, t in times.items()}

    load = os.getloadavg()[0]
    print(
        f"torch {torch.__version__} ({torch.get_num_threads()} threads), onnxruntime "
        f"{__import__('onnxruntime').__version__}; EfficientNet-Lite0 forward_features, 224×224, "
        f"median of {args.repeats}; freed memory kept for reuse as in the app: {'yes' if tuned else 'no'}; "
        f"load average at the end {load:.1f} on {os.cpu_count()} cores"
    )
    print(f"{'engine':<46}{'ms/photo @1':>12}{'ms/photo @32':>14}")
    for engine in dict.fromkeys(c[0] for c in cases):
        one = f"{ms[(engine, 1)]:.1f}" if (engine, 1) in ms else ""
        many = f"{ms[(engine, 32)]:.1f}" if (engine, 32) in ms else ""
        print(f"{engine:<46}{one:>12}{many:>14}")
    best_ort = {b: min(v for (e, n), v in ms.items() if e.startswith(ORT) and n == b) for b in (1, 32)}
    for engine in ("ours", "PyTorch, folded"):
        r1, r32 = (best_ort[b] / ms[(engine, b)] for b in (1, 32))
        print(
            f"throughput {engine} ÷ ONNX Runtime's best: batch 1 {r1:.2f}×, batch 32 {r32:.2f}×"
            + (" — target ≥ 1.0×" if engine == "ours" else "")
        )
    print(
        "max |difference| from forward_features (scale "
        f"{scale:.2f}): " + ", ".join(f"{k} {v:.2e}" for k, v in diffs.items())
    )

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
