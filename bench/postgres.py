"""The bench's own PostgreSQL: Debian's PostgreSQL 15 with ``pg_stat_statements`` preloaded.

The shared server on 127.0.0.1:5432 is not started with ``shared_preload_libraries =
pg_stat_statements`` and belongs to everyone on the machine, so by default the bench
starts a throwaway cluster of its own (``initdb`` in a temporary directory, a free TCP
port on 127.0.0.1, the server's default durability: ``fsync`` and ``synchronous_commit``
on, 128 MB shared buffers), and stops and deletes it at the end. As root the binaries
are run as the ``postgres`` system user (``initdb`` refuses root).

``--database shared`` (or ``DATABASE_URL``) keeps the old behaviour: the configured
server, else 127.0.0.1:5432, else the embedded one; the statement profile is then left
out unless that server has the extension preloaded.
"""

import contextlib
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

BIN_DIR = Path(os.environ.get("BENCH_PG_BIN", "/usr/lib/postgresql/15/bin"))
# 128 wrk connections reach 2 workers; each worker keeps its own pool, and the
# engine, seeding and statistics connections come on top.
MAX_CONNECTIONS = 400


def available() -> bool:
    return (BIN_DIR / "initdb").is_file() and (BIN_DIR / "pg_ctl").is_file()


def _as_owner(command: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


@dataclass
class OwnPostgres:
    """A PostgreSQL cluster this process creates, starts, stops and deletes."""

    port: int
    data_dir: Path | None = None
    log_path: Path | None = None

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self, log_path: Path) -> str:
        root = Path(tempfile.mkdtemp(prefix="ipt-bench-pg-"))
        self.data_dir = root / "data"
        self.log_path = log_path
        if os.geteuid() == 0:
            shutil.chown(root, "postgres", "postgres")
        subprocess.run(  # noqa: S603 - PostgreSQL's own tools
            _as_owner(
                [
                    str(BIN_DIR / "initdb"),
                    "-D",
                    str(self.data_dir),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--no-instructions",
                ]
            ),
            check=True,
            capture_output=True,
            timeout=120,
        )
        options = " ".join(
            [
                f"-c port={self.port}",
                "-c listen_addresses=127.0.0.1",
                f"-c unix_socket_directories={root}",
                f"-c max_connections={MAX_CONNECTIONS}",
                "-c shared_preload_libraries=pg_stat_statements",
                "-c pg_stat_statements.max=5000",
                "-c track_io_timing=on",
            ]
        )
        server_log = root / "server.log"
        started = subprocess.run(  # noqa: S603
            _as_owner(
                [
                    str(BIN_DIR / "pg_ctl"),
                    "-D",
                    str(self.data_dir),
                    "-l",
                    str(server_log),
                    "-o",
                    options,
                    "-w",
                    "-t",
                    "60",
                    "start",
                ]
            ),
            capture_output=True,
            text=True,
            timeout=90,
            check=False,
        )
        if started.returncode != 0:
            tail = server_log.read_text(errors="replace")[-2000:] if server_log.exists() else ""
            self.stop()
            raise RuntimeError(f"own PostgreSQL did not start: {started.stderr}\n{tail}")
        return self.url

    def stop(self) -> None:
        if self.data_dir is None:
            return
        root = self.data_dir.parent
        if (self.data_dir / "postmaster.pid").exists():
            subprocess.run(  # noqa: S603
                _as_owner(
                    [str(BIN_DIR / "pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "stop"]
                ),
                capture_output=True,
                timeout=60,
                check=False,
            )
        if self.log_path is not None:
            with contextlib.suppress(OSError):
                shutil.copyfile(root / "server.log", self.log_path)
        shutil.rmtree(root, ignore_errors=True)
        self.data_dir = None
