"""ONNX Runtime as the embedding lab's engine: our CNN written as an ONNX graph, batch norms folded.

For the CNNs we build (EfficientNet-Lite, ResNet) the graph is written here, node by node, from
the model's own weights: every convolution with its batch norm folded in (the weight scaled by
``γ / √(σ² + ε)``, the bias ``β − μ γ / √(σ² + ε)``, :func:`vision_core.embeddings.folding.fold_conv_bn`),
then its residual ``Add`` and its ``Relu`` or ``Clip(0, 6)``, a ``MaxPool`` for the ResNet stem
and a ``GlobalAveragePool`` at the end: ``forward_features``'s vector.  TensorFlow's "SAME"
padding, which EfficientNet-Lite0 was trained with, is ONNX's own ``auto_pad = "SAME_UPPER"``
(the odd extra zero at the bottom and right), so one graph serves every input size and no
padded copy of a feature map is ever made.  A graph exported by ``torch.onnx.export`` from the
traced model instead computes that padding from the input's shape at run time and pads with
separate ``Pad`` nodes: the same numbers, slower (``bench/bench_embedding.py`` runs both).

ONNX Runtime then fuses each convolution with what follows it and runs it in its blocked
channel layout.  No file is written or read and no code from outside runs: the graph is built in
memory from tensors already loaded.  An engine is made at most once per model object and is used
only after it has agreed with PyTorch's ``forward_features`` on this machine; everything else
(transformers, CLIP's ResNet, a machine without ``onnxruntime``) stays on the PyTorch path of
:mod:`vision_core.embeddings.folding`.  The lessons never use this engine: they trace the model.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

import numpy as np
import torch
from torch import nn

from vision_core.embeddings import folding
from vision_core.engine.layers import Conv2dSame
from vision_core.engine.models.efficientnet_lite import EfficientNetLite, MBConvBlock
from vision_core.engine.models.resnet import BasicBlock, Bottleneck, ResNet

OPSET = 17
INPUT, OUTPUT = "x", "z"


def available() -> bool:
    """Whether ONNX Runtime (and the ``onnx`` package that writes graphs) can be imported."""
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def supports(model: nn.Module) -> bool:
    """Whether :func:`graph` can write ``model`` (the CNNs whose batch norms fold)."""
    return isinstance(model, EfficientNetLite | ResNet)


class _Writer:
    """Collects the nodes and initialisers of one graph."""

    def __init__(self) -> None:
        self.nodes: list[Any] = []
        self.weights: list[Any] = []
        self._count = 0
        self.clip = (self.constant("zero", np.float32(0.0)), self.constant("six", np.float32(6.0)))

    def name(self, prefix: str) -> str:
        self._count += 1
        return f"{prefix}_{self._count}"

    def constant(self, name: str, value: np.ndarray | np.generic) -> str:
        from onnx import numpy_helper

        self.weights.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def node(self, op: str, inputs: list[str], **attributes: Any) -> str:
        from onnx import helper

        out = self.name(op.lower())
        self.nodes.append(helper.make_node(op, inputs, [out], name=out, **attributes))
        return out

    def conv(
        self,
        x: str,
        conv: nn.Conv2d,
        bn: nn.BatchNorm2d,
        act: str | None = None,
        residual: str | None = None,
    ) -> str:
        """``act(bn(conv(x)) + residual)`` as Conv (batch norm folded) → Add → Relu / Clip."""
        weight, bias = folding.fold_conv_bn(conv, bn)
        w = self.constant(self.name("w"), weight.contiguous().numpy())
        b = self.constant(self.name("b"), bias.numpy())
        kh, kw = conv.weight.shape[-2:]
        attributes: dict[str, Any] = {
            "kernel_shape": [kh, kw],
            "strides": list(conv.stride),
            "dilations": list(conv.dilation),
            "group": conv.groups,
        }
        if isinstance(conv, Conv2dSame):
            attributes["auto_pad"] = "SAME_UPPER"  # TensorFlow's SAME: the extra zero at the end
        elif isinstance(conv.padding, str):
            raise ValueError(f"padding={conv.padding!r}: only padding given as numbers is written")
        else:
            ph, pw = (int(p) for p in conv.padding)
            attributes["pads"] = [ph, pw, ph, pw]  # (top, left, bottom, right)
        y = self.node("Conv", [x, w, b], **attributes)
        if residual is not None:
            y = self.node("Add", [y, residual])
        if act == "relu":
            y = self.node("Relu", [y])
        elif act == "relu6":
            y = self.node("Clip", [y, *self.clip])
        return y

    def model(self, features: str, width: int) -> Any:
        from onnx import TensorProto, checker, helper

        x = helper.make_tensor_value_info(INPUT, TensorProto.FLOAT, ["batch", 3, "height", "width"])
        z = helper.make_tensor_value_info(OUTPUT, TensorProto.FLOAT, ["batch", width])
        self.nodes.append(helper.make_node("Flatten", [features], [OUTPUT], name="flatten", axis=1))
        g = helper.make_graph(self.nodes, "forward_features", [x], [z], self.weights)
        proto = helper.make_model(g, opset_imports=[helper.make_opsetid("", OPSET)])
        proto.ir_version = min(proto.ir_version, 9)  # readable by every onnxruntime of the last years
        checker.check_model(proto)
        return proto


def _lite(w: _Writer, model: EfficientNetLite) -> str:
    x = w.conv(INPUT, model._conv_stem, model._bn0, "relu6")
    for block in model._blocks:
        assert isinstance(block, MBConvBlock)
        inp = x
        if hasattr(block, "_expand_conv"):
            x = w.conv(x, block._expand_conv, block._bn0, "relu6")
        x = w.conv(x, block._depthwise_conv, block._bn1, "relu6")
        x = w.conv(x, block._project_conv, block._bn2, residual=inp if block.add is not None else None)
    x = w.conv(x, model._conv_head, model._bn1, "relu6")
    return w.node("GlobalAveragePool", [x])


def _resnet(w: _Writer, model: ResNet) -> str:
    x = w.conv(INPUT, model.conv1, model.bn1, "relu")
    mp = model.maxpool
    k, s, p = (mp.kernel_size, mp.stride, mp.padding)
    k, s, p = (v if isinstance(v, int) else v[0] for v in (k, s, p))
    x = w.node("MaxPool", [x], kernel_shape=[k, k], strides=[s, s], pads=[p, p, p, p])
    for stage in model.stages:
        for block in getattr(model, stage):
            assert isinstance(block, BasicBlock | Bottleneck)
            identity = x if block.downsample is None else w.conv(x, *block.downsample)
            out = w.conv(x, block.conv1, block.bn1, "relu")
            if isinstance(block, Bottleneck):
                out = w.conv(out, block.conv2, block.bn2, "relu")
                x = w.conv(out, block.conv3, block.bn3, "relu", residual=identity)
            else:
                x = w.conv(out, block.conv2, block.bn2, "relu", residual=identity)
    return w.node("GlobalAveragePool", [x])


def graph(model: nn.Module) -> Any:
    """The ``onnx.ModelProto`` computing ``model.forward_features``: input ``x`` (batch, 3, height,
    width) of any size, output ``z`` (batch, features).  ``model`` is not changed."""
    w = _Writer()
    with torch.no_grad():
        if isinstance(model, EfficientNetLite):
            features = _lite(w, model)
        elif isinstance(model, ResNet):
            features = _resnet(w, model)
        else:
            raise TypeError(f"no ONNX graph is written for {type(model).__name__}")
    return w.model(features, int(model.num_features))


class OnnxFeatures:
    """``forward_features`` on ONNX Runtime: called with a (B, 3, H, W) float tensor, returns the
    (B, D) float32 tensor.  One session, safe to call from several threads at once."""

    def __init__(self, model: nn.Module, threads: int | None = None):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.intra_op_num_threads = threads or torch.get_num_threads()
        options.inter_op_num_threads = 1
        # on a server shared by many learners, idle worker threads sleep instead of spinning
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3  # errors only
        self.threads = options.intra_op_num_threads
        self.session = ort.InferenceSession(
            graph(model).SerializeToString(), options, providers=["CPUExecutionProvider"]
        )

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        array = np.ascontiguousarray(x.detach().float().numpy())
        return torch.from_numpy(self.session.run([OUTPUT], {INPUT: array})[0])


def agrees(engine: OnnxFeatures, model: nn.Module) -> bool:
    """Whether ``engine`` gives ``model.forward_features``'s vectors (within 1e-4 of their scale) on
    two random photos of an odd size (every padding case of "SAME")."""
    x = torch.randn(2, 3, 67, 61, generator=torch.Generator().manual_seed(0))
    try:
        with torch.inference_mode():
            expected = folding.PlainFeatures(model)(x)
        got = engine(x)
    except Exception:  # any failure of the engine means: do not use it
        return False
    scale = float(expected.abs().max())
    return got.shape == expected.shape and bool(torch.allclose(got, expected, rtol=0, atol=1e-4 * scale))


_ENGINES: weakref.WeakKeyDictionary[nn.Module, OnnxFeatures | None] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def engine(model: nn.Module) -> OnnxFeatures | None:
    """The checked ONNX Runtime engine of ``model``, made once per model object (models are
    read-only; the engine holds its own copy of the folded weights, never the model), or ``None``
    where there is none: a model :func:`graph` does not write, no ``onnxruntime``, or an engine that
    disagreed with PyTorch here."""
    if not supports(model) or not available():
        return None
    with _LOCK:
        if model not in _ENGINES:
            try:
                made: OnnxFeatures | None = OnnxFeatures(model)
            except Exception:  # onnxruntime refused the graph: the PyTorch path stays
                made = None
            _ENGINES[model] = made if made is not None and agrees(made, model) else None
        return _ENGINES[model]


def fastest(model: nn.Module) -> OnnxFeatures | nn.Module:
    """The fastest engine for ``model.forward_features`` here: ONNX Runtime on the written graph
    where :func:`engine` has one, else the folded PyTorch copy (:func:`folding.inference_copy`)."""
    found = engine(model)
    return found if found is not None else folding.inference_copy(model)
