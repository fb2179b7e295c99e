"""How the server process is set up for a classroom: many learners' runs at once on a few cores.

Streamlit runs every learner's page in a thread of one Python process, so the learners are this
server's parallelism; the libraries' own threads only compete with them.  :func:`tune` (``app.py``
calls it on every run; it acts once per process):

* **One BLAS thread.** OpenBLAS's threads are the process's, not a run's: with two, a NumPy dot
  product over a photo's 165,000 patch pairs (the attention page, on every move of its block
  slider) woke a second thread that then spun on the other core, more than doubling what the move
  cost the server.  (torch's intra-op threads are set per script thread: ``ui.cached.core.model``.)
* **A longer switch interval.** Python hands the GIL from thread to thread every 5 ms by default;
  at 20 ms twenty runs at once are interrupted a quarter as often.  The two settings together, with
  twenty learners, measured 0.081 CPU seconds per change against 0.097 in one comparison run; runs
  vary about as much as that, so the benchmark's comparison is the figure to trust, not this one.

``bench/bench_load.py --compare-defaults`` measures the server with and without both, in one run
(``ENCODER_LENS_LIBRARY_DEFAULTS=1`` leaves the libraries' defaults).
"""

from __future__ import annotations

import functools
import os
import sys

from threadpoolctl import threadpool_limits

BLAS_THREADS = 1
SWITCH_INTERVAL = 0.02  # seconds; Python's default is 0.005
LIBRARY_DEFAULTS = "ENCODER_LENS_LIBRARY_DEFAULTS"  # set: leave both as the libraries have them


@functools.cache
def tune() -> None:
    """Set the process up as described above (once)."""
    if os.environ.get(LIBRARY_DEFAULTS):
        return
    threadpool_limits(limits=BLAS_THREADS, user_api="blas")
    sys.setswitchinterval(SWITCH_INTERVAL)
