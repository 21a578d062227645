"""What every kind's status shares: Kubernetes conditions, timestamps and merge patches.

Status patches are JSON merge patches: a ``None`` value removes the field (e.g. an incident's
``resolvedAt`` after it is reopened), which is what the API server does with ``null``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, Literal

from incident_operator.crd import MAX_MESSAGE

ConditionStatus = Literal["True", "False", "Unknown"]


def rfc3339(moment: datetime) -> str:
    """A Kubernetes timestamp: UTC, whole seconds, ``Z``."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def now_or(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(UTC)


def clip(message: str) -> str:
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
        "message": clip(message),
        "lastTransitionTime": rfc3339(now_or(now)),
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


def generation_of(body: Mapping[str, Any]) -> int | None:
    value = body.get("metadata", {}).get("generation")
    return value if isinstance(value, int) else None


def conditions_of(body: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    found = (body.get("status") or {}).get("conditions")
    return list(found) if isinstance(found, list) else []


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
