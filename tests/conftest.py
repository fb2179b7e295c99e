"""Settings every test shares."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True, scope="session")
def _private_torch_home(tmp_path_factory):
    """No test reads or writes the machine's own PyTorch hub cache: the weights store pins files there,
    and a test's stand-in weights must never be pinned on the machine that runs the tests."""
    mp = pytest.MonkeyPatch()
    mp.setenv("TORCH_HOME", str(tmp_path_factory.mktemp("torch_home")))
    yield
    mp.undo()


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread_from_the_start():
    """The same before any module- or session-scoped fixture computes (they are made before a
    function-scoped fixture runs): a fixture's trace made with two threads differed in its last
    bits from the test's own passes with one."""
    import torch

    torch.set_num_threads(1)
    yield


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """Each test computes with the server's torch thread count (ui.cached.core.FORWARD_THREADS =
    1), as the pages it compares with do: a different count changes the last bits of a sum, and
    exact comparisons (a training run, a probe's score) then depended on what an earlier test set."""
    import torch

    torch.set_num_threads(1)
    yield
