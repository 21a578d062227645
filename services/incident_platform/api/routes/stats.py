from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from incident_platform.api.deps import SessionDep, ViewerDep
from incident_platform.incident.stats import DurationStats, incident_stats

router = APIRouter(prefix="/api/v1/stats", tags=["stats"])


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
        datetime | None, Query(description="ISO 8601; default: the last 30 days")
    ] = None,
) -> StatsPublic:
    start = since or datetime.now(UTC) - timedelta(days=30)
    if start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
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
