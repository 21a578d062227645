"""What the two on-call kinds (OnCallSchedule, EscalationPolicy) share: the name in the
on-call service, user references, adoption by name, and their status patches."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Literal

from incident_operator.builders.status import (
    clip,
    condition,
    conditions_of,
    generation_of,
    set_condition,
)

OnCallPhase = Literal["Pending", "Synced", "Failed"]


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


def quoted(text: str) -> str:
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
            f"user name {quoted(wanted)} is ambiguous ({len(named)} users have it):"
            " use the e-mail address"
        )
    raise LookupError(f"no user {quoted(wanted)}")


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
    generation = generation_of(body)
    message = f"synced to the on-call service as {name!r} ({synced_id})"
    status: dict[str, Any] = {
        "syncedId": str(synced_id),
        "phase": "Synced",
        "message": message,
        "conditions": set_condition(
            conditions_of(body), condition("Ready", "True", "Synced", message, generation, now=now)
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
    generation = generation_of(body)
    status: dict[str, Any] = {
        "message": clip(message),
        "conditions": set_condition(
            conditions_of(body), condition("Ready", "False", reason, message, generation, now=now)
        ),
    }
    if phase is not None:
        status["phase"] = phase
    if generation is not None:
        status["observedGeneration"] = generation
    return status
