"""Pure functions that turn Kubernetes objects into platform requests and platform answers
into Kubernetes objects and status patches. No I/O here: everything is unit-tested and every
object built is validated against the CRD schemas in the tests.

Status patches are JSON merge patches: a ``None`` value removes the field (e.g. an incident's
``resolvedAt`` after it is reopened), which is what the API server does with ``null``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from incident_operator.client import IngestResult, PlatformIncident, Transition

GROUP = "incident-platform.io"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"
ALERTS = "alerts"
INCIDENTS = "incidents"
MANAGED_BY = "incident-operator"
MAX_MESSAGE = 32768
# Annotation put on every alert sent from a Kubernetes object, naming that object.
SOURCE_OBJECT_ANNOTATION = f"{GROUP}/alert"
DEFAULT_SOURCE = "kubernetes"

ConditionStatus = Literal["True", "False", "Unknown"]
AlertPhase = Literal["Pending", "Correlated", "Silenced", "Resolved", "Failed"]

_PHASES: dict[str, AlertPhase] = {
    "created": "Correlated",
    "attached": "Correlated",
    "deduplicated": "Correlated",
    # Stored but muted by an active silence: no incident until the silence ends.
    "silenced": "Silenced",
    "resolved": "Resolved",
    # Only a resolved alert is ignored (nothing with its fingerprint was firing): it is resolved.
    "ignored": "Resolved",
}
_TRANSITIONS: dict[str, Transition] = {"acknowledged": "acknowledge", "resolved": "resolve"}


def rfc3339(moment: datetime) -> str:
    """A Kubernetes timestamp: UTC, whole seconds, ``Z``."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(UTC)


def _clip(message: str) -> str:
    return message if len(message) <= MAX_MESSAGE else message[: MAX_MESSAGE - 1] + "…"


def condition(
    type_: str,
    status: ConditionStatus,
    reason: str,
    message: str,
    generation: int | None,
    *,
    now: datetime | None = None,
) -> dict[str, Any]:
    """One standard Kubernetes condition (``metav1.Condition``)."""
    built: dict[str, Any] = {
        "type": type_,
        "status": status,
        "reason": reason,
        "message": _clip(message),
        "lastTransitionTime": rfc3339(_now(now)),
    }
    if generation is not None:
        built["observedGeneration"] = generation
    return built


def set_condition(
    existing: Iterable[Mapping[str, Any]] | None, new: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """The condition list with ``new`` in place of its type, order kept.

    As the API conventions ask, ``lastTransitionTime`` only moves when the status changes.
    """
    result: list[dict[str, Any]] = []
    replaced = False
    for old in existing or ():
        if old.get("type") != new["type"]:
            result.append(dict(old))
            continue
        merged = dict(new)
        if old.get("status") == new["status"] and old.get("lastTransitionTime"):
            merged["lastTransitionTime"] = old["lastTransitionTime"]
        result.append(merged)
        replaced = True
    if not replaced:
        result.append(dict(new))
    return result


def _generation(body: Mapping[str, Any]) -> int | None:
    value = body.get("metadata", {}).get("generation")
    return value if isinstance(value, int) else None


def _conditions(body: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    found = (body.get("status") or {}).get("conditions")
    return list(found) if isinstance(found, list) else []


# --- Alert ------------------------------------------------------------------------------------


def alert_fingerprint(body: Mapping[str, Any]) -> str:
    """``spec.fingerprint`` or, so a re-sent object deduplicates, ``k8s:<namespace>/<name>``."""
    spec = body.get("spec") or {}
    if spec.get("fingerprint"):
        return str(spec["fingerprint"])
    meta = body.get("metadata") or {}
    return f"k8s:{meta.get('namespace') or 'default'}/{meta['name']}"


def alert_request(
    body: Mapping[str, Any], *, state: Literal["firing", "resolved"] | None = None
) -> dict[str, Any]:
    """The ``POST /api/v1/alerts`` body for an Alert object (``state`` overrides spec.state)."""
    spec = body.get("spec") or {}
    meta = body.get("metadata") or {}
    request: dict[str, Any] = {
        "service": spec.get("service"),
        "summary": spec.get("summary"),
        "status": state or spec.get("state") or "firing",
        "fingerprint": alert_fingerprint(body),
        "source": spec.get("source") or DEFAULT_SOURCE,
        "labels": dict(spec.get("labels") or {}),
        "annotations": {
            **dict(spec.get("annotations") or {}),
            SOURCE_OBJECT_ANNOTATION: f"{meta.get('namespace') or 'default'}/{meta.get('name')}",
        },
    }
    for field, key in (
        ("severity", "severity"),
        ("description", "description"),
        ("startsAt", "starts_at"),
        ("endsAt", "ends_at"),
    ):
        if spec.get(field) is not None:
            request[key] = spec[field]
    return request


def alert_status(
    result: IngestResult,
    *,
    fingerprint: str,
    body: Mapping[str, Any],
    now: datetime | None = None,
) -> dict[str, Any]:
    """The status patch after the platform accepted an alert."""
    generation = _generation(body)
    phase = _PHASES[result.action]
    if result.incident_id is not None:
        message = f"platform {result.action} the alert; incident {result.incident_id}"
    elif result.action == "silenced":
        message = "platform silenced the alert: an active silence mutes it until it ends"
    else:
        message = f"platform {result.action} the alert (nothing with its fingerprint was firing)"
    status: dict[str, Any] = {
        "phase": phase,
        "action": result.action,
        "fingerprint": fingerprint,
        "message": message,
        "conditions": set_condition(
            _conditions(body),
            condition("Ready", "True", result.action.capitalize(), message, generation, now=now),
        ),
    }
    if result.alert_id is not None:
        status["alertId"] = result.alert_id
    if result.incident_id is not None:
        status["incidentId"] = result.incident_id
        status["incidentRef"] = incident_name(result.incident_id)
    if generation is not None:
        status["observedGeneration"] = generation
    return status


def alert_failure_status(
    message: str,
    *,
    reason: Literal["Rejected", "PlatformUnavailable"],
    fingerprint: str,
    body: Mapping[str, Any],
    now: datetime | None = None,
) -> dict[str, Any]:
    """The status patch when the platform refused the alert (Failed) or could not be reached
    (still Pending: the handler is retried)."""
    generation = _generation(body)
    status: dict[str, Any] = {
        "phase": "Failed" if reason == "Rejected" else "Pending",
        "fingerprint": fingerprint,
        "message": _clip(message),
        "conditions": set_condition(
            _conditions(body), condition("Ready", "False", reason, message, generation, now=now)
        ),
    }
    if generation is not None:
        status["observedGeneration"] = generation
    return status


# --- Incident ---------------------------------------------------------------------------------


def incident_name(incident_id: int) -> str:
    return f"inc-{incident_id}"


def incident_object(incident: PlatformIncident, namespace: str) -> dict[str, Any]:
    """The Incident object mirroring a platform incident (its status is written separately:
    the API server ignores ``status`` on create when the status subresource is on)."""
    return {
        "apiVersion": API_VERSION,
        "kind": "Incident",
        "metadata": {
            "name": incident_name(incident.id),
            "namespace": namespace,
            "labels": {
                "app.kubernetes.io/managed-by": MANAGED_BY,
                f"{GROUP}/incident-id": str(incident.id),
            },
        },
        "spec": {"incidentId": incident.id},
    }


def incident_url(public_url: str, incident_id: int) -> str:
    return f"{public_url.rstrip('/')}/api/v1/incidents/{incident_id}"


def _optional_time(moment: datetime | None) -> str | None:
    return rfc3339(moment) if moment is not None else None


def incident_status(incident: PlatformIncident, *, public_url: str) -> dict[str, Any]:
    """The mirror's status as a merge patch; ``None`` clears a field the platform cleared."""
    return {
        "incidentId": incident.id,
        "title": incident.title[:1024],
        "service": incident.service[:255],
        "severity": incident.severity,
        "status": incident.status,
        "alertCount": incident.alert_count,
        "assignee": incident.assignee[:255] if incident.assignee else None,
        "createdAt": rfc3339(incident.created_at),
        "updatedAt": rfc3339(incident.updated_at),
        "acknowledgedAt": _optional_time(incident.acknowledged_at),
        "resolvedAt": _optional_time(incident.resolved_at),
        "timeToAcknowledgeSeconds": incident.time_to_acknowledge_seconds,
        "timeToResolveSeconds": incident.time_to_resolve_seconds,
        "changeSeq": incident.change_seq,
        "url": incident_url(public_url, incident.id),
    }


def incident_transition(state: str) -> Transition:
    """The platform transition ``spec.state`` asks for (``KeyError`` for anything else)."""
    return _TRANSITIONS[state]


def incident_sync_status(
    body: Mapping[str, Any],
    *,
    status: ConditionStatus,
    reason: str,
    message: str,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The ``Synced`` condition (did the requested ``spec.state`` reach the platform?)."""
    generation = _generation(body)
    patch: dict[str, Any] = {
        "message": _clip(message),
        "conditions": set_condition(
            _conditions(body), condition("Synced", status, reason, message, generation, now=now)
        ),
    }
    if generation is not None:
        patch["observedGeneration"] = generation
    return patch


def mirrored_change_seqs(objects: Sequence[Mapping[str, Any]]) -> dict[int, int]:
    """``{incident id: status.changeSeq}`` of the Incident objects that mirror something.

    A mirror without ``changeSeq`` (created, status not written yet, or made by hand) counts
    as ``-1``: it exists but its status must still be written.
    """
    found: dict[int, int] = {}
    for obj in objects:
        incident_id = (obj.get("spec") or {}).get("incidentId")
        if not isinstance(incident_id, int):
            continue
        seq = (obj.get("status") or {}).get("changeSeq")
        found[incident_id] = seq if isinstance(seq, int) else -1
    return found


def apply_merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch, as the API server applies ``--type merge`` (for tests and
    for predicting what an object looks like after a status patch)."""
    if not isinstance(patch, Mapping):
        return patch
    result: dict[str, Any] = dict(target) if isinstance(target, Mapping) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = apply_merge_patch(result.get(key), value)
    return result


# --- OnCallSchedule and EscalationPolicy -------------------------------------------------------

ONCALL_SCHEDULES = "oncallschedules"
ESCALATION_POLICIES = "escalationpolicies"
OnCallPhase = Literal["Pending", "Synced", "Failed"]

# The keys each rotation type has in the on-call service (which refuses any other key).
_ROTATION_KEYS: dict[str, tuple[str, ...]] = {
    "daily": ("type", "handoff_time"),
    "weekly": ("type", "handoff_time", "handoff_day"),
    "custom": ("type", "shift_hours"),
}


class UnresolvedReferences(ValueError):
    """Names in a spec that point at nothing (yet): one ``"<field>: <problem>"`` per name.

    ``schedules`` counts the problems that are OnCallSchedules not synced (yet), which the
    operator itself is about to fix; the others are users the on-call service does not know.
    """

    def __init__(self, problems: Sequence[str], *, schedules: int = 0) -> None:
        self.problems = list(problems)
        self.schedules = schedules
        super().__init__("; ".join(self.problems))

    @property
    def users(self) -> int:
        return len(self.problems) - self.schedules


def _quoted(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def oncall_name(body: Mapping[str, Any]) -> str:
    """The name in the on-call service: ``spec.name``, else ``<namespace>/<metadata.name>``
    (names are unique in the service: two namespaces must not fight over one schedule)."""
    spec = body.get("spec") or {}
    if isinstance(spec.get("name"), str) and spec["name"].strip():
        return str(spec["name"])
    meta = body.get("metadata") or {}
    return f"{meta.get('namespace') or 'default'}/{meta.get('name')}"


def find_user(reference: str, users: Sequence[Mapping[str, Any]]) -> str:
    """The on-call user id a reference stands for: the user with that e-mail address
    (compared case-insensitively; e-mails are unique), else the one user with that name.

    ``LookupError`` with the reason when there is none, or several with that name.
    """
    wanted = reference.strip()
    folded = wanted.casefold()
    for user in users:
        if str(user.get("email") or "").casefold() == folded:
            return str(user["id"])
    named = [user for user in users if user.get("name") == wanted]
    if len(named) == 1:
        return str(named[0]["id"])
    if named:
        raise LookupError(
            f"user name {_quoted(wanted)} is ambiguous ({len(named)} users have it):"
            " use the e-mail address"
        )
    raise LookupError(f"no user {_quoted(wanted)}")


def _timestamp(value: Any) -> Any:
    """RFC 3339 as the spec has it (a ``datetime`` if someone built the object in Python)."""
    return value.isoformat() if isinstance(value, datetime) else value


def _rotation(rotation: Mapping[str, Any]) -> dict[str, Any]:
    keys = _ROTATION_KEYS.get(str(rotation.get("type")))
    if keys is None:  # not one the service knows: sent as it is, so the service says why
        return dict(rotation)
    return {key: rotation[key] for key in keys if key in rotation}


def schedule_request(body: Mapping[str, Any], users: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The on-call service's schedule JSON for an OnCallSchedule object, user references
    resolved to user ids (:class:`UnresolvedReferences` names every one that is not)."""
    spec = body.get("spec") or {}
    problems: list[str] = []
    layers: list[dict[str, Any]] = []
    for index, layer in enumerate(spec.get("layers") or []):
        resolved: list[str] = []
        for position, reference in enumerate(layer.get("users") or []):
            try:
                resolved.append(find_user(str(reference), users))
            except LookupError as error:
                problems.append(f"spec.layers[{index}].users[{position}]: {error}")
        layers.append(
            {
                "name": layer.get("name"),
                "users": resolved,
                "start": _timestamp(layer.get("start")),
                "rotation": _rotation(layer.get("rotation") or {}),
                "restrictions": [
                    {
                        "days": list(restriction.get("days") or []),
                        "start": restriction.get("start"),
                        "end": restriction.get("end"),
                    }
                    for restriction in layer.get("restrictions") or []
                ],
            }
        )
    if problems:
        raise UnresolvedReferences(problems)
    return {
        "name": oncall_name(body),
        "timezone": spec.get("timezone") or "UTC",  # the CRD's default (emulators skip it)
        "layers": layers,
    }


def policy_schedule_references(body: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(field, OnCallSchedule name)`` of every schedule target of an EscalationPolicy."""
    found: list[tuple[str, str]] = []
    for index, step in enumerate((body.get("spec") or {}).get("steps") or []):
        for position, target in enumerate(step.get("targets") or []):
            if target.get("type") == "schedule" and target.get("name"):
                found.append((f"spec.steps[{index}].targets[{position}].name", target["name"]))
    return found


def policy_request(
    body: Mapping[str, Any],
    users: Sequence[Mapping[str, Any]],
    schedule_ids: Mapping[str, str | None],
) -> dict[str, Any]:
    """The on-call service's escalation policy JSON for an EscalationPolicy object.

    ``delayMinutes`` becomes ``delay_minutes``; a target's ``name`` becomes the ``id`` of the
    user (see :func:`find_user`) or of the schedule: ``schedule_ids`` maps each OnCallSchedule
    of the namespace that was looked up to its ``status.syncedId`` (``None``: not synced yet;
    absent: no such object). :class:`UnresolvedReferences` names every target that is neither.
    """
    spec = body.get("spec") or {}
    problems: list[str] = []
    schedules = 0
    steps: list[dict[str, Any]] = []
    for index, step in enumerate(spec.get("steps") or []):
        targets: list[dict[str, Any]] = []
        for position, target in enumerate(step.get("targets") or []):
            field = f"spec.steps[{index}].targets[{position}].name"
            kind = target.get("type")
            name = str(target.get("name") or "")
            if kind == "webhook":
                targets.append({"type": "webhook", "url": target.get("url")})
            elif kind == "user":
                try:
                    targets.append({"type": "user", "id": find_user(name, users)})
                except LookupError as error:
                    problems.append(f"{field}: {error}")
            elif kind == "schedule":
                schedule_id = schedule_ids.get(name)
                if schedule_id:
                    targets.append({"type": "schedule", "id": str(schedule_id)})
                    continue
                schedules += 1
                if name in schedule_ids:
                    problems.append(f"{field}: OnCallSchedule {_quoted(name)} is not synced yet")
                else:
                    problems.append(f"{field}: no OnCallSchedule {_quoted(name)}")
            else:  # not a kind the service knows: sent as it is, so the service says why
                targets.append(dict(target))
        steps.append({"delay_minutes": step.get("delayMinutes"), "targets": targets})
    if problems:
        raise UnresolvedReferences(problems, schedules=schedules)
    return {"name": oncall_name(body), "steps": steps, "repeat": spec.get("repeat") or 0}


def synced_id_claimed_by(
    objects: Iterable[Mapping[str, Any]], synced_id: str, body: Mapping[str, Any]
) -> str | None:
    """``<namespace>/<name>`` of another object (not ``body``) already synced to ``synced_id``:
    an existing schedule or policy is only adopted by name when no other object owns it."""
    meta = body.get("metadata") or {}
    own = (meta.get("uid"), meta.get("namespace"), meta.get("name"))
    for obj in objects:
        other = obj.get("metadata") or {}
        if (other.get("uid"), other.get("namespace"), other.get("name")) == own:
            continue
        if str((obj.get("status") or {}).get("syncedId")) == str(synced_id):
            return f"{other.get('namespace')}/{other.get('name')}"
    return None


def oncall_synced_status(
    body: Mapping[str, Any], *, synced_id: str, name: str, now: datetime | None = None
) -> dict[str, Any]:
    """The status patch of an OnCallSchedule or EscalationPolicy the service now holds."""
    generation = _generation(body)
    message = f"synced to the on-call service as {name!r} ({synced_id})"
    status: dict[str, Any] = {
        "syncedId": str(synced_id),
        "phase": "Synced",
        "message": message,
        "conditions": set_condition(
            _conditions(body), condition("Ready", "True", "Synced", message, generation, now=now)
        ),
    }
    if generation is not None:
        status["observedGeneration"] = generation
    return status


def oncall_problem_status(
    body: Mapping[str, Any],
    *,
    reason: str,
    message: str,
    phase: OnCallPhase | None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The status patch when a sync (or a deletion) did not go through: ``Ready`` False with
    the reason; ``phase`` None leaves the phase as it is. ``syncedId`` is kept: the service
    may still hold the previous version."""
    generation = _generation(body)
    status: dict[str, Any] = {
        "message": _clip(message),
        "conditions": set_condition(
            _conditions(body), condition("Ready", "False", reason, message, generation, now=now)
        ),
    }
    if phase is not None:
        status["phase"] = phase
    if generation is not None:
        status["observedGeneration"] = generation
    return status
