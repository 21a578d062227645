"""The chart's monitoring: ServiceMonitors, PrometheusRule and dashboards for the Prometheus
Operator (ci/monitoring-values.yaml), and the bundled Prometheus and Grafana (ci/kind-values.yaml).

The rules and dashboards the chart ships are the repository's (deploy/), byte for byte; the
scraped component is labelled `component` everywhere and nothing labels targets with a name
the platform's metrics use (that would rename e.g. the incident's `service` to
`exported_service`); the bundled Prometheus's configuration passes promtool; Grafana is
provisioned with that Prometheus and both dashboards; its admin password survives upgrades.
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from support.debian import debian_tool
from support.platform import Platform
from support.prometheus import prove_component_labels, running_prometheus

REPO_ROOT = Path(__file__).resolve().parents[2]
CHART = REPO_ROOT / "charts" / "incident-platform"
RELEASE = "incident-platform"
NAMESPACE = "incident-platform"
RULES = REPO_ROOT / "deploy" / "prometheus" / "rules"
DASHBOARDS = REPO_ROOT / "deploy" / "grafana" / "dashboards"
COMPONENTS = {"alert-ingestion": 8001, "incident-management": 8002, "oncall": 8003}
# Label names the platform's own metrics carry (tests/deploy reads the live set from /metrics
# and checks make run's and compose's scrape configs against it).
METRIC_LABELS = {"service", "severity", "status", "source", "action", "channel", "outcome",
                 "method", "route", "step", "le"}  # fmt: skip
CI = {
    "monitoring": [str(CHART / "ci" / "monitoring-values.yaml")],
    "kind": [str(CHART / "ci" / "kind-values.yaml")],
    "default": [],
}

JSON = dict[str, Any]


def _helm(helm: str, command: str, name: str, *extra: str) -> str:
    args = [arg for path in CI[name] for arg in ("--values", path)]
    result = subprocess.run(
        [helm, command, RELEASE, str(CHART), "--namespace", NAMESPACE, *args, *extra],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def rendered(helm: str) -> dict[str, list[JSON]]:
    return {
        name: [doc for doc in yaml.safe_load_all(_helm(helm, "template", name)) if doc]
        for name in CI
    }


def of_kind(docs: list[JSON], kind: str) -> dict[str, JSON]:
    return {doc["metadata"]["name"]: doc for doc in docs if doc["kind"] == kind}


def name(suffix: str) -> str:
    return f"{RELEASE}-{suffix}"


def deploy_rule_groups() -> list[JSON]:
    return [
        g
        for path in sorted(RULES.glob("*.yml"))
        for g in yaml.safe_load(path.read_text())["groups"]
    ]


def test_the_chart_ships_the_repository_rules_and_dashboards() -> None:
    for ours, theirs, pattern in (
        (CHART / "files" / "rules", RULES, "*.yml"),
        (CHART / "files" / "dashboards", DASHBOARDS, "*.json"),
    ):
        copies = {path.name: path.read_bytes() for path in ours.glob(pattern)}
        originals = {path.name: path.read_bytes() for path in theirs.glob(pattern)}
        assert copies == originals, f"copy {theirs} into {ours}"
        assert copies


def test_everything_is_off_by_default(rendered: dict[str, list[JSON]]) -> None:
    kinds = {doc["kind"] for doc in rendered["default"]}
    assert not kinds & {"ServiceMonitor", "PrometheusRule", "ConfigMap"}
    names = {doc["metadata"]["name"] for doc in rendered["default"]}
    assert not {name("prometheus"), name("grafana"), name("dashboards")} & names


def test_a_service_monitor_per_service_labels_component_and_drops_service(
    rendered: dict[str, list[JSON]],
) -> None:
    docs = rendered["monitoring"]
    monitors = of_kind(docs, "ServiceMonitor")
    services = of_kind(docs, "Service")
    assert set(monitors) == {name(c) for c in COMPONENTS}
    for component in COMPONENTS:
        monitor = monitors[name(component)]
        assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
        spec = monitor["spec"]
        assert spec["namespaceSelector"] == {"matchNames": [NAMESPACE]}
        selected = [
            svc for svc in services.values()
            if spec["selector"]["matchLabels"].items() <= svc["metadata"]["labels"].items()
            and "incident-platform.io/metrics-discovery" not in svc["metadata"]["labels"]
        ]  # fmt: skip
        assert [svc["metadata"]["name"] for svc in selected] == [name(component)]
        (endpoint,) = spec["endpoints"]
        port_names = {port["name"] for port in selected[0]["spec"]["ports"]}
        assert endpoint["port"] in port_names
        assert endpoint["path"] == "/metrics"
        relabelings = endpoint["relabelings"]
        assert {
            "sourceLabels": ["__meta_kubernetes_service_label_app_kubernetes_io_component"],
            "targetLabel": "component",
        } in relabelings
        # The operator labels each target `service`; dropping it keeps the incident's label.
        assert relabelings[-1] == {"action": "labeldrop", "regex": "service"}
        targets = {r.get("targetLabel") for r in relabelings} - {None}
        assert not targets & METRIC_LABELS
        assert selected[0]["metadata"]["labels"]["app.kubernetes.io/component"] == component


def test_the_prometheus_rule_holds_the_repository_rules(rendered: dict[str, list[JSON]]) -> None:
    (rule,) = of_kind(rendered["monitoring"], "PrometheusRule").values()
    assert rule["apiVersion"] == "monitoring.coreos.com/v1"
    assert rule["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    assert sorted(rule["spec"]["groups"], key=lambda g: g["name"]) == sorted(
        deploy_rule_groups(), key=lambda g: g["name"]
    )
    text = json.dumps(rule)
    assert "{{ $labels.component }}" in text, "Prometheus templates are not rendered by Helm"


def _dashboards_configmap(docs: list[JSON]) -> JSON:
    return of_kind(docs, "ConfigMap")[name("dashboards")]


@pytest.mark.parametrize("set_name", ["monitoring", "kind"])
def test_the_dashboards_config_map_is_for_grafanas_sidecar(
    rendered: dict[str, list[JSON]], set_name: str
) -> None:
    configmap = _dashboards_configmap(rendered[set_name])
    assert configmap["metadata"]["labels"]["grafana_dashboard"] == "1"
    expected = {path.name: json.loads(path.read_text()) for path in DASHBOARDS.glob("*.json")}
    assert {key: json.loads(value) for key, value in configmap["data"].items()} == expected
    if set_name == "monitoring":
        assert configmap["metadata"]["annotations"] == {"grafana_folder": "Incident platform"}


def _prometheus_config(docs: list[JSON]) -> tuple[JSON, JSON]:
    configmap = of_kind(docs, "ConfigMap")[name("prometheus")]
    return configmap, yaml.safe_load(configmap["data"]["prometheus.yml"])


def test_bundled_prometheus_finds_each_component_by_dns_and_labels_it(
    rendered: dict[str, list[JSON]],
) -> None:
    docs = rendered["kind"]
    configmap, config = _prometheus_config(docs)
    services = of_kind(docs, "Service")
    deployments = of_kind(docs, "Deployment")
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    for component, port in COMPONENTS.items():
        job = jobs[component]
        (discovery,) = job["dns_sd_configs"]
        assert (discovery["type"], discovery["port"]) == ("A", port)
        headless = services[name(f"{component}-metrics")]
        assert discovery["names"] == [f"{name(component)}-metrics.{NAMESPACE}.svc"]
        assert headless["spec"]["clusterIP"] == "None"
        assert headless["spec"]["publishNotReadyAddresses"] is True, "unready pods report why"
        pod_labels = deployments[name(component)]["spec"]["template"]["metadata"]["labels"]
        assert headless["spec"]["selector"].items() <= pod_labels.items()
        assert job["relabel_configs"] == [{"target_label": "component", "replacement": component}]
    for job in config["scrape_configs"]:
        assert not {r["target_label"] for r in job.get("relabel_configs", [])} & METRIC_LABELS
        for group in job.get("static_configs", []):
            assert not set(group.get("labels", {})) & METRIC_LABELS
    assert config["rule_files"] == ["/etc/prometheus/rules/*.yml"]
    rules = {key: value for key, value in configmap["data"].items() if key != "prometheus.yml"}
    assert rules == {path.name: path.read_text() for path in RULES.glob("*.yml")}


def test_promtool_accepts_the_bundled_prometheus_config(
    rendered: dict[str, list[JSON]], tmp_path: Path
) -> None:
    promtool = debian_tool("promtool", "prometheus")
    configmap, config = _prometheus_config(rendered["kind"])
    for key, value in configmap["data"].items():
        if key != "prometheus.yml":
            (tmp_path / key).write_text(value)
    config["rule_files"] = [str(tmp_path / "*.yml")]
    path = tmp_path / "config" / "prometheus.yml"
    path.parent.mkdir()
    path.write_text(yaml.safe_dump(config))
    result = subprocess.run(
        [promtool, "check", "config", str(path)], capture_output=True, text=True, timeout=60,
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 2 rule files found" in result.stdout + result.stderr


def test_bundled_prometheus_mounts_its_config_and_needs_no_api_access(
    rendered: dict[str, list[JSON]],
) -> None:
    docs = rendered["kind"]
    deployment = of_kind(docs, "Deployment")[name("prometheus")]
    assert deployment["spec"]["replicas"] == 1
    spec = deployment["spec"]["template"]["spec"]
    assert spec["automountServiceAccountToken"] is False
    (container,) = spec["containers"]
    assert "--config.file=/etc/prometheus/prometheus.yml" in container["args"]
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert volumes[mounts["/etc/prometheus/rules"]]["configMap"]["name"] == name("prometheus")
    rule_keys = {
        item["key"] for item in volumes[mounts["/etc/prometheus/rules"]]["configMap"]["items"]
    }
    assert rule_keys == {path.name for path in RULES.glob("*.yml")}
    service = of_kind(docs, "Service")[name("prometheus")]
    assert service["spec"]["ports"][0]["port"] == 9090
    assert not of_kind(docs, "Role").get(name("prometheus"))


def test_bundled_grafana_is_provisioned_with_prometheus_and_both_dashboards(
    rendered: dict[str, list[JSON]],
) -> None:
    docs = rendered["kind"]
    provisioning = of_kind(docs, "ConfigMap")[name("grafana")]["data"]
    (datasource,) = yaml.safe_load(provisioning["datasources.yml"])["datasources"]
    assert datasource["url"] == f"http://{name('prometheus')}.{NAMESPACE}.svc:9090"
    assert (datasource["type"], datasource["isDefault"]) == ("prometheus", True)
    (provider,) = yaml.safe_load(provisioning["dashboards.yml"])["providers"]
    deployment = of_kind(docs, "Deployment")[name("grafana")]
    assert deployment["spec"]["replicas"] == 1
    spec = deployment["spec"]["template"]["spec"]
    (container,) = spec["containers"]
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in spec["volumes"]}
    dashboards = mounts[provider["options"]["path"]]
    assert volumes[dashboards["name"]]["configMap"]["name"] == name("dashboards")
    for kind in ("datasources", "dashboards"):
        mount = mounts[f"/etc/grafana/provisioning/{kind}/incident-platform.yml"]
        assert mount["subPath"] == f"{kind}.yml"
        assert volumes[mount["name"]]["configMap"]["name"] == name("grafana")
    env = {item["name"]: item for item in container["env"]}
    for variable, key in (("GF_SECURITY_ADMIN_USER", "admin-user"),
                          ("GF_SECURITY_ADMIN_PASSWORD", "admin-password")):  # fmt: skip
        assert env[variable]["valueFrom"]["secretKeyRef"] == {"name": name("grafana"), "key": key}
    secret = of_kind(docs, "Secret")[name("grafana")]
    password = base64.b64decode(secret["data"]["admin-password"]).decode()
    assert re.fullmatch(r"[A-Za-z0-9]{24}", password)
    assert of_kind(docs, "Service")[name("grafana")]["spec"]["ports"][0]["port"] == 3000


def test_notes_print_the_port_forward_lines(helm: str) -> None:
    notes = _helm(helm, "install", "kind", "--dry-run=client")
    notes = notes[notes.index("NOTES:") :]
    assert f"kubectl -n {NAMESPACE} port-forward svc/{name('grafana')} 3000:3000" in notes
    assert f"kubectl -n {NAMESPACE} port-forward svc/{name('prometheus')} 9090:9090" in notes
    assert f"get secret {name('grafana')} -o jsonpath='{{.data.admin-password}}'" in notes
    default = _helm(helm, "install", "default", "--dry-run=client")
    assert "port-forward svc/" + name("grafana") not in default


def _grafana_secret_against(helm: str, fake_kube: Any, *args: str) -> dict[str, str]:
    result = subprocess.run(
        [helm, "template", RELEASE, str(CHART), "--namespace", NAMESPACE,
         "--dry-run=server", "--disable-openapi-validation",
         "--kube-apiserver", fake_kube.url, "--kubeconfig", "/dev/null",
         "--set", "grafana.enabled=true", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    (secret,) = [
        doc for doc in yaml.safe_load_all(result.stdout)
        if doc and doc["kind"] == "Secret" and doc["metadata"]["name"] == name("grafana")
    ]  # fmt: skip
    return {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}


def test_grafanas_admin_password_is_kept_across_upgrades(helm: str, fake_kube: Any) -> None:
    first = _grafana_secret_against(helm, fake_kube)["admin-password"]
    assert first != _grafana_secret_against(helm, fake_kube)["admin-password"], "no live Secret"
    kept = "keptGrafanaPassword24ch"
    fake_kube.put(
        f"/api/v1/namespaces/{NAMESPACE}/secrets/{name('grafana')}",
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {
                "name": name("grafana"),
                "namespace": NAMESPACE,
                "labels": {"app.kubernetes.io/managed-by": "Helm"},
                "annotations": {
                    "meta.helm.sh/release-name": RELEASE,
                    "meta.helm.sh/release-namespace": NAMESPACE,
                },
            },
            "type": "Opaque",
            "data": {"admin-password": base64.b64encode(kept.encode()).decode()},
        },
    )
    assert _grafana_secret_against(helm, fake_kube)["admin-password"] == kept
    given = _grafana_secret_against(
        helm, fake_kube, "--set", "grafana.adminPassword=chosen-password-1"
    )
    assert given["admin-password"] == "chosen-password-1"


def test_the_bundled_prometheus_config_keeps_the_incidents_service_label_on_a_real_prometheus(
    rendered: dict[str, list[JSON]], platform: Platform, tmp_path: Path
) -> None:
    """The rendered prometheus.yml as is, but for its discovery: no cluster DNS here, so each
    job's dns_sd_configs become the test's ports (its relabel_configs stay), rules from the
    ConfigMap, a shorter interval."""
    configmap, config = _prometheus_config(rendered["kind"])
    ports = {
        "alert-ingestion": platform.ingestion.port,
        "incident-management": platform.incidents.port,
        "oncall": platform.oncall.port,
    }
    config["scrape_configs"] = [job for job in config["scrape_configs"] if job["job_name"] in ports]
    for job in config["scrape_configs"]:
        del job["dns_sd_configs"]
        job["static_configs"] = [{"targets": [f"127.0.0.1:{ports[job['job_name']]}"]}]
    rules = tmp_path / "rules"
    rules.mkdir()
    for key, value in configmap["data"].items():
        if key != "prometheus.yml":
            (rules / key).write_text(value)
    config["rule_files"] = [str(rules / "*.yml")]
    config["global"].update(scrape_interval="2s", evaluation_interval="2s")
    with running_prometheus(config, tmp_path / "prometheus") as prometheus:
        prove_component_labels(prometheus, platform)
        assert len(prometheus.rules()) == 2, "the rule files load"
