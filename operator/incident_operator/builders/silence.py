"""Silence objects: the platform's silence (Alertmanager API v2 shape) for a ``Silence``
object, and its status.

The window: ``spec.startsAt`` else the object's ``creationTimestamp`` (so re-sending after a
restart or an edit does not move the start), else now; ``spec.endsAt`` else the start plus
``spec.duration`` (``90m``, ``2h``, ``1d12h``: days, hours, minutes and seconds, as amtool's
``--duration`` spells them).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from incident_operator.builders.status import (
    clip,
    condition,
    conditions_of,
    generation_of,
    now_or,
    rfc3339,
    set_condition,
)
from incident_operator.crd import MANAGED_BY
from incident_operator.models import SilenceState

_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
_REASONS: dict[SilenceState, str] = {"pending": "Pending", "active": "Active", "expired": "Expired"}


def parse_duration(text: str) -> timedelta:
    """``1d12h30m`` as a ``timedelta`` (``ValueError`` for anything else, or for zero)."""
    found = _DURATION.match(text.strip())
    if found is None or not any(found.groups()):
        raise ValueError(f"spec.duration: {text!r} is not a duration such as 90m, 2h or 1d12h")
    days, hours, minutes, seconds = (int(part or 0) for part in found.groups())
    duration = timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    if duration <= timedelta(0):
        raise ValueError("spec.duration: must be longer than zero")
    return duration


def _instant(value: Any) -> datetime | None:
    """An RFC 3339 field as an aware ``datetime`` (``None`` when unset)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value
    else:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def silence_window(
    body: Mapping[str, Any], *, now: datetime | None = None
) -> tuple[datetime, datetime]:
    """``(startsAt, endsAt)`` of the silence the object declares (see the module docstring);
    ``ValueError`` naming the field when the spec has neither ``endsAt`` nor ``duration``."""
    spec = body.get("spec") or {}
    meta = body.get("metadata") or {}
    starts = (
        _instant(spec.get("startsAt")) or _instant(meta.get("creationTimestamp")) or now_or(now)
    )
    ends = _instant(spec.get("endsAt"))
    if ends is None:
        if not spec.get("duration"):
            raise ValueError("spec: one of endsAt or duration is required")
        ends = starts + parse_duration(str(spec["duration"]))
    return starts, ends


def silence_state(starts: datetime, ends: datetime, now: datetime) -> SilenceState:
    """The platform's rule, for the status until the platform is asked: pending before the
    start, active until the end, expired from then on."""
    if now < starts:
        return "pending"
    if now < ends:
        return "active"
    return "expired"


def silence_comment(body: Mapping[str, Any]) -> str:
    """``spec.comment``, else one naming the object (the platform needs a comment)."""
    comment = (body.get("spec") or {}).get("comment")
    if isinstance(comment, str) and comment.strip():
        return comment
    meta = body.get("metadata") or {}
    return f"Silence {meta.get('namespace') or 'default'}/{meta.get('name')} (Kubernetes)"


def silence_request(
    body: Mapping[str, Any], *, silence_id: str | None = None, now: datetime | None = None
) -> dict[str, Any]:
    """The ``POST /api/v2/silences`` body; with ``silence_id`` it changes that silence."""
    spec = body.get("spec") or {}
    starts, ends = silence_window(body, now=now)
    request: dict[str, Any] = {
        "matchers": [
            {
                "name": matcher.get("name"),
                "value": matcher.get("value", ""),
                # The CRD's defaults, for objects that did not pass an API server's defaulting.
                "isRegex": bool(matcher.get("isRegex", False)),
                "isEqual": bool(matcher.get("isEqual", True)),
            }
            for matcher in spec.get("matchers") or []
        ],
        "startsAt": starts.isoformat(),
        "endsAt": ends.isoformat(),
        "createdBy": spec.get("createdBy") or MANAGED_BY,
        "comment": silence_comment(body),
    }
    if silence_id:
        request["id"] = silence_id
    return request


def silence_status(
    body: Mapping[str, Any],
    *,
    silence_id: str,
    state: SilenceState,
    starts: datetime,
    ends: datetime,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The status patch of a Silence the platform holds."""
    generation = generation_of(body)
    message = f"silence {silence_id} is {state} ({rfc3339(starts)} to {rfc3339(ends)})"
    status: dict[str, Any] = {
        "silenceID": silence_id,
        "state": state,
        "startsAt": rfc3339(starts),
        "endsAt": rfc3339(ends),
        "message": message,
        "conditions": set_condition(
            conditions_of(body),
            condition("Ready", "True", _REASONS[state], message, generation, now=now),
        ),
    }
    if generation is not None:
        status["observedGeneration"] = generation
    return status


def silence_failure_status(
    body: Mapping[str, Any],
    message: str,
    *,
    reason: Literal["Rejected", "InvalidSpec", "PlatformUnavailable"],
    now: datetime | None = None,
) -> dict[str, Any]:
    """The status patch when the platform refused the silence (or the spec cannot be turned
    into one), or could not be reached; ``silenceID`` is kept: the platform may still hold
    the previous version."""
    generation = generation_of(body)
    status: dict[str, Any] = {
        "message": clip(message),
        "conditions": set_condition(
            conditions_of(body), condition("Ready", "False", reason, message, generation, now=now)
        ),
    }
    if generation is not None:
        status["observedGeneration"] = generation
    return status
