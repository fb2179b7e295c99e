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
