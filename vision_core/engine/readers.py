"""Reading weights files into ``{key: tensor}`` without ever running code from the file.

Two readers:

* :func:`read_pickled_state_dict` for ordinary ``torch.save`` checkpoints (torchvision, DINO,
  DeiT, the EfficientNet-Lite0 package).  It is ``torch.load(..., weights_only=True)``: torch's
  own restricted unpickler, which rebuilds tensors and plain containers and refuses every other
  global, so a file that smuggles in ``os.system`` or a class instance is rejected.
* :func:`read_torchscript_tensors` for OpenAI CLIP's ``.pt`` files, which are TorchScript
  archives (``torch.jit.save``, zip layout of PyTorch 1.4 onwards: any root folder name, any
  ``version``, with or without the ``byteorder`` and ``.data/`` records newer torch adds, storages
  of any dtype saved from CPU or GPU, stored or deflated entries; tests/test_torchscript_reader.py
  builds each of these).  ``torch.load(weights_only=True)`` refuses those outright, and ``torch.jit.load``
  compiles the archive's ``code/`` directory and runs its ``__setstate__`` methods -- that is
  executing code from the file, which we never do.  No public torch API reads the tensors of a
  TorchScript archive without compiling it, so this module does it by hand: the archive is a zip;
  ``data.pkl`` is a pickle of the module tree whose tensors point (via pickle "persistent ids")
  at raw little-endian byte blobs in ``data/<key>``.  A restricted :class:`pickle.Unpickler`
  resolves only a short allow-list of globals (tensor rebuilding, storage dtypes, the list
  helpers of ``torch.jit._pickle``, ``OrderedDict``) -- each mapped to a function of ours, not
  torch's -- and turns every ``__torch__.*`` TorchScript class into an inert record of its
  attributes.  Nothing else can be named, so nothing else can be called.
"""

from __future__ import annotations

import io
import pickle
import zipfile
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path

import torch

__all__ = ["CheckpointError", "read_pickled_state_dict", "read_torchscript_tensors"]


class CheckpointError(ValueError):
    """A weights file that is not a plain collection of tensors, or that we refuse to read."""


# ---------------------------------------------------------------------------------- pickled


def read_pickled_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """The tensors of a ``torch.save`` file, unwrapped from ``{"model": ...}`` (DeiT) and similar."""
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise CheckpointError(
            f"Refused to read {path}: it contains Python objects other than tensors, which could run "
            f"code when loaded.  It is not an official weights file.  (torch said: {_first_line(exc)})"
        ) from exc
    except RuntimeError as exc:  # e.g. a TorchScript archive, or a truncated zip
        raise CheckpointError(f"Could not read {path} as a PyTorch checkpoint: {_first_line(exc)}") from exc
    for wrapper in ("model", "state_dict"):  # DeiT saves {"model": sd}; others {"state_dict": sd}
        if isinstance(obj, Mapping) and isinstance(obj.get(wrapper), Mapping):
            obj = obj[wrapper]
            break
    if not isinstance(obj, Mapping):
        raise CheckpointError(f"{path} holds a {type(obj).__name__}, not a dictionary of tensors.")
    bad = [k for k, v in obj.items() if not (isinstance(k, str) and isinstance(v, torch.Tensor))]
    if bad:
        raise CheckpointError(f"{path} is not a plain state dict: entries {bad[:5]} are not tensors.")
    return dict(obj)


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


# ------------------------------------------------------------------------------ TorchScript

# Storage type names as they appear in archives (``torch.FloatStorage`` ...) -> dtype.
_STORAGE_DTYPES = {
    "DoubleStorage": torch.float64,
    "FloatStorage": torch.float32,
    "HalfStorage": torch.float16,
    "BFloat16Storage": torch.bfloat16,
    "LongStorage": torch.int64,
    "IntStorage": torch.int32,
    "ShortStorage": torch.int16,
    "CharStorage": torch.int8,
    "ByteStorage": torch.uint8,
    "BoolStorage": torch.bool,
}


class _StorageType:
    """What ``torch.FloatStorage`` & co. unpickle to: just a dtype."""

    __slots__ = ("dtype",)

    def __init__(self, dtype: torch.dtype) -> None:
        self.dtype = dtype


class _StorageRef:
    """A storage named by a persistent id; its bytes are read only if a wanted tensor uses it."""

    __slots__ = ("dtype", "key", "numel")

    def __init__(self, key: str, dtype: torch.dtype, numel: int) -> None:
        self.key, self.dtype, self.numel = key, dtype, numel


class _TensorRef:
    """A tensor described by the pickle, materialised later from its storage."""

    __slots__ = ("offset", "size", "storage", "stride")

    def __init__(self, storage: _StorageRef, offset: int, size: tuple, stride: tuple) -> None:
        self.storage, self.offset, self.size, self.stride = storage, offset, size, stride


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False, hooks=None, metadata=None):
    """Our stand-in for ``torch._utils._rebuild_tensor_v2``: records, never calls into torch."""
    ints = (storage_offset, *size, *stride)
    if not isinstance(storage, _StorageRef) or not all(type(i) is int and i >= 0 for i in ints):
        raise pickle.UnpicklingError("malformed tensor record in TorchScript archive")
    if len(size) != len(stride):
        raise pickle.UnpicklingError("tensor size and stride disagree in TorchScript archive")
    return _TensorRef(storage, storage_offset, tuple(size), tuple(stride))


def _identity(value, *_type_tag):
    """``torch.jit._pickle.build_intlist`` & co. and ``restore_type_tag`` all return their value."""
    return value


def _tensor_from_id(data):
    """``torch.jit._pickle.build_tensor_from_id``: an id we cannot resolve, so no tensor."""
    return data if isinstance(data, int) else None


class _ScriptObject:
    """Inert stand-in for a ``__torch__.*`` TorchScript class: it only remembers its state."""

    _qualified_name = "__torch__"

    def __setstate__(self, state) -> None:  # pickle's BUILD opcode
        object.__setattr__(self, "_state", state)

    def __repr__(self) -> str:
        return f"<TorchScript object {self._qualified_name}>"


_SAFE_GLOBALS = {
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
    ("collections", "OrderedDict"): OrderedDict,
    **{("torch.jit._pickle", n): _identity for n in ("build_intlist", "build_tensorlist")},
    **{("torch.jit._pickle", n): _identity for n in ("build_doublelist", "build_boollist")},
    ("torch.jit._pickle", "restore_type_tag"): _identity,
    ("torch.jit._pickle", "build_tensor_from_id"): _tensor_from_id,
}


class _ArchiveUnpickler(pickle.Unpickler):
    """Resolves only the allow-list above; storages come from the archive's ``data/`` entries."""

    def __init__(self, file, archive: zipfile.ZipFile, prefix: str) -> None:
        super().__init__(file)
        self._archive, self._prefix = archive, prefix
        self._classes: dict[str, type] = {}

    def find_class(self, module: str, name: str):
        if (module, name) in _SAFE_GLOBALS:
            return _SAFE_GLOBALS[module, name]
        if module in ("torch", "torch.cuda") and name in _STORAGE_DTYPES:  # torch.cuda: GPU-saved
            return _StorageType(_STORAGE_DTYPES[name])
        if module == "__torch__" or module.startswith("__torch__."):
            qualified = f"{module}.{name}"  # a TorchScript class: an inert placeholder
            if qualified not in self._classes:
                self._classes[qualified] = type(name, (_ScriptObject,), {"_qualified_name": qualified})
            return self._classes[qualified]
        raise pickle.UnpicklingError(f"refusing to load global {module}.{name} from a TorchScript archive")

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"):
            raise pickle.UnpicklingError(f"unsupported persistent id {pid!r:.60}")
        _, storage_type, key, _location, numel = pid
        if not isinstance(storage_type, _StorageType) or not isinstance(key, str) or type(numel) is not int:
            raise pickle.UnpicklingError("malformed storage record in TorchScript archive")
        return _StorageRef(key, storage_type.dtype, numel)


def _record_prefix(archive: zipfile.ZipFile) -> str:
    """The archive's top directory (``RN50/``, ``archive/`` ...), the one holding ``data.pkl``."""
    names = archive.namelist()
    for name in names:
        head, _, tail = name.partition("/")
        if tail == "data.pkl":
            return head + "/"
    if any(name.partition("/")[2] == "model.json" for name in names):
        raise CheckpointError(
            "a TorchScript archive in the format of PyTorch 1.3 and older (model.json), which we do not read"
        )
    raise CheckpointError("not a TorchScript archive: no data.pkl at its top level")


def _collect(obj, path: str, out: dict[str, _TensorRef], seen: set[int]) -> None:
    """Tensors reachable through attributes (TorchScript objects) or string keys (dicts)."""
    if isinstance(obj, _TensorRef):
        out[path] = obj
        return
    if isinstance(obj, _ScriptObject):
        obj = getattr(obj, "_state", None)
    if not isinstance(obj, Mapping) or id(obj) in seen:
        return
    seen.add(id(obj))
    for key, value in obj.items():
        if isinstance(key, str):
            _collect(value, f"{path}.{key}" if path else key, out, seen)
    seen.discard(id(obj))


def _materialise(ref: _TensorRef, archive: zipfile.ZipFile, prefix: str, cache: dict) -> torch.Tensor:
    storage = ref.storage
    if storage.key not in cache:
        info = archive.getinfo(f"{prefix}data/{storage.key}")
        expected = storage.numel * torch.empty((), dtype=storage.dtype).element_size()
        if info.file_size != expected:
            raise CheckpointError(f"storage {storage.key} has {info.file_size} bytes, expected {expected}")
        buffer = bytearray(info.file_size)
        with archive.open(info) as f:
            assert isinstance(f, io.BufferedIOBase)  # a ZipExtFile: read straight into the buffer
            f.readinto(buffer)
        raw = torch.frombuffer(buffer, dtype=torch.uint8) if buffer else torch.empty(0, dtype=torch.uint8)
        cache[storage.key] = raw.untyped_storage()
    tensor = torch.empty((0,), dtype=storage.dtype)
    try:  # set_ checks that size/stride/offset stay inside the storage
        return tensor.set_(cache[storage.key], ref.offset, ref.size, ref.stride)
    except RuntimeError as exc:
        raise CheckpointError(f"tensor record points outside its storage: {_first_line(exc)}") from exc


def read_torchscript_tensors(path: str | Path, prefix: str = "") -> dict[str, torch.Tensor]:
    """Tensors of a TorchScript archive by attribute path, e.g. ``visual.conv1.weight``.

    Only keys starting with ``prefix`` are returned, with the prefix removed, and only their
    storages are read (CLIP's text encoder is never loaded when ``prefix="visual."``).  For a
    saved ``ScriptModule`` the result equals ``module.state_dict()`` (restricted to the prefix);
    dtypes are kept as stored (OpenAI CLIP stores float16).
    """
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise CheckpointError(f"{path} is not a TorchScript archive (not a zip file)") from exc
    with archive:
        record = _record_prefix(archive)
        names = set(archive.namelist())
        if f"{record}byteorder" in names and archive.read(f"{record}byteorder").strip() != b"little":
            raise CheckpointError(f"{path} was saved on a big-endian machine; we read only little-endian")
        with archive.open(f"{record}data.pkl") as f:
            try:
                root = _ArchiveUnpickler(f, archive, record).load()
            except (pickle.UnpicklingError, EOFError, TypeError, AttributeError, ValueError) as exc:
                raise CheckpointError(f"Refused to read {path}: {_first_line(exc)}") from exc
        refs: dict[str, _TensorRef] = {}
        try:
            _collect(root, "", refs, set())
        except RecursionError as exc:
            raise CheckpointError(f"Refused to read {path}: its object tree is absurdly deep") from exc
        cache: dict = {}
        return {
            key[len(prefix) :]: _materialise(ref, archive, record, cache)
            for key, ref in refs.items()
            if key.startswith(prefix)
        }
