"""Fixtures of the Helm chart tests: the helm binary and a stand-in Kubernetes API server.

* ``helm``: the pinned binary at .tools/bin/helm (or $HELM); when it is missing,
  scripts/fetch-helm.sh puts it there first (never skipped).
* ``fake_kube``: a small Kubernetes API server on 127.0.0.1, enough for what no real cluster
  here can do: Helm's ``lookup`` (``helm template --dry-run=server`` against it: discovery and
  GETs of objects) and the operator-credentials program (GET and merge-PATCH of one Secret,
  with resourceVersion preconditions, bearer-token authentication and an injectable
  conflict).

Test modules cannot import this file (pytest's importlib mode), so everything is handed to
them through fixtures (``fake_kube`` is a FakeKubeApi; modules type it as Any).
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
HELM_DEFAULT = REPO_ROOT / ".tools" / "bin" / "helm"

JSON = dict[str, Any]

_CORE = [("secrets", "Secret"), ("services", "Service"), ("serviceaccounts", "ServiceAccount"),
         ("pods", "Pod"), ("configmaps", "ConfigMap"), ("namespaces", "Namespace")]  # fmt: skip
_GROUPS = {
    "apps/v1": [("deployments", "Deployment"), ("statefulsets", "StatefulSet")],
    "batch/v1": [("jobs", "Job")],
    "policy/v1": [("poddisruptionbudgets", "PodDisruptionBudget")],
    "autoscaling/v2": [("horizontalpodautoscalers", "HorizontalPodAutoscaler")],
    "rbac.authorization.k8s.io/v1": [
        ("roles", "Role"),
        ("rolebindings", "RoleBinding"),
        ("clusterroles", "ClusterRole"),
        ("clusterrolebindings", "ClusterRoleBinding"),
    ],
}
_CLUSTER_SCOPED = {"ClusterRole", "ClusterRoleBinding", "Namespace"}


def _resources(pairs: list[tuple[str, str]]) -> list[JSON]:
    return [
        {
            "name": name,
            "singularName": kind.lower(),
            "namespaced": kind not in _CLUSTER_SCOPED,
            "kind": kind,
            "verbs": ["get", "list", "watch", "create", "patch", "update", "delete"],
        }
        for name, kind in pairs
    ]


def _merge(target: JSON, patch: JSON) -> JSON:
    """RFC 7386 JSON merge patch."""
    merged = dict(target)
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


class FakeKubeApi:
    """Objects by URL path, e.g. /api/v1/namespaces/ns/secrets/name."""

    def __init__(self) -> None:
        self.objects: dict[str, JSON] = {}
        self.requests: list[tuple[str, str]] = []
        self.token: str | None = None
        # PATCHes still to answer with 409 Conflict, as if someone wrote the object just before.
        self.conflicts = 0
        self._version = 100
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def put(self, path: str, obj: JSON) -> None:
        with self._lock:
            self._version += 1
            obj.setdefault("metadata", {})["resourceVersion"] = str(self._version)
            self.objects[path] = obj

    def start(self) -> FakeKubeApi:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _answer(self, method: str, path: str, headers: Any, body: bytes) -> tuple[int, JSON]:
        self.requests.append((method, path))
        if self.token is not None and headers.get("Authorization") != f"Bearer {self.token}":
            return 401, {"kind": "Status", "code": 401, "reason": "Unauthorized"}
        if method == "GET":
            return self._get(path)
        if method == "PATCH":
            if headers.get("Content-Type") != "application/merge-patch+json":
                return 415, {"kind": "Status", "code": 415, "reason": "UnsupportedMediaType"}
            return self._patch(path, json.loads(body))
        return 405, {"kind": "Status", "code": 405, "reason": "MethodNotAllowed"}

    def _get(self, path: str) -> tuple[int, JSON]:
        if path == "/version":
            return 200, {"major": "1", "minor": "31", "gitVersion": "v1.31.0"}
        if path == "/api":
            return 200, {"kind": "APIVersions", "versions": ["v1"]}
        if path == "/apis":
            groups = [
                {
                    "name": gv.split("/")[0],
                    "versions": [{"groupVersion": gv, "version": gv.split("/")[1]}],
                    "preferredVersion": {"groupVersion": gv, "version": gv.split("/")[1]},
                }
                for gv in _GROUPS
            ]
            return 200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}
        if path == "/api/v1":
            return 200, {"kind": "APIResourceList", "groupVersion": "v1",
                         "resources": _resources(_CORE)}  # fmt: skip
        if path.startswith("/apis/") and path[len("/apis/") :] in _GROUPS:
            group_version = path[len("/apis/") :]
            return 200, {"kind": "APIResourceList", "groupVersion": group_version,
                         "resources": _resources(_GROUPS[group_version])}  # fmt: skip
        with self._lock:
            if path in self.objects:
                return 200, self.objects[path]
        return 404, {"kind": "Status", "apiVersion": "v1", "status": "Failure",
                     "reason": "NotFound", "code": 404}  # fmt: skip

    def _patch(self, path: str, patch: JSON) -> tuple[int, JSON]:
        with self._lock:
            if path not in self.objects:
                return 404, {"kind": "Status", "code": 404, "reason": "NotFound"}
            current = self.objects[path]
            if self.conflicts > 0:
                self.conflicts -= 1
                self._version += 1
                current["metadata"]["resourceVersion"] = str(self._version)
                return 409, {"kind": "Status", "code": 409, "reason": "Conflict"}
            wanted = patch.get("metadata", {}).get("resourceVersion")
            if wanted is not None and wanted != current["metadata"]["resourceVersion"]:
                return 409, {"kind": "Status", "code": 409, "reason": "Conflict"}
            self._version += 1
            updated = _merge(current, patch)
            updated["metadata"]["resourceVersion"] = str(self._version)
            self.objects[path] = updated
            return 200, updated

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                status, answer = api._answer(
                    self.command, self.path.split("?")[0], self.headers, body
                )
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_PATCH = do_POST = do_PUT = do_DELETE = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


@pytest.fixture
def fake_kube() -> Iterator[FakeKubeApi]:
    api = FakeKubeApi().start()
    try:
        yield api
    finally:
        api.stop()


@pytest.fixture(scope="session")
def helm() -> str:
    """The helm binary; fetched with scripts/fetch-helm.sh (pinned, checksummed) if missing."""
    chosen = os.environ.get("HELM")
    if chosen:
        assert Path(chosen).is_file(), f"HELM={chosen} does not exist"
        return chosen
    if not HELM_DEFAULT.is_file():
        fetched = subprocess.run(
            [str(REPO_ROOT / "scripts" / "fetch-helm.sh")],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert fetched.returncode == 0, "scripts/fetch-helm.sh failed:\n" + fetched.stderr
    assert HELM_DEFAULT.is_file()
    return str(HELM_DEFAULT)
