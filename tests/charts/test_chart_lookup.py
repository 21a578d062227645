"""Generated secrets are kept across upgrades: the chart's `lookup` of its live Secret.

`helm template` has no cluster, so lookup finds nothing there. `helm template
--dry-run=server` does look up, against the API server of its kubeconfig: here the stand-in
server of conftest.py, holding the Secret a previous install would have left (with Helm's
ownership labels, which Helm checks before it would adopt the object).
"""

from __future__ import annotations

import base64
import re
import subprocess
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
CHART = REPO_ROOT / "charts" / "incident-platform"
RELEASE = "incident-platform"
NAMESPACE = "incident-platform"
SECRET_PATH = f"/api/v1/namespaces/{NAMESPACE}/secrets/{RELEASE}"


def _live_secret(**values: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": RELEASE,
            "namespace": NAMESPACE,
            "labels": {"app.kubernetes.io/managed-by": "Helm"},
            "annotations": {
                "meta.helm.sh/release-name": RELEASE,
                "meta.helm.sh/release-namespace": NAMESPACE,
            },
        },
        "type": "Opaque",
        "data": {k: base64.b64encode(v.encode()).decode() for k, v in values.items()},
    }


def _render_against(helm: str, fake_kube: Any, *args: str) -> dict[str, str]:
    """The chart's Secret as rendered with lookups against the stand-in API server."""
    result = subprocess.run(
        [helm, "template", RELEASE, str(CHART), "--namespace", NAMESPACE,
         "--dry-run=server", "--disable-openapi-validation",
         "--kube-apiserver", fake_kube.url, "--kubeconfig", "/dev/null", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    (secret,) = [
        doc
        for doc in yaml.safe_load_all(result.stdout)
        if doc and doc["kind"] == "Secret" and doc["metadata"]["name"] == RELEASE
    ]
    return {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}


def test_generated_values_are_read_back_from_the_live_secret(helm: str, fake_kube: Any) -> None:
    fake_kube.put(
        SECRET_PATH,
        _live_secret(**{
            "admin-token": "kept-admin-token-from-install",
            "ack-signing-key": "kept-ack-signing-key-from-install",
            "postgresql-password": "keptPassword123",
        }),
    )  # fmt: skip
    values = _render_against(helm, fake_kube)
    assert values["admin-token"] == "kept-admin-token-from-install"
    assert values["ack-signing-key"] == "kept-ack-signing-key-from-install"
    assert values["postgresql-password"] == "keptPassword123"
    assert ":keptPassword123@" in values["database-url"], "the URL follows the kept password"
    assert ("GET", SECRET_PATH) in fake_kube.requests


def test_a_key_missing_from_the_live_secret_is_generated(helm: str, fake_kube: Any) -> None:
    fake_kube.put(SECRET_PATH, _live_secret(**{"admin-token": "kept-admin-token-from-install"}))
    values = _render_against(helm, fake_kube)
    assert values["admin-token"] == "kept-admin-token-from-install"
    assert re.fullmatch(r"[A-Za-z0-9]{64}", values["ack-signing-key"])
    assert re.fullmatch(r"[A-Za-z0-9]{32}", values["postgresql-password"])


def test_given_values_win_over_the_live_secret(helm: str, fake_kube: Any) -> None:
    fake_kube.put(SECRET_PATH, _live_secret(**{"admin-token": "kept-admin-token-from-install"}))
    values = _render_against(helm, fake_kube, "--set", "auth.adminToken=rotated-admin-token-0001")
    assert values["admin-token"] == "rotated-admin-token-0001"


def test_without_a_live_secret_each_install_generates_new_values(helm: str, fake_kube: Any) -> None:
    first = _render_against(helm, fake_kube)
    second = _render_against(helm, fake_kube)
    for key in ("admin-token", "ack-signing-key", "postgresql-password"):
        assert first[key] != second[key], key
