"""The served app watches no file of its environment.

``make run`` puts ``.venv/`` inside the project folder; Streamlit's default file watcher (watchdog,
on inotify) watches the project folder recursively, thousands of folders of installed packages
included, and an idle server then kept a core busy.  The project's ``.streamlit/config.toml`` turns
the watcher off for every way the app is served (``make dev`` opts back in).  These tests serve the
app as ``make run`` does, open one learner session, and read the server process's inotify watches
from ``/proc/<pid>/fdinfo``; the second test turns the default watcher back on and checks that the
same reading does find ``.venv`` watched, so the first one can fail.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import served

# A few watches are harmless (a config file, the pages folder); the default watcher made thousands.
FEW = 20


@pytest.fixture(scope="module")
def venv_folders() -> dict[tuple[int, int], Path]:
    return served.folders(served.VENV)


def watches_of_one_session(*options: str) -> list[tuple[int, int]]:
    with served.served(*options) as app, served.open_session(app):
        return served.inotify_watches(app.pid)


def test_the_served_app_watches_nothing_inside_its_environment(venv_folders):
    watches = watches_of_one_session()
    inside = sorted(str(venv_folders[w]) for w in watches if w in venv_folders)
    assert inside == [], f"the served app watches {len(inside)} folders of .venv, e.g. {inside[:3]}"
    assert len(watches) <= FEW, f"{len(watches)} inotify watches"


def test_the_default_watcher_would_be_caught(venv_folders):
    watches = watches_of_one_session("--server.fileWatcherType", "auto")
    inside = [w for w in watches if w in venv_folders]
    assert len(inside) > FEW, f"only {len(inside)} of {len(watches)} watches inside .venv"
    assert any(venv_folders[w].name == "site-packages" for w in inside)
