"""One memory ceiling for the whole server: what learners make it hold, counted in bytes.

Each learner's requests are bounded one by one (a 25 MB photo, a zip that unpacks to at most
512 MB), but twenty learners can all claim them at once.  So everything a learner makes the
server keep — their photo, a zip being unpacked, the photos their gallery keeps, the results
computed from their photo — takes its size from one :class:`Budget`.  A request that does not fit
raises :class:`ServerBusy` and changes nothing: what anyone already holds stays held, and the
learner can try again once other learners' results have left.

* :meth:`Budget.hold` keeps a named amount for an owner (a learner's session) until it is
  replaced, dropped, or the owner leaves (:meth:`Budget.drop`);
* :meth:`Budget.reserve` keeps an amount for the length of a ``with`` block (a zip being read);
* :class:`ResultStore` keeps results computed from photos, each entry holding its own size: an
  entry leaves when its owner leaves, when nobody has read it for ``idle`` seconds, or when its
  owner has more than ``max_entries`` of its kind (the least recently used goes first).  Entries
  are kept by reference (the caller never changes them: their arrays are made read-only) or as
  pickled bytes, unpickled afresh for every reader.

:func:`server_budget` is the process's one budget: ``ENCODER_LENS_MEMORY_BUDGET_MB`` megabytes if
set, else half of the memory this process may use (the machine's RAM, or its container's limit
when lower).  Nothing here knows about Streamlit: the app says who the owner is.
"""

from __future__ import annotations

import contextlib
import functools
import os
import pickle
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any

import numpy as np

ENV = "ENCODER_LENS_MEMORY_BUDGET_MB"
MACHINE_SHARE = 0.5  # of the memory this process may use, when ENV is not set
MB = 1024 * 1024


class ServerBusy(Exception):
    """The server's memory budget cannot take ``needed`` more bytes now (``free`` are left)."""

    def __init__(self, needed: int, free: int, limit: int, what: str = "") -> None:
        self.needed, self.free, self.limit, self.what = needed, free, limit, what
        super().__init__(
            f"{what or 'a request'} needs {needed / MB:.1f} MiB; {free / MB:.1f} MiB of the server's "
            f"{limit / MB:.0f} MiB budget are free"
        )


class Budget:
    """Bytes held against one ``limit``, safe to use from many threads at once."""

    def __init__(self, limit: int) -> None:
        if limit <= 0:
            raise ValueError(f"a memory budget must be positive, not {limit}")
        self.limit = int(limit)
        self._used = 0
        self._holds: dict[Hashable, dict[str, int]] = {}  # owner → tag → bytes
        self._lock = threading.Lock()

    @property
    def used(self) -> int:
        return self._used

    @property
    def free(self) -> int:
        return self.limit - self._used

    def held_by(self, owner: Hashable) -> int:
        with self._lock:
            return sum(self._holds.get(owner, {}).values())

    def take(self, nbytes: int, what: str = "") -> None:
        """Count ``nbytes`` more as held, or raise :class:`ServerBusy` (and count nothing)."""
        nbytes = max(0, int(nbytes))
        with self._lock:
            self._take(nbytes, what)

    def give(self, nbytes: int) -> None:
        """Count ``nbytes`` as no longer held."""
        with self._lock:
            self._used = max(0, self._used - max(0, int(nbytes)))

    def _take(self, nbytes: int, what: str) -> None:
        if self._used + nbytes > self.limit:
            raise ServerBusy(nbytes, self.limit - self._used, self.limit, what)
        self._used += nbytes

    def hold(self, owner: Hashable, tag: str, nbytes: int) -> None:
        """Hold ``nbytes`` for ``owner`` under ``tag``, replacing what that tag held before.
        When the new amount does not fit, :class:`ServerBusy` is raised and the old one stays."""
        nbytes = max(0, int(nbytes))
        with self._lock:
            tags = self._holds.setdefault(owner, {})
            old = tags.get(tag, 0)
            if nbytes > old:
                try:
                    self._take(nbytes - old, tag)
                except ServerBusy:
                    if not tags:
                        del self._holds[owner]
                    raise
            else:
                self._used -= old - nbytes
            tags[tag] = nbytes

    def drop(self, owner: Hashable, tag: str | None = None) -> int:
        """Let go of what ``owner`` holds under ``tag`` (every tag when None); returns the bytes."""
        with self._lock:
            tags = self._holds.get(owner, {})
            names = list(tags) if tag is None else [tag] if tag in tags else []
            freed = sum(tags.pop(name) for name in names)
            if not tags:
                self._holds.pop(owner, None)
            self._used -= freed
            return freed

    @contextlib.contextmanager
    def reserve(self, nbytes: int, what: str = "") -> Iterator[None]:
        """Hold ``nbytes`` for the length of the ``with`` block (raises :class:`ServerBusy` first)."""
        self.take(nbytes, what)
        try:
            yield
        finally:
            self.give(nbytes)


def memory_available_to_process() -> int:
    """The machine's physical memory, or the cgroup's limit when it is lower (a container)."""
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        with contextlib.suppress(OSError, ValueError):
            value = Path(path).read_text().strip()
            if value != "max":
                total = min(total, int(value))
    return total


def default_limit() -> int:
    """``ENCODER_LENS_MEMORY_BUDGET_MB`` megabytes if set, else :data:`MACHINE_SHARE` of the
    memory available to this process."""
    value = os.environ.get(ENV, "").strip()
    if value:
        try:
            mb = float(value)
        except ValueError:
            raise ValueError(f"{ENV} must be a number of megabytes, not {value!r}") from None
        if mb <= 0:
            raise ValueError(f"{ENV} must be positive, not {value!r}")
        return int(mb * MB)
    return int(memory_available_to_process() * MACHINE_SHARE)


@functools.cache
def server_budget() -> Budget:
    """The one budget of this process (made on first use from :func:`default_limit`)."""
    return Budget(default_limit())


# --- sizes ---------------------------------------------------------------------------------------


def nbytes_of(value: Any) -> int:
    """The bytes ``value`` keeps alive: arrays, tensors, pictures and bytes, through containers,
    dataclasses and objects' attributes (what is shared is counted once)."""
    return _nbytes(value, set())


def _nbytes(value: Any, seen: set[int]) -> int:
    if value is None or isinstance(value, (int, float, bool, str)):
        return 0
    if id(value) in seen:
        return 0
    seen.add(id(value))
    if isinstance(value, np.ndarray):
        base = value
        while isinstance(base.base, np.ndarray):
            base = base.base
        if base is not value:
            return _nbytes(base, seen)
        return int(value.nbytes)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return len(value)
    kind = type(value).__module__.split(".")[0]
    if kind == "torch" and hasattr(value, "untyped_storage"):
        storage = value.untyped_storage()
        key = -storage.data_ptr() - 1  # never an id()
        if key in seen:
            return 0
        seen.add(key)
        return int(storage.nbytes())
    if kind == "PIL" and hasattr(value, "getbands"):
        return int(value.width * value.height * len(value.getbands()))
    if isinstance(value, dict):
        return sum(_nbytes(k, seen) + _nbytes(v, seen) for k, v in value.items())
    if isinstance(value, (list, tuple, set, frozenset)):
        return sum(_nbytes(v, seen) for v in value)
    if is_dataclass(value):
        return sum(_nbytes(getattr(value, f.name), seen) for f in fields(value))
    attributes = getattr(value, "__dict__", None)
    return _nbytes(attributes, seen) if isinstance(attributes, dict) else 0


def read_only(value: Any) -> Any:
    """Make every NumPy array inside ``value`` read-only (in place) and return ``value``: a result
    shared by reference then cannot be changed by one reader under another's feet."""
    _freeze(value, set())
    return value


def _freeze(value: Any, seen: set[int]) -> None:
    if value is None or isinstance(value, (int, float, bool, str, bytes)) or id(value) in seen:
        return
    seen.add(id(value))
    if isinstance(value, np.ndarray):
        value.flags.writeable = False
    elif isinstance(value, dict):
        for v in value.values():
            _freeze(v, seen)
    elif isinstance(value, (list, tuple, set, frozenset)):
        for v in value:
            _freeze(v, seen)
    elif is_dataclass(value):
        for f in fields(value):
            _freeze(getattr(value, f.name), seen)
    elif isinstance(getattr(value, "__dict__", None), dict):
        _freeze(vars(value), seen)


# --- results kept under the budget -----------------------------------------------------------------


@dataclass
class _Entry:
    value: Any  # the object itself, or its pickled bytes
    pickled: bool
    nbytes: int
    owner: Hashable
    group: str
    last_used: float


@dataclass
class _Flight:
    """A result being computed: other readers of the same key wait for it."""

    done: threading.Event = field(default_factory=threading.Event)


class ResultStore:
    """Results computed from photos, each holding its size under ``budget`` (see the module)."""

    def __init__(
        self,
        budget: Budget | Callable[[], Budget],
        *,
        idle: float,
        clock: Callable[[], float] = time.monotonic,
        sweep_every: float = 10.0,
    ) -> None:
        self._budget = budget
        self.idle = idle
        self._clock = clock
        self._sweep_every = sweep_every
        self._last_sweep = clock()
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()  # least recently used first
        self._flights: dict[Hashable, _Flight] = {}
        self._lock = threading.Lock()
        self._sweeper: threading.Thread | None = None

    @property
    def budget(self) -> Budget:
        return self._budget if isinstance(self._budget, Budget) else self._budget()

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def nbytes(self) -> int:
        with self._lock:
            return sum(e.nbytes for e in self._entries.values())

    def owners(self) -> set[Hashable]:
        with self._lock:
            return {e.owner for e in self._entries.values()}

    def get(
        self,
        key: Hashable,
        compute: Callable[[], Any],
        *,
        owner: Hashable,
        group: str,
        max_entries: int,
        by_reference: bool = False,
    ) -> Any:
        """The stored result for ``key``, or ``compute()``'s, stored for ``owner``.  Raises
        :class:`ServerBusy` when a new result does not fit in the budget (it is then not kept,
        and nothing else is dropped but ``owner``'s own least recently used results)."""
        self.sweep_if_due()
        while True:
            with self._lock:
                entry = self._entries.get(key)
                if entry is not None:
                    entry.last_used = self._clock()
                    self._entries.move_to_end(key)
                    value, pickled = entry.value, entry.pickled
                    break
                flight = self._flights.get(key)
                if flight is None:
                    mine = self._flights[key] = _Flight()
                    break
            flight.done.wait()  # someone else is computing it: wait, then look again
        if entry is not None:
            return pickle.loads(value) if pickled else value
        try:
            result = compute()
            if by_reference:
                stored, nbytes = read_only(result), nbytes_of(result)
            else:
                stored = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)  # readers get copies
                nbytes = len(stored)
            self._put(key, _Entry(stored, not by_reference, nbytes, owner, group, self._clock()), max_entries)
            return result
        finally:
            with self._lock:
                del self._flights[key]
            mine.done.set()

    def _put(self, key: Hashable, entry: _Entry, max_entries: int) -> None:
        with self._lock:
            mine = [k for k, e in self._entries.items() if e.owner == entry.owner and e.group == entry.group]
            for k in mine[: max(0, len(mine) - max_entries + 1)]:
                self._remove(k)
            try:
                self.budget.take(entry.nbytes, entry.group)
            except ServerBusy:
                self._sweep(self._clock())
                own = [k for k, e in self._entries.items() if e.owner == entry.owner]
                while own and self.budget.free < entry.nbytes:
                    self._remove(own.pop(0))
                self.budget.take(entry.nbytes, entry.group)  # raises if it still does not fit
            self._entries[key] = entry

    def _remove(self, key: Hashable) -> None:
        entry = self._entries.pop(key)
        self.budget.give(entry.nbytes)

    def drop_owner(self, owner: Hashable) -> int:
        """Remove every result ``owner`` holds (their session ended); returns how many."""
        with self._lock:
            keys = [k for k, e in self._entries.items() if e.owner == owner]
            for k in keys:
                self._remove(k)
            return len(keys)

    def sweep(self) -> int:
        """Remove the results nobody has read for ``idle`` seconds; returns how many."""
        with self._lock:
            return self._sweep(self._clock())

    def sweep_if_due(self) -> int:
        now = self._clock()
        if now - self._last_sweep < self._sweep_every:
            return 0
        with self._lock:
            return self._sweep(now)

    def _sweep(self, now: float) -> int:
        self._last_sweep = now
        stale = [k for k, e in self._entries.items() if now - e.last_used > self.idle]
        for k in stale:
            self._remove(k)
        return len(stale)

    def clear(self) -> None:
        with self._lock:
            for k in list(self._entries):
                self._remove(k)

    def start_sweeper(self, every: float) -> threading.Thread:
        """Sweep every ``every`` seconds in a daemon thread (once per store), so that idle results
        leave even when nobody uses the server."""
        with self._lock:
            if self._sweeper is None:

                def loop() -> None:
                    while True:
                        time.sleep(every)
                        self.sweep()

                self._sweeper = threading.Thread(target=loop, name="result-store-sweeper", daemon=True)
                self._sweeper.start()
            return self._sweeper
