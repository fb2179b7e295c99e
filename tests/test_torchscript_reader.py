"""The restricted TorchScript reader on archives made the way OpenAI's CLIP files were made.

OpenAI saved ``torch.jit.trace`` of the whole CLIP model (image tower under ``visual.``, the text
tower beside it) with ``torch.jit.save``, weights in float16, with the torch of 2021.  Here the real
CLIP RN50 image tower (seeded) inside such a model is traced and saved with today's torch, then the
zip is rewritten into each older layout the reader can meet: another root folder, ``version`` 1-6
or none, no ``byteorder`` / ``.data/`` records (added by newer torch), storages saved from a GPU,
deflated entries.  Every variant must give the same tensors -- and a strict load of our model.
"""

from __future__ import annotations

import pickle
import zipfile
from pathlib import Path

import pytest
import torch
from torch import nn

from tests.test_weights import assert_same_tensors
from vision_core.engine import encoders, weights
from vision_core.engine.models import clip
from vision_core.engine.readers import CheckpointError, read_torchscript_tensors

pytestmark = pytest.mark.filterwarnings(
    "ignore:`torch.jit.*deprecated:DeprecationWarning", "ignore::torch.jit.TracerWarning"
)
RN50 = encoders.get("clip_rn50")


class OpenAIClip(nn.Module):
    """OpenAI's ``CLIP`` module tree: ``visual`` plus (a small stand-in for) the text tower."""

    def __init__(self) -> None:
        super().__init__()
        self.visual = encoders.seeded_model("clip_rn50")
        self.token_embedding = nn.Embedding(64, 32)
        self.positional_embedding = nn.Parameter(torch.randn(77, 32))
        self.ln_final = nn.LayerNorm(32)
        self.text_projection = nn.Parameter(torch.randn(32, 1024))
        self.logit_scale = nn.Parameter(torch.tensor(4.6052))

    def forward(self, image: torch.Tensor) -> torch.Tensor:  # encode_image, what the trace records
        return self.visual(image) * self.logit_scale.exp()


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> tuple[Path, dict[str, torch.Tensor]]:
    path = tmp_path_factory.mktemp("clip") / "RN50.pt"
    model = OpenAIClip().eval()
    with torch.no_grad():
        traced = torch.jit.trace(model, torch.zeros(1, 3, 224, 224), check_trace=False)
    traced.half()  # OpenAI's files hold float16 weights
    torch.jit.save(traced, str(path))
    return path, {k: v.detach().clone() for k, v in traced.state_dict().items()}


def rewrite(src: Path, dst: Path, *, root=None, version=b"3\n", drop=(), edit=None, compress=None) -> Path:
    """Copy a TorchScript zip, renaming its root folder, changing records, editing data.pkl."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.infolist():
            old_root, _, rest = item.filename.partition("/")
            if rest in drop or any(rest.startswith(d) for d in drop if d.endswith("/")):
                continue
            data = zin.read(item)
            if rest == "version":
                if version is None:
                    continue
                data = version
            if rest == "data.pkl" and edit is not None:
                data = edit(data)
            zout.writestr(f"{root or old_root}/{rest}", data, compress_type=compress or item.compress_type)
    return dst


LAYOUTS = {
    "today": {},
    "torch_1_7_openai": {"drop": ("byteorder", ".data/")},  # RN50/, version 3, no byteorder record
    "archive_root": {"root": "archive"},
    "other_root_name": {"root": "ViT-B-32", "drop": ("byteorder",)},
    **{f"version_{v}": {"version": f"{v}\n".encode(), "drop": ("byteorder",)} for v in (1, 2, 4, 5, 6)},
    "no_version": {"version": None, "drop": ("byteorder", ".data/")},
    # Saved from a GPU: the storage location says cuda:0 (OpenAI traced on CUDA).
    "cuda_storages": {"edit": lambda d: d.replace(b"X\x03\x00\x00\x00cpu", b"X\x06\x00\x00\x00cuda:0")},
    "deflated": {"compress": zipfile.ZIP_DEFLATED, "drop": ("byteorder",)},
}


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_every_archive_layout_gives_the_same_tensors(layout, archive, tmp_path) -> None:
    src, state = archive
    path = rewrite(src, tmp_path / "RN50.pt", **LAYOUTS[layout])
    got = read_torchscript_tensors(path)
    assert_same_tensors(got, state)
    assert got["visual.conv1.weight"].dtype == torch.float16 and "token_embedding.weight" in got
    visual = weights.read_state_dict(path, RN50.weights)  # the store's path: visual.* only
    assert_same_tensors(
        visual, {k.removeprefix("visual."): v for k, v in state.items() if k.startswith("visual.")}
    )
    model = clip.clip_rn50()
    model.load_state_dict(RN50.convert(visual), strict=True)  # and our network takes them as they are
    assert torch.equal(model.conv1.weight, visual["conv1.weight"].float())


def test_big_endian_and_pre_1_4_archives_are_refused_with_a_reason(archive, tmp_path) -> None:
    src, _ = archive
    big = rewrite(src, tmp_path / "big.pt", drop=("byteorder",))
    with zipfile.ZipFile(big, "a") as z:
        z.writestr("RN50/byteorder", b"big")
    with pytest.raises(CheckpointError, match="big-endian"):
        read_torchscript_tensors(big)
    with zipfile.ZipFile(tmp_path / "old.pt", "w") as z:  # PyTorch <= 1.3: model.json + tensors/
        z.writestr("old/model.json", b"{}")
        z.writestr("old/tensors/0", b"\x00" * 4)
    with pytest.raises(CheckpointError, match=r"1\.3 and older"):
        read_torchscript_tensors(tmp_path / "old.pt")


HOSTILE = [
    ("os", "system"),
    ("posix", "system"),
    ("builtins", "eval"),
    ("builtins", "getattr"),
    ("subprocess", "Popen"),
    ("torch", "load"),
    ("torch._utils", "_rebuild_parameter"),
]


@pytest.mark.parametrize(("module", "name"), HOSTILE)
def test_an_archive_naming_any_other_global_is_refused_without_running_it(
    module, name, archive, tmp_path
) -> None:
    src, _ = archive
    marker = tmp_path / "pwned"
    glob = f"c{module}\n{name}\n".encode()  # the GLOBAL opcode
    arg = pickle.dumps(f"touch {marker}", protocol=2)[2:-1]  # the string, without PROTO and STOP
    payload = b"\x80\x02" + glob + b"(" + arg + b"tR."  # module.name("touch ...")
    path = rewrite(src, tmp_path / "evil.pt", edit=lambda _: payload)
    with pytest.raises(CheckpointError, match="refusing to load global"):
        read_torchscript_tensors(path)
    hidden = lambda d: d.replace(b"ctorch\nHalfStorage\n", glob, 1)  # noqa: E731
    inner = rewrite(src, tmp_path / "evil_storage.pt", edit=hidden)
    with pytest.raises(CheckpointError, match="refusing to load global"):
        read_torchscript_tensors(inner)  # hidden in a storage record, deep in the module tree
    assert not marker.exists()
