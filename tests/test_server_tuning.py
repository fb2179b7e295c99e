"""The server process's set-up for many learners (ui/server.py): one BLAS thread, a longer switch interval."""

import sys
from pathlib import Path

from threadpoolctl import threadpool_info, threadpool_limits

from ui import server, warmup

ROOT = Path(__file__).resolve().parents[1]


def _blas_threads() -> set[int]:
    return {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"}


def test_tune_sets_one_blas_thread_and_the_longer_switch_interval(monkeypatch):
    monkeypatch.delenv(server.LIBRARY_DEFAULTS, raising=False)
    interval = sys.getswitchinterval()
    with threadpool_limits(limits=2, user_api="blas"):  # restored when the test ends
        sys.setswitchinterval(0.005)
        try:
            assert _blas_threads() == {2}
            server.tune.__wrapped__()
            assert _blas_threads() == {server.BLAS_THREADS} == {1}
            assert sys.getswitchinterval() == server.SWITCH_INTERVAL > 0.005
        finally:
            sys.setswitchinterval(interval)


def test_the_library_defaults_can_be_kept_for_a_comparison(monkeypatch):
    monkeypatch.setenv(server.LIBRARY_DEFAULTS, "1")
    interval = sys.getswitchinterval()
    with threadpool_limits(limits=2, user_api="blas"):
        sys.setswitchinterval(0.005)
        try:
            server.tune.__wrapped__()
            assert _blas_threads() == {2} and sys.getswitchinterval() == 0.005
        finally:
            sys.setswitchinterval(interval)


def test_the_app_tunes_its_process_on_its_first_run(monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.delenv(server.LIBRARY_DEFAULTS, raising=False)
    interval = sys.getswitchinterval()
    server.tune.cache_clear()  # as in a fresh server process
    sys.setswitchinterval(0.005)
    try:
        AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
        assert sys.getswitchinterval() == server.SWITCH_INTERVAL
    finally:
        sys.setswitchinterval(interval)
        warmup.start().join(timeout=300)  # the app's warm-up thread: let it finish before the process ends
