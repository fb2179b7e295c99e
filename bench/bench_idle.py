"""What an idle server costs: the server process's CPU seconds over 20 s of wall time with one idle
learner session, served as ``make run`` serves it (no file watcher, the project's config) and with
Streamlit's default watcher turned back on (``--server.fileWatcherType auto``, what ``make dev``
uses), one after the other.

The session is opened the way a browser tab opens it (the start page runs once, see
``tests/served.py``).  The app compiles UMAP in a background thread when it starts, so the
measurement begins once the server's CPU use has settled (under 0.2 s in 3 s) or after a minute,
whichever is first; the printout says which.

    python bench/bench_idle.py [--seconds 20]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests import served

SETTLE_WINDOW = 3.0  # s
SETTLED_BELOW = 0.2  # CPU s per window
SETTLE_LIMIT = 60.0  # s


def settle(pid: int) -> tuple[bool, float]:
    """Wait until the process's CPU use settles; (settled?, seconds waited)."""
    start = time.monotonic()
    while time.monotonic() - start < SETTLE_LIMIT:
        before = served.cpu_seconds(pid)
        time.sleep(SETTLE_WINDOW)
        if served.cpu_seconds(pid) - before < SETTLED_BELOW:
            return True, time.monotonic() - start
    return False, time.monotonic() - start


def idle_cpu(seconds: float, *options: str) -> dict[str, float | int | bool]:
    with served.served(*options) as app, served.open_session(app):
        settled, waited = settle(app.pid)
        watches = len(served.inotify_watches(app.pid))
        before, t0 = served.cpu_seconds(app.pid), time.monotonic()
        time.sleep(seconds)
        cpu, wall = served.cpu_seconds(app.pid) - before, time.monotonic() - t0
        overflowed = app.log.read_text().count("Inotify queue overflowed")
    return {
        "cpu": cpu,
        "wall": wall,
        "watches": watches,
        "settled": settled,
        "waited": waited,
        "overflowed": overflowed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    print(f"server CPU over {args.seconds:.0f} s with one idle session (make run's command, fresh HOME)")
    print(f"{'watcher':<34}{'CPU s':>7}{'wall s':>8}{'inotify watches':>17}{'overflow lines':>16}  before")
    for label, options in (
        ("none (.streamlit/config.toml)", ()),
        ("auto (--server.fileWatcherType)", ("--server.fileWatcherType", "auto")),
    ):
        r = idle_cpu(args.seconds, *options)
        before = (
            f"settled after {r['waited']:.0f} s" if r["settled"] else f"not settled in {r['waited']:.0f} s"
        )
        print(
            f"{label:<34}{r['cpu']:>7.1f}{r['wall']:>8.1f}{r['watches']:>17d}{r['overflowed']:>16d}  {before}"
        )


if __name__ == "__main__":
    main()
