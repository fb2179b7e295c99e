"""Regenerate the parity fixtures in tests/parity/fixtures/ from the reference libraries.

Run from the repository root with the *reference* environment (see requirements-reference.txt):

    /work/refvenv/bin/python tests/parity/make_fixtures.py

It builds each reference model (torchvision / timm / open_clip) with random init, overwrites every
weight with the seeded recipe of ``tests/parity/seeded.py`` (so our own models can regenerate the
very same weights from the key names alone), runs a seeded input through and stores the outputs,
plus preprocessing fixtures on photos that ship inside installed packages.  Nothing is downloaded.

The .npz files are written with fixed zip timestamps, so a rerun is byte-identical.
"""

from __future__ import annotations

import hashlib
import inspect
import io
import json
import os
import sys
import warnings
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
for p in (HERE, ROOT):
    if p not in sys.path:
        sys.path.insert(0, p)

import numpy as np
import torch
from seeded import fingerprint, seeded_input, seeded_state_dict, to_torch

FIXTURES = os.path.join(HERE, "fixtures")
INPUT_SEED = 0
WEIGHT_SEED = 0
SAMPLE_N = 4096
SAMPLE_SEED = 123

warnings.filterwarnings("ignore")


# --------------------------------------------------------------------------------------- helpers
def save_npz(path: str, arrays: dict) -> None:
    """Like np.savez_compressed, but with a fixed zip timestamp so reruns are byte-identical.

    Entries are bzip2-compressed (about 20% smaller than deflate on the photo crops); np.load reads
    them transparently through the standard-library zipfile/bz2 modules.
    """
    tmp = path + ".tmp"
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_BZIP2) as zf:
        for name, value in arrays.items():
            arr = np.asanyarray(value)
            buf = io.BytesIO()
            np.lib.format.write_array(buf, arr, allow_pickle=False)
            info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_BZIP2
            info.external_attr = 0o644 << 16
            zf.writestr(info, buf.getvalue(), compresslevel=9)
    os.replace(tmp, path)


def np32(t: torch.Tensor) -> np.ndarray:
    return t.detach().to(torch.float32).cpu().numpy().astype(np.float32)


def check_finite(name: str, arrays: dict, notes: list) -> None:
    for k, v in arrays.items():
        v = np.asarray(v)
        if v.dtype.kind != "f":
            continue
        if not np.all(np.isfinite(v)):
            notes.append(f"{name}.{k}: contains inf/NaN")
        elif v.size and float(np.abs(v).max()) > 1e6:
            notes.append(f"{name}.{k}: absurdly large (max abs {float(np.abs(v).max()):.3g})")


def seed_model(model: torch.nn.Module):
    """Overwrite every state-dict entry with the seeded recipe; return the numpy dict."""
    sd = model.state_dict()
    shapes = {k: tuple(v.shape) for k, v in sd.items()}
    seeded = seeded_state_dict(shapes, seed=WEIGHT_SEED)
    tsd = to_torch(seeded)
    for k, v in sd.items():  # keep the reference dtype (num_batches_tracked is int64)
        if tsd[k].dtype != v.dtype:
            tsd[k] = tsd[k].to(v.dtype)
    model.load_state_dict(tsd, strict=True)
    model.eval()
    return seeded, shapes


def input_tensor(shape):
    x = seeded_input(shape, INPUT_SEED)
    info = {
        "input_shape": np.asarray(shape, dtype=np.int64),
        "input_seed": np.asarray(INPUT_SEED, dtype=np.int64),
        "input_fingerprint": np.concatenate(
            [[np.asarray(x, dtype=np.float64).sum()], x.reshape(-1)[:16].astype(np.float64)]
        ),
    }
    return torch.from_numpy(x), info


def model_fixture(name, model, shape, run, manifest, notes, description, extra_manifest=None):
    """Seed ``model``, run ``run(model, x) -> dict`` (must contain 'output') and save."""
    seeded, shapes = seed_model(model)
    x, info = input_tensor(shape)
    with torch.no_grad():
        outs = run(model, x)
    outs = {k: np32(v) for k, v in outs.items()}
    scale = float(np.abs(outs["output"]).max())
    arrays = {
        "keys": np.asarray(list(shapes.keys()), dtype=str),
        "shapes": np.asarray(json.dumps({k: list(s) for k, s in shapes.items()})),
        "weight_fingerprint": np.asarray(json.dumps(fingerprint(seeded))),
        **info,
        **outs,
        "scale": np.asarray(scale, dtype=np.float64),
    }
    check_finite(name, outs, notes)
    path = os.path.join(FIXTURES, f"model_{name}.npz")
    save_npz(path, arrays)
    entry = {
        "file": os.path.basename(path),
        "description": description,
        "num_keys": len(shapes),
        "num_params": int(sum(int(np.prod(s)) for s in shapes.values())),
        "input_shape": list(shape),
        "input_seed": INPUT_SEED,
        "weight_seed": WEIGHT_SEED,
        "arrays": {k: list(np.asarray(v).shape) for k, v in arrays.items()},
        "output_scale": scale,
        "tolerance_hint": "max abs diff <= 1e-4 * scale",
    }
    if extra_manifest:
        entry.update(extra_manifest)
    manifest["models"][name] = entry
    print(f"  {name}: output {outs['output'].shape} scale {scale:.4g}", flush=True)
    return model


def src_file(module) -> str:
    path = inspect.getsourcefile(module)
    site = path.split("site-packages" + os.sep, 1)
    return site[1] if len(site) == 2 else path


# ---------------------------------------------------------------------------------------- models
def make_models(manifest, notes):
    import open_clip
    import timm
    from torchvision.models import resnet18, resnet50, vit_b_16

    print("models:", flush=True)

    def logits(m, x):
        return {"output": m(x)}

    torch.manual_seed(0)
    model_fixture(
        "resnet18",
        resnet18(weights=None),
        (2, 3, 160, 192),
        logits,
        manifest,
        notes,
        "torchvision resnet18(weights=None); output = logits",
    )

    def resnet50_run(m, x):
        feats = {}
        hooks = [
            getattr(m, f"layer{i}").register_forward_hook(
                lambda mod, inp, out, i=i: feats.__setitem__(f"layer{i}_mean", out.mean(dim=(2, 3)))
            )
            for i in range(1, 5)
        ]
        out = m(x)
        for h in hooks:
            h.remove()
        return {"output": out, **feats}

    model_fixture(
        "resnet50",
        resnet50(weights=None),
        (1, 3, 224, 224),
        resnet50_run,
        manifest,
        notes,
        "torchvision resnet50(weights=None); output = logits; layerN_mean = mean over H,W "
        "of layer1..layer4 outputs, shape (1, C)",
    )

    # ---- torchvision ViT-B/16 and its MLP key names
    import torchvision.models.vision_transformer as tvvit

    vit = vit_b_16(weights=None)
    vkeys = list(vit.state_dict().keys())
    src = inspect.getsource(tvvit.MLPBlock)
    vit_findings = {
        "state_dict_uses": (
            "mlp.0/mlp.3"
            if any(".mlp.0.weight" in k for k in vkeys)
            else "mlp.linear_1/linear_2"
            if any("linear_1" in k for k in vkeys)
            else "unknown"
        ),
        "example_keys": [k for k in vkeys if k.startswith("encoder.layers.encoder_layer_0.mlp")],
        "MLPBlock_version": getattr(tvvit.MLPBlock, "_version", None),
        "has_legacy_load_hook": "_load_from_state_dict" in tvvit.MLPBlock.__dict__ and "linear_" in src,
        "load_hook": (
            "MLPBlock._load_from_state_dict (MLPBlock._version = 2): if the checkpoint's "
            "local_metadata version is None or < 2, renames {prefix}linear_1.{weight,bias} -> "
            "{prefix}0.* and linear_2.* -> {prefix}3.* before loading (pytorch/vision PR 6053). "
            "So vit_b_16-c867db91.pth (old names) loads through this hook; our loader must "
            "accept both spellings."
        ),
        "source": src_file(tvvit),
    }
    model_fixture(
        "vit_b_16",
        vit,
        (1, 3, 224, 224),
        logits,
        manifest,
        notes,
        "torchvision vit_b_16(weights=None); output = logits",
        {"mlp_key_names": vit_findings},
    )
    manifest["findings"]["torchvision_vit_mlp_keys"] = vit_findings

    # ---- timm
    def unfuse(m):
        n = 0
        for blk in m.blocks:
            blk.attn.fused_attn = False
            n += 1
        return n

    def timm_run(with_attn, pre_logits):
        def run(m, x):
            probs = []
            hooks = []
            if with_attn:
                for blk in m.blocks:
                    hooks.append(
                        blk.attn.attn_drop.register_forward_hook(
                            lambda mod, inp, out: probs.append(inp[0][:, :, 0, :])
                        )
                    )
            feats = m.forward_features(x)
            out = m.forward_head(feats)
            res = {"output": out}
            for h in hooks:
                h.remove()
            if with_attn:
                res["attn_cls"] = torch.stack([p[0] for p in probs], 0)  # (blocks, heads, tokens)
            if pre_logits:
                res["pre_logits"] = m.forward_head(feats, pre_logits=True)
            return res

        return run

    def fused_diff(m, x_shape, out):
        """Max abs diff between the math path used for the fixture and timm's default fused SDPA."""
        x, _ = input_tensor(x_shape)
        for blk in m.blocks:
            blk.attn.fused_attn = True
        with torch.no_grad():
            y = m(x)
        for blk in m.blocks:
            blk.attn.fused_attn = False
        return float((y - out).abs().max())

    timm_note = (
        "fused attention disabled on every block (blk.attn.fused_attn = False), so the "
        "fixture uses the explicit softmax path; output = model(x)"
    )

    m = timm.create_model("deit_tiny_patch16_224", pretrained=False)
    unfuse(m)
    model_fixture(
        "deit_tiny",
        m,
        (1, 3, 224, 224),
        timm_run(True, True),
        manifest,
        notes,
        "timm deit_tiny_patch16_224(pretrained=False); output = logits; attn_cls = "
        "softmax probs[0, :, 0, :] per block (blocks, heads, 197) from a hook on "
        "blocks[i].attn.attn_drop; pre_logits = forward_head(pre_logits=True) "
        "(CLS token after final norm). " + timm_note,
    )
    deit_keys = list(m.state_dict().keys())
    with torch.no_grad():
        x, _ = input_tensor((1, 3, 224, 224))
        manifest["models"]["deit_tiny"]["fused_vs_math_max_abs_diff"] = fused_diff(m, (1, 3, 224, 224), m(x))

    m = timm.create_model("deit_tiny_patch16_224", pretrained=False, dynamic_img_size=True)
    unfuse(m)
    assert list(m.state_dict().keys()) == deit_keys
    model_fixture(
        "deit_tiny_dynamic",
        m,
        (1, 3, 240, 320),
        timm_run(False, False),
        manifest,
        notes,
        "timm deit_tiny_patch16_224(pretrained=False, dynamic_img_size=True), same keys and "
        "seeded weights as deit_tiny; 240x320 input -> 15x20 patch grid, pos_embed resampled "
        "from 14x14 at run time; output = logits. " + timm_note,
    )

    import timm.layers.pos_embed as tpe

    sig = inspect.signature(tpe.resample_abs_pos_embed)
    pe = m.pos_embed.detach()[:, 1:].reshape(1, 14, 14, -1).permute(0, 3, 1, 2).float()
    up_aa = torch.nn.functional.interpolate(
        pe, size=(15, 20), mode="bicubic", align_corners=None, antialias=True
    )
    up_plain = torch.nn.functional.interpolate(
        pe, size=(15, 20), mode="bicubic", align_corners=None, antialias=False
    )
    manifest["findings"]["timm_pos_embed_resampling"] = {
        "called_from": "VisionTransformer._pos_embed when dynamic_img_size=True (every forward), "
        "resample_abs_pos_embed(self.pos_embed, new_size=(H, W), old_size=patch_embed.grid_size, "
        "num_prefix_tokens=0 if no_embed_class else num_prefix_tokens)",
        "function": "timm.layers.pos_embed.resample_abs_pos_embed",
        "source": src_file(tpe),
        "defaults": {
            k: (v.default if v.default is not inspect.Parameter.empty else None)
            for k, v in sig.parameters.items()
            if k in ("interpolation", "antialias", "align_corners", "num_prefix_tokens")
        },
        "steps": "split off the prefix (CLS) tokens unchanged; grid tokens -> float32, reshape "
        "(1, old_h, old_w, C) -> permute to (1, C, old_h, old_w); "
        "F.interpolate(size=(new_h, new_w), mode='bicubic', align_corners=None (i.e. False), "
        "antialias=True); permute back, reshape (1, new_h*new_w, C); cast to original dtype; "
        "concat prefix tokens in front. Early-out (no resampling) when the token count "
        "matches and sizes are equal.",
        "note_antialias": "antialias=True selects PyTorch's PIL-style bicubic (a=-0.5) kernel even "
        "when UPsampling, so it differs from antialias=False (a=-0.75); max abs diff "
        f"on the seeded 14x14->15x20 deit pos_embed: {float((up_aa - up_plain).abs().max()):.4g}",
    }

    m = timm.create_model("vit_small_patch16_224", pretrained=False, num_classes=0)
    unfuse(m)
    model_fixture(
        "dino_vits16",
        m,
        (1, 3, 224, 224),
        timm_run(True, False),
        manifest,
        notes,
        "timm vit_small_patch16_224(pretrained=False, num_classes=0) = DINO ViT-S/16 backbone "
        "format (official DINO keys = these, no head.*); output = CLS feature (384) after "
        "final norm; attn_cls as for deit_tiny. " + timm_note,
    )

    m = timm.create_model(
        "vit_small_patch8_224", pretrained=False, num_classes=0, img_size=224, dynamic_img_size=True
    )
    unfuse(m)
    model_fixture(
        "dino_vits8",
        m,
        (1, 3, 112, 112),
        timm_run(False, False),
        manifest,
        notes,
        "timm vit_small_patch8_224(pretrained=False, num_classes=0, img_size=224, "
        "dynamic_img_size=True): keys and pos_embed (1, 785, 384) equal the official 224 "
        "checkpoint; 112x112 input -> 14x14 grid, pos_embed DOWNsampled 28x28 -> 14x14 "
        "(bicubic, antialias=True); output = CLS feature (384). " + timm_note,
    )

    # ---- open_clip
    from open_clip.model import build_model_from_openai_state_dict

    def clip_key_check(name, clip):
        full = clip.state_dict()
        visual_keys = list(clip.visual.state_dict().keys())
        prefixed = [k[len("visual.") :] for k in full if k.startswith("visual.")]
        # Round trip through open_clip's OpenAI loader: it builds a CLIP from an OpenAI-format state
        # dict (top-level text keys, visual.* keys) and load_state_dict()s it strictly.
        sd = {k: v.clone() for k, v in full.items()}
        try:
            rebuilt = build_model_from_openai_state_dict(sd, cast_dtype=torch.float32)
            loads = True
            same = list(rebuilt.state_dict().keys()) == list(full.keys())
        except Exception as e:  # pragma: no cover - reported in the manifest
            loads, same = f"failed: {e}", False
        return {
            "visual_keys_equal_full_model_visual_prefix": visual_keys == prefixed,
            "openai_loader_roundtrip_strict_load": loads,
            "openai_loader_model_has_same_keys": same,
            "num_visual_keys": len(visual_keys),
            "num_batches_tracked_keys": sum(k.endswith("num_batches_tracked") for k in visual_keys),
        }

    clip_findings = {
        "openai_code_path": (
            "open_clip.openai.load_openai_model -> build_model_from_openai_state_dict(state_dict or "
            "jit_model.state_dict()) -> CLIP(...) -> convert_weights_to_fp16 -> "
            "model.load_state_dict(state_dict) (strict, default). pretrained='openai' via "
            "create_model goes through factory.load_checkpoint: load_state_dict() (JIT archive -> "
            ".state_dict(), drops input_resolution/context_length/vocab_size; strips 'module.'), "
            "convert_state_dict (only MobileCLIP remaps), resize_pos_embed (no-op at the native "
            "size), then model.load_state_dict(strict=True). No key renaming for visual.* anywhere, "
            "and open_clip registers no _load_from_state_dict/load hooks: OpenAI 'visual.X' == "
            "open_clip model.visual 'X'."
        ),
        "batchnorm_note": (
            "ModifiedResNet BatchNorms have num_batches_tracked buffers; if a (plain dict) "
            "checkpoint lacks them, torch's _NormBase._load_from_state_dict fills them in (version "
            "metadata None), so our loader should tolerate their absence."
        ),
    }

    def clip_run_rn50(visual, x):
        return {"output": visual(x)}

    def clip_run_vit(visual, x):
        out = visual(x)
        pooled, _ = visual._pool(visual.transformer(visual._embeds(x)))
        assert torch.allclose(pooled @ visual.proj, out, atol=1e-5, rtol=0)
        return {"output": out, "pre_proj": pooled}

    for name, arch, run, desc in [
        (
            "clip_rn50",
            "RN50",
            clip_run_rn50,
            "open_clip create_model('RN50', pretrained=None, force_quick_gelu=True).visual "
            "(ModifiedResNet); output = image embedding (1024). Attention-pool output before c_proj "
            "not stored: c_proj is the out_proj inside F.multi_head_attention_forward.",
        ),
        (
            "clip_vit_b32",
            "ViT-B-32",
            clip_run_vit,
            "open_clip create_model('ViT-B-32', pretrained=None, force_quick_gelu=True).visual; "
            "output = image embedding (512); pre_proj = CLS token after ln_post, before @ proj (768).",
        ),
    ]:
        torch.manual_seed(0)
        clip = open_clip.create_model(arch, pretrained=None, force_quick_gelu=True)
        clip.eval()
        clip_findings[name] = clip_key_check(name, clip)
        model_fixture(name, clip.visual, (1, 3, 224, 224), run, manifest, notes, desc)
        del clip
    manifest["findings"]["open_clip_openai_keys"] = clip_findings


# -------------------------------------------------------------------------------- preprocessing
def photo_paths():
    import matplotlib.cbook
    import skimage.data
    import sklearn.datasets

    skd = os.path.dirname(skimage.data.__file__)
    skl = os.path.join(os.path.dirname(sklearn.datasets.__file__), "images")
    return {
        "chelsea": (os.path.join(skd, "chelsea.png"), "skimage/data/chelsea.png"),
        "china": (os.path.join(skl, "china.jpg"), "sklearn/datasets/images/china.jpg"),
        "grace_hopper": (
            str(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)),
            "matplotlib/mpl-data/sample_data/grace_hopper.jpg",
        ),
        "camera": (os.path.join(skd, "camera.png"), "skimage/data/camera.png"),
    }


def interp_name(mode) -> str:
    return getattr(mode, "value", str(mode))


def tv_preset_pipeline(preset):
    """Split torchvision's ImageClassification preset into (resize+crop on PIL, rest)."""
    import torchvision.transforms.functional as F

    def crop(img):
        img = F.resize(
            img, preset.resize_size, interpolation=preset.interpolation, antialias=preset.antialias
        )
        return F.center_crop(img, preset.crop_size)

    def rest(img):
        t = F.pil_to_tensor(img)
        t = F.convert_image_dtype(t, torch.float)
        return F.normalize(t, mean=preset.mean, std=preset.std)

    params = {
        "source": "torchvision.transforms._presets.ImageClassification.forward",
        "steps": "F.resize(img, resize_size, interpolation, antialias) [PIL: shorter side -> "
        "resize_size, long side int(long*size/short)] -> F.center_crop(crop_size) "
        "[top=int(round((h-ch)/2)), left=int(round((w-cw)/2))] -> pil_to_tensor -> "
        "convert_image_dtype(float) (/255) -> normalize(mean, std)",
        "resize_size": list(preset.resize_size),
        "crop_size": list(preset.crop_size),
        "interpolation": interp_name(preset.interpolation),
        "antialias": preset.antialias,
        "max_size": None,
        "mean": list(preset.mean),
        "std": list(preset.std),
    }
    return crop, rest, params


def compose_pipeline(compose, source):
    """Split a Compose at the first to-tensor step: before it = resize + crop on the PIL image."""
    import torchvision.transforms as T

    ts = list(compose.transforms)
    # resize + crop come first; everything from the first other step on runs after the crop
    cut = next(i for i, t in enumerate(ts) if not isinstance(t, (T.Resize, T.CenterCrop)))
    before, after = ts[:cut], ts[cut:]
    params = {"source": source, "steps": [repr(t).replace("\n", " ") for t in ts]}
    for t in before:
        if isinstance(t, T.Resize):
            params.update(
                resize_size=t.size,
                interpolation=interp_name(t.interpolation),
                antialias=t.antialias,
                max_size=t.max_size,
            )
        elif isinstance(t, T.CenterCrop):
            params["crop_size"] = list(t.size)
    for t in after:
        if isinstance(t, T.Normalize):
            params.update(mean=[float(v) for v in t.mean], std=[float(v) for v in t.std])
        elif type(t).__name__ not in ("MaybeToTensor", "ToTensor", "MaybeConvertMode"):
            raise RuntimeError(f"unexpected post-tensor transform {t!r}")

    def crop(img):
        for t in before:
            img = t(img)
        return img

    def rest(img):
        for t in after:
            img = t(img)
        return img

    return crop, rest, params


def make_preprocess(manifest, notes):
    import open_clip
    import timm
    from PIL import Image
    from timm.data import create_transform, resolve_data_config
    from torchvision.models import ResNet50_Weights, ViT_B_16_Weights

    print("preprocessing:", flush=True)
    configs = {}
    for name, w in [
        ("resnet_v1", ResNet50_Weights.IMAGENET1K_V1),
        ("resnet_v2", ResNet50_Weights.IMAGENET1K_V2),
        ("vit_b_16", ViT_B_16_Weights.IMAGENET1K_V1),
    ]:
        full = w.transforms()
        crop, rest, params = tv_preset_pipeline(full)
        params["weights"] = f"{type(w).__name__}.{w.name}.transforms()"
        configs[name] = (full, crop, rest, params)

    for name, arch in [("timm_deit", "deit_small_patch16_224"), ("timm_dino", "vit_small_patch16_224.dino")]:
        m = timm.create_model(arch, pretrained=False)
        cfg = resolve_data_config({}, model=m)
        full = create_transform(**cfg)
        crop, rest, params = compose_pipeline(
            full, f"timm resolve_data_config({{}}, model={arch}) + create_transform(**cfg)"
        )
        params["data_config"] = {k: (list(v) if isinstance(v, tuple) else v) for k, v in cfg.items()}
        params.update(
            mean=list(cfg["mean"]), std=list(cfg["std"])
        )  # exact config values (Normalize holds float32)
        params["scale_size_rule"] = "floor(img_size / crop_pct) = floor(224 / 0.9) = 248"
        configs[name] = (full, crop, rest, params)
        del m

    _, _, val = open_clip.create_model_and_transforms("ViT-B-32", pretrained=None, force_quick_gelu=True)
    crop, rest, params = compose_pipeline(
        val, "open_clip create_model_and_transforms('ViT-B-32', pretrained=None) val transform"
    )
    assert params["resize_size"] == 224 and params["interpolation"] == "bicubic"
    assert np.allclose(params["mean"], open_clip.OPENAI_DATASET_MEAN) and np.allclose(
        params["std"], open_clip.OPENAI_DATASET_STD
    )
    params["openai_mean_std"] = True
    configs["clip"] = (val, crop, rest, params)

    photos = photo_paths()
    manifest["photos"] = {}
    for pid, (path, rel) in photos.items():
        with open(path, "rb") as fh:
            data = fh.read()
        im = Image.open(path)
        manifest["photos"][pid] = {
            "package_path": rel,
            "sha256": hashlib.sha256(data).hexdigest(),
            "size_wh": list(im.size),
            "mode": im.mode,
            "open_as": 'PIL.Image.open(path).convert("RGB")',
        }

    for cname, (full, crop, rest, params) in configs.items():
        arrays = {}
        for pid, (path, _) in photos.items():
            img = Image.open(path).convert("RGB")
            cropped = crop(img)
            final = rest(cropped)
            ref = full(Image.open(path).convert("RGB"))
            if not torch.equal(final, ref):
                raise RuntimeError(f"{cname}/{pid}: split pipeline differs from the full transform")
            flat = final.numpy().reshape(-1)
            idx = np.random.default_rng(SAMPLE_SEED).integers(0, flat.size, size=SAMPLE_N)
            arrays[f"{pid}__cropped"] = np.asarray(cropped, dtype=np.uint8)
            arrays[f"{pid}__shape"] = np.asarray(final.shape, dtype=np.int64)
            arrays[f"{pid}__channel_mean"] = final.numpy().astype(np.float64).mean(axis=(1, 2))
            arrays[f"{pid}__sample_idx"] = idx.astype(np.int32)
            arrays[f"{pid}__sample"] = flat[idx].astype(np.float32)
            check_finite(f"preprocess_{cname}", {pid: flat}, notes)
        path = os.path.join(FIXTURES, f"preprocess_{cname}.npz")
        save_npz(path, arrays)
        manifest["preprocess"][cname] = {
            "file": os.path.basename(path),
            "params": params,
            "arrays_per_photo": {
                "P__cropped": "uint8 HxWx3 PIL image right after resize + centre crop",
                "P__shape": "shape of the final normalised tensor (C, H, W)",
                "P__channel_mean": "float64 per-channel mean of the final tensor",
                "P__sample_idx": f"np.random.default_rng({SAMPLE_SEED}).integers(0, numel, size={SAMPLE_N}) "
                "(fresh generator per photo, with replacement), flat indices stored as int32",
                "P__sample": "float32 final tensor .reshape(-1)[P__sample_idx]",
            },
            "photos": list(photos),
        }
        print(
            f"  {cname}: {params.get('resize_size')} {params.get('interpolation')} "
            f"crop {params.get('crop_size')}",
            flush=True,
        )


# ---------------------------------------------------------------------------------- class names
def write_class_names(manifest):
    from torchvision.models._meta import _IMAGENET_CATEGORIES as cats

    assert len(cats) == 1000
    out = os.path.join(ROOT, "vision_core", "data", "imagenet_classes.txt")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w", encoding="utf-8", newline="\n") as fh:
        fh.write("\n".join(cats) + "\n")
    dups = sorted({c for c in cats if cats.count(c) > 1})
    manifest["imagenet_classes"] = {
        "file": "vision_core/data/imagenet_classes.txt",
        "source": "torchvision.models._meta._IMAGENET_CATEGORIES",
        "count": len(cats),
        "duplicate_names": {c: [i for i, x in enumerate(cats) if x == c] for c in dups},
    }


# ----------------------------------------------------------------------------------------- main
def main():
    import open_clip
    import PIL
    import timm
    import torchvision

    torch.set_num_threads(2)
    torch.set_default_dtype(torch.float32)
    os.makedirs(FIXTURES, exist_ok=True)
    manifest = {
        "generator": "tests/parity/make_fixtures.py "
        "(run with the reference venv, see requirements-reference.txt)",
        "versions": {
            "python": sys.version.split()[0],
            "torch": torch.__version__,
            "torchvision": torchvision.__version__,
            "timm": timm.__version__,
            "open_clip": open_clip.__version__,
            "numpy": np.__version__,
            "pillow": PIL.__version__,
        },
        "conventions": {
            "weights": "seeded_state_dict({key: shape}, seed=0) from tests/parity/seeded.py, loaded strict",
            "input": "seeded_input(input_shape, seed=0), not stored; input_fingerprint = "
            "[float64 sum, first 16 values of the flattened input]",
            "torch": "float32, eval(), no_grad(), torch.set_num_threads(2)",
            "npz": "zip with bzip2-compressed .npy entries and fixed 1980-01-01 timestamps; "
            "load with np.load (no pickle needed)",
            "string_arrays": "keys = array of str; shapes and weight_fingerprint = "
            "0-d str arrays holding JSON",
        },
        "models": {},
        "preprocess": {},
        "findings": {},
        "notes": [],
    }
    notes = manifest["notes"]
    make_models(manifest, notes)
    make_preprocess(manifest, notes)
    write_class_names(manifest)
    with open(os.path.join(FIXTURES, "manifest.json"), "w", encoding="utf-8", newline="\n") as fh:
        json.dump(manifest, fh, indent=2, sort_keys=False)
        fh.write("\n")
    for n in notes:
        print("NOTE:", n)
    print("done:", FIXTURES)


if __name__ == "__main__":
    main()
