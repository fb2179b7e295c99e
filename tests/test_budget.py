"""The server-wide memory budget: one ceiling for what every learner makes the server hold, proved
with many threads at once (a Streamlit server runs each session's script in its own thread), and
the store of photo-derived results that holds its entries under it."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from vision_core import samples
from vision_core.engine import budget, encoders
from vision_core.engine.budget import Budget, ResultStore, ServerBusy
from vision_core.engine.preprocess import load_image
from vision_core.engine.trace import trace

MB = budget.MB


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_holds_replace_and_drop_and_a_refusal_changes_nothing():
    b = Budget(10 * MB)
    b.hold("anna", "photo", 4 * MB)
    b.hold("anna", "photo", 3 * MB)  # a new photo replaces the old one's hold
    b.hold("boris", "photo", 5 * MB)
    assert (b.used, b.held_by("anna"), b.held_by("boris")) == (8 * MB, 3 * MB, 5 * MB)
    with pytest.raises(ServerBusy) as refused:
        b.hold("anna", "photo", 6 * MB)
    assert (refused.value.needed, refused.value.free) == (3 * MB, 2 * MB)
    assert (b.used, b.held_by("anna"), b.held_by("boris")) == (8 * MB, 3 * MB, 5 * MB)
    with pytest.raises(ServerBusy):
        b.hold("carla", "photo", 3 * MB)
    assert b.held_by("carla") == 0
    assert b.drop("anna") == 3 * MB and b.used == 5 * MB
    b.hold("carla", "photo", 3 * MB)
    assert b.used == 8 * MB


def test_a_reservation_lasts_for_its_block_even_when_the_block_fails():
    b = Budget(10 * MB)
    with b.reserve(6 * MB, "zip"):
        assert b.used == 6 * MB
        with pytest.raises(ServerBusy), b.reserve(5 * MB, "second zip"):
            pass
    assert b.used == 0
    with pytest.raises(ValueError), b.reserve(6 * MB):
        raise ValueError("the zip was damaged")
    assert b.used == 0


def test_twenty_sessions_at_once_never_pass_the_ceiling_and_keep_what_they_hold():
    """Twenty threads hold, replace and drop photos and reserve zips at the same time; the budget
    never goes over its limit, every refusal leaves the refused session's earlier hold in place,
    and at the end what is counted is exactly what the sessions hold."""
    b = Budget(64 * MB)
    start = threading.Barrier(20)
    over: list[int] = []
    refused = [0] * 20
    kept = [0] * 20

    def learner(i: int) -> None:
        rng = np.random.default_rng(i)
        start.wait()
        for _ in range(300):
            size = int(rng.integers(1, 12)) * MB
            before = b.held_by(i)
            try:
                if rng.random() < 0.3:
                    with b.reserve(size, "zip"):
                        over.extend([b.used] if b.used > b.limit else [])
                else:
                    b.hold(i, "photo", size)
                    kept[i] = size
            except ServerBusy:
                refused[i] += 1
                assert b.held_by(i) == before  # nothing already held is lost
            over.extend([b.used] if b.used > b.limit else [])

    threads = [threading.Thread(target=learner, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not over
    assert sum(refused) > 0  # twenty sessions asked for more than the ceiling: some were refused
    assert b.used == sum(b.held_by(i) for i in range(20)) == sum(kept)


def test_results_are_computed_once_for_many_readers_and_each_reader_gets_a_copy():
    store = ResultStore(Budget(100 * MB), idle=300)
    calls = []
    start = threading.Barrier(8)
    got = []

    def compute():
        calls.append(1)
        return np.arange(1000.0)

    def reader() -> None:
        start.wait()
        got.append(store.get("k", compute, owner="shared", group="g", max_entries=4))

    threads = [threading.Thread(target=reader) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and len(got) == 8
    got[1][0] = -1.0  # a copy: the next reader still gets the original
    assert store.get("k", compute, owner="shared", group="g", max_entries=4)[0] == 0.0
    assert store.budget.used == store.nbytes > 8000


def test_results_kept_by_reference_are_read_only():
    store = ResultStore(Budget(100 * MB), idle=300)
    first = store.get(
        "k", lambda: {"a": np.zeros(10)}, owner="s", group="g", max_entries=4, by_reference=True
    )
    again = store.get("k", lambda: None, owner="s", group="g", max_entries=4, by_reference=True)
    assert again is first
    with pytest.raises(ValueError, match="read-only"):
        again["a"][0] = 1.0
    assert store.nbytes == 80


def test_a_result_that_does_not_fit_is_refused_and_other_sessions_keep_theirs():
    b = Budget(10 * MB)
    store = ResultStore(b, idle=300)
    big = np.zeros(3 * MB, dtype=np.uint8)
    store.get("anna-1", lambda: big, owner="anna", group="trace", max_entries=8, by_reference=True)
    store.get("anna-2", lambda: big.copy(), owner="anna", group="trace", max_entries=8, by_reference=True)
    b.hold("boris", "photo", 3 * MB)
    # Carla's result does not fit (1 MB free); Anna's results and Boris's photo are not touched
    with pytest.raises(ServerBusy):
        store.get(
            "carla-1", lambda: big.copy(), owner="carla", group="trace", max_entries=8, by_reference=True
        )
    assert store.owners() == {"anna"} and len(store) == 2 and b.held_by("boris") == 3 * MB
    # Anna's own new result makes room among her own least recently used ones
    store.get("anna-3", lambda: big.copy(), owner="anna", group="trace", max_entries=8, by_reference=True)
    assert len(store) == 2 and b.used == 9 * MB
    # and each owner keeps at most max_entries of a kind
    for i in range(4):
        store.get(f"boris-{i}", lambda: np.zeros(10), owner="boris", group="small", max_entries=2)
    assert sum(1 for o in [store.owners()] if "boris" in o) == 1 and len(store) == 4


def test_results_leave_when_their_session_ends_or_after_being_idle():
    clock = Clock()
    b = Budget(100 * MB)
    store = ResultStore(b, idle=300, clock=clock)
    for owner in ("anna", "boris"):
        store.get(owner, lambda: np.zeros(1000), owner=owner, group="g", max_entries=4)
    b.hold("anna", "photo", MB)
    assert store.drop_owner("anna") == 1 and b.drop("anna") == MB  # what the session-end hook does
    assert store.owners() == {"boris"}
    clock.now = 200
    store.get("boris", lambda: None, owner="boris", group="g", max_entries=4)  # read: not idle
    store.get("carla", lambda: np.zeros(1000), owner="carla", group="g", max_entries=4)
    clock.now = 450
    assert store.sweep() == 0
    clock.now = 501  # 301 s since either was read
    assert store.sweep() == 2 and len(store) == 0 and b.used == 0


def test_a_real_trace_is_counted_at_its_size_and_kept_read_only():
    model = encoders.load_model(encoders.DEFAULT, allow_download=False)
    x = encoders.preprocess_photo(load_image(samples.sample_bytes("chelsea")), encoders.DEFAULT).tensor
    tr = trace(model, x, keep=("stage1", "stage2", "embedding")).compact(np.dtype("float32"))
    size = tr.nbytes + tr.output.nbytes  # the kept steps and the network's output
    assert budget.nbytes_of(tr) == size > 1_000_000
    store = ResultStore(Budget(100 * MB), idle=300)
    kept = store.get("t", lambda: tr, owner="s", group="traced", max_entries=4, by_reference=True)
    assert store.nbytes == size
    with pytest.raises(ValueError, match="read-only"):
        kept.array("stage1")[0, 0, 0, 0] = 0.0
    with pytest.raises(ValueError, match="read-only"):
        kept["stage2"].value += 1  # type: ignore[operator]


def test_the_limit_comes_from_the_environment_or_half_the_machine(monkeypatch):
    monkeypatch.setenv(budget.ENV, "1536")
    assert budget.default_limit() == 1536 * MB
    monkeypatch.setenv(budget.ENV, "lots")
    with pytest.raises(ValueError, match=budget.ENV):
        budget.default_limit()
    monkeypatch.delenv(budget.ENV)
    assert budget.default_limit() == int(budget.memory_available_to_process() * budget.MACHINE_SHARE)
    assert budget.memory_available_to_process() > 0
