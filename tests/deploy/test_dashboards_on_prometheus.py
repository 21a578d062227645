"""The dashboards and rules on a real Prometheus scraping the real services.

Prometheus (Debian's package) is started exactly as `make run` starts it
(incident_platform.devtools.devprometheus: same scrape configuration and rule files), pointed at the
session's services. Incidents go through their lifecycle over HTTP (opened, acknowledged,
resolved; two left open); then every panel query of every dashboard, with its variables
substituted, and every recording rule run through Prometheus's HTTP API. Nothing is timed:
the fixture polls, within a bounded deadline, until the scrapes show what was done.
"""

import math
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from incident_platform.devtools.devprometheus import RULES_DIR, scrape_config, start_prometheus
from support.dashboards import load_dashboards, substitute, targets
from support.database import truncate_all
from support.platform import Platform, create_integration
from support.prometheus import JSON, PrometheusApi, eventually
from support.services import free_port

pytestmark = pytest.mark.xdist_group("prometheus")

PREFIX = "obs-"  # services of this module's incidents, unlike any other test's


def values(result: list[JSON]) -> list[float]:
    return [float(sample["value"][1]) for sample in result]


def finite(result: list[JSON]) -> list[float]:
    return [value for value in values(result) if math.isfinite(value)]


def panel_expr(dashboard: str, title: str, ref: str = "A", **chosen: str) -> str:
    for target in targets(load_dashboards()):
        if (target.dashboard, target.panel_title, target.ref_id) == (dashboard, title, ref):
            return substitute(target.expr, chosen)
    raise KeyError((dashboard, title, ref))


def _lifecycle(
    platform: Platform, key: str, service: str, severity: str, *, then: str, round_: int = 1
) -> None:
    alert = {"service": service, "summary": f"{service} is down ({round_})", "severity": severity}
    auth = {"Authorization": f"Bearer {key}"}
    answer = httpx.post(f"{platform.ingestion.url}/api/v1/alerts", json=alert, headers=auth)
    assert answer.status_code == 202, answer.text
    assert answer.json()["action"] == "created", answer.text
    incident = answer.json()["incident_id"]
    # A duplicate and a related alert: the noise correlation removes.
    httpx.post(f"{platform.ingestion.url}/api/v1/alerts", json=alert, headers=auth)
    related = {**alert, "summary": f"{service} latency high"}
    httpx.post(f"{platform.ingestion.url}/api/v1/alerts", json=related, headers=auth)
    base = f"{platform.incidents.url}/api/v1/incidents/{incident}"
    if then in ("acknowledged", "resolved"):
        assert httpx.post(f"{base}/acknowledge", headers=platform.admin()).status_code == 200
    if then == "resolved":
        assert httpx.post(f"{base}/resolve", headers=platform.admin()).status_code == 200


@pytest.fixture(scope="module")
def prometheus(
    running_platform: Platform, prometheus_binary: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PrometheusApi]:
    assert Path(prometheus_binary).is_file()  # the Debian package, installed if missing
    platform = running_platform
    truncate_all(platform.database_url)
    targets_ = {
        "alert-ingestion": f"127.0.0.1:{platform.ingestion.port}",
        "incident-management": f"127.0.0.1:{platform.incidents.port}",
        "oncall": f"127.0.0.1:{platform.oncall.port}",
    }
    port = free_port()
    process = start_prometheus(tmp_path_factory.mktemp("prometheus"), "127.0.0.1", targets_, port)
    assert process is not None, "prometheus did not start"
    api = PrometheusApi(f"http://127.0.0.1:{port}")
    try:
        eventually(
            "all three targets up",
            lambda: len(finite(api.query('up{component=~".+"} == 1'))) == 3,
        )
        key = create_integration(platform, "generic")
        # Round one creates the histogram series (they appear at their first observation) ...
        for service, severity in (
            (f"{PREFIX}checkout", "critical"),
            (f"{PREFIX}search", "warning"),
        ):
            _lifecycle(platform, key, service, severity, then="resolved")
        eventually(
            "round one scraped",
            lambda: api.query(
                f'incident_time_to_resolve_seconds_count{{service="{PREFIX}search"}}'
            ),
        )
        # ... round two raises them from a scraped value, so increase() and rate() see it.
        for service, severity in (
            (f"{PREFIX}checkout", "critical"),
            (f"{PREFIX}search", "warning"),
        ):
            _lifecycle(platform, key, service, severity, then="resolved", round_=2)
        _lifecycle(platform, key, f"{PREFIX}payments", "high", then="triggered")
        _lifecycle(platform, key, f"{PREFIX}login", "critical", then="acknowledged")
        eventually(
            "MTTA, MTTR and the open incidents in Prometheus",
            lambda: (
                finite(api.query(panel_expr("incident-response", "MTTA (mean)")))
                and finite(api.query(panel_expr("incident-response", "MTTR (mean)")))
                and values(api.query(panel_expr("incident-response", "Open incidents"))) == [2.0]
            ),
        )
        yield api
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_no_series_carries_exported_service(prometheus: PrometheusApi) -> None:
    assert prometheus.series('{exported_service=~".+"}') == []
    assert "exported_service" not in prometheus.labels()
    # The incident's service is `service`; the scraped component is `component`.
    (series,) = prometheus.series(
        f'incident_time_to_acknowledge_seconds_count{{service="{PREFIX}checkout"}}'
    )
    assert series["component"] == "incident-management"
    assert series["severity"] == "critical"
    components = {
        s["component"] for s in prometheus.series('alerts_received_total{action="created"}')
    }
    assert components == {"alert-ingestion"}


def test_no_scrape_config_labels_targets_like_a_metric_label(
    prometheus: PrometheusApi, running_platform: Platform
) -> None:
    """Every label the services' metrics carry, read from their /metrics, against the target
    labels of make run's and compose's scrape configurations."""
    metric_labels: set[str] = set()
    for service in (
        running_platform.ingestion,
        running_platform.incidents,
        running_platform.oncall,
    ):
        for family in text_string_to_metric_families(httpx.get(service.url + "/metrics").text):
            for sample in family.samples:
                metric_labels |= set(sample.labels)
    assert {"service", "severity", "status", "channel", "route"} <= metric_labels
    compose = yaml.safe_load((RULES_DIR.parent / "prometheus.yml").read_text())
    make_run = scrape_config({"oncall": "127.0.0.1:8003"}, [])
    for config in (compose, make_run):
        for job in config["scrape_configs"]:
            for group in job["static_configs"]:
                assert not set(group.get("labels", {})) & metric_labels, job["job_name"]


def test_every_panel_query_of_every_dashboard_succeeds(prometheus: PrometheusApi) -> None:
    ran = 0
    for target in targets(load_dashboards()):
        expr = substitute(target.expr)
        if target.instant:
            prometheus.query(expr)
        else:
            prometheus.query_range(expr)
        ran += 1
    assert ran >= 40


def test_mtta_mttr_and_open_incident_panels_return_data(prometheus: PrometheusApi) -> None:
    def instant(title: str, ref: str = "A", **chosen: str) -> list[JSON]:
        return prometheus.query(panel_expr("incident-response", title, ref, **chosen))

    (mtta,) = finite(instant("MTTA (mean)"))
    (mttr,) = finite(instant("MTTR (mean)"))
    assert 0 < mtta <= mttr
    assert finite(instant("MTTA (p90)"))
    assert finite(instant("MTTR (p90)"))
    for title in ("MTTA over time", "MTTR over time"):
        for ref in ("A", "B", "C"):
            result = prometheus.query_range(panel_expr("incident-response", title, ref))
            points = [float(v) for s in result for _, v in s["values"]]
            assert any(math.isfinite(v) for v in points), (title, ref)
    by_status = {
        s["metric"]["status"]: float(s["value"][1]) for s in instant("Open incidents by status")
    }
    assert by_status == {"triggered": 1.0, "acknowledged": 1.0}
    by_severity = {
        s["metric"]["severity"]: float(s["value"][1]) for s in instant("Open incidents by severity")
    }
    assert by_severity == {"high": 1.0, "critical": 1.0}
    by_service = prometheus.query_range(
        panel_expr("incident-response", "Open incidents by service")
    )
    assert {s["metric"]["service"] for s in by_service} >= {f"{PREFIX}payments", f"{PREFIX}login"}
    assert values(instant("Unacknowledged incidents")) == [1.0]


def test_service_and_severity_variables_filter(prometheus: PrometheusApi) -> None:
    def open_incidents(**chosen: str) -> list[float]:
        return values(prometheus.query(panel_expr("incident-response", "Open incidents", **chosen)))

    assert open_incidents(service=f"{PREFIX}payments") == [1.0]
    assert open_incidents(service=f"{PREFIX}payments|{PREFIX}login") == [2.0]
    assert open_incidents(service=f"{PREFIX}checkout") == [0.0], "resolved: not open"
    assert open_incidents(severity="critical") == [1.0]
    checkout = finite(
        prometheus.query(
            panel_expr("incident-response", "MTTA (mean)", service=f"{PREFIX}checkout")
        )
    )
    assert len(checkout) == 1
    assert (
        finite(prometheus.query(panel_expr("incident-response", "MTTA (mean)", service="nobody")))
        == []
    )


def test_platform_health_shows_the_live_services(prometheus: PrometheusApi) -> None:
    def instant(title: str) -> dict[str, float]:
        result = prometheus.query(panel_expr("platform-health", title))
        return {s["metric"].get("component", ""): float(s["value"][1]) for s in result}

    components = {"alert-ingestion", "incident-management", "oncall"}
    assert instant("Ready") == dict.fromkeys(components, 1.0)
    assert instant("Targets up") == dict.fromkeys(components, 1.0)
    for title in ("Request rate by component and route", "Database pool use",
                  "CPU by component and instance", "Memory by component and instance"):  # fmt: skip
        result = prometheus.query_range(panel_expr("platform-health", title))
        assert {s["metric"]["component"] for s in result} == components, title
    routes = prometheus.query_range(
        panel_expr("platform-health", "Request rate by component and route")
    )
    assert ("alert-ingestion", "/api/v1/alerts") in {
        (s["metric"]["component"], s["metric"]["route"]) for s in routes
    }
    outbox = prometheus.query(panel_expr("platform-health", "Outbox backlog", "B"))
    assert values(outbox) == [0.0], "the outbox gauge reaches Prometheus (nothing pending)"


def test_rules_are_loaded_and_every_recording_rule_succeeds(prometheus: PrometheusApi) -> None:
    loaded = {rule["name"]: rule for group in prometheus.rules() for rule in group["rules"]}
    for path in sorted(Path(RULES_DIR).glob("*.yml")):
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                name = rule.get("record") or rule["alert"]
                assert name in loaded, name
                assert loaded[name]["health"] != "err", loaded[name]
                if "record" in rule:
                    prometheus.query(rule["expr"])
    per_service = prometheus.query(
        yaml.safe_load((RULES_DIR / "recording.yml").read_text())["groups"][0]["rules"][0]["expr"]
    )
    assert f"{PREFIX}checkout" in {s["metric"]["service"] for s in per_service}
