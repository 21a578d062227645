from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from incident_platform.api.deps import SessionDep, ViewerDep
from incident_platform.api.errors import query_error
from incident_platform.incident.stats import DurationStats, incident_stats
from incident_platform.storable import Instant

router = APIRouter(prefix="/api/v1/stats", tags=["stats"])

# The same bound as rendered shifts: one request cannot aggregate decades.
MAX_RANGE = timedelta(days=366)


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


def _public(stats: DurationStats) -> DurationStatsPublic:
    return DurationStatsPublic(
        count=stats.count,
        mean_seconds=stats.mean_seconds,
        p50_seconds=stats.p50_seconds,
        p90_seconds=stats.p90_seconds,
    )


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
        mtta=_public(stats.time_to_acknowledge),
        mttr=_public(stats.time_to_resolve),
    )
