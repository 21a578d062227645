"""Prometheus for ``make run``: scrapes the local services and loads the platform's rules.

Started only when a ``prometheus`` binary is on PATH (Debian package ``prometheus``); the
platform runs without it. The scrape configuration labels each target with ``component``,
never ``service``: the platform's metrics carry the incident's ``service`` label, which a
target label of the same name would rename to ``exported_service``.
"""

import json
import shutil
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

PROMETHEUS_PORT = 9090
SCRAPE_INTERVAL = "5s"
# deploy/prometheus/rules of the repository `make run` is started from (an editable install).
RULES_DIR = Path(__file__).resolve().parents[3] / "deploy" / "prometheus" / "rules"
MISSING_HINT = (
    "prometheus not found on PATH: install it (Debian/Ubuntu: apt-get install prometheus)"
    " to get Prometheus with the platform's rules on :9090"
)


def scrape_config(targets: Mapping[str, str], rule_files: list[str]) -> dict[str, Any]:
    """Prometheus configuration: each ``component -> host:port`` scraped every 5 seconds."""
    return {
        "global": {"scrape_interval": SCRAPE_INTERVAL, "evaluation_interval": SCRAPE_INTERVAL},
        "rule_files": rule_files,
        "scrape_configs": [
            {
                "job_name": component,
                "metrics_path": "/metrics",
                "static_configs": [{"targets": [target], "labels": {"component": component}}],
            }
            for component, target in targets.items()
        ],
    }


def start_prometheus(
    data: Path, host: str, targets: Mapping[str, str], port: int = PROMETHEUS_PORT
) -> subprocess.Popen[bytes] | None:
    """Prometheus on ``host``:``port`` with its data under ``data``/prometheus, ready; None
    (and one line saying why) when the binary is missing or it does not start."""
    binary = shutil.which("prometheus")
    if binary is None:
        print(MISSING_HINT, flush=True)
        return None
    home = data / "prometheus"
    home.mkdir(parents=True, exist_ok=True)
    config = home / "prometheus.yml"
    rules = sorted(str(path) for path in RULES_DIR.glob("*.yml"))
    # JSON is YAML: no YAML library needed to write Prometheus's configuration.
    config.write_text(json.dumps(scrape_config(targets, rules), indent=2) + "\n")
    log_path = home / "prometheus.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(  # noqa: S603 - the prometheus binary found on PATH
            [
                binary,
                f"--config.file={config}",
                f"--storage.tsdb.path={home / 'data'}",
                f"--web.listen-address={host}:{port}",
                "--storage.tsdb.retention.time=7d",
            ],
            stdout=log,
            stderr=log,
        )
    url = f"http://{host}:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"{url}/-/ready", timeout=1).status_code == 200:
                print(f"Prometheus on {url} ({len(rules)} rule files; log {log_path})", flush=True)
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    print(f"prometheus did not start (is :{port} taken?); see {log_path}", flush=True)
    if process.poll() is None:
        process.terminate()
        process.wait(timeout=10)
    return None
