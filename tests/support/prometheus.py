"""A real Prometheus for tests: its HTTP API, a bounded poll, and one started from a config.

The binary is Debian's (support/debian.py installs it when missing). Nothing is timed: a
poll waits for what the scrapes should show, up to a generous deadline.
"""

import json
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from support.debian import debian_tool
from support.services import free_port

if TYPE_CHECKING:
    from support.platform import Platform

DEADLINE_SECONDS = 120
T = TypeVar("T")
JSON = dict[str, Any]


def eventually(what: str, probe: Callable[[], T | None], deadline: float = DEADLINE_SECONDS) -> T:
    """``probe()``'s first truthy answer, polled until a generous deadline."""
    until = time.monotonic() + deadline
    while True:
        answer = probe()
        if answer:
            return answer
        if time.monotonic() > until:
            raise AssertionError(f"never saw {what} within {deadline} s")
        time.sleep(1)


class PrometheusApi:
    def __init__(self, url: str) -> None:
        self.client = httpx.Client(base_url=url, timeout=30)

    def _data(self, path: str, params: dict[str, Any]) -> Any:
        response = self.client.get(path, params=params)
        body = response.json()
        assert response.status_code == 200, (params, body)
        assert body["status"] == "success", (params, body)
        return body["data"]

    def query(self, expr: str) -> list[JSON]:
        data = self._data("/api/v1/query", {"query": expr})
        result: list[JSON] = data["result"] if data["resultType"] == "vector" else []
        return result

    def query_range(self, expr: str, seconds: int = 600) -> list[JSON]:
        now = time.time()
        params = {"query": expr, "start": now - seconds, "end": now, "step": 15}
        result: list[JSON] = self._data("/api/v1/query_range", params)["result"]
        return result

    def series(self, match: str) -> list[JSON]:
        result: list[JSON] = self._data("/api/v1/series", {"match[]": match})
        return result

    def labels(self) -> list[str]:
        result: list[str] = self._data("/api/v1/labels", {})
        return result

    def rules(self) -> list[JSON]:
        groups: list[JSON] = self._data("/api/v1/rules", {})["groups"]
        return groups


@contextmanager
def running_prometheus(config: Mapping[str, Any], home: Path) -> Iterator[PrometheusApi]:
    """Prometheus on a free loopback port with ``config`` (as JSON, which is YAML), ready."""
    binary = debian_tool("prometheus", "prometheus")
    home.mkdir(parents=True, exist_ok=True)
    (home / "prometheus.yml").write_text(json.dumps(config))
    port = free_port()
    with (home / "prometheus.log").open("ab") as log:
        process = subprocess.Popen(
            [binary, f"--config.file={home / 'prometheus.yml'}",
             f"--storage.tsdb.path={home / 'data'}", f"--web.listen-address=127.0.0.1:{port}"],
            stdout=log,
            stderr=log,
        )  # fmt: skip
    api = PrometheusApi(f"http://127.0.0.1:{port}")
    try:

        def ready() -> bool:
            assert process.poll() is None, (home / "prometheus.log").read_text()[-2000:]
            try:
                return api.client.get("/-/ready").status_code == 200
            except httpx.HTTPError:
                return False

        eventually("Prometheus ready", ready)
        yield api
    finally:
        process.terminate()
        process.wait(timeout=30)
        shutil.rmtree(home / "data", ignore_errors=True)


def prove_component_labels(api: PrometheusApi, platform: "Platform") -> None:
    """On a Prometheus scraping ``platform`` with some deployment's scrape configuration: every
    service is a target labelled `component`, an acknowledged incident's histogram keeps its
    `service` label, and no series carries `exported_service`."""
    from support.platform import create_integration

    components = {"alert-ingestion", "incident-management", "oncall"}
    eventually(
        "the three components up",
        lambda: (
            {s["metric"]["component"] for s in api.query('up{component=~".+"} == 1')} == components
        ),
    )
    service = f"label-proof-{uuid.uuid4().hex[:8]}"
    key = create_integration(platform, "generic")
    created = httpx.post(
        f"{platform.ingestion.url}/api/v1/alerts",
        json={"service": service, "summary": "labels", "severity": "critical"},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert created.status_code == 202, created.text
    incident = created.json()["incident_id"]
    acknowledged = httpx.post(
        f"{platform.incidents.url}/api/v1/incidents/{incident}/acknowledge",
        headers=platform.admin(),
    )
    assert acknowledged.status_code == 200, acknowledged.text
    (series,) = eventually(
        f"the acknowledgement of {service} scraped",
        lambda: api.series(f'incident_time_to_acknowledge_seconds_count{{service="{service}"}}'),
    )
    assert series["component"] == "incident-management"
    assert "exported_service" not in series
    assert api.series('{exported_service=~".+"}') == []
    assert "exported_service" not in api.labels()
