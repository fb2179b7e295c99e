"""The app served the way ``make run`` serves it, for the tests and benchmarks that look at the
server process itself (its file watches, its CPU time).

``.venv/bin/streamlit run app.py`` from the project folder, headless on a free loopback port, with
a fresh empty ``HOME`` (so that no user-level ``~/.streamlit/config.toml`` applies, only the
project's ``.streamlit/config.toml``) and no ``STREAMLIT_*`` variables.  :func:`open_session`
connects the way a browser tab does (the ``/_stcore/stream`` websocket) and runs the start page,
so the server holds one learner session whose script has imported the app.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv"
START_TIMEOUT = 120  # seconds for the server to answer its health check on a busy machine
RUN_TIMEOUT = 180  # seconds for the start page's first run


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Served:
    proc: subprocess.Popen
    port: int
    log: Path

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextlib.contextmanager
def served(*extra: str, env: Mapping[str, str] | None = None, log: Path | None = None) -> Iterator[Served]:
    """``make run``'s command (plus ``extra`` options and ``env`` variables) on a free port, its
    output in ``log`` (kept) or in a file of the fresh home (gone with it); stopped on exit."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="encoder-lens-home-") as home:
        variables = {k: v for k, v in os.environ.items() if not k.startswith("STREAMLIT_")}
        variables.update(HOME=home, XDG_CONFIG_HOME=str(Path(home) / ".config"), PYTHONUNBUFFERED="1")
        variables.update(env or {})
        log = log or Path(home) / "server.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "w") as out:
            proc = subprocess.Popen(
                [
                    str(VENV / "bin" / "streamlit"),
                    "run",
                    "app.py",
                    "--server.headless",
                    "true",
                    "--server.port",
                    str(port),
                    "--server.address",
                    "127.0.0.1",
                    *extra,
                ],
                cwd=ROOT,
                env=variables,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        app = Served(proc, port, log)
        try:
            _wait_healthy(app)
            yield app
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _wait_healthy(app: Served) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            with urllib.request.urlopen(f"{app.url}/_stcore/health", timeout=2) as r:
                if r.read().strip() == b"ok":
                    return
        except OSError:
            pass
        if app.proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"streamlit did not start:\n{app.log.read_text()[-3000:]}")
        time.sleep(0.5)


@contextlib.contextmanager
def open_session(app: Served) -> Iterator[None]:
    """One learner session, as a browser tab opens it: connect, run the start page, wait for the
    run to finish; the connection stays open (the session idle) until the block ends."""
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
    from websockets.sync.client import connect

    with connect(
        f"ws://127.0.0.1:{app.port}/_stcore/stream", subprotocols=["streamlit"], max_size=None
    ) as ws:  # type: ignore[list-item]
        rerun = BackMsg()
        rerun.rerun_script.query_string = ""
        rerun.rerun_script.page_script_hash = ""
        ws.send(rerun.SerializeToString())
        deadline = time.monotonic() + RUN_TIMEOUT
        while time.monotonic() < deadline:
            data = ws.recv(timeout=deadline - time.monotonic())
            msg = ForwardMsg()
            msg.ParseFromString(data if isinstance(data, bytes) else data.encode())
            if msg.WhichOneof("type") == "script_finished":
                break
        else:
            raise RuntimeError("the start page did not finish its first run")
        yield


def inotify_watches(pid: int) -> list[tuple[int, int]]:
    """``(device, inode)`` of every path the process watches with inotify, one entry per watch
    (the device as ``os.stat`` gives it)."""
    watches = []
    for info in Path(f"/proc/{pid}/fdinfo").iterdir():
        try:
            lines = info.read_text().splitlines()
        except OSError:  # the descriptor closed meanwhile
            continue
        for line in lines:
            if line.startswith("inotify wd:"):
                fields = dict(f.split(":", 1) for f in line.split()[1:] if ":" in f)
                sdev = int(fields["sdev"], 16)  # the kernel's dev_t: major << 20 | minor
                watches.append((os.makedev(sdev >> 20, sdev & 0xFFFFF), int(fields["ino"], 16)))
    return watches


def folders(top: Path) -> dict[tuple[int, int], Path]:
    """``(device, inode)`` → path of ``top`` and every folder inside it."""
    st = top.stat()
    found = {(st.st_dev, st.st_ino): top}
    for folder, subfolders, _ in os.walk(top):
        for sub in subfolders:
            path = Path(folder) / sub
            try:
                st = path.stat(follow_symlinks=False)
            except OSError:
                continue
            found[(st.st_dev, st.st_ino)] = path
    return found


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-gpu",
    "--disable-dev-shm-usage",
)


def chromium_path() -> str | None:
    """Debian's Chromium (Playwright's own browser download cannot work offline), if installed."""
    import shutil

    return shutil.which("chromium") or shutil.which("chromium-browser")


def launch_chromium(playwright, executable: str):
    """Headless Chromium for the browser tests and the benches, started the one way."""
    return playwright.chromium.launch(executable_path=executable, headless=True, args=list(CHROMIUM_ARGS))
