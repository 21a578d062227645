"""``make run`` as the README tells a new user to use it: it starts everything, the first
curl alert opens an incident that pages the demo's on-call person, and Ctrl-C stops it all.

Run on 127.0.0.2 (the same fixed ports, another loopback address), so that it meets
neither a developer's own ``make run`` nor the suite's services on 127.0.0.1; against a
database of its own on the suite's server.
"""

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from support.database import create_database, drop_database

HOST = "127.0.0.2"
PORTS = (8001, 8002, 8003, 8080)


class Output:
    """The lines the platform prints, as they come."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        self._queue: queue.Queue[str] = queue.Queue()
        assert process.stdout is not None
        stream = process.stdout

        def follow() -> None:
            for line in stream:
                self._queue.put(line)

        threading.Thread(target=follow, daemon=True).start()

    def wait_for(self, text: str, timeout: float) -> str:
        """The first line starting with ``text``."""
        deadline = time.monotonic() + timeout
        for line in self.lines:
            if line.startswith(text):
                return line
        while time.monotonic() < deadline:
            try:
                line = self._queue.get(timeout=0.5)
            except queue.Empty:
                continue
            self.lines.append(line)
            if line.startswith(text):
                return line
        raise AssertionError(f"never printed {text!r}; last lines: {self.lines[-20:]}")


def listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex((HOST, port)) == 0


@pytest.fixture
def platform_run(
    postgres_server: str, tmp_path: Path
) -> Iterator[tuple[subprocess.Popen[str], Output, Path]]:
    busy = [port for port in PORTS if listening(port)]
    assert busy == [], f"{HOST} ports {busy} are taken: is another platform-run using them?"
    url = create_database(postgres_server)
    data = tmp_path / "data"
    env = {**os.environ, "DATABASE_URL": url, "HOST": HOST, "PLATFORM_DATA_DIR": str(data)}
    env.pop("PLATFORM_ADMIN_TOKEN", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "incident_platform.devtools.devrun"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )
    try:
        yield process, Output(process), data
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        drop_database(postgres_server, url)


def test_make_run_pages_for_the_first_alert_and_stops_on_ctrl_c(
    platform_run: tuple[subprocess.Popen[str], Output, Path],
) -> None:
    process, output, data = platform_run
    output.wait_for("Ctrl-C stops everything.", timeout=600)  # may build the UI bundle first
    token = (data / "admin-token").read_text().strip()
    key = (data / "demo-integration-key").read_text().strip()
    assert ["admin", "token", token] in [line.split() for line in output.lines]

    alert = {
        "service": "checkout",
        "summary": "Checkout error rate above 5%",
        "severity": "critical",
    }
    created = httpx.post(
        f"http://{HOST}:8001/api/v1/alerts", json=alert, headers={"Authorization": f"Bearer {key}"}
    )
    assert created.status_code == 202
    assert created.json()["action"] == "created"
    page = output.wait_for("[page] ", timeout=120)  # "[page] bob: #1 ... ack: <link>"
    assert f"#{created.json()['incident_id']} Checkout error rate above 5% (critical)" in page
    ack_url = page.rsplit("ack: ", 1)[1].strip()
    assert httpx.get(ack_url).status_code == 200
    incident = httpx.get(
        f"http://{HOST}:8002/api/v1/incidents/{created.json()['incident_id']}",
        headers={"Authorization": f"Bearer {token}"},
    ).json()
    assert incident["status"] == "acknowledged"
    ui = httpx.get(f"http://{HOST}:8080/")
    assert ui.status_code == 200
    assert "frame-ancestors 'none'" in ui.headers["content-security-policy"]

    os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C sends the terminal's foreground job
    assert process.wait(timeout=90) == 0
    assert [port for port in PORTS if listening(port)] == []
