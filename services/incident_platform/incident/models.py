"""The incident API's request and response shapes."""

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel
from pydantic_core import to_json
from sqlmodel import Field, SQLModel

from incident_platform.alert.models import AlertPublic
from incident_platform.alert.tables import Alert
from incident_platform.incident.stats import DurationStats
from incident_platform.incident.tables import Incident, IncidentBase, TimelineEvent, TimelineKind
from incident_platform.severity import Severity
from incident_platform.storable import StorableSQLModel


class IncidentUpdate(StorableSQLModel):
    title: str | None = Field(default=None, min_length=1, max_length=1024)
    severity: Severity | None = None
    assignee: str | None = Field(default=None, max_length=255)


class NoteCreate(StorableSQLModel):
    text: str = Field(min_length=1, max_length=8192)


class IncidentPublic(IncidentBase):
    id: int
    alert_count: int
    group_key: str = Field(description="service:<name>, or the grouping rule's group")
    grouping_rule: str | None = Field(description="The grouping rule that grouped it, if any")
    flapping: bool = Field(description="An alert of it is flapping; its pages are held")
    change_seq: int
    created_at: datetime
    updated_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    time_to_acknowledge_seconds: float | None = None
    time_to_resolve_seconds: float | None = None


class IncidentsPublic(SQLModel):
    data: list[IncidentPublic]
    count: int
    next_cursor: str | None


class TimelineEventPublic(SQLModel):
    id: int
    at: datetime
    kind: TimelineKind
    actor: str
    message: str
    data: dict[str, Any]


class IncidentDetail(IncidentPublic):
    alerts: list[AlertPublic]
    timeline: list[TimelineEventPublic]


def seconds_between(start: datetime, end: datetime | None) -> float | None:
    return None if end is None else round((end - start).total_seconds(), 3)


def incident_public(incident: Incident) -> IncidentPublic:
    public = IncidentPublic.model_validate(incident, from_attributes=True)
    public.time_to_acknowledge_seconds = seconds_between(
        incident.created_at, incident.acknowledged_at
    )
    public.time_to_resolve_seconds = seconds_between(incident.created_at, incident.resolved_at)
    return public


# IncidentPublic's fields that are stored columns, in its field order; the rest are derived.
DERIVED_FIELDS = ("time_to_acknowledge_seconds", "time_to_resolve_seconds")
PUBLIC_COLUMNS = tuple(name for name in IncidentPublic.model_fields if name not in DERIVED_FIELDS)


def public_fields(row: Sequence[Any]) -> dict[str, Any]:
    """What :func:`incident_public` shows, as plain values, from a row of ``PUBLIC_COLUMNS``
    (in that order).

    For lists and the event stream: validating an ``IncidentPublic`` per row from an ORM
    object cost about 20 us a row (SQLModel's validation, attribute instrumentation), most
    of a list page's time. The values are the model's (the same columns and the same
    derivation, in its field order), so :func:`public_json` writes the same JSON."""
    fields = dict(zip(PUBLIC_COLUMNS, row, strict=True))
    created = fields["created_at"]
    fields["time_to_acknowledge_seconds"] = seconds_between(created, fields["acknowledged_at"])
    fields["time_to_resolve_seconds"] = seconds_between(created, fields["resolved_at"])
    return fields


def public_json(value: Any) -> bytes:
    """JSON as FastAPI writes a response model (pydantic's serializer, no validation)."""
    return to_json(value)


def incident_detail(
    incident: Incident, alerts: list[Alert], timeline: list[TimelineEvent]
) -> IncidentDetail:
    return IncidentDetail(
        **incident_public(incident).model_dump(),
        alerts=[AlertPublic.model_validate(a, from_attributes=True) for a in alerts],
        timeline=[TimelineEventPublic.model_validate(e, from_attributes=True) for e in timeline],
    )


class DurationStatsPublic(BaseModel):
    count: int
    mean_seconds: float | None
    p50_seconds: float | None
    p90_seconds: float | None


class StatsPublic(BaseModel):
    since: datetime
    total: int
    triggered: int
    acknowledged: int
    resolved: int
    mtta: DurationStatsPublic
    mttr: DurationStatsPublic


def duration_stats_public(stats: DurationStats) -> DurationStatsPublic:
    return DurationStatsPublic(
        count=stats.count,
        mean_seconds=stats.mean_seconds,
        p50_seconds=stats.p50_seconds,
        p90_seconds=stats.p90_seconds,
    )


class DayStatsPublic(BaseModel):
    day: date
    opened: int
    mtta: DurationStatsPublic
    mttr: DurationStatsPublic


class DailyStatsPublic(BaseModel):
    since: datetime
    until: datetime
    timezone: str
    days: list[DayStatsPublic]
