"""Trust on first use for weights files whose publisher gives no checksum (DINO).

Such a file cannot be checked against the publisher, so it is checked against what it must be:
a size close to the registry's, tensors only (read with the restricted readers, no code runs), and
exactly the keys and shapes of the architecture it is for.  Only a file that passes is *pinned*:
its SHA-256 is written to ``encoder-lens-pins.json`` in the folder where the file lives (the hub
cache, or the folder ``python -m vision_core.weights prepare`` fills).  Every later load compares
the file with its pin, so a file that changes afterwards is refused.

The pins file maps a file name to ``{sha256, size, pinned_at, url, how}``; it is written whole to a
temporary file and moved into place (``os.replace``), so a reader never sees half of it.  This
module knows nothing about models: the architecture's keys and shapes come from the caller as a
``fits`` callable (see :func:`check_layout` and ``encoders.layout_check``).
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import torch

from vision_core.engine.readers import CheckpointError

PINS_FILE = "encoder-lens-pins.json"
# The registry's sizes of unchecksummed files come from public records or parameter counts; a file
# more than 5% away from it is not that checkpoint (the key-and-shape check is the real test).
SIZE_TOLERANCE = 0.05

Fits = Callable[[Mapping[str, torch.Tensor]], None]  # raises CheckpointError when the tensors do not fit

_lock = threading.Lock()


@dataclass(frozen=True)
class Pin:
    """What was pinned: the file's SHA-256 and size, when, from where, and how it arrived."""

    sha256: str
    size: int
    pinned_at: str  # ISO 8601, UTC
    url: str
    how: str  # "downloaded" or "placed" (copied by hand, pinned on first use)

    @property
    def date(self) -> str:
        return self.pinned_at[:10]


def read_pins(folder: Path) -> dict[str, Pin]:
    """The pins recorded in ``folder`` (none when the file is missing or unreadable)."""
    try:
        raw = json.loads((folder / PINS_FILE).read_text(encoding="utf-8"))
        return {name: Pin(**fields) for name, fields in raw["files"].items()}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def pin_for(path: Path, machine_folder: Path) -> tuple[Pin, Path] | None:
    """The pin of the file at ``path`` and the pins file holding it: its own folder's, else the machine's."""
    for folder in dict.fromkeys((path.parent, machine_folder)):
        pin = read_pins(folder).get(path.name)
        if pin is not None:
            return pin, folder / PINS_FILE
    return None


def write_pin(folder: Path, filename: str, sha256: str, size: int, url: str, how: str) -> Pin:
    """Record a pin in ``folder``'s pins file, atomically; returns it."""
    pin = Pin(sha256, size, datetime.now(UTC).isoformat(timespec="seconds"), url, how)
    with _lock:
        pins = read_pins(folder)
        pins[filename] = pin
        text = json.dumps({"files": {k: asdict(v) for k, v in sorted(pins.items())}}, indent=2)
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{PINS_FILE}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text + "\n")
            os.replace(tmp, folder / PINS_FILE)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return pin


def size_limits(size_bytes: int) -> tuple[int, int]:
    """The smallest and largest plausible size of a file the registry says is ``size_bytes``."""
    return int(size_bytes * (1 - SIZE_TOLERANCE)), int(size_bytes * (1 + SIZE_TOLERANCE))


def check_layout(got: Mapping[str, torch.Tensor], want: Mapping[str, torch.Tensor]) -> None:
    """Refuse, naming the differences, unless ``got`` has exactly ``want``'s keys and shapes."""
    missing = [k for k in want if k not in got]
    unexpected = [k for k in got if k not in want]
    shapes = [
        f"{k} is {tuple(got[k].shape)} but the architecture has {tuple(want[k].shape)}"
        for k in want
        if k in got and tuple(got[k].shape) != tuple(want[k].shape)
    ]
    problems = []
    if missing:
        problems.append(f"{len(missing)} tensors missing ({_some(missing)})")
    if unexpected:
        problems.append(f"{len(unexpected)} unexpected tensors ({_some(unexpected)})")
    if shapes:
        problems.append(f"{len(shapes)} of another shape ({'; '.join(shapes[:2])})")
    if problems:
        raise CheckpointError("its tensors do not fit the architecture: " + ", ".join(problems))


def _some(keys: list[str]) -> str:
    return ", ".join(keys[:3]) + (", …" if len(keys) > 3 else "")
