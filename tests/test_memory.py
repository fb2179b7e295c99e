"""The app's malloc tuning takes effect on glibc (this project's Linux machines) and only once."""

from __future__ import annotations

import platform

import pytest

from vision_core.engine import memory


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt tuning is glibc's")
def test_keep_freed_memory_takes_effect_on_glibc():
    assert memory.keep_freed_memory() is True
    assert memory.keep_freed_memory() is True  # cached: called once per process
    assert memory.keep_freed_memory.cache_info().misses == 1
