"""Incident statistics: MTTA, MTTR and counts, overall and per calendar day."""

from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Annotated
from zoneinfo import available_timezones

from fastapi import APIRouter, Query

from incident_platform.api.deps import SessionDep, ViewerDep
from incident_platform.api.errors import query_error
from incident_platform.incident.models import (
    DailyStatsPublic,
    DayStatsPublic,
    StatsPublic,
    duration_stats_public,
)
from incident_platform.incident.stats import daily_stats, incident_stats
from incident_platform.storable import Instant, StorableStr

router = APIRouter(prefix="/api/v1/stats", tags=["stats"])

# The same bound as rendered shifts: one request cannot aggregate decades.
MAX_RANGE = timedelta(days=366)

# available_timezones() walks the zone directories on every call.
_known_zones = cache(available_timezones)


@router.get("", response_model=StatsPublic)
def get_stats(
    session: SessionDep,
    _: ViewerDep,
    since: Annotated[
        Instant | None,
        Query(description="ISO 8601, at most 366 days ago; default: the last 30 days"),
    ] = None,
) -> StatsPublic:
    now = datetime.now(UTC)
    start = since or now - timedelta(days=30)
    if start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    if now - start > MAX_RANGE:
        raise query_error("since", "must be at most 366 days ago")
    stats = incident_stats(session, start)
    return StatsPublic(
        since=stats.since,
        total=stats.total,
        triggered=stats.triggered,
        acknowledged=stats.acknowledged,
        resolved=stats.resolved,
        mtta=duration_stats_public(stats.time_to_acknowledge),
        mttr=duration_stats_public(stats.time_to_resolve),
    )


def _aware(instant: datetime) -> datetime:
    return instant if instant.tzinfo is not None else instant.replace(tzinfo=UTC)


@router.get("/daily", response_model=DailyStatsPublic)
def get_daily_stats(
    session: SessionDep,
    _: ViewerDep,
    since: Annotated[
        Instant | None, Query(description="ISO 8601; default: 30 days before `until`")
    ] = None,
    until: Annotated[Instant | None, Query(description="ISO 8601; default: now")] = None,
    tz: Annotated[
        StorableStr, Query(max_length=64, description="IANA zone whose calendar days are counted")
    ] = "UTC",
) -> DailyStatsPublic:
    """Incidents opened, MTTA and MTTR per calendar day of ``tz``, for the UI's charts."""
    if tz not in _known_zones():
        raise query_error("tz", f"unknown time zone {tz!r}")
    end = _aware(until) if until else datetime.now(UTC)
    start = _aware(since) if since else end - timedelta(days=30)
    if start >= end:
        raise query_error("since", "since must be before until")
    if end - start > MAX_RANGE:
        raise query_error("since", f"at most {MAX_RANGE.days} days per request")
    days = daily_stats(session, start, end, tz)
    return DailyStatsPublic(
        since=start,
        until=end,
        timezone=tz,
        days=[
            DayStatsPublic(
                day=day.day,
                opened=day.opened,
                mtta=duration_stats_public(day.time_to_acknowledge),
                mttr=duration_stats_public(day.time_to_resolve),
            )
            for day in days
        ],
    )
