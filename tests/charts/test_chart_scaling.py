"""Scale-out in charts/incident-platform: autoscalers, disruption budgets, topology spread,
resources, and PostgreSQL as a CloudNativePG Cluster.

Rendered with the real helm binary; the built-in kinds pass kubernetes-validate --strict in
test_chart_render.py (value set "scale"). The Cluster is validated here against the
openAPIV3Schema of CloudNativePG's own CRD (tests/charts/schemas/cnpg-cluster-1.30.0.json,
vendored from the release tag with descriptions removed), strictly: an unknown field is an
error, as with `kubectl apply --validate=strict`.
"""

from __future__ import annotations

import base64
import copy
import json
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from jsonschema import Draft7Validator

REPO_ROOT = Path(__file__).resolve().parents[2]
CHART = REPO_ROOT / "charts" / "incident-platform"
SCALE_VALUES = CHART / "ci" / "scale-values.yaml"
CNPG_SCHEMA = Path(__file__).parent / "schemas" / "cnpg-cluster-1.30.0.json"
RELEASE = "incident-platform"
NAMESPACE = "incident-platform"
CLUSTER = f"{RELEASE}-pg"

JSON = dict[str, Any]
# values key -> component name; the Deployments these objects belong to.
COMPONENTS = {
    "alertIngestion": "alert-ingestion",
    "incidentManagement": "incident-management",
    "oncall": "oncall",
    "web": "web",
}


def template(helm: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [helm, "template", RELEASE, str(CHART), "--namespace", NAMESPACE,
         "--kube-version", "1.31.0", *args],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def render(helm: str, *args: str) -> list[JSON]:
    result = template(helm, *args)
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def of_kind(docs: list[JSON], kind: str) -> dict[str, JSON]:
    return {doc["metadata"]["name"]: doc for doc in docs if doc["kind"] == kind}


def pod_labels(deployment: JSON) -> dict[str, str]:
    labels: dict[str, str] = deployment["spec"]["template"]["metadata"]["labels"]
    return labels


def selects(selector: JSON, labels: dict[str, str]) -> bool:
    return bool(selector["matchLabels"].items() <= labels.items())


@pytest.fixture(scope="module")
def scaled(helm: str) -> list[JSON]:
    return render(helm, "--values", str(SCALE_VALUES))


@pytest.fixture(scope="module")
def default(helm: str) -> list[JSON]:
    return render(helm)


# --- autoscalers ---------------------------------------------------------------------------------


def test_no_autoscaler_by_default_and_the_deployments_keep_their_replicas(
    default: list[JSON],
) -> None:
    assert of_kind(default, "HorizontalPodAutoscaler") == {}
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    for key, component in COMPONENTS.items():
        deployment = of_kind(default, "Deployment")[f"{RELEASE}-{component}"]
        assert deployment["spec"]["replicas"] == values[key]["replicaCount"]


def test_an_autoscaler_per_service_targets_its_deployment_on_cpu(scaled: list[JSON]) -> None:
    values = yaml.safe_load(SCALE_VALUES.read_text())
    deployments = of_kind(scaled, "Deployment")
    autoscalers = of_kind(scaled, "HorizontalPodAutoscaler")
    assert set(autoscalers) == {f"{RELEASE}-{c}" for c in COMPONENTS.values()}
    for key, component in COMPONENTS.items():
        name = f"{RELEASE}-{component}"
        spec = autoscalers[name]["spec"]
        assert autoscalers[name]["apiVersion"] == "autoscaling/v2"
        assert spec["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment",
                                          "name": name}  # fmt: skip
        assert name in deployments
        # The Deployment leaves its pod count to the autoscaler (an upgrade would reset it).
        assert "replicas" not in deployments[name]["spec"]
        wanted = values[key]["autoscaling"]
        assert (spec["minReplicas"], spec["maxReplicas"]) == (
            wanted["minReplicas"],
            wanted["maxReplicas"],
        )
        (metric,) = spec["metrics"]
        assert metric == {
            "type": "Resource",
            "resource": {"name": "cpu", "target": {"type": "Utilization",
                                                   "averageUtilization": 70}},
        }  # fmt: skip
        # Utilization is a share of the request: every container must request CPU.
        for container in deployments[name]["spec"]["template"]["spec"]["containers"]:
            assert "cpu" in container["resources"]["requests"], name


def test_cpu_target_and_bounds_come_from_values(helm: str) -> None:
    docs = render(
        helm,
        "--set",
        "oncall.autoscaling.enabled=true,oncall.autoscaling.minReplicas=3,"
        "oncall.autoscaling.maxReplicas=7,oncall.autoscaling.targetCPUUtilizationPercentage=55",
    )
    (autoscaler,) = of_kind(docs, "HorizontalPodAutoscaler").values()
    spec = autoscaler["spec"]
    assert spec["scaleTargetRef"]["name"] == f"{RELEASE}-oncall"
    assert (spec["minReplicas"], spec["maxReplicas"]) == (3, 7)
    assert spec["metrics"][0]["resource"]["target"]["averageUtilization"] == 55


def test_max_below_min_replicas_is_refused_with_the_key(helm: str) -> None:
    result = template(
        helm,
        "--set",
        "alertIngestion.autoscaling.enabled=true,alertIngestion.autoscaling.minReplicas=5,"
        "alertIngestion.autoscaling.maxReplicas=2",
    )
    assert result.returncode != 0
    assert "alertIngestion.autoscaling.maxReplicas (2) is below minReplicas (5)" in result.stderr


# --- disruption budgets and spreading ------------------------------------------------------------


def test_a_disruption_budget_per_component_selects_exactly_its_pods(default: list[JSON]) -> None:
    deployments = of_kind(default, "Deployment")
    budgets = of_kind(default, "PodDisruptionBudget")
    assert set(budgets) == {f"{RELEASE}-{c}" for c in COMPONENTS.values()}
    for name, budget in budgets.items():
        assert budget["apiVersion"] == "policy/v1"
        assert budget["spec"]["maxUnavailable"] == 1
        selected = [d for d, dep in deployments.items() if selects(budget["spec"]["selector"],
                                                                    pod_labels(dep))]  # fmt: skip
        assert selected == [name]


def test_disruption_budgets_can_be_a_percentage_or_off(helm: str) -> None:
    docs = render(
        helm,
        "--set-string",
        "incidentManagement.podDisruptionBudget.maxUnavailable=50%",
        "--set",
        "web.podDisruptionBudget.enabled=false",
    )
    budgets = of_kind(docs, "PodDisruptionBudget")
    assert budgets[f"{RELEASE}-incident-management"]["spec"]["maxUnavailable"] == "50%"
    assert f"{RELEASE}-web" not in budgets
    assert len(budgets) == 3


def test_pods_spread_over_nodes_and_zones_among_their_own_kind(
    default: list[JSON], scaled: list[JSON]
) -> None:
    for docs, rule in ((default, "ScheduleAnyway"), (scaled, "DoNotSchedule")):
        deployments = of_kind(docs, "Deployment")
        for component in COMPONENTS.values():
            deployment = deployments[f"{RELEASE}-{component}"]
            constraints = deployment["spec"]["template"]["spec"]["topologySpreadConstraints"]
            assert [c["topologyKey"] for c in constraints] == [
                "kubernetes.io/hostname",
                "topology.kubernetes.io/zone",
            ]
            for constraint in constraints:
                assert constraint["maxSkew"] == 1
                assert constraint["whenUnsatisfiable"] == rule
                assert constraint["matchLabelKeys"] == ["pod-template-hash"]
                spread_over = [
                    name
                    for name, other in deployments.items()
                    if selects(constraint["labelSelector"], pod_labels(other))
                ]
                assert spread_over == [f"{RELEASE}-{component}"]


def test_topology_spread_can_be_turned_off(helm: str) -> None:
    docs = render(helm, "--set", "topologySpread.enabled=false")
    for deployment in of_kind(docs, "Deployment").values():
        assert "topologySpreadConstraints" not in deployment["spec"]["template"]["spec"]


def test_services_request_cpu_and_memory_and_have_no_cpu_limit(default: list[JSON]) -> None:
    """A CPU limit throttles a busy worker and stalls every request it holds; the request is
    what the scheduler and the autoscaler count."""
    for component in ("alert-ingestion", "incident-management", "oncall"):
        deployment = of_kind(default, "Deployment")[f"{RELEASE}-{component}"]
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        resources = container["resources"]
        assert {"cpu", "memory"} <= set(resources["requests"]), component
        assert set(resources["limits"]) == {"memory"}, component


# --- CloudNativePG -------------------------------------------------------------------------------


def _strict(schema: JSON) -> JSON:
    """The CRD schema with unknown fields refused wherever the API server would prune them."""
    strict = copy.deepcopy(schema)

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if (
                node.get("type") == "object"
                and "properties" in node
                and "additionalProperties" not in node
                and not node.get("x-kubernetes-preserve-unknown-fields")
            ):
                node["additionalProperties"] = False
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(strict)
    return strict


@pytest.fixture(scope="module")
def cluster_validator() -> Draft7Validator:
    vendored = json.loads(CNPG_SCHEMA.read_text())
    assert vendored["crd"] == "clusters.postgresql.cnpg.io"
    schema = _strict(vendored["openAPIV3Schema"])
    # metadata is the API server's; the CRD leaves it as a bare object.
    schema["properties"]["metadata"] = {"type": "object"}
    return Draft7Validator(schema)


def _errors(validator: Draft7Validator, cluster: JSON) -> list[str]:
    return [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in validator.iter_errors(cluster)
    ]


def _cluster(docs: list[JSON]) -> JSON:
    (cluster,) = of_kind(docs, "Cluster").values()
    return cluster


def test_the_cluster_validates_against_cloudnative_pgs_crd(
    scaled: list[JSON], cluster_validator: Draft7Validator
) -> None:
    cluster = _cluster(scaled)
    assert cluster["apiVersion"] == "postgresql.cnpg.io/v1"
    assert cluster["metadata"]["name"] == CLUSTER
    assert _errors(cluster_validator, cluster) == []


def test_the_crd_schema_catches_what_the_api_server_refuses(
    scaled: list[JSON], cluster_validator: Draft7Validator
) -> None:
    cluster = _cluster(scaled)
    misspelt = copy.deepcopy(cluster)
    misspelt["spec"]["bootstrap"]["initdb"]["databse"] = "x"
    assert any("databse" in e for e in _errors(cluster_validator, misspelt))
    not_a_number = copy.deepcopy(cluster)
    not_a_number["spec"]["instances"] = "three"
    assert any(e.startswith("spec/instances") for e in _errors(cluster_validator, not_a_number))
    bad_strategy = copy.deepcopy(cluster)
    bad_strategy["spec"]["primaryUpdateStrategy"] = "whenever"
    assert _errors(cluster_validator, bad_strategy)


def test_the_cluster_has_three_instances_and_bootstraps_the_platforms_database(
    scaled: list[JSON],
) -> None:
    spec = _cluster(scaled)["spec"]
    values = yaml.safe_load((CHART / "values.yaml").read_text())["postgresql"]
    assert spec["instances"] == 3
    assert spec["bootstrap"]["initdb"] == {
        "database": values["auth"]["database"],
        "owner": values["auth"]["username"],
        "secret": {"name": f"{CLUSTER}-app"},
    }
    assert spec["postgresql"]["parameters"] == {"max_connections": "400"}
    assert spec["storage"] == {"size": "20Gi"}


def test_the_services_connect_to_the_clusters_primary_with_the_bootstrap_credentials(
    scaled: list[JSON],
) -> None:
    secrets = of_kind(scaled, "Secret")
    bootstrap = secrets[f"{CLUSTER}-app"]
    assert bootstrap["type"] == "kubernetes.io/basic-auth"
    username = base64.b64decode(bootstrap["data"]["username"]).decode()
    password = base64.b64decode(bootstrap["data"]["password"]).decode()
    url = urlsplit(base64.b64decode(secrets[RELEASE]["data"]["database-url"]).decode())
    assert url.scheme == "postgresql"
    assert (url.username, url.password) == (username, password)
    assert len(password) == 32
    # <cluster>-rw is the Service CloudNativePG keeps pointed at the current primary.
    assert (url.hostname, url.port) == (f"{CLUSTER}-rw.{NAMESPACE}.svc", 5432)
    assert url.path == "/" + _cluster(scaled)["spec"]["bootstrap"]["initdb"]["database"]
    for component in ("alert-ingestion", "incident-management", "oncall"):
        deployment = of_kind(scaled, "Deployment")[f"{RELEASE}-{component}"]
        spec = deployment["spec"]["template"]["spec"]
        for container in [*spec["initContainers"], *spec["containers"]]:
            (database_url,) = [e for e in container["env"] if e["name"] == "DATABASE_URL"]
            assert database_url["valueFrom"]["secretKeyRef"] == {
                "name": RELEASE,
                "key": "database-url",
            }


def test_a_given_password_reaches_both_secrets(helm: str) -> None:
    docs = render(
        helm,
        "--values",
        str(SCALE_VALUES),
        "--set",
        "postgresql.auth.password=Given-password-123",
    )
    secrets = of_kind(docs, "Secret")
    assert base64.b64decode(secrets[f"{CLUSTER}-app"]["data"]["password"]) == (
        b"Given-password-123"
    )
    url = urlsplit(base64.b64decode(secrets[RELEASE]["data"]["database-url"]).decode())
    assert url.password == "Given-password-123"


def test_with_cloudnative_pg_the_bundled_database_and_the_hook_job_are_gone(
    scaled: list[JSON], default: list[JSON]
) -> None:
    assert of_kind(scaled, "StatefulSet") == {}
    assert f"{RELEASE}-postgresql" not in of_kind(scaled, "Service")
    # The Cluster is part of the release, so no pre-install hook can reach it: the pods
    # migrate in their init container, as with the bundled database.
    assert of_kind(scaled, "Job") == {}
    for docs in (scaled, default):
        deployment = of_kind(docs, "Deployment")[f"{RELEASE}-oncall"]
        (init,) = deployment["spec"]["template"]["spec"]["initContainers"]
        assert init["name"] == "migrate"
    # The bundled one stays the default, for kind.
    assert of_kind(default, "Cluster") == {}
    assert set(of_kind(default, "StatefulSet")) == {f"{RELEASE}-postgresql"}


def test_cloudnative_pg_needs_no_external_database_secret(helm: str) -> None:
    docs = render(
        helm,
        "--set",
        "postgresql.enabled=false,postgresql.cloudnativepg.enabled=true",
    )
    assert set(of_kind(docs, "Cluster")) == {CLUSTER}
    # Without CloudNativePG, the same values still ask for the external database's Secret.
    refused = template(helm, "--set", "postgresql.enabled=false")
    assert refused.returncode != 0
    assert "externalDatabase" in refused.stderr
