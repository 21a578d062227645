"""operator/deploy/: valid manifests, least-privilege RBAC, a locked-down operator Deployment."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
DEPLOY = REPO_ROOT / "operator" / "deploy"
MANIFESTS = sorted(DEPLOY.glob("*.yaml"))
K8S_VERSIONS = ("1.30", kubernetes_validate.latest_version())
GROUP = "incident-platform.io"
NAMESPACE = "incident-platform"
WRITABLE_DIR = "/tmp"  # noqa: S108  (the operator container's only writable mount)

LoadDocs = Callable[[Path], list[dict[str, Any]]]

# The whole ClusterRole, as (apiGroup, resource) -> verbs. Any change to the operator's
# privileges has to change this table too, on purpose.
EXPECTED_RULES: dict[tuple[str, str], set[str]] = {
    ("apiextensions.k8s.io", "customresourcedefinitions"): {"list", "watch"},
    ("", "events"): {"create"},
    (GROUP, "alerts"): {"get", "list", "watch", "patch"},
    (GROUP, "silences"): {"get", "list", "watch", "patch"},
    (GROUP, "oncallschedules"): {"get", "list", "watch", "patch"},
    (GROUP, "escalationpolicies"): {"get", "list", "watch", "patch"},
    (GROUP, "incidents"): {"get", "list", "watch", "patch", "create"},
    (GROUP, "alerts/status"): {"patch"},
    (GROUP, "incidents/status"): {"patch"},
    (GROUP, "silences/status"): {"patch"},
    (GROUP, "oncallschedules/status"): {"patch"},
    (GROUP, "escalationpolicies/status"): {"patch"},
}
DANGEROUS_VERBS = {"*", "delete", "deletecollection", "update", "escalate", "bind", "impersonate"}


def _docs(yaml_docs: LoadDocs) -> list[dict[str, Any]]:
    return [doc for path in MANIFESTS for doc in yaml_docs(path)]


def _by_kind(yaml_docs: LoadDocs, kind: str) -> dict[str, Any]:
    (doc,) = [d for d in _docs(yaml_docs) if d["kind"] == kind]
    return doc


def _cluster_role_rules(yaml_docs: LoadDocs) -> dict[tuple[str, str], set[str]]:
    granted: dict[tuple[str, str], set[str]] = {}
    for rule in _by_kind(yaml_docs, "ClusterRole")["rules"]:
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                granted.setdefault((group, resource), set()).update(rule["verbs"])
    return granted


def _operator_container(yaml_docs: LoadDocs) -> dict[str, Any]:
    containers: list[dict[str, Any]] = _by_kind(yaml_docs, "Deployment")["spec"]["template"][
        "spec"
    ]["containers"]
    (container,) = containers
    return container


def _walk_strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _walk_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _walk_strings(item)


def test_the_expected_objects_are_there(yaml_docs: LoadDocs) -> None:
    kinds = sorted(doc["kind"] for doc in _docs(yaml_docs))
    assert kinds == [
        "ClusterRole", "ClusterRoleBinding", "Deployment", "Namespace", "ServiceAccount",
    ]  # fmt: skip


@pytest.mark.parametrize("k8s_version", K8S_VERSIONS)
@pytest.mark.parametrize("path", MANIFESTS, ids=[p.name for p in MANIFESTS])
def test_manifest_passes_kubernetes_validate_strict(
    path: Path, k8s_version: str, yaml_docs: LoadDocs
) -> None:
    for doc in yaml_docs(path):
        kubernetes_validate.validate(doc, k8s_version, strict=True)


def test_kubernetes_validate_strict_catches_a_misspelt_field(yaml_docs: LoadDocs) -> None:
    deployment = _by_kind(yaml_docs, "Deployment")
    deployment["spec"]["template"]["spec"]["securityContext"]["runAsNonroot"] = True
    with pytest.raises(kubernetes_validate.ValidationError, match="runAsNonroot"):
        kubernetes_validate.validate(deployment, K8S_VERSIONS[-1], strict=True)


def test_no_wildcard_anywhere_in_rbac(yaml_docs: LoadDocs) -> None:
    role = _by_kind(yaml_docs, "ClusterRole")
    for rule in role["rules"]:
        assert set(rule) <= {"apiGroups", "resources", "verbs"}, "no resourceNames/URLs needed"
        for key in ("apiGroups", "resources", "verbs"):
            for value in rule[key]:
                assert "*" not in value, (key, value)
    assert not any("*" in text for text in _walk_strings(role))
    assert "aggregationRule" not in role


def test_cluster_role_is_exactly_least_privilege(yaml_docs: LoadDocs) -> None:
    assert _cluster_role_rules(yaml_docs) == EXPECTED_RULES


def test_no_dangerous_verbs_and_no_secrets(yaml_docs: LoadDocs) -> None:
    granted = _cluster_role_rules(yaml_docs)
    for (group, resource), verbs in granted.items():
        assert not verbs & DANGEROUS_VERBS, (group, resource, verbs)
        assert resource not in {"secrets", "configmaps", "pods", "pods/exec", "serviceaccounts"}
        assert not resource.endswith("/finalizers")
    assert ("kopf.dev", "kopfpeerings") not in granted, "runs --standalone: no peering"
    assert ("", "namespaces") not in granted, "runs --all-namespaces: no namespace observation"
    assert ("events.k8s.io", "events") not in granted, "kopf posts core v1 events only"


def test_every_crd_is_served_by_the_role(
    crds: dict[str, dict[str, Any]], yaml_docs: LoadDocs
) -> None:
    granted = _cluster_role_rules(yaml_docs)
    ours = {resource for group, resource in granted if group == GROUP}
    plurals = {crd["spec"]["names"]["plural"] for crd in crds.values()}
    assert ours == plurals | {f"{plural}/status" for plural in plurals}
    for plural in plurals:
        assert {"list", "watch", "patch"} <= granted[(GROUP, plural)], plural
        assert granted[(GROUP, f"{plural}/status")] == {"patch"}, plural
    assert "create" in granted[(GROUP, "incidents")], "the operator creates mirror Incidents"


def test_binding_ties_the_role_to_the_deployments_service_account(yaml_docs: LoadDocs) -> None:
    account = _by_kind(yaml_docs, "ServiceAccount")
    role = _by_kind(yaml_docs, "ClusterRole")
    binding = _by_kind(yaml_docs, "ClusterRoleBinding")
    deployment = _by_kind(yaml_docs, "Deployment")
    namespace = _by_kind(yaml_docs, "Namespace")
    assert namespace["metadata"]["name"] == NAMESPACE
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "ClusterRole",
        "name": role["metadata"]["name"],
    }
    assert binding["subjects"] == [
        {
            "kind": "ServiceAccount",
            "name": account["metadata"]["name"],
            "namespace": account["metadata"]["namespace"],
        }
    ]
    assert account["metadata"]["namespace"] == deployment["metadata"]["namespace"] == NAMESPACE
    pod = deployment["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == account["metadata"]["name"]


def test_operator_runs_standalone_in_one_replica(yaml_docs: LoadDocs) -> None:
    deployment = _by_kind(yaml_docs, "Deployment")
    command = _operator_container(yaml_docs)["command"]
    assert command[:2] == ["kopf", "run"]
    assert "--standalone" in command
    assert "--all-namespaces" in command
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}


def test_operator_command_options_exist_in_kopf() -> None:
    """The options the Deployment passes are real `kopf run` options of the kopf we ship."""
    help_text = subprocess.run(
        [sys.executable, "-m", "kopf", "run", "--help"], capture_output=True, text=True, check=True
    ).stdout
    for option in ("--standalone", "--all-namespaces", "--liveness", "--module"):
        assert re.search(rf"(^|[\s,]){re.escape(option)}\b", help_text), option


def test_deployment_runs_as_non_root_with_a_read_only_root_fs(yaml_docs: LoadDocs) -> None:
    pod = _by_kind(yaml_docs, "Deployment")["spec"]["template"]["spec"]
    container = _operator_container(yaml_docs)
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] > 0
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    security = container["securityContext"]
    assert security["runAsNonRoot"] is True
    assert security.get("runAsUser", pod["securityContext"]["runAsUser"]) != 0
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security.get("privileged", False) is False
    assert security["capabilities"] == {"drop": ["ALL"]}
    for host_namespace in ("hostNetwork", "hostPID", "hostIPC"):
        assert not pod.get(host_namespace), host_namespace
    # The only writable place is an emptyDir at /tmp.
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert set(mounts) == {WRITABLE_DIR}
    assert "emptyDir" in volumes[mounts[WRITABLE_DIR]]


def test_deployment_sets_resources(yaml_docs: LoadDocs) -> None:
    resources = _operator_container(yaml_docs)["resources"]
    assert set(resources["requests"]) == {"cpu", "memory"}
    assert set(resources["limits"]) >= {"memory"}


def test_liveness_probe_hits_kopfs_liveness_endpoint(yaml_docs: LoadDocs) -> None:
    container = _operator_container(yaml_docs)
    (liveness,) = [arg for arg in container["command"] if arg.startswith("--liveness=")]
    match = re.fullmatch(r"--liveness=http://0\.0\.0\.0:(\d+)(/\S*)", liveness)
    assert match is not None, liveness
    port, path = int(match[1]), match[2]
    probe = container["livenessProbe"]["httpGet"]
    assert probe["path"] == path == "/healthz"
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports.get(probe["port"], probe["port"]) == port == 8080


def test_namespace_allows_the_operator_under_pod_security(yaml_docs: LoadDocs) -> None:
    labels = _by_kind(yaml_docs, "Namespace")["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] in ("baseline", "restricted")
    assert labels["pod-security.kubernetes.io/warn"] == "restricted"
