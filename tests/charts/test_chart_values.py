"""values.yaml and values.schema.json of charts/incident-platform.

Every value is documented by a comment right above it; the schema and values.yaml describe
the same keys; the defaults and the ci/ scenarios validate; bad values make `helm template`
fail (so `helm install`/`upgrade` fail the same way, before anything reaches a cluster).
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft7Validator

REPO_ROOT = Path(__file__).resolve().parents[2]
CHART = REPO_ROOT / "charts" / "incident-platform"
VALUES = CHART / "values.yaml"
SCHEMA = CHART / "values.schema.json"

_KEY = re.compile(r"^(?P<indent> *)(?P<key>[A-Za-z_][A-Za-z0-9_.-]*):(?: |$)")


def _schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(SCHEMA.read_text())
    return schema


def _deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def undocumented_keys(text: str) -> list[str]:
    """Keys of a values file whose line is not directly preceded by a comment line at the
    same indentation (a blank line in between does not count)."""
    missing: list[str] = []
    lines = text.splitlines()
    path: list[tuple[int, str]] = []
    for number, line in enumerate(lines):
        match = _KEY.match(line)
        if match is None:
            continue
        indent = len(match["indent"])
        path = [(i, k) for i, k in path if i < indent] + [(indent, match["key"])]
        above = lines[number - 1] if number > 0 else ""
        if not (above.strip().startswith("#") and above.startswith(" " * indent + "#")):
            missing.append(".".join(k for _, k in path))
    return missing


def test_every_value_has_a_comment_above_it() -> None:
    text = VALUES.read_text()
    assert undocumented_keys(text) == []
    # ... and the check does find an undocumented key.
    assert undocumented_keys("# doc\na: 1\nb:\n  # doc\n  c: 2\n  d: 3\n") == ["b", "b.d"]
    assert undocumented_keys("# doc\n\na: 1\n") == ["a"]


def test_no_value_is_a_list_of_objects_by_default() -> None:
    """Keys inside list items would escape the comment check: none in the defaults."""
    for line in VALUES.read_text().splitlines():
        if not line.lstrip().startswith("#"):
            assert not re.match(r"^\s*- \w+:", line), line


def _value_paths(values: Any, prefix: str = "") -> Iterator[str]:
    if isinstance(values, dict):
        for key, value in values.items():
            path = f"{prefix}.{key}" if prefix else key
            yield path
            yield from _value_paths(value, path)


def _schema_node(schema: dict[str, Any], path: str) -> dict[str, Any] | None:
    node: dict[str, Any] | None = schema
    for part in path.split("."):
        if node is None:
            return None
        properties = node.get("properties", {})
        if part in properties:
            node = properties[part]
        elif isinstance(node.get("additionalProperties"), dict):
            node = node["additionalProperties"]
        elif node.get("type") == "object" and node.get("additionalProperties") is not False:
            return {}  # a free-form object (resources, affinity ...)
        else:
            return None
    return node


def test_schema_and_values_describe_the_same_keys() -> None:
    schema = _schema()
    values = yaml.safe_load(VALUES.read_text())
    for path in _value_paths(values):
        assert _schema_node(schema, path) is not None, f"{path} is not in values.schema.json"
    for key in schema["properties"]:
        assert key == "global" or key in values, f"values.yaml lacks {key}"
        for child in schema["properties"][key].get("properties", {}):
            assert child in values[key], f"values.yaml lacks {key}.{child}"


def test_strict_objects_refuse_unknown_keys() -> None:
    def walk(node: dict[str, Any], where: str) -> Iterator[str]:
        free_form = {"podSecurityContext", "securityContext"}
        if (
            "properties" in node
            and node.get("additionalProperties") is not False
            and (where not in free_form)
        ):
            yield where or "<root>"
        for name, child in node.get("properties", {}).items():
            yield from walk(child, f"{where}.{name}" if where else name)

    assert list(walk(_schema(), "")) == []


@pytest.mark.parametrize(
    "values_file",
    [None, *sorted((CHART / "ci").glob("*-values.yaml"))],
    ids=lambda p: "defaults" if p is None else p.name,
)
def test_defaults_and_ci_values_validate(values_file: Path | None) -> None:
    schema = _schema()
    Draft7Validator.check_schema(schema)
    values = yaml.safe_load(VALUES.read_text())
    if values_file is not None:
        values = _deep_merge(values, yaml.safe_load(values_file.read_text()))
    errors = [error.message for error in Draft7Validator(schema).iter_errors(values)]
    assert errors == []


BAD_VALUES = {
    "negative-replicas": (["--set", "alertIngestion.replicaCount=-1"],
                          "/alertIngestion/replicaCount"),
    "unknown-pull-policy": (["--set", "image.pullPolicy=Sometimes"], "/image/pullPolicy"),
    "postgres-pull-policy": (["--set", "postgresql.image.pullPolicy=always"],
                             "/postgresql/image/pullPolicy"),
    "zero-workers": (["--set", "oncall.workers=0"], "/oncall/workers"),
    "misspelt-key": (["--set", "oncall.replicas=3"], "replicas"),
    "unknown-top-level-key": (["--set", "ingress.enabled=true"], "ingress"),
    "service-type": (["--set", "service.type=ExternalName"], "/service/type"),
    "node-port-out-of-range": (["--set", "oncall.nodePort=8003"], "/oncall/nodePort"),
    "log-level": (["--set", "config.logLevel=loud"], "/config/logLevel"),
    "public-url": (["--set", "config.publicUrl=incidents.example.com"], "/config/publicUrl"),
    "url-unsafe-password": (["--set", "postgresql.auth.password=p@ss/word"],
                            "/postgresql/auth/password"),
    "short-admin-token": (["--set", "auth.adminToken=short"], "/auth/adminToken"),
    "external-db-without-secret": (["--set", "postgresql.enabled=false"],
                                   "/externalDatabase/existingSecret"),
    "root": (["--set", "securityContext.runAsNonRoot=false"], "/securityContext/runAsNonRoot"),
    "root-pod": (["--set", "podSecurityContext.runAsUser=0"], "/podSecurityContext/runAsUser"),
    "replicas-as-string": (["--set-string", "incidentManagement.replicaCount=two"],
                           "/incidentManagement/replicaCount"),
    "bad-digest": (["--set", "image.digest=latest"], "/image/digest"),
    "budget-blocking-every-drain": (
        ["--set", "alertIngestion.podDisruptionBudget.maxUnavailable=0"],
        "/alertIngestion/podDisruptionBudget/maxUnavailable"),
    "cpu-target-over-100": (["--set", "oncall.autoscaling.targetCPUUtilizationPercentage=150"],
                            "/oncall/autoscaling/targetCPUUtilizationPercentage"),
    "no-autoscaler-pods": (["--set", "web.autoscaling.minReplicas=0"],
                           "/web/autoscaling/minReplicas"),
    "spread-rule": (["--set", "topologySpread.whenUnsatisfiable=Never"],
                    "/topologySpread/whenUnsatisfiable"),
    "cnpg-no-instances": (["--set", "postgresql.cloudnativepg.instances=0"],
                          "/postgresql/cloudnativepg/instances"),
    "cnpg-parameter-not-a-string": (
        ["--set", "postgresql.cloudnativepg.parameters.max_connections=400"],
        "/postgresql/cloudnativepg/parameters/max_connections"),
    "cnpg-unknown-key": (["--set", "postgresql.cloudnativepg.replicas=3"], "replicas"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(BAD_VALUES))
def test_schema_rejects_bad_values(helm: str, case: str) -> None:
    args, where = BAD_VALUES[case]
    result = subprocess.run(
        [helm, "template", "t", str(CHART), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0, f"{case} was accepted"
    assert where in result.stderr, result.stderr
    assert "values don't meet the specifications of the schema" in result.stderr or (
        "at '" in result.stderr
    ), result.stderr


def test_template_guard_without_schema_validation(helm: str) -> None:
    """With --skip-schema-validation the templates still refuse an external database without
    its Secret, with a message that says what to set."""
    result = subprocess.run(
        [helm, "template", "t", str(CHART), "--skip-schema-validation",
         "--set", "postgresql.enabled=false"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode != 0
    assert "externalDatabase.existingSecret" in result.stderr
