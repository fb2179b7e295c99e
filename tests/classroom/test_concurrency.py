"""Thirty learners at once, on both databases: each thread opens its own store (as separate app
processes would), all wait at one barrier, then write together."""

from __future__ import annotations

import threading
import time

import numpy as np
from PIL import Image

from vision_core.classroom import ClassError, make_thumbnail

N = 30
JOIN_TIMEOUT_S = 120
THUMB = make_thumbnail(Image.new("RGB", (64, 48), (90, 160, 60)))


def _together(opener, work) -> tuple[list[object], float]:
    """Run ``work(store, i)`` in N threads released by one barrier; their results (or the exception
    each raised) in thread order, and the wall time from the barrier to the last one done."""
    barrier = threading.Barrier(N)
    results: list[object] = [None] * N
    released: list[float] = [0.0] * N
    done: list[float] = [0.0] * N

    def run(i: int) -> None:
        try:
            store = opener()
            barrier.wait(timeout=JOIN_TIMEOUT_S)
            released[i] = time.perf_counter()
            results[i] = work(store, i)
        except Exception as exc:
            results[i] = exc
        finally:
            done[i] = time.perf_counter()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(N)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(JOIN_TIMEOUT_S)
    assert not any(t.is_alive() for t in threads), "a writer is still waiting: a lock was never released"
    return results, max(done) - min(released)


def test_thirty_writers_at_once_lose_nothing(backend, opener):
    info, _ = opener().start_class("resnet50")
    vectors = [np.full(32, i, np.float32) for i in range(N)]

    results, wall = _together(
        opener, lambda store, i: store.add_entry(info.code, f"learner-{i}", f"photo {i}", THUMB, vectors[i])
    )
    print(f"\n{N} concurrent writers on {backend['name']}: {wall * 1000:.0f} ms")
    failures = [r for r in results if isinstance(r, BaseException)]
    assert failures == []
    got = opener().entries(info.code)
    assert len(got) == N
    assert sorted(e.owner for e in got) == sorted(f"learner-{i}" for i in range(N))
    assert len({e.id for e in got}) == N
    for e in got:
        i = int(e.owner.split("-")[1])
        assert e.label == f"photo {i}"
        np.testing.assert_array_equal(e.vector, vectors[i])


def test_thirty_double_joins_of_one_learner_leave_one(opener):
    info, _ = opener().start_class("resnet50")

    results, _ = _together(
        opener, lambda store, i: store.add_entry(info.code, "same-learner", f"tab {i}", THUMB, np.ones(8))
    )
    winners = [r for r in results if not isinstance(r, BaseException)]
    refusals = [r for r in results if isinstance(r, ClassError)]
    assert len(winners) == 1
    assert len(refusals) == N - 1 and {r.kind for r in refusals} == {"already_joined"}
    got = opener().entries(info.code)
    assert [(e.id, e.label) for e in got] == [(winners[0].id, winners[0].label)]
