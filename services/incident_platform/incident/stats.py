"""MTTA and MTTR, computed in SQL over incidents opened since a given instant."""

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import RowMapping, text
from sqlmodel import Session


@dataclass(frozen=True)
class DurationStats:
    count: int
    mean_seconds: float | None
    p50_seconds: float | None
    p90_seconds: float | None


@dataclass(frozen=True)
class IncidentStats:
    since: datetime
    total: int
    triggered: int
    acknowledged: int
    resolved: int
    time_to_acknowledge: DurationStats
    time_to_resolve: DurationStats


_STATS = text(
    """
WITH scope AS (
    SELECT status,
           extract(epoch FROM acknowledged_at - created_at) AS tta,
           extract(epoch FROM resolved_at - created_at) AS ttr
      FROM incidents
     WHERE created_at >= :since
)
SELECT count(*) AS total,
       count(*) FILTER (WHERE status = 'triggered') AS triggered,
       count(*) FILTER (WHERE status = 'acknowledged') AS acknowledged,
       count(*) FILTER (WHERE status = 'resolved') AS resolved,
       count(tta) AS tta_count,
       avg(tta) AS tta_mean,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY tta) AS tta_p50,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY tta) AS tta_p90,
       count(ttr) AS ttr_count,
       avg(ttr) AS ttr_mean,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY ttr) AS ttr_p50,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY ttr) AS ttr_p90
  FROM scope
"""
)


def _maybe(value: object) -> float | None:
    return None if value is None else round(float(value), 3)  # type: ignore[arg-type]


def _durations(row: RowMapping, kind: str) -> DurationStats:
    """``kind`` is the column prefix the queries use: ``tta`` (to acknowledge), ``ttr``."""
    return DurationStats(
        row[f"{kind}_count"],
        _maybe(row[f"{kind}_mean"]),
        _maybe(row[f"{kind}_p50"]),
        _maybe(row[f"{kind}_p90"]),
    )


def incident_stats(session: Session, since: datetime) -> IncidentStats:
    row = session.execute(_STATS, {"since": since}).mappings().one()
    return IncidentStats(
        since=since,
        total=row["total"],
        triggered=row["triggered"],
        acknowledged=row["acknowledged"],
        resolved=row["resolved"],
        time_to_acknowledge=_durations(row, "tta"),
        time_to_resolve=_durations(row, "ttr"),
    )


@dataclass(frozen=True)
class DailyStats:
    day: date
    opened: int
    time_to_acknowledge: DurationStats
    time_to_resolve: DurationStats


# One row per calendar day in the zone from `since` to just before `until` (exclusive),
# days without incidents included; an incident counts on the local day it opened.
_DAILY = text(
    """
WITH days AS (
    SELECT generate_series(
               (CAST(:since AS timestamptz) AT TIME ZONE :tz)::date,
               ((CAST(:until AS timestamptz) - interval '1 microsecond') AT TIME ZONE :tz)::date,
               interval '1 day'
           )::date AS day
), scope AS (
    SELECT (created_at AT TIME ZONE :tz)::date AS day,
           extract(epoch FROM acknowledged_at - created_at) AS tta,
           extract(epoch FROM resolved_at - created_at) AS ttr
      FROM incidents
     WHERE created_at >= :since AND created_at < :until
)
SELECT days.day,
       count(scope.day) AS opened,
       count(tta) AS tta_count,
       avg(tta) AS tta_mean,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY tta) AS tta_p50,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY tta) AS tta_p90,
       count(ttr) AS ttr_count,
       avg(ttr) AS ttr_mean,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY ttr) AS ttr_p50,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY ttr) AS ttr_p90
  FROM days LEFT JOIN scope ON scope.day = days.day
 GROUP BY days.day
 ORDER BY days.day
"""
)


def daily_stats(
    session: Session, since: datetime, until: datetime, timezone: str
) -> list[DailyStats]:
    """Incidents opened, MTTA and MTTR per local day of ``timezone`` in ``[since, until)``."""
    rows = session.execute(_DAILY, {"since": since, "until": until, "tz": timezone}).mappings()
    return [
        DailyStats(
            day=row["day"],
            opened=row["opened"],
            time_to_acknowledge=_durations(row, "tta"),
            time_to_resolve=_durations(row, "ttr"),
        )
        for row in rows
    ]
