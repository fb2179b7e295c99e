"""Reading the weights of an ONNX graph exported from PyTorch back under their PyTorch names.

An ONNX file is a protobuf message; ``onnx.load`` parses it and runs nothing from it (there is no
code in the format to run).  Its *initialisers* are the model's tensors.  When PyTorch exports a
model, most keep their parameter names (``backbone.encoder.layer.0.norm1.weight``), but two kinds
lose them, and this module finds them again by following the graph:

* a Linear layer becomes ``MatMul(x, W)`` then ``Add(bias, ·)``: ``W`` is stored transposed, as
  (in, out), under a made-up name (``onnx::MatMul_1966``).  The ``Add`` that takes the MatMul's
  output holds the named bias (``….attention.attention.key.bias``), so ``W``'s transpose is that
  layer's ``weight``;
* tensors the exporter precomputed (constant folding): Hugging Face DINOv2's position embeddings
  (1, 1+N, D) were split into the CLS token's (1, 1, D) and the patches' (1, N, D).  The patch part
  is the tensor that reaches the ``Resize`` (the position-embedding interpolation) through
  Reshape/Transpose/Cast; the CLS part is the initialiser concatenated in front of its result.
  Joined again they are ``<prefix>.position_embeddings``, the prefix being that of the
  ``cls_token`` next to them.

Every initialiser is accounted for exactly once or the read fails (``CheckpointError``):
:attr:`OnnxWeights.sources` says which initialisers made each key.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from vision_core.engine.readers import CheckpointError

_PASS_THROUGH = ("Cast", "Transpose", "Reshape", "Unsqueeze")  # ops that only re-lay out one tensor


@dataclass(frozen=True)
class OnnxWeights:
    """``tensors`` under the exported module's own names; ``sources[key]``: the initialisers used."""

    tensors: dict[str, torch.Tensor]
    sources: dict[str, tuple[str, ...]]


def load_graph(path: str | Path):
    """The parsed ``onnx.ModelProto`` (protobuf only; external data files are never opened)."""
    import onnx

    try:
        return onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # protobuf's DecodeError and friends
        raise CheckpointError(f"Could not read {path} as an ONNX model: {exc}") from exc


def read_onnx_state_dict(path: str | Path) -> OnnxWeights:
    """The state dict a PyTorch model was exported from, rebuilt from its ONNX file (see module doc)."""
    from onnx import numpy_helper

    graph = load_graph(path).graph
    inits = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    consumers: dict[str, list] = defaultdict(list)
    producer = {}
    for node in graph.node:
        for name in node.input:
            consumers[name].append(node)
        for name in node.output:
            producer[name] = node

    tensors: dict[str, np.ndarray] = {}
    sources: dict[str, tuple[str, ...]] = {}

    def put(key: str, value: np.ndarray, *used: str) -> None:
        if key in tensors:
            raise CheckpointError(f"{path}: two initialisers claim {key!r}: {sources[key]} and {used}")
        tensors[key], sources[key] = value, used

    for name, value in inits.items():
        if not name.startswith("onnx::"):
            put(name, value, name)

    # Linear weights: MatMul(x, W) → Add(named bias, ·)
    for node in graph.node:
        if node.op_type != "MatMul" or node.input[1] not in inits or node.input[1] in tensors:
            continue
        after = consumers[node.output[0]]
        bias = [i for n in after if n.op_type == "Add" for i in n.input if i.endswith(".bias") and i in inits]
        if len(after) != 1 or len(bias) != 1:
            raise CheckpointError(f"{path}: MatMul weight {node.input[1]} is not followed by one Linear bias")
        put(bias[0].removesuffix("bias") + "weight", inits[node.input[1]].T.copy(), node.input[1])

    # Folded position embeddings: [CLS part, patch part → … → Resize]
    def origin(name: str) -> str:
        """The initialiser ``name`` is a re-laid-out copy of (or ``name`` itself)."""
        while name in producer and producer[name].op_type in _PASS_THROUGH:
            name = producer[name].input[0]
        return name

    def downstream(name: str) -> list:
        """The nodes reached from ``name`` through re-layout ops only."""
        found = []
        for n in consumers[name]:
            found += downstream(n.output[0]) if n.op_type in _PASS_THROUGH else [n]
        return found

    for resize in (n for n in graph.node if n.op_type == "Resize"):
        patch = origin(resize.input[0])
        if not patch.startswith("onnx::") or patch not in inits:
            continue  # a Resize of activations (e.g. a decoder's upsampling)
        concat = [n for n in downstream(resize.output[0]) if n.op_type == "Concat"]
        cls = [i for n in concat for i in n.input if i in inits and i.startswith("onnx::")]
        cls_tokens = [k for k in inits if k.endswith("embeddings.cls_token")]
        if len(cls) != 1 or len(cls_tokens) != 1:
            raise CheckpointError(f"{path}: cannot tell the position embeddings around {resize.name}")
        key = cls_tokens[0].removesuffix("cls_token") + "position_embeddings"
        put(key, np.concatenate([inits[cls[0]], inits[patch]], axis=1), cls[0], patch)  # (1, 1+N, D)

    used = [s for names in sources.values() for s in names]
    left = sorted(set(inits) - set(used))
    if left or len(used) != len(set(used)):
        raise CheckpointError(f"{path}: initialisers not mapped to a parameter: {left}")
    return OnnxWeights({k: torch.from_numpy(np.array(v)) for k, v in tensors.items()}, sources)
