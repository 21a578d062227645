"""charts/incident-platform rendered with `helm template` for several sets of values.

Each set is rendered once per module (cached) and every manifest is checked offline: valid
Kubernetes objects (kubernetes-validate --strict), the restricted Pod Security Standard, the
wiring between objects (Secrets, Services, probes, the operator's credentials), least
privilege RBAC equal to operator/deploy/rbac.yaml, and the chart's CRDs equal to crds/.
"""

from __future__ import annotations

import base64
import re
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
CHART = REPO_ROOT / "charts" / "incident-platform"
RELEASE = "incident-platform"
NAMESPACE = "incident-platform"
K8S_VERSION = "1.31"
PLATFORM_IMAGE = re.compile(r"^incident-platform[:@]")

JSON = dict[str, Any]
Render = Callable[[str], list[JSON]]

# name -> extra `helm template` arguments
VALUE_SETS: dict[str, list[str]] = {
    "default": [],
    "external-database": ["--values", str(CHART / "ci" / "external-database-values.yaml")],
    "operator": ["--set", "operator.enabled=true"],
    "operator-existing-credentials": [
        "--set",
        "operator.enabled=true,operator.oncallSync=true,"
        "operator.credentials.existingSecret=operator-credentials",
    ],
    "nodeport": ["--set", "service.type=NodePort"],
    "monitoring": ["--values", str(CHART / "ci" / "monitoring-values.yaml")],
    "kind": [
        "--values",
        str(CHART / "ci" / "kind-values.yaml"),
        "--set-string",
        "image.repository=incident-platform,image.tag=dev",
    ],
    # Autoscaled services on a three-instance CloudNativePG Cluster (test_chart_scaling.py).
    "scale": ["--values", str(CHART / "ci" / "scale-values.yaml")],
}
SETS = list(VALUE_SETS)
# values key -> (component name, module, port)
COMPONENTS = {
    "alertIngestion": ("alert-ingestion", "incident_platform.entrypoints.alert_ingestion", 8001),
    "incidentManagement": (
        "incident-management",
        "incident_platform.entrypoints.incident_management",
        8002,
    ),
    "oncall": ("oncall", "incident_platform.entrypoints.oncall", 8003),
}
WORKLOADS = {"Deployment", "StatefulSet", "Job", "Pod"}
# Prometheus Operator kinds: kubernetes-validate has no schema for them (test_chart_monitoring.py
# checks their fields).
CUSTOM_KINDS = {"ServiceMonitor", "PrometheusRule"}
# CloudNativePG's Cluster: test_chart_scaling.py validates it against the CNPG CRD's schema.
CUSTOM_KINDS |= {"Cluster"}
# (The web UI's Deployment and Service, one each: tests/charts/test_chart_web.py.)


def helm_template(helm: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [helm, "template", RELEASE, str(CHART), "--namespace", NAMESPACE,
         "--kube-version", f"{K8S_VERSION}.0", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )  # fmt: skip


def parse(text: str) -> list[JSON]:
    return [doc for doc in yaml.safe_load_all(text) if doc]


@pytest.fixture(scope="module")
def render(helm: str) -> Render:
    """The manifests of a named value set, rendered once per module."""
    cache: dict[str, list[JSON]] = {}

    def rendered(name: str) -> list[JSON]:
        if name not in cache:
            result = helm_template(helm, *VALUE_SETS[name])
            assert result.returncode == 0, result.stderr
            cache[name] = parse(result.stdout)
        return cache[name]

    return rendered


def of_kind(docs: list[JSON], kind: str) -> dict[str, JSON]:
    return {doc["metadata"]["name"]: doc for doc in docs if doc["kind"] == kind}


def one(docs: list[JSON], kind: str, name: str) -> JSON:
    found = of_kind(docs, kind)
    assert name in found, f"no {kind} {name}; there are {sorted(found)}"
    return found[name]


def pod_spec(workload: JSON) -> JSON:
    spec: JSON = (
        workload["spec"] if workload["kind"] == "Pod" else workload["spec"]["template"]["spec"]
    )
    return spec


def containers(spec: JSON) -> list[JSON]:
    return [*spec.get("initContainers", []), *spec["containers"]]


def workloads(docs: list[JSON]) -> Iterator[tuple[str, JSON]]:
    for doc in docs:
        if doc["kind"] in WORKLOADS:
            yield f"{doc['kind']}/{doc['metadata']['name']}", pod_spec(doc)


def env_of(container: JSON) -> dict[str, JSON]:
    return {item["name"]: item for item in container.get("env", [])}


def secret_ref(container: JSON, name: str) -> tuple[str, str]:
    ref = env_of(container)[name]["valueFrom"]["secretKeyRef"]
    return ref["name"], ref["key"]


def decoded(secret: JSON) -> dict[str, str]:
    return {k: base64.b64decode(v).decode() for k, v in secret.get("data", {}).items()}


def service_url(docs: list[JSON], component: str) -> str:
    service = one(docs, "Service", f"{RELEASE}-{component}")
    port = service["spec"]["ports"][0]["port"]
    return f"http://{RELEASE}-{component}.{NAMESPACE}.svc:{port}"


def chart_file(name: str) -> str:
    return (CHART / "files" / name).read_text()


def walk_strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from walk_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from walk_strings(item)


# --- lint and schema-level validity -------------------------------------------------------------


@pytest.mark.parametrize("name", SETS)
def test_helm_lint_strict(helm: str, name: str) -> None:
    result = subprocess.run(
        [helm, "lint", "--strict", str(CHART), *VALUE_SETS[name]],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[WARNING]" not in result.stdout, result.stdout
    assert "[ERROR]" not in result.stdout, result.stdout


@pytest.mark.parametrize("name", SETS)
def test_every_manifest_passes_kubernetes_validate_strict(render: Render, name: str) -> None:
    problems = []
    for doc in render(name):
        if doc["kind"] in CUSTOM_KINDS:
            continue
        try:
            kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            problems.append(f"{doc['kind']}/{doc['metadata']['name']}: {error}")
    assert not problems, "\n".join(problems)


def test_kubernetes_validate_strict_catches_a_misspelt_field(render: Render) -> None:
    deployment = dict(one(render("default"), "Deployment", f"{RELEASE}-oncall"))
    pod_spec(deployment)["securityContext"]["runAsNonroot"] = True
    with pytest.raises(kubernetes_validate.ValidationError, match="runAsNonroot"):
        kubernetes_validate.validate(deployment, K8S_VERSION, strict=True)


def test_the_objects_of_each_set(render: Render) -> None:
    def kinds(name: str) -> dict[str, int]:
        counted: dict[str, int] = {}
        for doc in render(name):
            counted[doc["kind"]] = counted.get(doc["kind"], 0) + 1
        return counted

    # A PodDisruptionBudget for each of the three services and the web UI, by default.
    assert kinds("default") == {
        "Deployment": 4, "Service": 6, "StatefulSet": 1, "Secret": 1, "ServiceAccount": 1,
        "Pod": 1, "PodDisruptionBudget": 4,
    }  # fmt: skip
    assert kinds("external-database") == {
        "Deployment": 4, "Service": 4, "Job": 1, "ServiceAccount": 1, "Pod": 1,
        "PodDisruptionBudget": 4,
    }  # fmt: skip
    assert kinds("operator") == {
        "Deployment": 5, "Service": 6, "StatefulSet": 1, "Secret": 2, "ServiceAccount": 3,
        "Pod": 1, "ClusterRole": 1, "ClusterRoleBinding": 1, "Role": 1, "RoleBinding": 1,
        "Job": 1, "PodDisruptionBudget": 4,
    }  # fmt: skip
    assert kinds("operator-existing-credentials") == {
        "Deployment": 5, "Service": 6, "StatefulSet": 1, "Secret": 1, "ServiceAccount": 2,
        "Pod": 1, "ClusterRole": 1, "ClusterRoleBinding": 1, "PodDisruptionBudget": 4,
    }  # fmt: skip
    # No StatefulSet, no migration Job: the Cluster and its bootstrap Secret instead.
    assert kinds("scale") == {
        "Deployment": 4, "Service": 4, "Secret": 2, "ServiceAccount": 1, "Pod": 1,
        "PodDisruptionBudget": 4, "HorizontalPodAutoscaler": 4, "Cluster": 1,
    }  # fmt: skip
    for name in SETS:
        for doc in render(name):
            metadata = doc["metadata"]
            if doc["kind"] not in {"ClusterRole", "ClusterRoleBinding"}:
                assert metadata["namespace"] == NAMESPACE, metadata["name"]
            assert metadata["labels"]["app.kubernetes.io/instance"] == RELEASE
            assert metadata["labels"]["app.kubernetes.io/managed-by"] == "Helm"


# --- pod security --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", SETS)
def test_every_pod_meets_the_restricted_pod_security_standard(render: Render, name: str) -> None:
    for where, spec in workloads(render(name)):
        pod_security = spec["securityContext"]
        assert pod_security["runAsNonRoot"] is True, where
        assert pod_security["runAsUser"] > 0, where
        assert pod_security["seccompProfile"] == {"type": "RuntimeDefault"}, where
        for host in ("hostNetwork", "hostPID", "hostIPC"):
            assert not spec.get(host), (where, host)
        for volume in spec.get("volumes", []):
            kinds = set(volume) - {"name"}
            assert kinds <= {"emptyDir", "secret", "configMap", "persistentVolumeClaim"}, volume
        for container in containers(spec):
            what = f"{where}/{container['name']}"
            security = container["securityContext"]
            assert security.get("runAsNonRoot", True) is True, what
            assert security.get("runAsUser", pod_security["runAsUser"]) != 0, what
            assert security["readOnlyRootFilesystem"] is True, what
            assert security["allowPrivilegeEscalation"] is False, what
            assert security.get("privileged", False) is False, what
            assert security["capabilities"] == {"drop": ["ALL"]}, what
            assert "add" not in security["capabilities"], what
            assert {"cpu", "memory"} <= set(container["resources"]["requests"]), what
            assert "memory" in container["resources"]["limits"], what
            assert not container.get("ports") or all(
                "hostPort" not in port for port in container["ports"]
            ), what


@pytest.mark.parametrize("name", SETS)
def test_platform_containers_run_as_the_image_user_with_a_writable_tmp_only(
    render: Render, name: str
) -> None:
    seen = 0
    for where, spec in workloads(render(name)):
        volumes = {volume["name"]: volume for volume in spec.get("volumes", [])}
        for container in containers(spec):
            if not PLATFORM_IMAGE.match(container["image"]):
                continue
            seen += 1
            assert spec["securityContext"]["runAsUser"] == 10001, where
            mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts", [])}
            assert set(mounts) == {"/tmp"}, where  # noqa: S108
            assert "emptyDir" in volumes[mounts["/tmp"]], where  # noqa: S108
    assert seen >= 4


def test_only_the_operator_and_its_credentials_job_get_an_api_token(render: Render) -> None:
    allowed = {f"Deployment/{RELEASE}-operator", f"Job/{RELEASE}-operator-credentials-1"}
    for where, spec in workloads(render("operator")):
        if where in allowed:
            assert spec["automountServiceAccountToken"] is True, where
        else:
            assert spec["automountServiceAccountToken"] is False, where


# --- the three services --------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["default", "kind"])
def test_services_commands_probes_and_ports(render: Render, name: str) -> None:
    docs = render(name)
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    if name == "kind":
        values.update(yaml.safe_load((CHART / "ci" / "kind-values.yaml").read_text()))
    for key, (component, module, port) in COMPONENTS.items():
        deployment = one(docs, "Deployment", f"{RELEASE}-{component}")
        # Under an autoscaler the Deployment leaves the pod count to it.
        replicas = None if name == "scale" else values[key]["replicaCount"]
        assert deployment["spec"].get("replicas") == replicas
        spec = pod_spec(deployment)
        (container,) = spec["containers"]
        assert container["command"] == [
            "python", "-m", module, "--host=0.0.0.0", f"--port={port}",
            f"--workers={values[key]['workers']}",
        ]  # fmt: skip
        assert container["ports"] == [{"name": "http", "containerPort": port, "protocol": "TCP"}]
        assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
        assert container["startupProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
        assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
        service = one(docs, "Service", f"{RELEASE}-{component}")
        (service_port,) = service["spec"]["ports"]
        assert (service_port["port"], service_port["targetPort"]) == (port, "http")
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert service["spec"]["selector"].items() <= labels.items()
        assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
        env = env_of(container)
        assert secret_ref(container, "PLATFORM_ADMIN_TOKEN") == (RELEASE, "admin-token")
        assert ("ACK_SIGNING_KEY" in env) == (key == "oncall"), "only on-call signs ack links"
        assert ("RUN_ENGINE" in env) == (key == "oncall")


def test_selectors_tell_the_components_apart(render: Render) -> None:
    docs = render("default")
    selectors = [
        tuple(sorted(doc["spec"]["selector"].items()))
        for doc in of_kind(docs, "Service").values()
        if doc["spec"].get("clusterIP") != "None"
    ]
    assert len(set(selectors)) == len(selectors)


def _kind_node_ports() -> dict[int, int]:
    """host port -> node port of kind-config.yaml."""
    config = yaml.safe_load((REPO_ROOT / "kind-config.yaml").read_text())
    mappings = config["nodes"][0]["extraPortMappings"]
    return {m["hostPort"]: m["containerPort"] for m in mappings}


def test_services_are_cluster_ip_by_default(render: Render) -> None:
    for component, _, _ in COMPONENTS.values():
        service = one(render("default"), "Service", f"{RELEASE}-{component}")
        assert service["spec"]["type"] == "ClusterIP"
        assert "nodePort" not in service["spec"]["ports"][0]


@pytest.mark.parametrize("name", ["nodeport", "kind"])
def test_node_ports_are_kind_configs(render: Render, name: str) -> None:
    node_ports = _kind_node_ports()
    for component, _, port in COMPONENTS.values():
        service = one(render(name), "Service", f"{RELEASE}-{component}")
        assert service["spec"]["type"] == "NodePort"
        assert service["spec"]["ports"][0]["nodePort"] == node_ports[port], component


def test_scrape_annotations(render: Render, helm: str) -> None:
    for component, _, port in COMPONENTS.values():
        deployment = one(render("default"), "Deployment", f"{RELEASE}-{component}")
        annotations = deployment["spec"]["template"]["metadata"]["annotations"]
        assert annotations["prometheus.io/scrape"] == "true"
        assert annotations["prometheus.io/port"] == str(port)
        assert annotations["prometheus.io/path"] == "/metrics"
    off = parse(helm_template(helm, "--set", "metrics.scrapeAnnotations=false").stdout)
    for deployment in of_kind(off, "Deployment").values():
        annotations = deployment["spec"]["template"]["metadata"].get("annotations", {})
        assert not any(key.startswith("prometheus.io/") for key in annotations)


def test_image_reference(render: Render, helm: str) -> None:
    app_version = yaml.safe_load((CHART / "Chart.yaml").read_text())["appVersion"]
    images = {c["image"] for _, spec in workloads(render("default")) for c in containers(spec)}
    assert images == {f"incident-platform:{app_version}", "postgres:15"}
    kind = {c["image"] for _, spec in workloads(render("kind")) for c in containers(spec)}
    monitoring = {"prom/prometheus:v2.53.0", "grafana/grafana:11.1.0"}  # pulled, like postgres
    assert kind == {"incident-platform:dev", "postgres:15", *monitoring}, "what kind-e2e.sh loads"
    digest = "sha256:" + "a" * 64
    pinned = parse(helm_template(helm, "--set", f"image.digest={digest}").stdout)
    deployment = one(pinned, "Deployment", f"{RELEASE}-oncall")
    assert pod_spec(deployment)["containers"][0]["image"] == f"incident-platform@{digest}"


# --- secrets and the database --------------------------------------------------------------------


def test_bundled_database_and_generated_secrets(render: Render) -> None:
    docs = render("default")
    secret = one(docs, "Secret", RELEASE)
    assert secret["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    values = decoded(secret)
    assert set(values) == {"admin-token", "ack-signing-key", "postgresql-password",
                           "database-url"}  # fmt: skip
    for key, length in (("admin-token", 48), ("ack-signing-key", 64), ("postgresql-password", 32)):
        assert re.fullmatch(rf"[A-Za-z0-9]{{{length}}}", values[key]), key
    host = f"{RELEASE}-postgresql.{NAMESPACE}.svc"
    assert values["database-url"] == (
        f"postgresql://incident:{values['postgresql-password']}@{host}:5432/incident_platform"
    )
    one(docs, "Service", f"{RELEASE}-postgresql")
    statefulset = one(docs, "StatefulSet", f"{RELEASE}-postgresql")
    (postgres,) = pod_spec(statefulset)["containers"]
    assert secret_ref(postgres, "POSTGRES_PASSWORD") == (RELEASE, "postgresql-password")
    assert env_of(postgres)["POSTGRES_USER"]["value"] == "incident"
    assert env_of(postgres)["POSTGRES_DB"]["value"] == "incident_platform"
    assert statefulset["spec"]["replicas"] == 1
    assert statefulset["spec"]["serviceName"] == f"{RELEASE}-postgresql-hl"
    assert one(docs, "Service", f"{RELEASE}-postgresql-hl")["spec"]["clusterIP"] == "None"
    migrate = chart_file("migrate.py")
    for component, _, _ in COMPONENTS.values():
        spec = pod_spec(one(docs, "Deployment", f"{RELEASE}-{component}"))
        (init,) = spec["initContainers"]
        assert init["command"] == ["python", "-c", migrate], "files/migrate.py, as is"
        assert secret_ref(init, "DATABASE_URL") == (RELEASE, "database-url")
        assert secret_ref(spec["containers"][0], "DATABASE_URL") == (RELEASE, "database-url")
    assert not of_kind(docs, "Job"), "no pre-install hook: the database is not there yet"


def test_given_secret_values_are_used_as_they_are(helm: str) -> None:
    result = helm_template(
        helm, "--set",
        "auth.adminToken=admin-token-0123456789,auth.ackSigningKey=" + "k" * 40
        + ",postgresql.auth.password=pass-word_0.9~,config.smtp.password=smtp",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    values = decoded(one(parse(result.stdout), "Secret", RELEASE))
    assert values["admin-token"] == "admin-token-0123456789"
    assert values["ack-signing-key"] == "k" * 40
    assert values["postgresql-password"] == "pass-word_0.9~"
    assert ":pass-word_0.9~@" in values["database-url"]
    assert values["smtp-password"] == "smtp"


def test_external_database_and_existing_secret(render: Render) -> None:
    docs = render("external-database")
    assert not of_kind(docs, "Secret"), "everything comes from the existing Secrets"
    assert not of_kind(docs, "StatefulSet")
    (job,) = of_kind(docs, "Job").values()
    annotations = job["metadata"]["annotations"]
    assert annotations["helm.sh/hook"] == "pre-install,pre-upgrade"
    assert "before-hook-creation" in annotations["helm.sh/hook-delete-policy"].split(",")
    (migrate,) = pod_spec(job)["containers"]
    assert migrate["command"] == ["python", "-c", chart_file("migrate.py")]
    assert secret_ref(migrate, "DATABASE_URL") == ("platform-database", "database-url")
    assert pod_spec(job)["restartPolicy"] == "Never"
    for component, _, _ in COMPONENTS.values():
        spec = pod_spec(one(docs, "Deployment", f"{RELEASE}-{component}"))
        assert "initContainers" not in spec, "migrated by the hook"
        (container,) = spec["containers"]
        assert secret_ref(container, "DATABASE_URL") == ("platform-database", "database-url")
        assert secret_ref(container, "PLATFORM_ADMIN_TOKEN") == ("platform-auth", "admin-token")
        if component == "oncall":
            assert secret_ref(container, "ACK_SIGNING_KEY") == ("platform-auth", "ack-signing-key")


# --- the operator ---------------------------------------------------------------------------------


def _repo_operator(kind: str) -> JSON:
    for path in sorted((REPO_ROOT / "operator" / "deploy").glob("*.yaml")):
        for doc in parse(path.read_text()):
            if doc["kind"] == kind:
                return doc
    raise AssertionError(kind)


def _rules(role: JSON) -> dict[tuple[str, str, str], set[str]]:
    """(apiGroup, resource, resourceName or '') -> verbs."""
    granted: dict[tuple[str, str, str], set[str]] = {}
    for rule in role["rules"]:
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                for name in rule.get("resourceNames", [""]):
                    granted.setdefault((group, resource, name), set()).update(rule["verbs"])
    return granted


@pytest.mark.parametrize("name", ["operator", "operator-existing-credentials", "kind"])
def test_operator_cluster_role_equals_operator_deploy_rbac(render: Render, name: str) -> None:
    role = one(render(name), "ClusterRole", f"{RELEASE}-operator")
    assert _rules(role) == _rules(_repo_operator("ClusterRole"))
    binding = one(render(name), "ClusterRoleBinding", f"{RELEASE}-operator")
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io",
                                  "kind": "ClusterRole", "name": f"{RELEASE}-operator"}  # fmt: skip
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": f"{RELEASE}-operator",
                                    "namespace": NAMESPACE}]  # fmt: skip


@pytest.mark.parametrize("name", SETS)
def test_no_wildcards_and_no_dangerous_verbs_in_rbac(render: Render, name: str) -> None:
    dangerous = {"*", "delete", "deletecollection", "update", "escalate", "bind", "impersonate",
                 "list", "watch"}  # fmt: skip
    for kind in ("ClusterRole", "Role"):
        for role in of_kind(render(name), kind).values():
            assert "aggregationRule" not in role
            assert not any("*" in text for text in walk_strings(role["rules"])), role
            for (_group, resource, resource_name), verbs in _rules(role).items():
                if resource == "secrets":
                    assert resource_name, "secrets only by name"
                    assert not verbs & dangerous, verbs
                if kind == "ClusterRole":
                    assert resource not in {"secrets", "pods", "pods/exec", "serviceaccounts"}


def test_operator_deployment_matches_operator_deploy(render: Render) -> None:
    docs = render("operator")
    deployment = one(docs, "Deployment", f"{RELEASE}-operator")
    (container,) = pod_spec(deployment)["containers"]
    repo = _repo_operator("Deployment")
    (repo_container,) = pod_spec(repo)["containers"]
    assert container["command"] == repo_container["command"]
    assert container["livenessProbe"] == repo_container["livenessProbe"]
    assert container["ports"] == repo_container["ports"]
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    assert pod_spec(deployment)["serviceAccountName"] == f"{RELEASE}-operator"
    env = env_of(container)
    assert env["ALERT_INGESTION_URL"]["value"] == service_url(docs, "alert-ingestion")
    assert env["INCIDENT_MANAGEMENT_URL"]["value"] == service_url(docs, "incident-management")
    assert env["ONCALL_URL"]["value"] == service_url(docs, "oncall")
    assert env["INCIDENT_NAMESPACE"]["value"] == NAMESPACE
    credentials = f"{RELEASE}-operator"
    assert secret_ref(container, "PLATFORM_INTEGRATION_KEY") == (credentials, "integration-key")
    assert secret_ref(container, "PLATFORM_API_TOKEN") == (credentials, "token")
    oncall_token = env["ONCALL_API_TOKEN"]["valueFrom"]["secretKeyRef"]
    assert oncall_token == {"name": credentials, "key": "oncall-token", "optional": True}
    from_image = {"PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE"}  # the Dockerfile's ENV
    repo_env = set(env_of(repo_container)) - from_image
    assert repo_env <= set(env), "every variable operator/deploy/deployment.yaml sets"
    secret = one(docs, "Secret", credentials)
    assert "data" not in secret, "Helm never owns the keys"
    assert "stringData" not in secret


def _script_env(script: str) -> set[str]:
    return set(re.findall(r"""env(?:\.get\(|\[)["']([A-Z_]+)["']""", script))


def test_operator_credentials_job(render: Render) -> None:
    docs = render("operator")
    job = one(docs, "Job", f"{RELEASE}-operator-credentials-1")
    assert "helm.sh/hook" not in job["metadata"].get("annotations", {}), (
        "a post-install hook would deadlock `helm install --wait`: see operator/credentials.yaml"
    )
    spec = pod_spec(job)
    (container,) = spec["containers"]
    script = chart_file("operator_credentials.py")
    assert container["command"] == ["python", "-c", script], "files/operator_credentials.py"
    env = env_of(container)
    optional = {"ONCALL_TOKEN_NAME", "WAIT_SECONDS", "INTEGRATION_NAME", "TOKEN_NAME"}
    assert _script_env(script) - optional <= set(env), "every variable the program needs"
    assert set(env) <= _script_env(script), "no variable the program ignores"
    assert env["ALERT_INGESTION_URL"]["value"] == service_url(docs, "alert-ingestion")
    assert env["INCIDENT_MANAGEMENT_URL"]["value"] == service_url(docs, "incident-management")
    assert env["SECRET_NAME"]["value"] == f"{RELEASE}-operator"
    assert env["SECRET_NAMESPACE"]["valueFrom"] == {"fieldRef": {"fieldPath":
                                                                 "metadata.namespace"}}  # fmt: skip
    assert secret_ref(container, "PLATFORM_ADMIN_TOKEN") == (RELEASE, "admin-token")
    account = spec["serviceAccountName"]
    role = one(docs, "Role", f"{RELEASE}-operator-credentials")
    assert role["rules"] == [{"apiGroups": [""], "resources": ["secrets"],
                              "resourceNames": [f"{RELEASE}-operator"],
                              "verbs": ["get", "patch"]}], "that one Secret, no create"  # fmt: skip
    binding = one(docs, "RoleBinding", f"{RELEASE}-operator-credentials")
    assert binding["roleRef"]["name"] == role["metadata"]["name"]
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": account,
                                    "namespace": NAMESPACE}]  # fmt: skip
    one(docs, "ServiceAccount", account)


def test_operator_job_name_follows_the_revision(helm: str) -> None:
    """A Job's pod template is immutable: each revision gets a Job of its own."""
    result = subprocess.run(
        [helm, "template", RELEASE, str(CHART), "--namespace", NAMESPACE, "--set",
         "operator.enabled=true,operator.oncallSync=true", "--is-upgrade"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    jobs = of_kind(parse(result.stdout), "Job")
    (name,) = jobs
    assert re.fullmatch(rf"{RELEASE}-operator-credentials-\d+", name)
    (container,) = pod_spec(jobs[name])["containers"]
    assert env_of(container)["ONCALL_TOKEN_NAME"]["value"] == "kubernetes-operator-oncall"
    deployment = one(parse(result.stdout), "Deployment", f"{RELEASE}-operator")
    (operator,) = pod_spec(deployment)["containers"]
    assert secret_ref(operator, "ONCALL_API_TOKEN") == (f"{RELEASE}-operator", "oncall-token")
    ref = env_of(operator)["ONCALL_API_TOKEN"]["valueFrom"]["secretKeyRef"]
    assert "optional" not in ref, "minted by the Job: required"


def test_existing_operator_credentials(render: Render) -> None:
    docs = render("operator-existing-credentials")
    assert not of_kind(docs, "Job")
    assert not of_kind(docs, "Role")
    assert f"{RELEASE}-operator" not in of_kind(docs, "Secret")
    (container,) = pod_spec(one(docs, "Deployment", f"{RELEASE}-operator"))["containers"]
    assert secret_ref(container, "PLATFORM_API_TOKEN") == ("operator-credentials", "token")
    assert secret_ref(container, "ONCALL_API_TOKEN") == ("operator-credentials", "oncall-token")


# --- helm test -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["default", "operator", "kind"])
def test_helm_test_pod_checks_every_service(render: Render, name: str) -> None:
    docs = render(name)
    pod = one(docs, "Pod", f"{RELEASE}-test-connection")
    assert pod["metadata"]["annotations"]["helm.sh/hook"] == "test"
    (container,) = pod["spec"]["containers"]
    urls = [service_url(docs, component) for component, _, _ in COMPONENTS.values()]
    assert container["command"] == ["python", "-c", chart_file("readyz_check.py"), *urls]
    assert pod["spec"]["restartPolicy"] == "Never"
    if name == "default":
        assert "env" not in container
    else:
        assert secret_ref(container, "OPERATOR_TOKEN") == (f"{RELEASE}-operator", "token")


def test_kind_e2e_waits_for_the_operator_the_chart_deploys(render: Render) -> None:
    script = (REPO_ROOT / "scripts" / "kind-e2e.sh").read_text()
    assert 'release="incident-platform"' in script
    assert '--values "${chart_dir}/ci/kind-values.yaml"' in script
    assert 'operator_deployment="${release}-operator"' in script
    one(render("kind"), "Deployment", f"{RELEASE}-operator")


# --- CRDs ----------------------------------------------------------------------------------------


def test_chart_crds_are_the_repository_crds() -> None:
    ours = {p.name: p.read_bytes() for p in (CHART / "crds").iterdir()}
    theirs = {p.name: p.read_bytes() for p in (REPO_ROOT / "crds").glob("*.yaml")}
    assert ours == theirs, "copy crds/*.yaml to charts/incident-platform/crds/"
    assert not any((CHART / "crds").glob("*.md")), "helm would try to install it"


def test_include_crds_renders_them(helm: str) -> None:
    result = helm_template(helm, "--include-crds")
    assert result.returncode == 0, result.stderr
    crds = of_kind(parse(result.stdout), "CustomResourceDefinition")
    assert set(crds) == {"alerts.incident-platform.io", "incidents.incident-platform.io",
                         "oncallschedules.incident-platform.io",
                         "escalationpolicies.incident-platform.io",
                         "silences.incident-platform.io"}  # fmt: skip
    for crd in crds.values():
        kubernetes_validate.validate(crd, K8S_VERSION, strict=True)


@pytest.mark.parametrize("name", ["default", "external-database", "kind"])
def test_install_notes_render(helm: str, name: str) -> None:
    """NOTES.txt (shown by `helm install`; `helm template` skips it), via a client-side dry
    run that needs no cluster."""
    result = subprocess.run(
        [helm, "install", RELEASE, str(CHART), "--namespace", NAMESPACE, "--dry-run=client",
         "--kubeconfig", "/dev/null", *VALUE_SETS[name]],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    notes = result.stdout.split("NOTES:\n", 1)[1]
    assert f"helm test {RELEASE} -n {NAMESPACE} --logs" in notes
    assert f"get secret {'platform-auth' if name == 'external-database' else RELEASE}" in notes
    assert ("node port 30001" in notes) == (name == "kind")
    assert ("deployment/incident-platform-operator" in notes) == (name == "kind")
