"""A real, throwaway PostgreSQL server for tests, from Debian's ``postgresql`` package.

``with postgres_server() as pg: pg.url`` runs ``initdb`` in a fresh temporary folder and starts
the server on a free loopback port (its unix socket in that folder too, never /var/run), then
stops it and deletes the folder.  initdb and the server refuse to run as root, so under root they
run as the ``postgres`` system user, which owns the folder.  Missing binaries raise
:class:`PostgresMissing` (scripts/ensure_postgres.sh installs them; ``make test`` runs it).
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

START_TIMEOUT_S = 60
ATTEMPTS = 3  # a free port found by bind(0) can be taken before the server binds it: try again


class PostgresMissing(RuntimeError):
    pass


@dataclass(frozen=True)
class PostgresServer:
    folder: Path
    port: int
    user: str = "postgres"

    @property
    def url(self) -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/postgres"


def bin_dir() -> Path:
    """The newest installed server's bin folder (``/usr/lib/postgresql/<version>/bin``)."""
    found = sorted(
        (Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/initdb")),
        key=lambda d: int(d.parent.name) if d.parent.name.isdigit() else 0,
    )
    if not found:
        raise PostgresMissing(
            "PostgreSQL's server binaries are missing (no /usr/lib/postgresql/*/bin/initdb): run "
            "scripts/ensure_postgres.sh (Debian/Ubuntu: sudo apt-get install postgresql)."
        )
    return found[-1]


def _server_user() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam("postgres")
    except KeyError as exc:
        raise PostgresMissing(
            "as root, the server runs as the 'postgres' user: the package makes it"
        ) from exc


def _as_server_user(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(cmd: list[str], log: Path) -> None:
    result = subprocess.run(_as_server_user(cmd), capture_output=True, text=True, timeout=START_TIMEOUT_S)
    if result.returncode != 0:
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        raise RuntimeError(
            f"{' '.join(cmd[:2])} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}\n{tail}"
        )


@contextlib.contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    binaries = bin_dir()
    folder = Path(tempfile.mkdtemp(prefix="el-pg-"))  # short: a unix socket path has ~100 bytes
    data, log = folder / "data", folder / "server.log"
    if os.geteuid() == 0:
        user = _server_user()
        os.chown(folder, user.pw_uid, user.pw_gid)
    started: PostgresServer | None = None
    try:
        # trust: only this machine's loopback and the folder's socket reach it, for minutes
        initdb_options = ["-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync", "--no-instructions"]
        _run([str(binaries / "initdb"), "-D", str(data), *initdb_options], log)
        for attempt in range(ATTEMPTS):
            port = _free_port()
            options = f"-c listen_addresses=127.0.0.1 -p {port} -k {folder} -c max_connections=100"
            wait = ["-w", "-t", str(START_TIMEOUT_S)]
            try:
                _run(
                    [
                        str(binaries / "pg_ctl"),
                        "-D",
                        str(data),
                        "-l",
                        str(log),
                        *wait,
                        "-o",
                        options,
                        "start",
                    ],
                    log,
                )
            except RuntimeError:
                if attempt == ATTEMPTS - 1:
                    raise
                continue
            started = PostgresServer(folder=folder, port=port)
            break
        assert started is not None
        yield started
    finally:
        if started is not None:
            with contextlib.suppress(Exception):
                _run([str(binaries / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"], log)
        shutil.rmtree(folder, ignore_errors=True)
