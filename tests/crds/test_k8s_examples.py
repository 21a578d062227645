"""examples/: every valid manifest validates against its CRD, every invalid one fails as stated.

Also the status shapes the operator writes, valid and invalid, so that its author and these
schemas agree on them.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = REPO_ROOT / "examples"
API_VERSION = "incident-platform.io/v1alpha1"
VALID = sorted(p for p in EXAMPLES.glob("*.yaml") if not p.name.endswith("-patch.yaml"))
PATCHES = sorted(EXAMPLES.glob("*-patch.yaml"))
INVALID = sorted((EXAMPLES / "invalid").glob("*.yaml"))
# First line of an invalid example: `# invalid: <path> (<JSON-schema keyword>): <reason>`.
HEADER = re.compile(r"^# invalid: (?P<path>\S+) \((?P<keyword>[\w-]+)\): (?P<reason>\S.*)$")
JUNCTORS = {"oneOf", "anyOf", "allOf", "not"}

Violation = tuple[str, str, str]
Validate = Callable[[Mapping[str, Any]], list[Violation]]
LoadDocs = Callable[[Path], list[dict[str, Any]]]


def _ids(paths: list[Path]) -> list[str]:
    return [p.name for p in paths]


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch, what `kubectl patch --type merge` sends."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _one(path: Path, yaml_docs: LoadDocs) -> dict[str, Any]:
    (doc,) = yaml_docs(path)
    return doc


def test_the_promised_examples_exist() -> None:
    names = {p.name for p in EXAMPLES.glob("*.yaml")}
    assert {
        "alert.yaml",
        "alert-resolved.yaml",
        "incident.yaml",
        "incident-ack-patch.yaml",
        "incident-resolve-patch.yaml",
        "oncallschedule.yaml",
        "escalationpolicy.yaml",
        "silence.yaml",
    } <= names
    assert len(INVALID) >= 10


@pytest.mark.parametrize("path", VALID, ids=_ids(VALID))
def test_valid_example_validates(
    path: Path, validate_resource: Validate, yaml_docs: LoadDocs
) -> None:
    docs = yaml_docs(path)
    assert docs, "no manifest in the file"
    for doc in docs:
        assert doc["apiVersion"] == API_VERSION
        assert "namespace" not in doc["metadata"], "examples go to the current namespace"
        assert "status" not in doc, "status is written by the operator, not applied"
        assert validate_resource(doc) == []


def test_every_kind_has_a_valid_example(
    crds: dict[str, dict[str, Any]], yaml_docs: LoadDocs
) -> None:
    kinds = {doc["kind"] for path in VALID for doc in yaml_docs(path)}
    assert kinds == set(crds)


def test_alert_example_is_a_firing_critical_checkout_alert(yaml_docs: LoadDocs) -> None:
    alert = _one(EXAMPLES / "alert.yaml", yaml_docs)
    assert alert["kind"] == "Alert"
    assert alert["spec"]["service"] == "checkout"
    assert alert["spec"]["severity"] == "critical"
    assert alert["spec"]["state"] == "firing"


def test_resolved_example_resolves_the_same_alert(yaml_docs: LoadDocs) -> None:
    firing = _one(EXAMPLES / "alert.yaml", yaml_docs)
    resolved = _one(EXAMPLES / "alert-resolved.yaml", yaml_docs)
    assert resolved["metadata"]["name"] == firing["metadata"]["name"]
    assert resolved["spec"]["state"] == "resolved"
    unchanged = {k: v for k, v in resolved["spec"].items() if k not in ("state", "endsAt")}
    assert unchanged == {k: v for k, v in firing["spec"].items() if k != "state"}


def test_kind_e2e_waits_for_the_alert_example(yaml_docs: LoadDocs) -> None:
    alert = _one(EXAMPLES / "alert.yaml", yaml_docs)
    script = (REPO_ROOT / "scripts" / "kind-e2e.sh").read_text()
    assert f'alert_name="{alert["metadata"]["name"]}"' in script


@pytest.mark.parametrize("path", PATCHES, ids=_ids(PATCHES))
def test_incident_patch_applies_and_validates(
    path: Path, validate_resource: Validate, yaml_docs: LoadDocs
) -> None:
    incident = _one(EXAMPLES / "incident.yaml", yaml_docs)
    patch = _one(path, yaml_docs)
    assert set(patch) == {"spec"}, "a person only patches the spec (status is the operator's)"
    patched = merge_patch(copy.deepcopy(incident), patch)
    assert validate_resource(patched) == []
    assert patched["spec"]["state"] in ("acknowledged", "resolved")
    assert patched["spec"]["incidentId"] == incident["spec"]["incidentId"]


@pytest.mark.parametrize("path", INVALID, ids=_ids(INVALID))
def test_invalid_example_fails_where_its_header_says(
    path: Path, validate_resource: Validate, yaml_docs: LoadDocs
) -> None:
    first_line = path.read_text().splitlines()[0]
    header = HEADER.match(first_line)
    assert header is not None, "first line must be '# invalid: <path> (<keyword>): <reason>'"
    expected = (header["path"], header["keyword"])
    (doc,) = yaml_docs(path)
    violations = validate_resource(doc)
    located = [(where, keyword) for where, keyword, _ in violations]
    assert expected in located, violations
    # Nothing else may be wrong with it, except the junctor enclosing the failing field
    # (e.g. oneOf reporting that no branch matched because of that same field).
    for where, keyword, message in violations:
        if (where, keyword) == expected:
            continue
        assert keyword in JUNCTORS, (where, keyword, message)
        assert header["path"].startswith(where), (where, keyword, message)


def test_every_kind_has_invalid_examples(
    crds: dict[str, dict[str, Any]], yaml_docs: LoadDocs
) -> None:
    kinds = [yaml_docs(path)[0]["kind"] for path in INVALID]
    for kind in crds:
        assert kinds.count(kind) >= 2, kind


def test_invalid_examples_are_valid_once_fixed(
    validate_resource: Validate, yaml_docs: LoadDocs
) -> None:
    """A control: the header's path is really the only problem of each example."""
    fixes: dict[str, Callable[[dict[str, Any]], None]] = {
        "alert-unknown-severity.yaml": lambda d: d["spec"].update(severity="critical"),
        "alert-missing-service.yaml": lambda d: d["spec"].update(service="checkout"),
        "alert-summary-too-long.yaml": lambda d: d["spec"].update(
            summary=d["spec"]["summary"][:1024]
        ),
        "alert-unknown-field.yaml": lambda d: d["spec"].pop("priority"),
        "oncallschedule-weekly-without-handoff-day.yaml": lambda d: d["spec"]["layers"][0][
            "rotation"
        ].update(handoff_day="monday"),
        "escalationpolicy-negative-delay.yaml": lambda d: d["spec"]["steps"][0].update(
            delayMinutes=0
        ),
        "escalationpolicy-webhook-without-url.yaml": lambda d: d["spec"]["steps"][1]["targets"][
            0
        ].update(url="https://chat.example.com/hook"),
        "oncallschedule-duplicate-layer.yaml": lambda d: d["spec"]["layers"][1].update(
            name="secondary"
        ),
        "oncallschedule-override-layer-name.yaml": lambda d: d["spec"]["layers"][0].update(
            name="primary"
        ),
        "escalationpolicy-repeat-without-gap.yaml": lambda d: d["spec"]["steps"][-1].update(
            delayMinutes=5
        ),
        "silence-without-end.yaml": lambda d: d["spec"].update(duration="2h"),
        "silence-end-and-duration.yaml": lambda d: d["spec"].pop("duration"),
        "silence-regex-not-a-boolean.yaml": lambda d: d["spec"]["matchers"][0].update(isRegex=True),
    }
    for name, fix in fixes.items():
        (doc,) = yaml_docs(EXAMPLES / "invalid" / name)
        assert validate_resource(doc) != [], name
        fix(doc)
        assert validate_resource(doc) == [], name


CONDITION = {
    "type": "Ready",
    "status": "True",
    "reason": "Correlated",
    "message": "attached to incident 42",
    "lastTransitionTime": "2026-11-26T16:20:00Z",
    "observedGeneration": 1,
}
STATUS_SAMPLES: dict[str, dict[str, Any]] = {
    "alert-correlated": {
        "phase": "Correlated",
        "alertId": 1001,
        "incidentId": 42,
        "incidentRef": "inc-42",
        "action": "created",
        "fingerprint": "checkout-high-error-rate",
        "message": "",
        "observedGeneration": 1,
        "conditions": [CONDITION],
        "kopf": {"progress": {"deliver": {"retries": 0, "success": True}}},
    },
    "incident-acknowledged": {
        "incidentId": 42,
        "title": "checkout: 5xx ratio above 5% for 5 minutes",
        "service": "checkout",
        "severity": "critical",
        "status": "acknowledged",
        "alertCount": 3,
        "assignee": "alice@example.com",
        "createdAt": "2026-11-26T16:20:00Z",
        "updatedAt": "2026-11-26T16:24:12.5+00:00",
        "acknowledgedAt": "2026-11-26T16:24:12.5+00:00",
        "timeToAcknowledgeSeconds": 252.5,
        "changeSeq": 17,
        "url": "http://127.0.0.1:8002/incidents/42",
        "observedGeneration": 2,
        "conditions": [{**CONDITION, "reason": "Synced", "message": ""}],
    },
    "schedule-synced-int-id": {"syncedId": 7, "phase": "Synced", "observedGeneration": 1},
    "policy-synced-string-id": {"syncedId": "ep-7f3a", "phase": "Synced"},
    "silence-active": {
        "silenceID": "6f1f5bd6-57c5-4d53-9b41-0f3f1d1b8d2e",
        "state": "active",
        "startsAt": "2026-12-05T22:00:00Z",
        "endsAt": "2026-12-06T00:00:00Z",
        "message": "silence 6f1f5bd6-57c5-4d53-9b41-0f3f1d1b8d2e is active",
        "observedGeneration": 1,
        "conditions": [{**CONDITION, "reason": "Active"}],
    },
}
STATUS_KIND = {"alert": "Alert", "incident": "Incident", "schedule": "OnCallSchedule",
               "policy": "EscalationPolicy", "silence": "Silence"}  # fmt: skip


def _with_status(name: str, status: dict[str, Any], yaml_docs: LoadDocs) -> dict[str, Any]:
    kind = STATUS_KIND[name.split("-")[0]]
    example = next(doc for p in VALID for doc in yaml_docs(p) if doc["kind"] == kind)
    return {**copy.deepcopy(example), "status": copy.deepcopy(status)}


@pytest.mark.parametrize("name", sorted(STATUS_SAMPLES))
def test_status_the_operator_writes_validates(
    name: str, validate_resource: Validate, yaml_docs: LoadDocs
) -> None:
    assert validate_resource(_with_status(name, STATUS_SAMPLES[name], yaml_docs)) == []


@pytest.mark.parametrize(
    ("name", "change", "expected"),
    [
        ("alert-correlated", {"phase": "Done"}, ("status.phase", "enum")),
        ("alert-correlated", {"incidentId": "42"}, ("status.incidentId", "type")),
        ("alert-correlated", {"action": "merged"}, ("status.action", "enum")),
        ("alert-correlated", {"incident": "inc-42"}, ("status.incident", "additionalProperties")),
        (
            "alert-correlated",
            {"conditions": [{**CONDITION, "status": "Yes"}]},
            ("status.conditions[0].status", "enum"),
        ),
        (
            "alert-correlated",
            {"conditions": [CONDITION, {**CONDITION, "status": "False"}]},
            ("status.conditions", "x-kubernetes-list-type"),
        ),
        (
            "alert-correlated",
            {"conditions": [{k: v for k, v in CONDITION.items() if k != "lastTransitionTime"}]},
            ("status.conditions[0].lastTransitionTime", "required"),
        ),
        (
            "alert-correlated",
            {"conditions": [{**CONDITION, "reason": "not camel case"}]},
            ("status.conditions[0].reason", "pattern"),
        ),
        (
            "incident-acknowledged",
            {"timeToAcknowledgeSeconds": -1},
            ("status.timeToAcknowledgeSeconds", "minimum"),
        ),
        ("incident-acknowledged", {"status": "open"}, ("status.status", "enum")),
        ("incident-acknowledged", {"createdAt": "yesterday"}, ("status.createdAt", "format")),
        ("schedule-synced-int-id", {"syncedId": 7.5}, ("status.syncedId", "type")),
        ("policy-synced-string-id", {"phase": "Correlated"}, ("status.phase", "enum")),
        ("silence-active", {"state": "silenced"}, ("status.state", "enum")),
        ("silence-active", {"endsAt": "tomorrow"}, ("status.endsAt", "format")),
        ("silence-active", {"silenceID": 7}, ("status.silenceID", "type")),
    ],
)
def test_wrong_status_is_refused(
    name: str,
    change: dict[str, Any],
    expected: tuple[str, str],
    validate_resource: Validate,
    yaml_docs: LoadDocs,
) -> None:
    resource = _with_status(name, {**STATUS_SAMPLES[name], **change}, yaml_docs)
    located = [(where, keyword) for where, keyword, _ in validate_resource(resource)]
    assert located == [expected]
