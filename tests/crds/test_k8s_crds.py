"""The CRDs in crds/: valid for the API server, structural, and consistently named."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

import kubernetes_validate
import pytest

GROUP = "incident-platform.io"
VERSION = "v1alpha1"
KINDS = ("Alert", "Incident", "OnCallSchedule", "EscalationPolicy", "Silence")
# The oldest Kubernetes we support (kind's node images of the last few releases) and the newest
# kubernetes-validate knows.
K8S_VERSIONS = ("1.30", kubernetes_validate.latest_version())

# Short names of built-in resources (kubectl api-resources): ours must not shadow any.
BUILTIN_SHORT_NAMES = {
    "cm", "cs", "csr", "crd", "crds", "cj", "deploy", "ds", "ep", "ev", "hpa", "ing",
    "limits", "netpol", "no", "ns", "pc", "pdb", "po", "psp", "pv", "pvc", "quota", "rc",
    "rs", "sa", "sc", "sts", "svc", "vac", "ipaddr",
}  # fmt: skip

# The columns `kubectl get` shows by default (priority 0), in order.
DEFAULT_COLUMNS = {
    "Alert": ["Service", "Severity", "State", "Incident", "Phase", "Age"],
    "Incident": ["Service", "Severity", "Status", "Alerts", "TTA-Seconds", "Age"],
    "OnCallSchedule": ["Timezone", "Phase", "Synced-ID", "Age"],
    "EscalationPolicy": ["Repeat", "Phase", "Synced-ID", "Age"],
    "Silence": ["State", "Ends", "Silence-ID", "Age"],
}
# What a printer column type may point at: allowed schema types (and format for dates).
COLUMN_TYPES = {
    "string": {"string", "int-or-string"},
    "integer": {"integer"},
    "number": {"number", "integer"},
    "boolean": {"boolean"},
    "date": {"date-time"},
}
METADATA_COLUMNS = {".metadata.creationTimestamp": "date-time", ".metadata.name": "string"}

Schema = Mapping[str, Any]


def _schema(crd: Mapping[str, Any]) -> dict[str, Any]:
    (version,) = crd["spec"]["versions"]
    schema: dict[str, Any] = version["schema"]["openAPIV3Schema"]
    return schema


def test_every_kind_is_defined(crds: dict[str, dict[str, Any]]) -> None:
    assert sorted(crds) == sorted(KINDS)


@pytest.mark.parametrize("k8s_version", K8S_VERSIONS)
@pytest.mark.parametrize("kind", KINDS)
def test_crd_passes_kubernetes_validate_strict(
    crds: dict[str, dict[str, Any]], kind: str, k8s_version: str
) -> None:
    kubernetes_validate.validate(crds[kind], k8s_version, strict=True)


def test_kubernetes_validate_strict_catches_a_misspelt_schema_key(
    crds: dict[str, dict[str, Any]],
) -> None:
    broken = copy.deepcopy(crds["Alert"])
    _schema(broken)["properties"]["spec"]["properties"]["service"]["maxLenght"] = 3
    with pytest.raises(kubernetes_validate.ValidationError, match="maxLenght"):
        kubernetes_validate.validate(broken, K8S_VERSIONS[-1], strict=True)


@pytest.mark.parametrize("kind", KINDS)
def test_crd_identity_and_names(crds: dict[str, dict[str, Any]], kind: str) -> None:
    crd = crds[kind]
    spec = crd["spec"]
    names = spec["names"]
    assert crd["apiVersion"] == "apiextensions.k8s.io/v1"
    assert crd["kind"] == "CustomResourceDefinition"
    assert spec["group"] == GROUP
    assert crd["metadata"]["name"] == f"{names['plural']}.{GROUP}"
    assert spec["scope"] == "Namespaced"
    assert names["kind"] == kind
    assert names["singular"] == kind.lower()
    assert names["listKind"] == f"{kind}List"
    assert names["categories"] == ["incident-platform"]
    assert names["shortNames"], "every kind has short names"
    assert not spec.get("preserveUnknownFields", False)
    (version,) = spec["versions"]
    assert version["name"] == VERSION
    assert version["served"] is True
    assert version["storage"] is True
    assert version["subresources"] == {"status": {}}


def test_short_names_are_unique_and_do_not_shadow_builtins(
    crds: dict[str, dict[str, Any]],
) -> None:
    short_names = [name for crd in crds.values() for name in crd["spec"]["names"]["shortNames"]]
    assert len(short_names) == len(set(short_names))
    assert not set(short_names) & BUILTIN_SHORT_NAMES
    plurals_and_singulars = {
        crd["spec"]["names"][key] for crd in crds.values() for key in ("plural", "singular")
    }
    assert not set(short_names) & plurals_and_singulars


@pytest.mark.parametrize("kind", KINDS)
def test_schema_is_structural(
    crds: dict[str, dict[str, Any]],
    check_structural: Callable[[Schema], list[str]],
    kind: str,
) -> None:
    assert check_structural(_schema(crds[kind])) == []


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda s: s["properties"]["spec"]["properties"]["service"].pop("type"), "no type"),
        (
            lambda s: s["properties"]["spec"]["properties"]["labels"].update(properties={}),
            "mutually exclusive",
        ),
        (
            lambda s: s["properties"]["spec"]["properties"]["severity"].update(default="urgent"),
            "does not validate",
        ),
        (lambda s: s["properties"]["spec"].update(required=["service", "nope"]), "'nope'"),
        (
            lambda s: s["properties"]["spec"].update(oneOf=[{"type": "object"}]),
            "type is not allowed inside",
        ),
        (
            lambda s: s["properties"]["spec"].update(anyOf=[{"properties": {"x": {}}}]),
            "not declared outside",
        ),
        (
            lambda s: s["properties"]["spec"]["properties"]["service"].update(uniqueItems=True),
            "uniqueItems",
        ),
        (
            lambda s: s["properties"]["status"]["properties"]["conditions"]["items"][
                "required"
            ].remove("type"),
            "must be required",
        ),
        (
            lambda s: s["properties"]["spec"]["properties"]["service"].update(pattern="^(?!x)"),
            "RE2",
        ),
        (
            lambda s: s["properties"].update(metadata={"type": "object", "required": ["x"]}),
            "may only declare metadata",
        ),
    ],
)
def test_structural_check_catches_what_the_api_server_refuses(
    crds: dict[str, dict[str, Any]],
    check_structural: Callable[[Schema], list[str]],
    mutate: Callable[[dict[str, Any]], object],
    expected: str,
) -> None:
    schema = copy.deepcopy(_schema(crds["Alert"]))
    mutate(schema)
    problems = check_structural(schema)
    assert any(expected in problem for problem in problems), problems


def test_converter_refuses_keys_it_does_not_mirror(
    convert_schema: Callable[[Schema], dict[str, Any]],
) -> None:
    with pytest.raises(ValueError, match="x-kubernetes-embedded-resource"):
        convert_schema({"type": "object", "x-kubernetes-embedded-resource": True})


def test_converter_maps_openapi_extensions(
    convert_schema: Callable[[Schema], dict[str, Any]],
) -> None:
    converted = convert_schema(
        {
            "type": "object",
            "properties": {
                "a": {"type": "string", "nullable": True, "enum": ["x"]},
                "b": {"x-kubernetes-int-or-string": True},
                "c": {"type": "number", "minimum": 0, "exclusiveMinimum": True},
                "d": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
            },
        }
    )
    props = converted["properties"]
    assert converted["additionalProperties"] is False
    assert props["a"] == {"type": ["string", "null"], "enum": ["x", None]}
    assert props["b"] == {"type": ["integer", "string"]}
    assert props["c"] == {"type": "number", "exclusiveMinimum": 0}
    assert props["d"] == {"type": "object"}


@pytest.mark.parametrize("kind", KINDS)
def test_default_printer_columns(crds: dict[str, dict[str, Any]], kind: str) -> None:
    (version,) = crds[kind]["spec"]["versions"]
    columns = version["additionalPrinterColumns"]
    shown = [c["name"] for c in columns if c.get("priority", 0) == 0]
    assert shown == DEFAULT_COLUMNS[kind]
    assert len({c["name"] for c in columns}) == len(columns)


@pytest.mark.parametrize("kind", KINDS)
def test_printer_columns_point_at_fields_of_the_right_type(
    crds: dict[str, dict[str, Any]],
    schema_node: Callable[[Schema, str], Schema | None],
    kind: str,
) -> None:
    (version,) = crds[kind]["spec"]["versions"]
    for column in version["additionalPrinterColumns"]:
        path = column["jsonPath"]
        if path.startswith(".metadata."):
            field_type = METADATA_COLUMNS.get(path)
            assert field_type is not None, f"{column['name']}: unexpected metadata path {path}"
        else:
            node = schema_node(_schema(crds[kind]), path)
            assert node is not None, f"{column['name']}: {path} is not in the schema"
            if node.get("x-kubernetes-int-or-string"):
                field_type = "int-or-string"
            elif node.get("format") == "date-time":
                field_type = "date-time"
            else:
                field_type = node["type"]
        assert field_type in COLUMN_TYPES[column["type"]], (column, field_type)


@pytest.mark.parametrize("kind", KINDS)
def test_status_has_observed_generation_and_standard_conditions(
    crds: dict[str, dict[str, Any]], kind: str
) -> None:
    status = _schema(crds[kind])["properties"]["status"]["properties"]
    assert status["observedGeneration"]["type"] == "integer"
    conditions = status["conditions"]
    assert conditions["x-kubernetes-list-type"] == "map"
    assert conditions["x-kubernetes-list-map-keys"] == ["type"]
    item = conditions["items"]
    assert sorted(item["required"]) == [
        "lastTransitionTime", "message", "reason", "status", "type",
    ]  # fmt: skip
    assert item["properties"]["status"]["enum"] == ["True", "False", "Unknown"]
    assert item["properties"]["lastTransitionTime"]["format"] == "date-time"
    # Same shape in every CRD, so the operator can use one helper for all.
    alert_conditions = _schema(crds["Alert"])["properties"]["status"]["properties"]["conditions"]
    assert conditions["items"] == alert_conditions["items"]


def test_alert_spec_mirrors_the_http_api(crds: dict[str, dict[str, Any]]) -> None:
    spec = _schema(crds["Alert"])["properties"]["spec"]
    props = spec["properties"]
    assert spec["required"] == ["service", "summary"]
    assert (props["service"]["minLength"], props["service"]["maxLength"]) == (1, 255)
    assert (props["summary"]["minLength"], props["summary"]["maxLength"]) == (1, 1024)
    assert props["severity"]["enum"] == ["critical", "high", "warning", "info"]
    assert props["severity"]["default"] == "warning"
    assert props["state"]["enum"] == ["firing", "resolved"]
    assert props["state"]["default"] == "firing"
    assert (props["fingerprint"]["minLength"], props["fingerprint"]["maxLength"]) == (1, 255)
    assert props["source"]["maxLength"] == 255
    assert props["description"]["maxLength"] == 8192
    for field in ("labels", "annotations"):
        assert props[field]["additionalProperties"] == {"type": "string"}


def test_alert_spec_matches_the_ingestion_model(crds: dict[str, dict[str, Any]]) -> None:
    """Limits come from the platform's own AlertCreate model, so the two cannot drift apart."""
    from incident_platform.alert.models import AlertCreate
    from incident_platform.severity import Severity

    props = _schema(crds["Alert"])["properties"]["spec"]["properties"]
    model = AlertCreate.model_json_schema()["properties"]
    for field in ("service", "summary"):
        assert props[field]["maxLength"] == model[field]["maxLength"], field
        assert props[field]["minLength"] == model[field]["minLength"], field
    for field in ("source", "description", "fingerprint"):
        (limits,) = [choice for choice in model[field]["anyOf"] if choice.get("type") == "string"]
        assert props[field]["maxLength"] == limits["maxLength"], field
    assert sorted(props["severity"]["enum"]) == sorted(s.value for s in Severity)
    assert props["severity"]["default"] == AlertCreate.model_fields["severity"].default
    assert props["state"]["default"] == AlertCreate.model_fields["status"].default


def test_incident_spec_and_status(crds: dict[str, dict[str, Any]]) -> None:
    from incident_platform.incident.lifecycle import IncidentStatus

    schema = _schema(crds["Incident"])
    spec = schema["properties"]["spec"]
    status = schema["properties"]["status"]["properties"]
    assert spec["required"] == ["incidentId"]
    assert spec["properties"]["state"]["enum"] == ["acknowledged", "resolved"]
    assert spec["properties"]["incidentId"]["x-kubernetes-validations"] == [
        {"rule": "self == oldSelf", "message": "incidentId is immutable"}
    ]
    assert sorted(status["status"]["enum"]) == sorted(s.value for s in IncidentStatus)
    for field in ("timeToAcknowledgeSeconds", "timeToResolveSeconds"):
        assert status[field]["type"] == "number"
