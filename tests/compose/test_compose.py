"""docker-compose.yml, deploy/prometheus/prometheus.yml and Grafana's data source provisioning.

No Docker engine runs here, so nothing is started: Debian's docker-compose 1.29 validates and
resolves the compose file (``config``), promtool checks the Prometheus configuration, and the
resolved configuration is checked for the layout the platform has when run directly (same
ports, start-up order, non-root containers, required secrets).
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from support.platform import Platform
from support.prometheus import prove_component_labels, running_prometheus

REPO_ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
PROMETHEUS_CONFIG = REPO_ROOT / "deploy" / "prometheus" / "prometheus.yml"
GRAFANA_DATASOURCE = REPO_ROOT / "deploy" / "grafana" / "provisioning" / "datasources"
GRAFANA_DATASOURCE_FILE = GRAFANA_DATASOURCE / "prometheus.yml"

REQUIRED = ("PLATFORM_ADMIN_TOKEN", "ACK_SIGNING_KEY", "GRAFANA_ADMIN_PASSWORD")
SECRETS = {name: f"test-{name.lower()}" for name in REQUIRED}
# service -> (port, module) of the platform's three services, as when run directly.
PLATFORM = {
    "alert-ingestion": (8001, "incident_platform.entrypoints.alert_ingestion"),
    "incident-management": (8002, "incident_platform.entrypoints.incident_management"),
    "oncall": (8003, "incident_platform.entrypoints.oncall"),
}
PORTS = {"postgres": 5432, **{s: p for s, (p, _) in PLATFORM.items()}, "web": 8080,
         "prometheus": 9090, "grafana": 3000}  # fmt: skip
PLATFORM_IMAGE = "incident-platform:dev"


def _compose(
    docker_compose: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    # A clean environment: only what compose needs, so no variable of the caller leaks in.
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/")}
    return subprocess.run(
        [docker_compose, "--ansi", "never", "-f", str(COMPOSE_FILE), *args],
        capture_output=True,
        text=True,
        env={**base, **(SECRETS if env is None else env)},
        cwd=REPO_ROOT,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def resolved(docker_compose: str) -> dict[str, Any]:
    """The compose file as docker-compose resolves it (anchors merged, variables filled in)."""
    result = _compose(docker_compose, "config")
    assert result.returncode == 0, result.stderr
    config: dict[str, Any] = yaml.safe_load(result.stdout)
    return config


def _services(resolved: dict[str, Any]) -> dict[str, dict[str, Any]]:
    services: dict[str, dict[str, Any]] = resolved["services"]
    return services


_SHORT_PORT = re.compile(r"^(?:(?P<ip>[0-9.]+):)?(?P<host>\d+):(?P<container>\d+)(?:/tcp)?$")


def _published(service: dict[str, Any]) -> list[tuple[str, int, int]]:
    """(host ip, host port, container port) of each published port (long or short syntax)."""
    found: list[tuple[str, int, int]] = []
    for port in service.get("ports", []):
        if isinstance(port, dict):
            found.append((port.get("host_ip", ""), int(port["published"]), int(port["target"])))
            continue
        match = _SHORT_PORT.match(str(port))
        assert match is not None, port
        found.append((match["ip"] or "", int(match["host"]), int(match["container"])))
    return found


def _mounts(service: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """target -> (source, mode) of each volume (compose 1.29 resolves them to short syntax)."""
    found: dict[str, tuple[str, str]] = {}
    for volume in service.get("volumes", []):
        source, target, mode = str(volume).split(":")
        found[target] = (source, mode)
    return found


def test_compose_file_is_valid(docker_compose: str) -> None:
    result = _compose(docker_compose, "config", "-q")
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("missing", REQUIRED)
def test_each_secret_is_required(docker_compose: str, missing: str) -> None:
    env = {name: value for name, value in SECRETS.items() if name != missing}
    result = _compose(docker_compose, "config", "-q", env=env)
    assert result.returncode != 0
    assert f"set {missing}" in result.stderr, result.stderr


def test_no_secret_value_is_written_in_the_file() -> None:
    text = COMPOSE_FILE.read_text()
    for name in REQUIRED:
        assert f"${{{name}:?" in text, f"{name} must be a required variable"
    assert "changeme" not in text.lower()


def test_ports_are_the_local_ones_on_loopback_only(resolved: dict[str, Any]) -> None:
    services = _services(resolved)
    assert set(services) == {*PORTS, "migrate"}
    for name, port in PORTS.items():
        assert _published(services[name]) == [("127.0.0.1", port, port)], name
    assert not services["migrate"].get("ports")


def test_start_up_order(resolved: dict[str, Any]) -> None:
    services = _services(resolved)
    assert services["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    for name in PLATFORM:
        assert services[name]["depends_on"] == {
            "postgres": {"condition": "service_healthy"},
            "migrate": {"condition": "service_completed_successfully"},
        }, name
    assert services["migrate"]["restart"] == "no"
    postgres = services["postgres"]
    assert postgres["image"] == "postgres:15"
    assert postgres["healthcheck"]["test"][:2] == ["CMD", "pg_isready"]
    source, _ = _mounts(postgres)["/var/lib/postgresql/data"]
    assert source in resolved["volumes"], "a named volume"


def test_platform_containers_use_the_one_image_and_the_right_commands(
    resolved: dict[str, Any],
) -> None:
    services = _services(resolved)
    for name in (*PLATFORM, "migrate"):
        service = services[name]
        assert service["image"] == PLATFORM_IMAGE, name
        assert Path(service["build"]["context"]) == REPO_ROOT, name
        assert service["build"].get("dockerfile", "Dockerfile") == "Dockerfile", name
    for name, (port, module) in PLATFORM.items():
        service = services[name]
        assert service["command"] == ["python", "-m", module], name
        env = service["environment"]
        assert env["PORT"] == str(port), "the image's HEALTHCHECK probes $PORT"
        assert env["PLATFORM_ADMIN_TOKEN"] == SECRETS["PLATFORM_ADMIN_TOKEN"]
        assert env["DATABASE_URL"].startswith("postgresql://incident:")
        assert env["DATABASE_URL"].endswith("@postgres:5432/incident_platform")
    assert services["oncall"]["environment"]["ACK_SIGNING_KEY"] == SECRETS["ACK_SIGNING_KEY"]
    migrate = services["migrate"]
    assert migrate["command"] == [
        "python", "-c", "from incident_platform.db import migrate; migrate()",
    ]  # fmt: skip
    assert set(migrate["environment"]) == {"DATABASE_URL"}


def test_the_web_ui_forwards_to_the_services_and_holds_no_secret(
    resolved: dict[str, Any],
) -> None:
    web = _services(resolved)["web"]
    assert web["image"] == PLATFORM_IMAGE
    assert web["command"] == ["python", "-m", "incident_platform.web"]
    assert web["environment"] == {
        "PORT": "8080",
        "LOG_LEVEL": "info",
        "WEB_INGESTION_URL": "http://alert-ingestion:8001",
        "WEB_INCIDENTS_URL": "http://incident-management:8002",
        "WEB_ONCALL_URL": "http://oncall:8003",
    }
    assert set(web["depends_on"]) == set(PLATFORM)


def test_every_container_runs_as_non_root(resolved: dict[str, Any]) -> None:
    for name, service in _services(resolved).items():
        user = str(service.get("user", ""))
        assert user, f"{name}: no explicit user"
        assert user.split(":")[0] not in {"0", "root"}, name


def test_platform_containers_are_locked_down(resolved: dict[str, Any]) -> None:
    services = _services(resolved)
    for name in (*PLATFORM, "web", "migrate"):
        service = services[name]
        assert service["user"] == "10001:10001", name
        assert service["read_only"] is True, name
        assert service["tmpfs"] == ["/tmp"], name  # noqa: S108
        assert service["cap_drop"] == ["ALL"], name
        assert "no-new-privileges:true" in service["security_opt"], name
        assert not service.get("privileged"), name


def test_promtool_accepts_the_prometheus_config(promtool: str) -> None:
    result = subprocess.run(
        [promtool, "check", "config", str(PROMETHEUS_CONFIG)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout + result.stderr


def test_promtool_rejects_a_broken_config(promtool: str, tmp_path: Path) -> None:
    broken = tmp_path / "prometheus.yml"
    broken.write_text("scrape_configs:\n  - job_name: x\n    scrape_interval: often\n")
    result = subprocess.run(
        [promtool, "check", "config", str(broken)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0


def test_prometheus_scrapes_the_three_services(resolved: dict[str, Any]) -> None:
    config = yaml.safe_load(PROMETHEUS_CONFIG.read_text())
    targets = {
        job["job_name"]: (job.get("metrics_path", "/metrics"), target)
        for job in config["scrape_configs"]
        for group in job["static_configs"]
        for target in group["targets"]
    }
    for name, (port, _) in PLATFORM.items():
        assert targets[name] == ("/metrics", f"{name}:{port}"), name
    prometheus = _services(resolved)["prometheus"]
    assert _mounts(prometheus)["/etc/prometheus/prometheus.yml"] == (str(PROMETHEUS_CONFIG), "ro")
    assert "--config.file=/etc/prometheus/prometheus.yml" in prometheus["command"]


def test_grafana_provisions_the_prometheus_datasource(resolved: dict[str, Any]) -> None:
    provisioning = yaml.safe_load(GRAFANA_DATASOURCE_FILE.read_text())
    assert provisioning["apiVersion"] == 1
    (datasource,) = provisioning["datasources"]
    assert datasource["type"] == "prometheus"
    assert datasource["url"] == f"http://prometheus:{PORTS['prometheus']}"
    assert datasource["access"] == "proxy"
    assert datasource["isDefault"] is True
    grafana = _services(resolved)["grafana"]
    source, mode = _mounts(grafana)["/etc/grafana/provisioning"]
    assert (Path(source) / "datasources", mode) == (GRAFANA_DATASOURCE, "ro")
    assert grafana["environment"]["GF_SECURITY_ADMIN_PASSWORD"] == SECRETS["GRAFANA_ADMIN_PASSWORD"]


GRAFANA_DASHBOARD_PROVIDER = REPO_ROOT / "deploy" / "grafana" / "provisioning" / "dashboards"
DASHBOARDS = REPO_ROOT / "deploy" / "grafana" / "dashboards"
RULES = REPO_ROOT / "deploy" / "prometheus" / "rules"


def test_prometheus_loads_the_rules_and_labels_targets_by_component(
    resolved: dict[str, Any],
) -> None:
    config = yaml.safe_load(PROMETHEUS_CONFIG.read_text())
    prometheus = _services(resolved)["prometheus"]
    assert _mounts(prometheus)["/etc/prometheus/rules"] == (str(RULES), "ro")
    assert config["rule_files"] == ["/etc/prometheus/rules/*.yml"]
    components = {}
    for job in config["scrape_configs"]:
        for group in job["static_configs"]:
            labels = group.get("labels", {})
            # A target label named like a metric label would rename the metric's own
            # (service -> exported_service); tests/deploy checks the real label set.
            assert "service" not in labels, job["job_name"]
            if job["job_name"] in PLATFORM:
                components[job["job_name"]] = labels["component"]
    assert components == {name: name for name in PLATFORM}


def test_grafana_provisions_the_dashboards_from_the_repository(resolved: dict[str, Any]) -> None:
    provisioning = yaml.safe_load(
        (GRAFANA_DASHBOARD_PROVIDER / "incident-platform.yml").read_text()
    )
    (provider,) = provisioning["providers"]
    assert provider["type"] == "file"
    grafana = _services(resolved)["grafana"]
    mounts = _mounts(grafana)
    assert mounts[provider["options"]["path"]] == (str(DASHBOARDS), "ro")
    assert {path.name for path in DASHBOARDS.glob("*.json")} == {
        "incident-response.json",
        "platform-health.json",
    }


def test_the_compose_scrape_config_keeps_the_incidents_service_label_on_a_real_prometheus(
    platform: Platform, tmp_path: Path
) -> None:
    """deploy/prometheus/prometheus.yml as is, but for its targets (the compose service names
    become the test's ports), its rules' path and a shorter interval."""
    config = yaml.safe_load(PROMETHEUS_CONFIG.read_text())
    ports = {
        "alert-ingestion": platform.ingestion.port,
        "incident-management": platform.incidents.port,
        "oncall": platform.oncall.port,
    }
    config["scrape_configs"] = [job for job in config["scrape_configs"] if job["job_name"] in ports]
    for job in config["scrape_configs"]:
        for group in job["static_configs"]:
            group["targets"] = [f"127.0.0.1:{ports[job['job_name']]}"]
    config["global"].update(scrape_interval="2s", scrape_timeout="2s")
    config["rule_files"] = [str(RULES / "*.yml")]
    with running_prometheus(config, tmp_path / "prometheus") as prometheus:
        prove_component_labels(prometheus, platform)
        assert len(prometheus.rules()) == 2, "the rule files load"
