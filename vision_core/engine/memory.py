"""Keep freed memory for reuse instead of handing it back to the system after every trace.

A trace keeps every intermediate tensor of a forward pass: tens to hundreds of MiB of new memory
per photo.  glibc's ``malloc`` serves blocks above its mmap threshold (128 KiB to start) with
fresh ``mmap`` pages and returns them on ``free``, so every new trace touches every page for the
first time again — page faults that on two cores made a traced forward up to 1.4× the plain one
(``bench/bench_trace.py``).  Raising the mmap threshold to 32 MiB (glibc's ceiling on 64-bit:
larger than any tensor a lesson keeps), the trim threshold and the top pad keeps those pages in
the heap, where the next trace reuses them.  The price is a resident size that stays near its
high-water mark (a few hundred MiB), which a server meant for many traces can afford.

Only the app and the benchmarks call :func:`keep_freed_memory`; importing vision_core changes
nothing.  On a C library other than glibc it does nothing and says so.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools

# mallopt parameters (glibc's malloc.h)
M_TRIM_THRESHOLD = -1
M_TOP_PAD = -2
M_MMAP_THRESHOLD = -3

MMAP_THRESHOLD = 32 * 1024 * 1024  # glibc's largest accepted value on 64-bit systems
TRIM_THRESHOLD = 512 * 1024 * 1024  # give memory back only when this much lies free at the top
TOP_PAD = 64 * 1024 * 1024  # grow the heap in steps of this much


@functools.cache
def keep_freed_memory() -> bool:
    """Tune glibc's malloc as described above (once per process); True if it took effect."""
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return all(
        mallopt(param, value) == 1
        for param, value in (
            (M_MMAP_THRESHOLD, MMAP_THRESHOLD),
            (M_TRIM_THRESHOLD, TRIM_THRESHOLD),
            (M_TOP_PAD, TOP_PAD),
        )
    )
