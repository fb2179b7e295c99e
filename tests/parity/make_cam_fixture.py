"""Make tests/parity/fixtures/cam_gradcam.npz: our networks' maps as the grad-cam library computes them.

Run from the repository root with a reference environment that holds grad-cam (pytorch_grad_cam;
it imports torchvision, cv2 and ttach, which the app cannot have beside its own torch)::

    python3.11 -m venv /work/refvenv-gc
    /work/refvenv-gc/bin/pip install -r tests/parity/requirements-cam-reference.txt
    /work/refvenv-gc/bin/python -m tests.parity.make_cam_fixture      # from the repository root

The networks are ours (vision_core), so both sides run the very same module code; only the CAM
maths differs: here pytorch_grad_cam's GradCAM, GradCAMPlusPlus and HiResCAM with forward hooks
on the target layer (ViTs through the ``reshape_transform`` of grad-cam's ViT tutorial), there
:mod:`vision_core.why.cam` with its recorder.  Cases:

* EfficientNet-Lite0 with its embedded trained weights on two sample photos, top class, layer
  ``relu_head`` (the grid GAP squeezes);
* the tiny ViT trained on digits (embedded in vision_core) on a held-out digit, its true class,
  layer ``blocks.2.norm1``;
* DINO ViT-S/16 with seeded weights (tests/parity/seeded.py, our keys), no head: the target is
  the cosine similarity of the photo's features to a second photo's, layer ``blocks.11.norm1``.

For each case and method the fixture keeps the library's map before ReLU and scaling (``raw``,
from ``get_cam_image``) and what it returns (the input's size; every 4th row and column kept, as
``map_every4``), plus the input's fingerprint and the target.  The .npz is written with
make_fixtures.save_npz (byte-identical reruns).
"""

from __future__ import annotations

import json
import os
import warnings
from importlib import metadata

import numpy as np
import torch
from pytorch_grad_cam import GradCAM, GradCAMPlusPlus, HiResCAM
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

from tests.parity.make_fixtures import save_npz
from tests.parity.seeded import seeded_state_dict, to_torch
from vision_core.engine import encoders
from vision_core.samples import load_sample
from vision_core.training.data import load_dataset, to_input

warnings.filterwarnings("ignore")
FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "cam_gradcam.npz")
LIBRARY = {"gradcam": GradCAM, "gradcampp": GradCAMPlusPlus, "hirescam": HiResCAM}


class CosineTo:
    """A target for an encoder with no head: cosine similarity of the output to a reference vector."""

    def __init__(self, reference: torch.Tensor):
        self.reference = reference

    def __call__(self, output: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.cosine_similarity(output.reshape(1, -1), self.reference.reshape(1, -1))[0]


def vit_reshape(grid: tuple[int, int]):
    """grad-cam's ViT reshape_transform: drop CLS, lay the patch tokens on the grid, channels first."""

    def reshape(tensor: torch.Tensor) -> torch.Tensor:
        result = tensor[:, 1:, :].reshape(tensor.size(0), grid[0], grid[1], tensor.size(2))
        return result.transpose(2, 3).transpose(1, 2)

    return reshape


def library_maps(model, layer, x, target, reshape=None) -> dict[str, np.ndarray]:
    out = {}
    for method, cls in LIBRARY.items():
        with keeping(cls)(model=model, target_layers=[layer], reshape_transform=reshape) as cam:
            returned = np.asarray(cam(input_tensor=x, targets=[target]), dtype=np.float32)[0]
            out[f"{method}_map_every4"] = returned[::4, ::4]  # every 4th row and column: a smaller file
            out[f"{method}_raw"] = cam.raw[0]
    return out


def keeping(cls):
    """The library's CAM class, keeping get_cam_image's map (before ReLU and scaling) as ``raw``."""

    class Keeping(cls):
        def get_cam_image(self, *args, **kwargs):
            cam = super().get_cam_image(*args, **kwargs)
            self.raw = np.asarray(cam, dtype=np.float32)
            return cam

    return Keeping


def main() -> None:
    torch.set_num_threads(2)
    arrays: dict[str, np.ndarray] = {}
    cases: dict[str, dict] = {}

    lite0 = encoders.load_model("efficientnet_lite0", allow_download=False)
    for sample in ("chelsea", "coffee"):
        x = encoders.preprocess(load_sample(sample), "efficientnet_lite0")
        with torch.no_grad():
            index = int(lite0(x)[0].argmax())
        name = f"lite0_{sample}"
        cases[name] = {"encoder": "efficientnet_lite0", "photo": sample, "layer": "relu_head", "class": index}
        arrays[f"{name}_input_sum"] = np.float64(x.double().sum())
        for k, v in library_maps(lite0, lite0.relu_head, x, ClassifierOutputTarget(index)).items():
            arrays[f"{name}_{k}"] = v

    tiny = encoders.load_model("tiny_vit_digits", allow_download=False)
    data = load_dataset("digits")
    item = int(data.test[0])
    x = to_input(data.images[item])
    label = int(data.labels[item])
    cases["tiny_digit"] = {
        "encoder": "tiny_vit_digits",
        "digit_item": item,
        "layer": "blocks.2.norm1",
        "class": label,
    }
    arrays["tiny_digit_input_sum"] = np.float64(x.double().sum())
    reshape = vit_reshape((8, 8))
    for k, v in library_maps(tiny, tiny.blocks[2].norm1, x, ClassifierOutputTarget(label), reshape).items():
        arrays[f"tiny_digit_{k}"] = v

    dino = encoders.build_model("dino_vits16")
    shapes = {k: tuple(v.shape) for k, v in dino.state_dict().items()}
    dino.load_state_dict(to_torch(seeded_state_dict(shapes, seed=0)), strict=True)
    dino.eval()
    x = encoders.preprocess(load_sample("chelsea"), "dino_vits16")
    with torch.no_grad():
        reference = dino(encoders.preprocess(load_sample("coffee"), "dino_vits16"))[0]
    cases["dino_seeded"] = {
        "encoder": "dino_vits16",
        "weights": "seeded_state_dict(our keys, seed=0)",
        "photo": "chelsea",
        "reference_photo": "coffee",
        "layer": "blocks.11.norm1",
        "target": "cosine similarity to the reference photo's features",
    }
    arrays["dino_seeded_input_sum"] = np.float64(x.double().sum())
    arrays["dino_seeded_reference"] = reference.numpy().astype(np.float32)
    reshape = vit_reshape((14, 14))
    for k, v in library_maps(dino, dino.blocks[11].norm1, x, CosineTo(reference), reshape).items():
        arrays[f"dino_seeded_{k}"] = v

    versions = {lib: metadata.version(lib) for lib in ("torch", "grad-cam", "numpy", "pillow")}
    arrays["cases"] = np.array(json.dumps({"cases": cases, "versions": versions}, sort_keys=True))
    save_npz(FIXTURE, arrays)
    print(f"wrote {FIXTURE}: {len(arrays)} arrays")
    for name, case in cases.items():
        print(name, case)


if __name__ == "__main__":
    main()
