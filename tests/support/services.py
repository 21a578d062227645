"""Service processes started the way production starts them: uvicorn on a TCP port."""

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class ServiceProcess:
    module: str
    env: dict[str, str]
    workers: int = 1
    port: int = field(default_factory=free_port)
    log_path: Path | None = None
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "ServiceProcess":
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                self.module,
                "--port",
                str(self.port),
                "--workers",
                str(self.workers),
                "--log-level",
                "info",
            ],
            env={**os.environ, **self.env},
            stdout=log,
            stderr=log,
        )
        return self

    # Generous: on a loaded 2-core machine (several suites at once) a dozen service processes
    # importing at the same time took over a minute to answer.
    def wait_until(self, path: str, status: int = 200, timeout: float = 180.0) -> httpx.Response:
        deadline = time.monotonic() + timeout
        last: httpx.Response | Exception | None = None
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"{self.module} exited with {self.process.returncode}")
            try:
                last = httpx.get(self.url + path, timeout=2)
                if last.status_code == status:
                    return last
            except httpx.HTTPError as error:
                last = error
            time.sleep(0.1)
        raise TimeoutError(f"{self.module}{path} never answered {status}; last: {last!r}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
