"""One download of one file, with a progress bar, a byte count and nothing half-written left behind.

:func:`download` wraps ``torch.hub.download_url_to_file`` (kept, not reimplemented: it writes to
``<dst>.<uuid>.partial``, checks ``hash_prefix``, moves into place, and deletes the partial file
on any failure) and turns every way it can fail into a :class:`DownloadError` whose ``reason`` is a
key of ``weights.WeightsUnavailable.REASONS``.  A download that breaks off is not resumed: nothing
of it is kept, and the next try starts afresh.

torch.hub takes no progress callback; it builds its terminal bar by calling the name ``tqdm`` in
its module namespace.  That call is the one hook it offers, so during our downloads we put a small
tqdm-compatible class there that draws the usual bar *and* counts bytes for the thread that started
the download (other threads get a plain bar): the count feeds ``on_progress``, tells a truncated
transfer from a wrong file, and stops a transfer that grows past ``max_bytes``.  The original is
restored when the last download ends.
"""

from __future__ import annotations

import errno
import http.client
import socket
import threading
import urllib.error
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch.hub

ProgressCallback = Callable[[int, int], None]


class DownloadError(RuntimeError):
    """A failed download: ``reason`` (a key of ``WeightsUnavailable.REASONS``) and a technical ``detail``."""

    def __init__(self, reason: str, detail: str) -> None:
        self.reason, self.detail = reason, detail
        super().__init__(f"{reason}: {detail}")


class _TooLarge(Exception):
    pass


@dataclass
class _Transfer:
    callback: ProgressCallback | None
    size_hint: int
    max_bytes: int | None
    received: int = 0
    announced: int | None = None  # the server's Content-Length


_transfers: dict[int, _Transfer] = {}
_shim: dict[str, Any] = {"users": 0, "original": None}  # torch.hub's own tqdm while ours stands in
_shim_lock = threading.Lock()


class _ProgressBar:
    def __init__(self, *args, **kwargs) -> None:
        self._bar = _shim["original"](*args, **kwargs)
        self._transfer = t = _transfers.get(threading.get_ident())
        if t is not None:
            t.announced = kwargs.get("total")
            if t.max_bytes and t.announced and t.announced > t.max_bytes:
                self._bar.close()
                raise _TooLarge(f"the server announces {t.announced} bytes")

    def update(self, n: int = 1) -> None:
        self._bar.update(n)
        t = self._transfer
        if t is not None:
            t.received += n
            if t.max_bytes and t.received > t.max_bytes:
                raise _TooLarge(f"more than {t.max_bytes} bytes arrived")
            if t.callback is not None:  # an exception raised here cancels the download
                t.callback(t.received, t.announced or t.size_hint)

    def close(self) -> None:
        self._bar.close()

    def __enter__(self) -> _ProgressBar:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@contextmanager
def _tracking(callback: ProgressCallback | None, size_hint: int, max_bytes: int | None) -> Iterator:
    transfer, ident = _Transfer(callback, size_hint, max_bytes), threading.get_ident()
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


def download(
    url: str,
    dst: Path,
    *,
    hash_prefix: str | None,
    size_hint: int,
    max_bytes: int | None = None,
    on_progress: ProgressCallback | None = None,
    progress_bar: bool = True,
) -> None:
    """Download ``url`` to ``dst`` (whole, or not at all).  Raises :class:`DownloadError`.

    ``hash_prefix`` is checked by torch.hub before the file reaches ``dst``; ``max_bytes`` stops a
    transfer that is larger than any plausible copy of the file.  An exception raised by
    ``on_progress(done, total)`` cancels the download and propagates unchanged.
    """
    with _tracking(on_progress, size_hint, max_bytes) as transfer:
        try:
            torch.hub.download_url_to_file(url, str(dst), hash_prefix=hash_prefix, progress=progress_bar)
        except _TooLarge as exc:
            raise DownloadError("wrong_size", f"{exc} from {url}; expected at most {max_bytes}") from exc
        except urllib.error.HTTPError as exc:
            raise DownloadError("server_error", f"HTTP {exc.code} from {url}") from exc
        except urllib.error.URLError as exc:
            raise DownloadError(_network_reason(exc.reason), f"{exc.reason} for {url}") from exc
        except RuntimeError as exc:
            if not str(exc).startswith("invalid hash value"):
                raise
            if transfer.announced and transfer.received < transfer.announced:  # urllib may not notice
                detail = f"{transfer.received} of {transfer.announced} bytes from {url}"
                raise DownloadError("interrupted", detail) from exc
            raise DownloadError("hash_mismatch", f"from {url}: {exc}") from exc
        except (ConnectionError, TimeoutError, http.client.HTTPException) as exc:  # dropped mid-transfer
            raise DownloadError("interrupted", f"{type(exc).__name__}: {exc} for {url}") from exc
        except OSError as exc:
            raise DownloadError("download_failed", str(exc)) from exc
    if transfer.announced and transfer.received < transfer.announced:  # no hash to catch a short file
        dst.unlink(missing_ok=True)
        raise DownloadError("interrupted", f"{transfer.received} of {transfer.announced} bytes from {url}")
